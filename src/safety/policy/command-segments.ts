/**
 * Turns a shell command line into the segments the policy judges: every simple command it runs,
 * and every command hidden inside those (behind wrappers such as `sudo`, `xargs`, `ssh`,
 * `docker exec`, and in code strings given to `sh -c`, `eval`, `su -c`, `watch`...).
 */
import { parseArguments, type OptionSpec, type ParsedOption } from './command-options.js';
import type {
  Assignment,
  Construct,
  ParsedShell,
  Redirect,
  ShellWord,
  SimpleCommand,
} from './shell-parser.js';

/** One command the policy judges on its own. */
export interface CommandSegment {
  /** Program and arguments, quotes removed. */
  words: ShellWord[];
  /** The words joined with spaces, for messages. */
  text: string;
  /** The wrappers and interpreters this segment was found in, outermost first, e.g. `['sudo', 'bash -c']`. */
  via: string[];
  /** Reads the previous stage of a pipeline on stdin. */
  pipedInput: boolean;
  /** Command names of the earlier pipeline stages (`curl ... | sh`). */
  upstream: string[];
  redirects: Redirect[];
  assignments: Assignment[];
  /** Text a here-document or here-string feeds to the command's stdin. */
  stdinText?: string;
  stdinDynamic?: boolean;
  /** More arguments are added at run time (`xargs CMD`): what they are is unknown. */
  extraArguments: boolean;
  /** For a wrapper: what it was found to run, and the wrapper's own options. */
  wrapper?: { options: ParsedOption[]; runs: 'command' | 'code' | 'nothing' | 'stdin-shell' };
}

export interface ShellAnalysis {
  segments: CommandSegment[];
  constructs: Construct[];
  /** What could not be followed; the policy asks rather than guesses when there are any. */
  problems: string[];
}

/** How deep code strings (`bash -c "bash -c '...'"`) and wrappers are followed. */
const MAX_CODE_DEPTH = 8;
const MAX_VIEWS = 64;

/** Shells whose `-c` argument, script file or stdin is code. */
export const SHELLS = new Set([
  'sh',
  'bash',
  'dash',
  'zsh',
  'ksh',
  'mksh',
  'ash',
  'fish',
  'yash',
  'posh',
  'tcsh',
  'csh',
  'rbash',
]);
/** Files that are the command's own stdin. */
export const STDIN_FILES = new Set(['/dev/stdin', '/dev/fd/0', '/proc/self/fd/0', '-']);

interface WrapperSpec extends OptionSpec {
  /** Plain arguments between the options and the wrapped command (`timeout 10 cmd`: 1). */
  positional?: number;
  /** `NAME=value` words may precede the command (`env`, `sudo`). */
  assignments?: boolean;
  /** Options whose value is a shell code string (`su -c`). */
  code?: string[];
  /** Options whose value is a list of words run as a command (`env -S`). */
  split?: string[];
  /** Options after which no command runs (`command -v`, `sudo -l`). */
  noRun?: string[];
  /** With these and no command, the wrapper starts a shell that reads stdin (`sudo -s`). */
  shellOptions?: string[];
  /** With no command at all, the wrapper starts a shell that reads stdin (`su`). */
  shellWhenEmpty?: boolean;
  /** The wrapped command receives extra arguments at run time (`xargs`). */
  extraArguments?: boolean;
  /** The command words are joined and run by a shell (`watch`, `ssh`). */
  joined?: boolean;
}

const SUDO: WrapperSpec = {
  shortValue: 'ugCDhpRrtTU',
  shortFlags: 'AbEeHiKklnPSsVv',
  longValue: [
    '--user',
    '--group',
    '--close-from',
    '--chdir',
    '--host',
    '--prompt',
    '--role',
    '--type',
    '--command-timeout',
    '--other-user',
    '--chroot',
  ],
  longFlags: [
    '--askpass',
    '--background',
    '--bell',
    '--edit',
    '--help',
    '--set-home',
    '--login',
    '--remove-timestamp',
    '--reset-timestamp',
    '--list',
    '--non-interactive',
    '--preserve-groups',
    '--stdin',
    '--shell',
    '--version',
    '--validate',
  ],
  longOptional: ['--preserve-env'],
  assignments: true,
  noRun: [
    '-l',
    '--list',
    '-v',
    '--validate',
    '-k',
    '-K',
    '--reset-timestamp',
    '--remove-timestamp',
    '-V',
    '--version',
    '--help',
    '-e',
    '--edit',
  ],
  shellOptions: ['-s', '--shell', '-i', '--login'],
};

