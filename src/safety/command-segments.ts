import { parseShell, type Redirect, type ShellWord, type SimpleCommand } from './shell-syntax.js';

/**
 * One command the policy judges. A command line gives one segment per simple command, plus one
 * per command hidden inside another: behind a wrapper (`sudo rm` also gives `rm`), in a code
 * string (`bash -c '...'`, `eval`, `watch`, `ssh host ...`), run in a container (`kubectl exec`,
 * `docker exec`), or fed to a shell as a here-document.
 */
export interface CommandSegment {
  /** Command name first. Empty for a subshell stage, whose commands are segments of their own. */
  words: ShellWord[];
  /** The words joined with spaces, for messages. */
  text: string;
  /** The wrappers and interpreters this segment was found in, outermost first, e.g. `['sudo', 'bash -c']`. */
  via: string[];
  /** The command reads the previous stage of a pipeline on its stdin. */
  pipedInput: boolean;
  /** Command names of the earlier pipeline stages, for messages (`curl ... | sh`). */
  upstream: string[];
  redirects: Redirect[];
  /** A here-document or here-string feeds this command's stdin. */
  hasStdinText: boolean;
}

export interface SplitCommand {
  segments: CommandSegment[];
  /** Parser problems; the policy asks rather than guesses when there are any. */
  problems: string[];
}

/** How deep code strings (`bash -c "bash -c '...'"`) are followed. */
const MAX_CODE_DEPTH = 6;

/** Shells whose `-c` argument, here-document or piped stdin is code. */
export const SHELLS = new Set(['sh', 'bash', 'dash', 'zsh', 'ksh', 'mksh', 'ash', 'fish']);
/** Other interpreters that run code read from stdin when given no script. */
export const STDIN_INTERPRETERS = new Set([
  'python',
  'python2',
  'python3',
  'perl',
  'ruby',
  'node',
  'php',
  'lua',
  'tclsh',
]);

interface WrapperSpec {
  /** Options that take the next word as their value. */
  valueOptions?: string[];
  /** Plain arguments between the options and the wrapped command (`timeout 10 cmd`: 1). */
  positional?: number;
  /** `NAME=value` words may precede the command (`env`). */
  assignments?: boolean;
  /** Options whose value is a shell code string (`su -c`, `flock -c`). */
  codeOptions?: string[];
  /** Options that mean the wrapper does not run the command (`command -v`). */
  noRunOptions?: string[];
}

/** Commands that run another command given as their remaining arguments. */
const WRAPPERS: Record<string, WrapperSpec> = {
  sudo: {
    valueOptions: ['-u', '-g', '-C', '-D', '-h', '-p', '-r', '-t', '-U', '-T', '-R', '--user', '--group'],
    noRunOptions: ['-l', '-v', '-k', '-K', '-e', '--list', '--validate', '--edit'],
  },
  doas: { valueOptions: ['-u', '-C'] },
  env: {
    valueOptions: ['-u', '--unset', '-C', '--chdir'],
    assignments: true,
    codeOptions: ['-S', '--split-string'],
  },
  xargs: { valueOptions: ['-I', '-i', '-n', '-P', '-L', '-l', '-d', '-E', '-e', '-s', '-a', '--arg-file'] },
  nohup: {},
  time: {},
  nice: { valueOptions: ['-n', '--adjustment'] },
  ionice: { valueOptions: ['-c', '-n', '-p', '-P', '-u', '--class', '--classdata'] },
  timeout: { valueOptions: ['-s', '--signal', '-k', '--kill-after'], positional: 1 },
  stdbuf: { valueOptions: ['-i', '-o', '-e'] },
  setsid: {},
  exec: { valueOptions: ['-a'] },
  command: { noRunOptions: ['-v', '-V'] },
  builtin: {},
  chroot: { positional: 1 },
  flock: {
    valueOptions: ['-w', '--timeout', '-E', '--conflict-exit-code'],
    positional: 1,
    codeOptions: ['-c'],
  },
  runuser: { valueOptions: ['-u', '-g', '-G', '--user', '--group'], codeOptions: ['-c', '--command'] },
  su: { valueOptions: ['-s', '--shell', '-g', '-G'], codeOptions: ['-c', '--command'], positional: 99 },
  unbuffer: {},
  caffeinate: {},
  nsenter: { valueOptions: ['-t', '--target', '-S', '-G', '--setuid', '--setgid'] },
  taskset: { positional: 1 },
  watch: { valueOptions: ['-n', '--interval', '-d'] },
  strace: { valueOptions: ['-o', '-e', '-p', '-s', '-u'] },
  ltrace: { valueOptions: ['-o', '-e', '-p', '-s', '-u'] },
  systemd_run: {},
  /** `busybox APPLET ARGS` runs the applet: `busybox rm -rf /` is `rm -rf /`. */
  busybox: {},
};