const SU: WrapperSpec = {
  shortValue: 'cCgGsuw',
  shortFlags: 'flmpPhV',
  longValue: [
    '--command',
    '--session-command',
    '--group',
    '--supp-group',
    '--shell',
    '--user',
    '--whitelist-environment',
  ],
  longFlags: ['--fast', '--login', '--preserve-environment', '--pty', '--help', '--version'],
  permute: true,
  code: ['-c', '--command', '--session-command', '-C'],
  noRun: ['-h', '--help', '-V', '--version'],
  shellWhenEmpty: true,
};

/** Commands that run another command given as their remaining arguments, by program name. */
export const WRAPPERS: Record<string, WrapperSpec> = {
  sudo: SUDO,
  doas: { shortValue: 'uC', shortFlags: 'Lns', noRun: ['-L'], shellOptions: ['-s'] },
  pkexec: {
    longValue: ['--user'],
    longFlags: ['--disable-internal-agent', '--keep-cwd', '--help', '--version'],
  },
  env: {
    shortValue: 'uCS',
    shortFlags: 'i0v',
    longValue: ['--unset', '--chdir', '--split-string'],
    longFlags: ['--ignore-environment', '--null', '--debug', '--help', '--version', '--list-signal-handling'],
    longOptional: ['--default-signal', '--ignore-signal', '--block-signal'],
    assignments: true,
    split: ['-S', '--split-string'],
  },
  xargs: {
    shortValue: 'adEILnPs',
    shortFlags: '0oprtx',
    shortOptional: 'eil',
    longValue: [
      '--arg-file',
      '--delimiter',
      '--max-args',
      '--max-procs',
      '--max-chars',
      '--process-slot-var',
    ],
    longFlags: [
      '--null',
      '--no-run-if-empty',
      '--open-tty',
      '--interactive',
      '--verbose',
      '--exit',
      '--show-limits',
      '--help',
      '--version',
    ],
    longOptional: ['--eof', '--replace', '--max-lines'],
    extraArguments: true,
  },
  nohup: { longFlags: ['--help', '--version'] },
  time: {
    shortValue: 'of',
    shortFlags: 'apqvV',
    longValue: ['--output', '--format'],
    longFlags: ['--append', '--portability', '--quiet', '--verbose', '--help', '--version'],
  },
  nice: {
    shortValue: 'n',
    longValue: ['--adjustment'],
    longFlags: ['--help', '--version'],
    numericOptions: true,
  },
  renice: { shortValue: 'n', shortFlags: 'gpu', numericOptions: true, noRun: ['-p', '-g', '-u', '-n'] },
  ionice: {
    shortValue: 'cnpPu',
    shortFlags: 'tVh',
    longValue: ['--class', '--classdata', '--pid', '--pgid', '--uid'],
    longFlags: ['--ignore', '--help', '--version'],
    noRun: ['-p', '--pid', '-P', '--pgid', '-u', '--uid'],
  },
  timeout: {
    shortValue: 'sk',
    shortFlags: 'v',
    longValue: ['--signal', '--kill-after'],
    longFlags: ['--foreground', '--preserve-status', '--verbose', '--help', '--version'],
    positional: 1,
  },
  stdbuf: {
    shortValue: 'ioe',
    longValue: ['--input', '--output', '--error'],
    longFlags: ['--help', '--version'],
  },
  setsid: { shortFlags: 'cfw', longFlags: ['--ctty', '--fork', '--wait', '--help', '--version'] },
  exec: { shortValue: 'a', shortFlags: 'cl' },
  command: { shortFlags: 'pvV', noRun: ['-v', '-V'] },
  builtin: {},
  chroot: {
    longValue: ['--userspec', '--groups'],
    longFlags: ['--skip-chdir', '--help', '--version'],
    positional: 1,
    shellWhenEmpty: true,
  },
  runuser: { ...SU, shortValue: 'cgGsuw', code: ['-c', '--command', '--session-command'] },
  su: SU,
  sg: { permute: false, positional: 1, shortValue: 'c', code: ['-c'] },
  unbuffer: { shortFlags: 'p' },
  caffeinate: { shortFlags: 'dimsu', shortValue: 'tw' },
  nsenter: {
    shortValue: 'tSGrwe',
    shortOptional: 'mutinpCUT',
    shortFlags: 'aFZch',
    longValue: ['--target', '--setuid', '--setgid', '--wd', '--env'],
    longOptional: [
      '--mount',
      '--uts',
      '--ipc',
      '--net',
      '--pid',
      '--cgroup',
      '--user',
      '--time',
      '--root',
      '--wdns',
      '--preserve-credentials',
    ],
    longFlags: ['--all', '--no-fork', '--follow-context', '--keep-caps', '--help', '--version'],
  },
  unshare: {
    shortValue: 'SGRw',
    shortOptional: 'mutinpCUT',
    shortFlags: 'frcl',
    longValue: [
      '--setuid',
      '--setgid',
      '--root',
      '--wd',
      '--propagation',
      '--setgroups',
      '--map-user',
      '--map-group',
      '--kill-child',
    ],
    longOptional: [
      '--mount',
      '--uts',
      '--ipc',
      '--net',
      '--pid',
      '--cgroup',
      '--user',
      '--time',
      '--mount-proc',
      '--map-users',
      '--map-groups',
      '--monotonic',
      '--boottime',
    ],
    longFlags: [
      '--fork',
      '--map-root-user',
      '--map-current-user',
      '--map-auto',
      '--keep-caps',
      '--help',
      '--version',
    ],
  },
  taskset: {
    shortFlags: 'acpV',
    longFlags: ['--all-tasks', '--cpu-list', '--pid', '--help', '--version'],
    positional: 1,
    noRun: ['-p', '--pid'],
  },
  chrt: {
    shortValue: 'TPD',
    shortFlags: 'bdfiormRpav',
    positional: 1,
    noRun: ['-p', '--pid', '-m', '--max'],
  },
  numactl: {
    shortValue: 'NmCpPilS',
    shortFlags: 'aHsb',
    longOptional: [
      '--interleave',
      '--membind',
      '--cpunodebind',
      '--physcpubind',
      '--preferred',
      '--localalloc',
      '--cpubind',
    ],
    longFlags: ['--all', '--hardware', '--show', '--help'],
    noRun: ['-H', '--hardware', '-s', '--show'],
  },
  cgexec: { shortValue: 'g', longFlags: ['--sticky'] },
  eatmydata: {},
  fakeroot: { shortValue: 'is', longFlags: ['--unknown-is-real'] },
  faketime: { shortValue: 'm', shortFlags: 'f', positional: 1 },
  proxychains: { shortValue: 'f', shortFlags: 'q' },
  proxychains4: { shortValue: 'f', shortFlags: 'q' },
  torsocks: { shortValue: 'uapP', shortFlags: 'idq' },
  nocache: { shortValue: 'n' },
  catchsegv: {},
  chpst: { shortValue: 'ugUenlmdofcr', shortFlags: 'vP012' },
  sshpass: { shortValue: 'pfdPe', shortFlags: 'vV' },
  watch: {
    shortValue: 'nq',
    shortFlags: 'bcegprtwhvxC',
    shortOptional: 'd',
    longValue: ['--interval', '--equexit', '--shell'],
    longFlags: [
      '--beep',
      '--color',
      '--no-color',
      '--errexit',
      '--chgexit',
      '--precise',
      '--no-rerun',
      '--no-title',
      '--no-wrap',
      '--help',
      '--version',
      '--exec',
      '--no-linewrap',
    ],
    longOptional: ['--differences'],
    joined: true,
  },
  strace: {
    shortValue: 'abeEIoOpPsSuUX',
    shortFlags: 'cCdDfFhiknqrtTvVwxyYzZ',
    longFlags: [
      '--follow-forks',
      '--output-separately',
      '--summary-only',
      '--summary',
      '--help',
      '--version',
    ],
    longValue: [
      '--trace',
      '--output',
      '--attach',
      '--user',
      '--signal',
      '--status',
      '--inject',
      '--fault',
      '--string-limit',
    ],
    noRun: ['-p', '--attach'],
  },
  ltrace: { shortValue: 'aAeEFlnopuwxX', shortFlags: 'bcCDfhiLrStTV' },
  busybox: {},
  toybox: {},
  'systemd-run': {
    shortValue: 'pEHMu',
    shortFlags: 'qGrtPS',
    longValue: [
      '--unit',
      '--property',
      '--description',
      '--slice',
      '--setenv',
      '--uid',
      '--gid',
      '--working-directory',
      '--on-active',
      '--on-boot',
      '--on-startup',
      '--on-unit-active',
      '--on-unit-inactive',
      '--on-calendar',
      '--on-timezone-change',
      '--timer-property',
      '--path-property',
      '--socket-property',
      '--machine',
      '--host',
      '--nice',
      '--service-type',
    ],
    longFlags: [
      '--scope',
      '--user',
      '--system',
      '--no-block',
      '--wait',
      '--quiet',
      '--pipe',
      '--pty',
      '--collect',
      '--same-dir',
      '--shell',
      '--remain-after-exit',
      '--send-sighup',
      '--no-ask-password',
      '--help',
      '--version',
    ],
  },
  script: {
    shortValue: 'cEIOBTm',
    shortFlags: 'aefqrhV',
    longValue: [
      '--command',
      '--echo',
      '--log-in',
      '--log-out',
      '--log-io',
      '--log-timing',
      '--logging-format',
      '--output-limit',
    ],
    longFlags: ['--append', '--return', '--flush', '--force', '--quiet', '--help', '--version'],
    code: ['-c', '--command'],
    permute: true,
  },
  flatpak: {},
};

/** Interpreters that run code given on the command line, from a file or from stdin. */
export const INTERPRETERS: Record<string, { code: string[]; valueOptions?: string[] }> = {
  python: { code: ['-c'], valueOptions: ['-m', '-W', '-X', '-Q'] },
  perl: { code: ['-e', '-E'], valueOptions: ['-I', '-M', '-m', '-x', '-0', '-l', '-i', '-C', '-d', '-D'] },
  ruby: { code: ['-e'], valueOptions: ['-I', '-r', '-C', '-E', '-F', '-K', '-T', '-W', '-x'] },
  node: {
    code: ['-e', '--eval', '-p', '--print'],
    valueOptions: ['-r', '--require', '--import', '--loader', '--input-type'],
  },
  nodejs: { code: ['-e', '--eval', '-p', '--print'], valueOptions: ['-r', '--require', '--import'] },
  deno: { code: ['eval'] },
  bun: { code: ['-e', '--eval', '-p', '--print'] },
  php: { code: ['-r', '-R', '-B', '-E', '-F'], valueOptions: ['-c', '-d', '-f', '-z'] },
  lua: { code: ['-e'], valueOptions: ['-l'] },
  luajit: { code: ['-e'], valueOptions: ['-l'] },
  tclsh: { code: [] },
  wish: { code: [] },
  expect: { code: ['-c'] },
  Rscript: { code: ['-e'] },
  R: { code: ['-e'] },
  julia: { code: ['-e', '--eval', '-E', '--print'] },
  pwsh: { code: ['-c', '-Command', '-command', '-EncodedCommand', '-e'] },
  powershell: { code: ['-c', '-Command', '-command', '-EncodedCommand', '-e'] },
  osascript: { code: ['-e'] },
  gdb: { code: ['-ex', '--ex', '-eval-command', '--eval-command', '-x', '--command'] },
  jshell: { code: [] },
  groovy: { code: ['-e'] },
  scala: { code: ['-e'] },
  erl: { code: ['-eval', '-s'] },
  elixir: { code: ['-e', '--eval'] },
  guile: { code: ['-c', '-e'] },
  racket: { code: ['-e', '--eval'] },
  sbcl: { code: ['--eval'] },
  ocaml: { code: [] },
  busybox_awk: { code: [] },
};