/** Splits a command line into the segments the policy judges. */
export function splitCommand(text: string): SplitCommand {
  const segments: CommandSegment[] = [];
  const problems: string[] = [];
  collect({ text, via: [], depth: 0, segments, problems });
  return { segments, problems };
}

function collect(input: {
  text: string;
  via: string[];
  depth: number;
  segments: CommandSegment[];
  problems: string[];
}): void {
  if (input.depth > MAX_CODE_DEPTH) {
    input.problems.push('code strings are nested too deeply to check');
    return;
  }
  const parsed = parseShell(input.text);
  input.problems.push(...parsed.problems);
  for (const pipeline of parsed.pipelines) {
    pipeline.stages.forEach((stage, index) => {
      const upstream = pipeline.stages.slice(0, index).map(commandName);
      addViews({ ...input, stage, words: stage.words, via: input.via, pipedInput: index > 0, upstream });
    });
  }
}

function commandName(stage: SimpleCommand): string {
  return stage.group ? '( ... )' : (stage.words[0]?.text ?? '');
}

/** Adds the segment for `words` and for every command hidden inside it. */
function addViews(input: {
  stage: SimpleCommand;
  words: ShellWord[];
  via: string[];
  depth: number;
  pipedInput: boolean;
  upstream: string[];
  segments: CommandSegment[];
  problems: string[];
}): void {
  const { stage, words } = input;
  input.segments.push({
    words,
    text: words.map((word) => word.text).join(' '),
    via: input.via,
    pipedInput: input.pipedInput,
    upstream: input.upstream,
    redirects: stage.redirects,
    hasStdinText: stage.stdinText !== undefined,
  });
  if (input.via.length > 24) return;
  const first = words[0];
  if (!first || first.dynamic) return;
  const name = programName(first.text);
  const nestedCode = (code: string, how: string): void =>
    collect({ ...input, text: code, via: [...input.via, how], depth: input.depth + 1 });

  if (SHELLS.has(name)) {
    const invocation = shellInvocation(words);
    if (invocation.code !== undefined) nestedCode(invocation.code.text, `${name} -c`);
    else if (invocation.readsStdin && stage.stdinText !== undefined)
      nestedCode(stage.stdinText, `${name} <<`);
    return;
  }
  if (name === 'eval') {
    nestedCode(
      words
        .slice(1)
        .map((word) => word.text)
        .join(' '),
      'eval',
    );
    return;
  }
  if (name === 'ssh') {
    const remote = sshRemoteCommand(words);
    if (remote.length > 0) nestedCode(remote.map((word) => word.text).join(' '), 'ssh');
    return;
  }
  if (name === 'find') {
    for (const inner of findExecCommands(words))
      addViews({ ...input, words: inner, via: [...input.via, 'find -exec'] });
    return;
  }
  if (name === 'kubectl' || name === 'oc') {
    const dash = words.findIndex((word) => word.text === '--');
    if (words.some((word) => word.text === 'exec') && dash > 0) {
      addViews({ ...input, words: words.slice(dash + 1), via: [...input.via, `${name} exec`] });
    }
    return;
  }
  const exec = containerExecCommand(name, words);
  if (exec) {
    if (exec.inner.length > 0) addViews({ ...input, words: exec.inner, via: [...input.via, exec.how] });
    return;
  }
  const wrapper = WRAPPERS[name === 'systemd-run' ? 'systemd_run' : name];
  if (!wrapper) return;
  const unwrapped = unwrap(words, wrapper);
  if (unwrapped.code !== undefined) nestedCode(unwrapped.code, `${name} -c`);
  if (unwrapped.inner.length === 0) return;
  if (name === 'watch') {
    nestedCode(unwrapped.inner.map((word) => word.text).join(' '), 'watch');
    return;
  }
  addViews({ ...input, words: unwrapped.inner, via: [...input.via, name] });
}