/** Interpreter names: `python3.11` is `python`, `perl5.36` is `perl`. */
export function interpreterName(program: string): string | undefined {
  if (INTERPRETERS[program]) return program;
  const base = /^(python|perl|ruby|php|lua|node|pwsh|tclsh|wish)[0-9.]*$/.exec(program)?.[1];
  return base && INTERPRETERS[base] ? base : undefined;
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
  /** The shell runs what arrives on stdin: no `-c` and no script, `-s`, or a script that is stdin. */
  readsStdin: boolean;
  /** `-n`: read only, nothing runs. */
  noExec: boolean;
  /** Start-up files the shell is told to run (`--rcfile F`). */
  startupFile?: ShellWord;
}

/** Reads a shell's arguments: `bash -e -o pipefail -c CODE`, `sh script.sh`, `bash -s`, `bash /dev/stdin`. */
export function shellInvocation(words: ShellWord[]): ShellInvocation {
  let commandFlag = false;
  let stdinFlag = false;
  let noExec = false;
  let startupFile: ShellWord | undefined;
  const result = (value: Omit<ShellInvocation, 'noExec'>): ShellInvocation => ({
    ...value,
    noExec,
    ...(startupFile ? { startupFile } : {}),
  });
  for (let index = 1; index < words.length; index++) {
    const word = words[index]!;
    const text = word.text;
    if (text === '--' || text === '-') {
      const rest = words[index + 1];
      if (commandFlag && rest) return result({ code: rest, readsStdin: false });
      if (rest && !stdinFlag) return result({ script: rest, readsStdin: STDIN_FILES.has(rest.text) });
      return result({ readsStdin: true });
    }
    if (!word.dynamic && /^[-+][A-Za-z]+$/.test(text)) {
      const letters = text.slice(1);
      if (/[oO]/.test(letters)) index++;
      if (text.startsWith('-') && letters.includes('c')) commandFlag = true;
      if (text.startsWith('-') && letters.includes('s')) stdinFlag = true;
      if (text.startsWith('-') && letters.includes('n')) noExec = true;
      continue;
    }
    if (!word.dynamic && text.startsWith('--')) {
      if (text === '--rcfile' || text === '--init-file') {
        startupFile = words[index + 1];
        index++;
      }
      continue;
    }
    if (commandFlag) return result({ code: word, readsStdin: false });
    if (stdinFlag) return result({ readsStdin: true });
    return result({ script: word, readsStdin: STDIN_FILES.has(text) });
  }
  return result({ readsStdin: !commandFlag });
}

/** Splits a parsed command line into segments; `parse` parses nested code strings. */
export function analyseShell(text: string, parse: (code: string) => ParsedShell): ShellAnalysis {
  const analysis: ShellAnalysis = { segments: [], constructs: [], problems: [] };
  collect({ text, via: [], depth: 0, analysis, parse });
  return analysis;
}

interface CollectInput {
  text: string;
  via: string[];
  depth: number;
  analysis: ShellAnalysis;
  parse: (code: string) => ParsedShell;
  /** The code's stdin comes from a pipe (`... | ssh host CODE`). */
  pipedInput?: boolean;
}

function collect(input: CollectInput): void {
  const { analysis } = input;
  if (input.depth > MAX_CODE_DEPTH) {
    addProblem(analysis, 'code strings are nested too deeply to check');
    return;
  }
  const parsed = input.parse(input.text);
  for (const problem of parsed.problems) addProblem(analysis, problem);
  analysis.constructs.push(...parsed.constructs);
  for (const command of parsed.commands) {
    addViews({
      ...input,
      command,
      words: command.words,
      via: [...input.via, ...command.context],
      extraArguments: false,
      pipedInput: command.pipedInput || (input.pipedInput === true && command.context.length === 0),
      views: { count: 0 },
    });
  }
}

function addProblem(analysis: ShellAnalysis, problem: string): void {
  if (!analysis.problems.includes(problem)) analysis.problems.push(problem);
}

interface ViewInput extends CollectInput {
  command: SimpleCommand;
  words: ShellWord[];
  extraArguments: boolean;
  pipedInput: boolean;
  views: { count: number };
  /** `NAME=value` operands of the wrappers around these words (`env LD_PRELOAD=x ls`). */
  wrapperAssignments?: Assignment[];
}

function joinWords(words: ShellWord[]): string {
  return words.map((word) => word.text).join(' ');
}