/** The file name of a command word: `/usr/bin/rm` → `rm`. */
export function programName(text: string): string {
  const slash = text.lastIndexOf('/');
  return slash < 0 ? text : text.slice(slash + 1);
}

export interface ShellInvocation {
  /** The `-c` code string. */
  code?: ShellWord;
  /** The script file argument, when the shell runs a file. */
  script?: ShellWord;
  /** No `-c` and no script (or `-s`): the shell runs what arrives on stdin. */
  readsStdin: boolean;
}

/** Reads a shell's arguments: `bash -e -o pipefail -c CODE`, `sh script.sh`, `bash -s`. */
export function shellInvocation(words: ShellWord[]): ShellInvocation {
  let commandFlag = false;
  let stdinFlag = false;
  for (let index = 1; index < words.length; index++) {
    const text = words[index]!.text;
    if (text === '--' || text === '-') {
      const rest = words[index + 1];
      if (commandFlag && rest) return { code: rest, readsStdin: false };
      return rest && !stdinFlag ? { script: rest, readsStdin: false } : { readsStdin: true };
    }
    if (/^[-+][A-Za-z]+$/.test(text)) {
      if (/^[-+][oO]$/.test(text)) index++;
      if (text.startsWith('-') && text.includes('c')) commandFlag = true;
      if (text.startsWith('-') && text.includes('s')) stdinFlag = true;
      continue;
    }
    if (text.startsWith('--')) {
      if (text === '--rcfile' || text === '--init-file') index++;
      continue;
    }
    const word = words[index]!;
    if (commandFlag) return { code: word, readsStdin: false };
    if (stdinFlag) return { readsStdin: true };
    return { script: word, readsStdin: false };
  }
  return { readsStdin: !commandFlag };
}

/** The words after the wrapper's own options, and a code string given through an option. */
function unwrap(words: ShellWord[], spec: WrapperSpec): { inner: ShellWord[]; code?: string } {
  let index = 1;
  let code: string | undefined;
  while (index < words.length) {
    const text = words[index]!.text;
    if (text === '--') {
      index++;
      break;
    }
    if (spec.noRunOptions?.includes(text)) return { inner: [] };
    if (spec.codeOptions?.includes(text)) {
      code = words[index + 1]?.text;
      index += 2;
      continue;
    }
    const codeOption = spec.codeOptions?.find(
      (option) => option.startsWith('--') && text.startsWith(`${option}=`),
    );
    if (codeOption) {
      code = text.slice(codeOption.length + 1);
      index++;
      continue;
    }
    if (text.startsWith('-') && text.length > 1) {
      index += spec.valueOptions?.includes(text) ? 2 : 1;
      continue;
    }
    if (spec.assignments && /^[A-Za-z_][A-Za-z0-9_]*=/.test(text)) {
      index++;
      continue;
    }
    break;
  }
  index += Math.min(spec.positional ?? 0, words.length - index);
  return { inner: spec.positional === 99 ? [] : words.slice(index), ...(code !== undefined ? { code } : {}) };
}

const SSH_VALUE_OPTIONS = new Set('BbcDEeFIiJLlmOoPpQRSWw'.split('').map((letter) => `-${letter}`));

/** The remote command of `ssh [options] host command...`. */
function sshRemoteCommand(words: ShellWord[]): ShellWord[] {
  let index = 1;
  while (index < words.length) {
    const text = words[index]!.text;
    if (text === '--') {
      index++;
      break;
    }
    if (!text.startsWith('-')) break;
    index += SSH_VALUE_OPTIONS.has(text) ? 2 : 1;
  }
  return words.slice(index + 1);
}

/** Container CLIs whose `exec` runs a command in a container: `docker exec [options] NAME CMD...`. */
const CONTAINER_CLIS = new Set(['docker', 'podman', 'nerdctl']);
/** Compose CLIs whose `exec` runs a command in a service's container: `docker-compose exec SERVICE CMD...`. */
const COMPOSE_CLIS = new Set(['docker-compose', 'podman-compose']);
/** Global options of docker, podman and nerdctl that take the next word as their value. */
export const CONTAINER_GLOBAL_VALUE_OPTIONS = [
  '-H',
  '--host',
  '-c',
  '--context',
  '--config',
  '-l',
  '--log-level',
  '--tlscacert',
  '--tlscert',
  '--tlskey',
  '--url',
  '--connection',
  '--root',
  '--runroot',
  '--storage-driver',
  '--cgroup-manager',
  '--namespace',
  '-n',
  '--address',
  '-a',
];
/** Options of `docker compose` / `docker-compose` before the subcommand that take a value. */
const COMPOSE_GLOBAL_VALUE_OPTIONS = [
  '-f',
  '--file',
  '-p',
  '--project-name',
  '--profile',
  '--env-file',
  '--project-directory',
  '--ansi',
  '--parallel',
  '--progress',
  '-H',
  '--host',
  '-c',
  '--context',
];
/** Options of `exec` (docker, podman, nerdctl, compose) that take a value; short ones may be grouped (`-itu root`). */
const EXEC_VALUE_OPTIONS = [
  '-e',
  '--env',
  '--env-file',
  '-u',
  '--user',
  '-w',
  '--workdir',
  '--detach-keys',
  '--index',
  '--preserve-fds',
  '--preserve-fd',
];
/** `podman exec --latest` runs in the newest container: no container name comes before the command. */
const EXEC_NO_NAME_OPTIONS = ['-l', '--latest'];

/**
 * The command of `docker|podman|nerdctl [global options] [container] exec [options] NAME CMD...`,
 * `docker compose [options] exec [options] SERVICE CMD...` and `docker-compose exec ...`, with the
 * label it is found under; undefined when the words are not such an exec.
 */
function containerExecCommand(
  name: string,
  words: ShellWord[],
): { inner: ShellWord[]; how: string } | undefined {
  let index = 1;
  let how = name;
  const skipOptions = (valueOptions: string[]): void => {
    while (index < words.length) {
      const text = words[index]!.text;
      if (!text.startsWith('-') || text === '-' || text === '--') return;
      index += valueOptions.includes(text) ? 2 : 1;
    }
  };
  if (CONTAINER_CLIS.has(name)) {
    skipOptions(CONTAINER_GLOBAL_VALUE_OPTIONS);
    const subcommand = words[index]?.text;
    if (subcommand === 'container') {
      index++;
      how += ' container';
    } else if (subcommand === 'compose') {
      index++;
      how += ' compose';
      skipOptions(COMPOSE_GLOBAL_VALUE_OPTIONS);
    }
  } else if (COMPOSE_CLIS.has(name)) {
    skipOptions(COMPOSE_GLOBAL_VALUE_OPTIONS);
  } else {
    return undefined;
  }
  if (words[index]?.text !== 'exec') return undefined;
  index++;
  how = `${how.replace(/ container$/, '')} exec`;
  let named = true;
  while (index < words.length) {
    const text = words[index]!.text;
    if (text === '--') {
      index++;
      break;
    }
    if (!text.startsWith('-') || text === '-') break;
    index++;
    if (EXEC_NO_NAME_OPTIONS.includes(text)) named = false;
    if (text.startsWith('--')) {
      if (!text.includes('=') && EXEC_VALUE_OPTIONS.includes(text)) index++;
      continue;
    }
    // A group of short options: the first that takes a value takes the rest of the word, or the next word.
    const letters = text.slice(1);
    const valueAt = [...letters].findIndex((letter) => EXEC_VALUE_OPTIONS.includes(`-${letter}`));
    if (valueAt === letters.length - 1) index++;
  }
  if (named) index++;
  const inner = words.slice(index);
  // `docker exec NAME -- CMD`: the `--` only ends the options.
  return { inner: inner[0]?.text === '--' ? inner.slice(1) : inner, how };
}

/** The commands of `find ... -exec CMD {} ;` and its `-execdir`, `-ok`, `-okdir` siblings. */
function findExecCommands(words: ShellWord[]): ShellWord[][] {
  const found: ShellWord[][] = [];
  for (let index = 1; index < words.length; index++) {
    if (!['-exec', '-execdir', '-ok', '-okdir'].includes(words[index]!.text)) continue;
    const end = words.findIndex(
      (word, position) => position > index && (word.text === ';' || word.text === '+'),
    );
    found.push(words.slice(index + 1, end < 0 ? words.length : end));
    if (end > 0) index = end;
  }
  return found;
}