/** Adds the segment for `words` and for every command hidden inside it. */
function addViews(input: ViewInput): void {
  const { command, words, analysis } = input;
  const segment: CommandSegment = {
    words,
    text: joinWords(words),
    via: input.via,
    pipedInput: input.pipedInput,
    upstream: command.upstream,
    redirects: command.redirects,
    assignments: words === command.words ? command.assignments : (input.wrapperAssignments ?? []),
    ...(command.stdinText !== undefined ? { stdinText: command.stdinText } : {}),
    ...(command.stdinDynamic !== undefined ? { stdinDynamic: command.stdinDynamic } : {}),
    extraArguments: input.extraArguments,
  };
  analysis.segments.push(segment);
  if (++input.views.count > MAX_VIEWS) {
    addProblem(analysis, 'the command hides too many commands to check');
    return;
  }
  const first = words[0];
  if (!first || first.dynamic || first.pattern) return;
  const name = programName(first.text);
  const nestedCode = (code: ShellWord, how: string, pipedInput = false): void => {
    if (code.dynamic) return; // judged by the profile: code known only at run time
    collect({ ...input, text: code.text, via: [...input.via, how], depth: input.depth + 1, pipedInput });
  };
  const nestedWords = (
    inner: ShellWord[],
    how: string,
    extraArguments = input.extraArguments,
    assignments: Assignment[] = [],
  ): void => {
    if (inner.length === 0) return;
    addViews({
      ...input,
      words: inner,
      via: [...input.via, how],
      extraArguments,
      // The variables the wrappers set are the inner command's environment, like a prefix.
      wrapperAssignments: [
        ...(words === command.words ? command.assignments : (input.wrapperAssignments ?? [])),
        ...assignments,
      ],
    });
  };

  // Builtins that take a variable name evaluate a subscript in it as arithmetic, which runs the
  // substitutions it holds (`test -v 'a[$(cmd)]'`, `printf -v 'a[$(cmd)]'`, `read 'a[$(cmd)]'`).
  for (const operand of variableNameOperands(name, words)) {
    const open = operand.text.indexOf('[');
    if (open < 0 || operand.dynamic || !/[$`]/.test(operand.text)) continue;
    const close = operand.text.lastIndexOf(']');
    nestedCode(
      {
        text: `: $(( ${operand.text.slice(open + 1, close > open ? close : undefined)} ))`,
        dynamic: false,
        pattern: false,
      },
      `${name} subscript`,
    );
  }
  if (SHELLS.has(name)) {
    const invocation = shellInvocation(words);
    if (invocation.code !== undefined) nestedCode(invocation.code, `${name} -c`);
    else if (invocation.readsStdin && command.stdinText !== undefined && !command.stdinDynamic)
      nestedCode({ text: command.stdinText, dynamic: false, pattern: false }, `${name} <<`);
    return;
  }
  if (name === 'source' || name === '.') {
    const file = words[1];
    if (file && STDIN_FILES.has(file.text) && command.stdinText !== undefined && !command.stdinDynamic)
      nestedCode({ text: command.stdinText, dynamic: false, pattern: false }, `${name} <<`);
    return;
  }
  if (name === 'eval') {
    const code = words.slice(1);
    nestedCode({ text: joinWords(code), dynamic: code.some((word) => word.dynamic), pattern: false }, 'eval');
    return;
  }
  if (name === 'alias') {
    // `alias ls='rm -rf'`: the value is code that a later command runs.
    for (const word of words.slice(1)) {
      const equals = word.text.indexOf('=');
      if (equals > 0)
        nestedCode({ text: word.text.slice(equals + 1), dynamic: word.dynamic, pattern: false }, 'alias');
    }
    return;
  }
  if (name === 'trap') {
    const action = words.slice(1).find((word) => !word.text.startsWith('-'));
    if (action && words.length > 2) nestedCode(action, 'trap');
    return;
  }
  if (name === 'ssh') {
    const remote = sshRemoteCommand(words);
    if (remote.problem) addProblem(analysis, remote.problem);
    if (remote.command.length > 0)
      nestedCode(
        {
          text: joinWords(remote.command),
          dynamic: remote.command.some((word) => word.dynamic),
          pattern: false,
        },
        'ssh',
        input.pipedInput,
      );
    return;
  }
  if (name === 'find') {
    // `{}` is replaced by the files found: arguments only known at run time, as with xargs.
    for (const inner of findExecCommands(words))
      nestedWords(
        inner,
        'find -exec',
        inner.some((word) => word.text.includes('{}')),
      );
    return;
  }
  if (name === 'kubectl' || name === 'oc') {
    const dash = words.findIndex((word) => word.text === '--');
    if (words.some((word) => word.text === 'exec') && dash > 0)
      nestedWords(words.slice(dash + 1), `${name} exec`);
    return;
  }
  if (name === 'ip') {
    // `ip netns exec NAME CMD...`
    const netns = words.findIndex(
      (word) => word.text === 'netns' || word.text === 'netn' || word.text === 'net',
    );
    if (netns > 0 && /^e(?:x(?:ec?)?)?$/.test(words[netns + 1]?.text ?? ''))
      nestedWords(words.slice(netns + 3), 'ip netns exec');
    return;
  }
  const exec = containerExecCommand(name, words);
  if (exec) {
    if (exec.problem) addProblem(analysis, exec.problem);
    nestedWords(exec.inner, exec.how, input.extraArguments, exec.assignments);
    return;
  }
  if (name === 'flock') return unwrapFlock(input, segment, nestedCode, nestedWords);
  if (name === 'busybox' || name === 'toybox') {
    nestedWords(words.slice(1), name);
    return;
  }
  const spec = WRAPPERS[name];
  if (!spec) return;
  const unwrapped = unwrap(words.slice(1), spec, name);
  segment.wrapper = { options: unwrapped.options, runs: unwrapped.runs };
  if (unwrapped.problem) addProblem(analysis, unwrapped.problem);
  for (const code of unwrapped.code) nestedCode(code, `${name} -c`);
  if (unwrapped.inner.length === 0) return;
  if (spec.joined) {
    const inner = unwrapped.inner;
    nestedCode({ text: joinWords(inner), dynamic: inner.some((word) => word.dynamic), pattern: false }, name);
    return;
  }
  nestedWords(
    unwrapped.inner,
    name,
    input.extraArguments || spec.extraArguments === true,
    unwrapped.assignments,
  );
}

interface Unwrapped {
  inner: ShellWord[];
  /** `NAME=value` words before the command (`env A=1 cmd`, `sudo A=1 cmd`). */
  assignments: Assignment[];
  code: ShellWord[];
  options: ParsedOption[];
  runs: 'command' | 'code' | 'nothing' | 'stdin-shell';
  problem?: string;
}

/** The command a wrapper runs, after its own options (`sudo -u x --chdir / CMD`). */
function unwrap(args: ShellWord[], spec: WrapperSpec, name: string): Unwrapped {
  const parsed = parseArguments(args, spec);
  const code: ShellWord[] = [];
  const result: Unwrapped = { inner: [], assignments: [], code, options: parsed.options, runs: 'command' };
  if (parsed.unknown !== undefined) {
    result.problem = `${name}: option ${parsed.unknown} is not known, so the command it runs cannot be told apart`;
  }
  for (const option of parsed.options) {
    if (spec.code?.includes(option.name) && option.value) code.push(option.value);
    if (spec.split?.includes(option.name) && option.value) code.push(option.value);
  }
  let positionals = parsed.positionals;
  if (spec.assignments) {
    const start = positionals.findIndex((word) => !/^[A-Za-z_][A-Za-z0-9_]*=/.test(word.text));
    result.assignments = (start < 0 ? positionals : positionals.slice(0, start)).map(assignmentOf);
    positionals = start < 0 ? [] : positionals.slice(start);
  }
  if (parsed.options.some((option) => spec.noRun?.includes(option.name))) {
    result.runs = 'nothing';
    return result;
  }
  if (code.length > 0) {
    result.runs = 'code';
    // su/runuser: words after the user are arguments of the shell's code, not a command.
    if (spec === SU || name === 'runuser') return result;
  }
  if (
    spec === SU ||
    (name === 'runuser' && !parsed.options.some((option) => option.name === '-u' || option.name === '--user'))
  ) {
    // `su [-] [user [args]]`: no -c means the user's shell runs; extra args are a script for it.
    const rest = positionals.filter((word) => word.text !== '-');
    if (rest.length > 1) {
      result.problem ??= `${name} runs the user's shell with ${rest
        .slice(1)
        .map((word) => word.text)
        .join(' ')}: the policy cannot see that code`;
    }
    result.runs = 'stdin-shell';
    return result;
  }
  const skip = Math.min(spec.positional ?? 0, positionals.length);
  result.inner = positionals.slice(skip);
  if (result.inner.length === 0 && code.length === 0) {
    const shell =
      spec.shellWhenEmpty || parsed.options.some((option) => spec.shellOptions?.includes(option.name));
    result.runs = shell ? 'stdin-shell' : 'nothing';
  }
  return result;
}

function unwrapFlock(
  input: ViewInput,
  segment: CommandSegment,
  nestedCode: (code: ShellWord, how: string) => void,
  nestedWords: (inner: ShellWord[], how: string) => void,
): void {
  const spec: OptionSpec = {
    shortValue: 'wE',
    shortFlags: 'sxenouFhV',
    longValue: ['--timeout', '--wait', '--conflict-exit-code'],
    longFlags: [
      '--shared',
      '--exclusive',
      '--nonblock',
      '--nb',
      '--unlock',
      '--no-fork',
      '--close',
      '--verbose',
      '--help',
      '--version',
    ],
  };
  const parsed = parseArguments(input.words.slice(1), spec);
  if (parsed.unknown !== undefined)
    addProblem(
      input.analysis,
      `flock: option ${parsed.unknown} is not known, so the command it runs cannot be told apart`,
    );
  const [, ...rest] = parsed.positionals;
  const first = rest[0];
  segment.wrapper = { options: parsed.options, runs: first ? 'command' : 'nothing' };
  if (first && (first.text === '-c' || first.text === '--command')) {
    const code = rest[1];
    segment.wrapper.runs = 'code';
    if (code) nestedCode(code, 'flock -c');
    return;
  }
  nestedWords(rest, 'flock');
}

const SSH_SPEC: OptionSpec = {
  shortValue: 'BbcDEeFIiJLlmOoPpQRSWw',
  shortFlags: '46AaCfGgKkMNnqsTtVvXxYy',
};

/** The remote command of `ssh [options] host [options] command...`. */
export function sshRemoteCommand(words: ShellWord[]): {
  command: ShellWord[];
  options: ParsedOption[];
  problem?: string;
} {
  // OpenSSH reads options before the destination and once more after it.
  const parsed = parseArguments(words.slice(1), SSH_SPEC, (positionals) => positionals.length >= 1);
  const afterHost = parsed.positionals.slice(1);
  const again = parseArguments(afterHost, SSH_SPEC);
  const unknown = parsed.unknown ?? again.unknown;
  return {
    command: again.positionals,
    options: [...parsed.options, ...again.options],
    ...(unknown !== undefined
      ? { problem: `ssh: option ${unknown} is not known, so the remote command cannot be told apart` }
      : {}),
  };
}

/** Container CLIs whose `exec` runs a command in a container: `docker exec [options] NAME CMD...`. */
const CONTAINER_CLIS = new Set(['docker', 'podman', 'nerdctl', 'crictl', 'lxc', 'incus']);
/** Compose CLIs whose `exec`/`run` runs a command in a service's container. */
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
  '--identity',
  '--remote',
];
/** Options of `docker compose` / `docker-compose` before the subcommand that take a value. */
export const COMPOSE_GLOBAL_VALUE_OPTIONS = [
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
  '--cwd',
];
/** `podman exec --latest` runs in the newest container: no container name comes before the command. */
const EXEC_NO_NAME_OPTIONS = ['-l', '--latest'];

/** Where the subcommand of a container CLI starts: after its global options (and `container`/`compose`). */
export function containerSubcommand(
  name: string,
  words: ShellWord[],
): { index: number; how: string; compose: boolean } | undefined {
  let index = 1;
  let how = name;
  let compose = false;
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
      compose = true;
      skipOptions(COMPOSE_GLOBAL_VALUE_OPTIONS);
    }
  } else if (COMPOSE_CLIS.has(name)) {
    compose = true;
    skipOptions(COMPOSE_GLOBAL_VALUE_OPTIONS);
  } else {
    return undefined;
  }
  return { index, how, compose };
}

/**
 * The command of `docker|podman|nerdctl [global options] [container] exec [options] NAME CMD...`,
 * `docker compose [options] exec [options] SERVICE CMD...` and `docker-compose exec ...`, with the
 * label it is found under; undefined when the words are not such an exec.
 */
/**
 * The words a builtin reads as variable names: `test`/`[` after `-v`, `printf -v NAME`, `read`
 * and `mapfile` names, `getopts`' name, `wait -p NAME`, `unset`, `let` expressions and the names of
 * declarations. (`[[ -v ]]` and arithmetic are found by the parser.)
 */
export function variableNameOperands(name: string, words: ShellWord[]): ShellWord[] {
  const args = words.slice(1);
  const valueOf = (option: string): ShellWord[] => {
    const found: ShellWord[] = [];
    args.forEach((word, index) => {
      if (word.text === option && args[index + 1]) found.push(args[index + 1]!);
      else if (
        word.text.startsWith(option) &&
        word.text.length > option.length &&
        !word.text.startsWith('--')
      )
        found.push({ ...word, text: word.text.slice(option.length) });
    });
    return found;
  };
  const plain = args.filter((word) => !word.text.startsWith('-'));
  switch (name) {
    case 'test':
    case '[':
      return valueOf('-v');
    case 'printf':
      return valueOf('-v');
    case 'read':
      return [...plain, ...valueOf('-a')];
    case 'mapfile':
    case 'readarray':
      return [...plain.slice(-1), ...valueOf('-u')];
    case 'getopts':
      return plain.slice(1, 2);
    case 'wait':
      return valueOf('-p');
    case 'unset':
    case 'let':
      return plain;
    case 'export':
    case 'declare':
    case 'typeset':
    case 'local':
    case 'readonly':
      return plain.map((word) => ({ ...word, text: word.text.split('=')[0]! }));
    default:
      return [];
  }
}

/** `NAME=value` as a word: the assignment it makes. */
function assignmentOf(word: ShellWord): Assignment {
  const at = word.text.indexOf('=');
  return { name: word.text.slice(0, at), value: { ...word, text: word.text.slice(at + 1) } };
}

function containerExecCommand(
  name: string,
  words: ShellWord[],
): { inner: ShellWord[]; how: string; assignments: Assignment[]; problem?: string } | undefined {
  const start = containerSubcommand(name, words);
  if (!start) return undefined;
  let { index } = start;
  const subcommand = words[index]?.text;
  if (subcommand !== 'exec' && !(start.compose && subcommand === 'run')) return undefined;
  index++;
  const how = `${start.how.replace(/ container$/, '')} ${subcommand}`;
  let named = true;
  const assignments: Assignment[] = [];
  while (index < words.length) {
    const text = words[index]!.text;
    if (text === '--') {
      index++;
      break;
    }
    if (!text.startsWith('-') || text === '-') break;
    // `-e NAME=value`, `--env=NAME=value`: the command's environment in the container.
    const env =
      text === '-e' || text === '--env'
        ? words[index + 1]
        : /^(?:-e|--env=)(.+)$/.exec(text)
          ? { ...words[index]!, text: /^(?:-e|--env=)(.+)$/.exec(text)![1]! }
          : undefined;
    if (env && /^[A-Za-z_][A-Za-z0-9_]*=/.test(env.text)) assignments.push(assignmentOf(env));
    index++;
    if (EXEC_NO_NAME_OPTIONS.includes(text)) named = false;
    if (text.startsWith('--')) {
      if (
        !text.includes('=') &&
        (EXEC_VALUE_OPTIONS.includes(text) ||
          ['--volume', '--entrypoint', '--name', '--publish', '--label'].includes(text))
      )
        index++;
      continue;
    }
    // A group of short options: the first that takes a value takes the rest of the word, or the next word.
    const letters = text.slice(1);
    const valueAt = [...letters].findIndex(
      (letter) =>
        EXEC_VALUE_OPTIONS.includes(`-${letter}`) || (subcommand === 'run' && 'vpl'.includes(letter)),
    );
    if (valueAt === letters.length - 1) index++;
  }
  if (named) index++;
  const inner = words.slice(index);
  // `docker exec NAME -- CMD`: the `--` only ends the options.
  return { inner: inner[0]?.text === '--' ? inner.slice(1) : inner, how, assignments };
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
