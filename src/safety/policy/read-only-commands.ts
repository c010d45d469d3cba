/**
 * The read-only profile's allowlist: the commands an investigation uses, each with the arguments
 * that keep it read-only. A segment runs without asking only when its program is listed here and
 * its rule finds nothing that writes, deletes, changes state or runs code the policy cannot see.
 */
import { hasOption, optionValues, parseArguments, type OptionSpec } from './command-options.js';
import {
  containerSubcommand,
  programName,
  sshRemoteCommand,
  variableNameOperands,
  WRAPPERS,
  type CommandSegment,
} from './command-segments.js';
import { awkProgramProblem, sedScriptProblem } from './script-checks.js';
import type { ShellWord } from './shell-parser.js';

/** What a profile says about one segment: allowed, or a reason to ask. */
export type SegmentVerdict = { allow: true; rule: string } | { allow: false; rule: string; reason: string };

type Check = (segment: CommandSegment, args: ShellWord[]) => string | undefined;

const allow = (rule: string): SegmentVerdict => ({ allow: true, rule });
const ask = (rule: string, reason: string): SegmentVerdict => ({ allow: false, rule, reason });

/** Directories whose programs are the system's own: `/usr/bin/ls` is `ls`, `/tmp/ls` is not. */
const SYSTEM_DIRS = /^\/(?:usr\/(?:local\/)?)?s?bin\/[^/]+$/;

/** Files output may be sent to without writing anything. */
const HARMLESS_OUTPUTS = new Set(['/dev/null', '/dev/stdout', '/dev/stderr', '/dev/tty', '-']);

/** Variables a command may be given for one run without changing what it does beyond display. */
const SAFE_PREFIX_VARIABLES =
  /^(?:LC_[A-Z]+|LANG|LANGUAGE|TZ|COLUMNS|LINES|TERM|NO_COLOR|CLICOLOR|TIME_STYLE|SYSTEMD_COLORS|SYSTEMD_URLIFY|KUBECONFIG|DOCKER_CONTEXT|AWS_PROFILE|AWS_REGION|AWS_DEFAULT_REGION|PGHOST|PGPORT|PGUSER|PGDATABASE|GIT_DIR|GIT_WORK_TREE|LESS)$/;
/** Pagers and editors are commands: only these values are known to be harmless. */
const PAGER_VARIABLES = /^(?:PAGER|GIT_PAGER|SYSTEMD_PAGER|MANPAGER|KUBE_EDITOR)$/;

/**
 * A long option as written (`--out`, `--outp=F`) names `full`: GNU getopt accepts any unambiguous
 * prefix, so a prefix counts as the option (an ambiguous one makes the program refuse anyway).
 * Single-dash long options (`-batch`, `-cmd`) are matched the same way.
 */
export function namesLongOption(text: string, full: string): boolean {
  const name = text.split('=')[0]!;
  if (name === full) return true;
  const dashes = full.startsWith('--') ? 2 : 1;
  if (!name.startsWith(full.slice(0, dashes)) || (dashes === 1 && name.startsWith('--'))) return false;
  return name.length > dashes + (dashes === 1 ? 1 : 0) && full.startsWith(name);
}

/**
 * Any of these options, long (`--x`, `--x=v`, an abbreviation) or short (a letter of a group:
 * `-rf`, `-oFILE`, `-d@file`), was given. The letters of a group are read up to the first letter
 * in `valueLetters` (what follows it is that option's value) or the first character that is not
 * a letter or digit.
 */
function findOption(args: ShellWord[], long: string[], short = '', valueLetters = ''): string | undefined {
  for (const word of args) {
    const text = word.text;
    if (text === '--') return undefined;
    const longMatch = long.find((option) => namesLongOption(text, option));
    if (longMatch) return longMatch;
    if (text.startsWith('--')) continue;
    const letter = shortLetterIn(text, short, valueLetters);
    if (letter) return `-${letter}`;
  }
  return undefined;
}

/** The first of `letters` given in a short option group, read as {@link findOption} does. */
function shortLetterIn(text: string, letters: string, valueLetters = ''): string | undefined {
  if (!/^-[A-Za-z0-9]/.test(text)) return undefined;
  for (let index = 1; index < text.length; index++) {
    const char = text[index]!;
    if (!/[A-Za-z0-9]/.test(char)) return undefined;
    if (letters.includes(char)) return char;
    if (valueLetters.includes(char)) return undefined;
  }
  return undefined;
}

/**
 * The value of an option at `args[index]`: `--long V`, `--long=V`, `--lo=V` (an abbreviation),
 * `-s V`, `-sV`, or `-xsV` in a group (letters before it read as {@link findOption} does).
 */
function optionValueAt(
  args: ShellWord[],
  index: number,
  option: { long?: string; short?: string; valueLetters?: string },
): string | undefined {
  const text = args[index]!.text;
  if (option.long && namesLongOption(text, option.long))
    return text.includes('=') ? text.slice(text.indexOf('=') + 1) : (args[index + 1]?.text ?? '');
  if (!option.short || text.startsWith('--') || !/^-[A-Za-z0-9]/.test(text)) return undefined;
  for (let at = 1; at < text.length; at++) {
    const char = text[at]!;
    if (char === option.short)
      return at === text.length - 1 ? (args[index + 1]?.text ?? '') : text.slice(at + 1);
    if (!/[A-Za-z0-9]/.test(char) || (option.valueLetters ?? '').includes(char)) return undefined;
  }
  return undefined;
}

/** Not-an-option words, up to the end. */
function plainWords(args: ShellWord[]): ShellWord[] {
  const result: ShellWord[] = [];
  let options = true;
  for (const word of args) {
    if (options && word.text === '--') {
      options = false;
      continue;
    }
    if (options && word.text.startsWith('-') && word.text !== '-') continue;
    result.push(word);
  }
  return result;
}

const anyArgs: Check = () => undefined;

function without(long: string[], short = '', why = 'writes or changes state', valueLetters = ''): Check {
  return (_segment, args) => {
    const found = findOption(args, long, short, valueLetters);
    return found ? `${found} ${why}` : undefined;
  };
}

function maxPlain(count: number, why: string): Check {
  return (_segment, args) => (plainWords(args).length > count ? why : undefined);
}

function all(...checks: Check[]): Check {
  return (segment, args) => {
    for (const check of checks) {
      const problem = check(segment, args);
      if (problem) return problem;
    }
    return undefined;
  };
}

/** The first plain words of a CLI after its global options, read with `spec`. */
function verbs(
  args: ShellWord[],
  spec: OptionSpec,
  count: number,
): { words: string[]; unknown?: string; unknownAt: number; dynamicAt: number } {
  const parsed = parseArguments(
    args,
    { ...spec, permute: true },
    (positionals) => positionals.length >= count,
  );
  const first = parsed.positionals.slice(0, count);
  return {
    words: first.map((word) => word.text),
    dynamicAt: (() => {
      const at = first.findIndex((word) => word.dynamic || word.pattern);
      return at < 0 ? Number.POSITIVE_INFINITY : at;
    })(),
    unknownAt: parsed.unknownAt ?? Number.POSITIVE_INFINITY,
    ...(parsed.unknown !== undefined ? { unknown: parsed.unknown } : {}),
  };
}

/**
 * A CLI with subcommands: `allowed` maps a subcommand (or `sub child`) to true or a further
 * check; `empty` is what no subcommand means.
 */
function subcommands(
  spec: OptionSpec,
  allowed: Record<string, true | Check>,
  options: { depth?: number; empty?: boolean } = {},
): Check {
  const depth = options.depth ?? 2;
  return (segment, args) => {
    const found = verbs(args, spec, depth);
    if (found.words.length === 0) return options.empty ? undefined : 'no subcommand';
    for (let length = Math.min(depth, found.words.length); length >= 1; length--) {
      if (found.dynamicAt < length) continue;
      const key = found.words.slice(0, length).join(' ');
      const rule = allowed[key];
      if (rule === undefined) continue;
      // An unknown option before the words that decided might take one of them as its value.
      if (found.unknown !== undefined && found.unknownAt < length)
        return `option ${found.unknown} is not known, so the subcommand cannot be told apart`;
      return rule === true ? undefined : rule(segment, args);
    }
    if (found.dynamicAt === 0) return 'the subcommand is only known at run time';
    return `${found.words.join(' ')} is not a read-only subcommand`;
  };
}

const CURL_DANGEROUS_LONG = [
  '--data',
  '--data-ascii',
  '--data-binary',
  '--data-raw',
  '--data-urlencode',
  '--json',
  '--form',
  '--form-string',
  '--upload-file',
  '--remote-name',
  '--remote-name-all',
  '--remote-header-name',
  '--config',
  '--cookie-jar',
  '--trace',
  '--trace-ascii',
  '--libcurl',
  '--etag-save',
  '--hsts',
  '--alt-svc',
  '--create-dirs',
  '--output-dir',
  '--mail-rcpt',
  '--mail-from',
  '--upload',
];

/** curl's short options that take a value: what follows one of them in a group is its value. */
const CURL_VALUE_LETTERS = 'AbcCdDeEFhHKmoPQrtTuUwxXyYz';

const curlCheck: Check = (_segment, args) => {
  const found = findOption(args, CURL_DANGEROUS_LONG, 'dFTOKcJ', CURL_VALUE_LETTERS);
  if (found) return `${found} uploads, sends data or writes files`;
  for (let index = 0; index < args.length; index++) {
    if (args[index]!.text === '--') break;
    const valueOf = (long: string, short: string): string | undefined =>
      optionValueAt(args, index, { long, short: short.slice(1), valueLetters: CURL_VALUE_LETTERS });
    const method = valueOf('--request', '-X');
    if (method !== undefined && !/^(?:GET|HEAD|OPTIONS)$/i.test(method)) return `-X ${method} is not a read`;
    for (const [long, short] of [
      ['--output', '-o'],
      ['--dump-header', '-D'],
      ['--stderr', ''],
      ['--cookie-jar', '-c'],
      ['--trace', ''],
      ['--trace-ascii', ''],
    ] as const) {
      const target = valueOf(long, short);
      if (target !== undefined && !HARMLESS_OUTPUTS.has(target)) return `${long} writes the file ${target}`;
    }
    const format = valueOf('--write-out', '-w');
    if (format !== undefined && format.includes('%output')) return '--write-out %output writes a file';
  }
  return undefined;
};

const wgetCheck: Check = (_segment, args) => {
  const found = findOption(
    args,
    [
      '--post-data',
      '--post-file',
      '--body-data',
      '--body-file',
      '--execute',
      '--config',
      '--recursive',
      '--mirror',
      '--save-cookies',
      '--warc-file',
      '--background',
      '--page-requisites',
      '--input-file',
    ],
    'erbpmi',
  );
  if (found) return `${found} sends data, runs wgetrc commands or writes files`;
  let toStdout = false;
  for (let index = 0; index < args.length; index++) {
    const text = args[index]!.text;
    const method = text.startsWith('--method=')
      ? text.slice(9)
      : text === '--method'
        ? args[index + 1]?.text
        : undefined;
    if (method !== undefined && !/^(?:GET|HEAD)$/i.test(method)) return `--method ${method} is not a read`;
    for (const [long, short] of [
      ['--output-file', 'o'],
      ['--append-output', 'a'],
    ] as const) {
      const log = optionValueAt(args, index, { long, short, valueLetters: 'OoaPeUtTwlQDAR' });
      if (log !== undefined && !HARMLESS_OUTPUTS.has(log)) return `${long} writes the file ${log}`;
    }
    if (
      namesLongOption(text.split('=')[0]!, '--output-document') &&
      text !== '--output-document' &&
      !text.startsWith('--output-document=')
    ) {
      const value = text.includes('=') ? text.slice(text.indexOf('=') + 1) : (args[index + 1]?.text ?? '');
      if (!HARMLESS_OUTPUTS.has(value)) return `--output-document writes the file ${value}`;
      toStdout = true;
      continue;
    }
    const output =
      text === '-O' || text === '--output-document'
        ? args[index + 1]?.text
        : text.startsWith('--output-document=')
          ? text.slice(18)
          : /^-[A-Za-z]*O/.test(text) && !text.startsWith('--')
            ? text.slice(text.indexOf('O') + 1) || args[index + 1]?.text
            : undefined;
    if (output !== undefined) {
      if (!HARMLESS_OUTPUTS.has(output)) return `-O writes the file ${output}`;
      toStdout = true;
    }
    const log =
      text === '-o' || text === '-a' || text === '--output-file' || text === '--append-output'
        ? args[index + 1]?.text
        : undefined;
    if (log !== undefined && !HARMLESS_OUTPUTS.has(log)) return `${text} writes the log file ${log}`;
    if (text === '--spider') toStdout = true;
  }
  return toStdout ? undefined : 'wget saves what it downloads to a file (use -O - or --spider)';
};

const findCheck: Check = (_segment, args) => {
  for (const word of args) {
    if (['-delete', '-fprint', '-fprint0', '-fprintf', '-fls'].includes(word.text))
      return `${word.text} deletes or writes files`;
    if (word.dynamic) return 'a find argument is only known at run time (it could be -delete)';
  }
  return undefined;
};

const sedCheck: Check = (_segment, args) => {
  const spec: OptionSpec = {
    shortValue: 'efl',
    shortFlags: 'nrEsuzi',
    shortOptional: '',
    longValue: ['--expression', '--file', '--line-length'],
    longFlags: [
      '--quiet',
      '--silent',
      '--regexp-extended',
      '--separate',
      '--unbuffered',
      '--null-data',
      '--posix',
      '--debug',
      '--sandbox',
      '--follow-symlinks',
      '--help',
      '--version',
    ],
    longOptional: ['--in-place'],
    permute: true,
  };
  const parsed = parseArguments(args, spec);
  if (
    parsed.options.some((option) => option.name === '-i' || option.name === '--in-place') ||
    args.some((word) => /^-[A-Za-z]*i/.test(word.text) && !word.text.startsWith('--'))
  )
    return '-i edits files in place';
  if (hasOption(parsed, '-f', '--file')) return '-f runs a sed script from a file the policy cannot see';
  if (parsed.unknown !== undefined) return `sed option ${parsed.unknown} is not known`;
  const scripts = optionValues(parsed, '-e', '--expression');
  if (scripts.length === 0 && parsed.positionals[0]) scripts.push(parsed.positionals[0]);
  for (const script of scripts) {
    if (script.dynamic) return 'the sed script is only known at run time';
    const problem = sedScriptProblem(script.text);
    if (problem) return problem;
  }
  return undefined;
};

const awkCheck: Check = (_segment, args) => {
  const spec: OptionSpec = {
    shortValue: 'FvfeiElWo',
    shortFlags: 'bcCgMnNOPrsStVhyD',
    shortOptional: 'dpoL',
    longValue: ['--field-separator', '--assign', '--file', '--source', '--include', '--load', '--exec'],
    longFlags: [
      '--characters-as-bytes',
      '--traditional',
      '--copyright',
      '--gen-pot',
      '--bignum',
      '--use-lc-numeric',
      '--non-decimal-data',
      '--optimize',
      '--posix',
      '--re-interval',
      '--no-optimize',
      '--sandbox',
      '--lint-old',
      '--version',
      '--help',
      '--csv',
    ],
    longOptional: ['--dump-variables', '--debug', '--lint', '--pretty-print', '--profile'],
  };
  const parsed = parseArguments(args, spec);
  if (parsed.unknown !== undefined) return `awk option ${parsed.unknown} is not known`;
  if (hasOption(parsed, '-f', '--file', '-i', '--include', '-l', '--load', '-E', '--exec'))
    return 'awk runs program files the policy cannot see';
  if (hasOption(parsed, '-d', '--dump-variables', '-p', '--profile', '-o', '--pretty-print', '-D', '--debug'))
    return 'the option writes a file or starts the debugger';
  const programs = optionValues(parsed, '-e', '--source');
  if (programs.length === 0 && parsed.positionals[0]) programs.push(parsed.positionals[0]);
  for (const program of programs) {
    if (program.dynamic) return 'the awk program is only known at run time';
    const problem = awkProgramProblem(program.text);
    if (problem) return problem;
  }
  return undefined;
};

const sortCheck = without(
  ['--output', '--compress-program', '--files0-from'],
  'o',
  'writes a file or runs a program',
);

const teeCheck: Check = (_segment, args) => {
  const targets = plainWords(args).filter((word) => !HARMLESS_OUTPUTS.has(word.text));
  return targets.length > 0 ? `tee writes to ${targets.map((word) => word.text).join(' ')}` : undefined;
};

const KUBECTL_GLOBAL: OptionSpec = {
  shortValue: 'nslcoLf',
  shortFlags: 'Aqwvh',
  longValue: [
    '--namespace',
    '--context',
    '--cluster',
    '--user',
    '--kubeconfig',
    '--server',
    '--token',
    '--as',
    '--as-group',
    '--as-uid',
    '--request-timeout',
    '--selector',
    '--output',
    '--container',
    '--field-selector',
    '--sort-by',
    '--since',
    '--since-time',
    '--tail',
    '--label-columns',
    '--template',
    '--filename',
    '--chunk-size',
    '--certificate-authority',
    '--client-certificate',
    '--client-key',
    '--tls-server-name',
    '--v',
    '--cache-dir',
    '--limit-bytes',
    '--max-log-requests',
    '--pod-running-timeout',
    '--raw',
    '--subresource',
    '--for',
    '--timeout',
    '--profile',
    '--profile-output',
  ],
  longFlags: [
    '--all-namespaces',
    '--show-labels',
    '--watch',
    '--watch-only',
    '--no-headers',
    '--show-kind',
    '--ignore-not-found',
    '--insecure-skip-tls-verify',
    '--follow',
    '--previous',
    '--timestamps',
    '--prefix',
    '--all-containers',
    '--recursive',
    '--containers',
    '--use-protocol-buffers',
    '--sum',
    '--show-managed-fields',
    '--help',
    '--client',
    '--short',
    '--minify',
    '--flatten',
    '--ignore-errors',
    '--wide',
    '--stdin',
    '--tty',
    '--quiet',
    '--list',
    '--api-group',
    '--namespaced',
    '--verbs',
    '--sort-by',
    '--output-watch-events',
  ],
};

const kubectlCheck = subcommands(KUBECTL_GLOBAL, {
  get: (_segment, args) =>
    findOption(args, ['--profile-output']) ? '--profile-output writes a file' : undefined,
  describe: true,
  logs: true,
  top: true,
  explain: true,
  version: true,
  events: true,
  'api-resources': true,
  'api-versions': true,
  'cluster-info': (_segment, args) =>
    findOption(args, ['--output-directory']) ? 'cluster-info dump writes files' : undefined,
  'config view': true,
  'config get-contexts': true,
  'config current-context': true,
  'config get-clusters': true,
  'config get-users': true,
  'auth can-i': true,
  'auth whoami': true,
  'rollout status': true,
  'rollout history': true,
  diff: true,
  exec: true,
  wait: true,
  completion: true,
  'plugin list': true,
  'certificate approve': () => 'approves a certificate',
});

const DOCKER_GLOBAL: OptionSpec = {
  shortValue: 'Hcl',
  shortFlags: 'Dv',
  longValue: [
    '--host',
    '--context',
    '--config',
    '--log-level',
    '--tlscacert',
    '--tlscert',
    '--tlskey',
    '--url',
    '--connection',
    '--identity',
    '--root',
    '--runroot',
    '--storage-driver',
    '--namespace',
    '--address',
    '--format',
    '--filter',
    '--since',
    '--until',
    '--tail',
    '--file',
    '--project-name',
    '--profile',
    '--env-file',
    '--project-directory',
    '--ansi',
    '--progress',
    '--type',
    '--size',
    '-n',
  ],
  longFlags: [
    '--debug',
    '--tls',
    '--tlsverify',
    '--version',
    '--help',
    '--all',
    '--quiet',
    '--no-trunc',
    '--latest',
    '--last',
    '--follow',
    '--timestamps',
    '--details',
    '--no-stream',
    '--digests',
    '--services',
    '--remote',
    '--size',
    '--human',
    '--dry-run',
  ],
};

const READ_ONLY_DOCKER: Record<string, true | Check> = {
  ps: true,
  logs: true,
  inspect: true,
  stats: true,
  images: true,
  top: true,
  version: true,
  info: true,
  port: true,
  diff: true,
  history: true,
  events: true,
  search: true,
  exec: true,
  'image ls': true,
  'image list': true,
  'image inspect': true,
  'image history': true,
  'container ls': true,
  'container list': true,
  'container inspect': true,
  'container logs': true,
  'container top': true,
  'container port': true,
  'container diff': true,
  'container stats': true,
  'container exec': true,
  'network ls': true,
  'network inspect': true,
  'volume ls': true,
  'volume inspect': true,
  'system df': true,
  'system info': true,
  'system events': true,
  'context ls': true,
  'context show': true,
  'context inspect': true,
  'node ls': true,
  'node inspect': true,
  'node ps': true,
  'service ls': true,
  'service ps': true,
  'service inspect': true,
  'service logs': true,
  'stack ls': true,
  'stack ps': true,
  'stack services': true,
  'buildx ls': true,
  'manifest inspect': true,
  'plugin ls': true,
  'secret ls': true,
  'config ls': true,
  'pod ps': true,
  'pod ls': true,
  'pod inspect': true,
  'pod logs': true,
  'pod top': true,
  'pod stats': true,
  healthcheck: true,
};

const READ_ONLY_COMPOSE = new Set([
  'ps',
  'logs',
  'config',
  'top',
  'images',
  'ls',
  'version',
  'events',
  'port',
  'exec',
  'convert',
]);

const dockerCheck: Check = (segment, args) => {
  const name = programName(segment.words[0]!.text);
  const start = containerSubcommand(name, segment.words);
  if (start?.compose) {
    const verb = segment.words[start.index];
    if (!verb) return 'no compose subcommand';
    if (verb.dynamic) return 'the subcommand is only known at run time';
    return READ_ONLY_COMPOSE.has(verb.text)
      ? undefined
      : `compose ${verb.text} is not a read-only subcommand`;
  }
  return subcommands(DOCKER_GLOBAL, READ_ONLY_DOCKER)(segment, args);
};

const SYSTEMCTL_SPEC: OptionSpec = {
  shortValue: 'tpnoHMs',
  shortFlags: 'alqrifh',
  longValue: [
    '--type',
    '--state',
    '--property',
    '--lines',
    '--output',
    '--host',
    '--machine',
    '--signal',
    '--job-mode',
    '--root',
    '--what',
    '--timestamp',
    '--boot-loader-entry',
    '--boot-loader-menu',
    '--kill-whom',
  ],
  longFlags: [
    '--all',
    '--full',
    '--no-pager',
    '--no-legend',
    '--plain',
    '--quiet',
    '--value',
    '--recursive',
    '--reverse',
    '--after',
    '--before',
    '--with-dependencies',
    '--failed',
    '--user',
    '--system',
    '--global',
    '--show-types',
    '--show-transaction',
    '--no-ask-password',
    '--help',
    '--version',
    '--lines',
    '--firmware-setup',
    '--check-inhibitors',
    '--legend',
  ],
};

const systemctlCheck = subcommands(
  SYSTEMCTL_SPEC,
  Object.fromEntries(
    [
      'status',
      'show',
      'cat',
      'list-units',
      'list-unit-files',
      'list-timers',
      'list-sockets',
      'list-dependencies',
      'list-jobs',
      'list-machines',
      'list-paths',
      'list-automounts',
      'is-active',
      'is-enabled',
      'is-failed',
      'is-system-running',
      'get-default',
      'show-environment',
      'help',
    ].map((verb) => [verb, true as const]),
  ),
  { depth: 1, empty: true },
);

const journalctlCheck = without(
  [
    '--vacuum-size',
    '--vacuum-time',
    '--vacuum-files',
    '--rotate',
    '--flush',
    '--sync',
    '--relinquish-var',
    '--smart-relinquish-var',
    '--setup-keys',
    '--update-catalog',
    '--cursor-file',
    '--new-id128',
  ],
  '',
  'changes the journal',
);

const GIT_GLOBAL: OptionSpec = {
  shortValue: 'C',
  shortFlags: 'pP',
  longValue: ['--git-dir', '--work-tree', '--namespace', '--super-prefix', '--config-env'],
  longFlags: [
    '--no-pager',
    '--paginate',
    '--bare',
    '--no-replace-objects',
    '--literal-pathspecs',
    '--glob-pathspecs',
    '--noglob-pathspecs',
    '--icase-pathspecs',
    '--no-optional-locks',
    '--version',
    '--help',
    '--html-path',
    '--man-path',
    '--info-path',
  ],
};

const gitOutput = without(
  ['--output', '--ext-diff', '--output-directory'],
  '',
  'writes files or runs a diff program',
);

const gitCheck: Check = (segment, args) => {
  if (
    findOption(args.slice(0, 6), ['--exec-path', '--config-env'], '') ??
    args.some((word) => word.text === '-c')
  )
    return 'git -c / --exec-path / --config-env can make git run any program';
  return subcommands(GIT_GLOBAL, {
    log: gitOutput,
    status: true,
    diff: gitOutput,
    show: gitOutput,
    'rev-parse': true,
    'ls-files': true,
    'ls-tree': true,
    'ls-remote': true,
    'cat-file': true,
    blame: true,
    annotate: true,
    shortlog: true,
    describe: true,
    'rev-list': true,
    'name-rev': true,
    'for-each-ref': true,
    'show-ref': true,
    'show-branch': true,
    whatchanged: gitOutput,
    version: true,
    'count-objects': true,
    'verify-commit': true,
    'verify-tag': true,
    'check-ignore': true,
    'check-attr': true,
    'merge-base': true,
    grep: without(['--open-files-in-pager'], 'O', 'runs a pager program'),
    'reflog show': true,
    reflog: (_segment, rest) =>
      plainWords(rest).length > 1 ? 'reflog can expire or delete entries' : undefined,
    'stash list': true,
    'stash show': true,
    'worktree list': true,
    'submodule status': true,
    'remote show': true,
    'remote get-url': true,
    remote: (_segment, rest) =>
      plainWords(rest).length > 1 ? 'remote can add, rename or remove remotes' : undefined,
    branch: (_segment, rest) => {
      const changing = findOption(
        rest,
        [
          '--delete',
          '--move',
          '--copy',
          '--force',
          '--set-upstream-to',
          '--unset-upstream',
          '--edit-description',
          '--track',
          '--no-track',
        ],
        'dDmMcCfu',
      );
      if (changing) return `branch ${changing} changes branches`;
      const listing = findOption(
        rest,
        ['--list', '--contains', '--merged', '--no-merged', '--points-at'],
        'l',
      );
      return plainWords(rest).length > 1 && !listing ? 'branch NAME creates a branch' : undefined;
    },
    tag: (_segment, rest) => {
      const changing = findOption(
        rest,
        ['--delete', '--force', '--annotate', '--sign', '--message', '--file'],
        'dfasmFu',
      );
      if (changing) return `tag ${changing} changes tags`;
      const listing = findOption(
        rest,
        ['--list', '--contains', '--merged', '--no-merged', '--points-at'],
        'ln',
      );
      return plainWords(rest).length > 1 && !listing ? 'tag NAME creates a tag' : undefined;
    },
    config: (_segment, rest) => {
      if (
        findOption(
          rest,
          [
            '--get',
            '--get-all',
            '--get-regexp',
            '--get-urlmatch',
            '--list',
            '--show-origin',
            '--show-scope',
            '--name-only',
            '--get-color',
            '--get-colorbool',
          ],
          'l',
        )
      )
        return undefined;
      if (
        findOption(
          rest,
          [
            '--unset',
            '--unset-all',
            '--add',
            '--replace-all',
            '--rename-section',
            '--remove-section',
            '--edit',
            '--file',
          ],
          'ef',
        )
      )
        return 'config changes settings';
      const plain = plainWords(rest).slice(1);
      return plain[0]?.text === 'get' || plain[0]?.text === 'list' || plain.length <= 1
        ? undefined
        : 'config NAME VALUE changes a setting';
    },
    help: true,
  })(segment, args);
};

const helmCheck = subcommands(
  {
    shortValue: 'no',
    shortFlags: 'aAqh',
    longValue: [
      '--namespace',
      '--kube-context',
      '--kubeconfig',
      '--output',
      '--revision',
      '--max',
      '--filter',
      '--registry-config',
      '--repository-config',
      '--repository-cache',
      '--burst-limit',
      '--kube-apiserver',
      '--kube-token',
      '--kube-as-user',
      '--version',
    ],
    longFlags: [
      '--all-namespaces',
      '--all',
      '--debug',
      '--short',
      '--deployed',
      '--failed',
      '--pending',
      '--uninstalled',
      '--superseded',
      '--date',
      '--reverse',
      '--show-desc',
      '--help',
    ],
  },
  Object.fromEntries(
    [
      'list',
      'ls',
      'status',
      'get',
      'history',
      'hist',
      'show',
      'inspect',
      'version',
      'env',
      'search',
      'repo list',
      'repo ls',
      'template',
      'lint',
      'dependency list',
      'dep list',
      'plugin list',
      'verify',
    ].map((verb) => [verb, true as const]),
  ),
);

const IP_READ_VERBS = ['show', 'list', 'lst', 'get', 'help'];
const IP_CHANGE_VERBS = [
  'add',
  'set',
  'change',
  'chg',
  'replace',
  'delete',
  'flush',
  'save',
  'restore',
  'append',
  'prepend',
  'exchange',
  'test',
  'attach',
  'exec',
  'identify',
];

const ipCheck: Check = (_segment, args) => {
  // `ip -b FILE` (any prefix of -batch; -br is -brief) runs every ip command in the file.
  if (args.some((word) => /^--?b(?:a(?:t(?:ch?)?)?)?$/.test(word.text)))
    return 'ip -batch runs the commands of a file';
  const parsed = parseArguments(args, {
    shortValue: 'fbrn',
    shortFlags: '46BMsdohVtciaj0D',
    longValue: ['-family', '-rc', '-netns', '-batch'],
    longFlags: [
      '-stats',
      '-details',
      '-oneline',
      '-json',
      '-pretty',
      '-color',
      '-brief',
      '-human',
      '-resolve',
      '-timestamp',
      '-all',
    ],
    permute: true,
  });
  const words = parsed.positionals.map((word) => word.text);
  if (parsed.positionals.some((word) => word.dynamic)) return 'an ip argument is only known at run time';
  const objects = [
    'address',
    'addr',
    'a',
    'link',
    'l',
    'route',
    'r',
    'ro',
    'rou',
    'neigh',
    'neighbour',
    'neighbor',
    'n',
    'rule',
    'ru',
    'maddress',
    'maddr',
    'm',
    'tunnel',
    'tun',
    't',
    'netns',
    'ntable',
    'mroute',
    'tuntap',
    'xfrm',
    'netconf',
    'token',
    'vrf',
    'monitor',
    'mptcp',
    'ioam',
    'nexthop',
    'nh',
    '-4',
    '-6',
  ];
  if (words.length === 0) return undefined;
  if (!objects.includes(words[0]!)) return `ip ${words[0]} is not a read-only object`;
  const verb = words[1];
  if (verb === undefined) return undefined;
  if (words[0] === 'route' || words[0] === 'r' || words[0] === 'ro' || words[0] === 'rou') {
    if (verb === 'get') return undefined;
  }
  if (words[0] === 'netns' && (verb === 'identify' || verb === 'pids')) return undefined;
  // ip takes any prefix of a verb and tries the changing ones first (`ip link s` is `set`):
  // a verb reads only when it abbreviates a reading verb and no changing one.
  if (
    (IP_READ_VERBS.some((full) => full.startsWith(verb)) &&
      !IP_CHANGE_VERBS.some((full) => full.startsWith(verb))) ||
    words[0] === 'monitor'
  )
    return undefined;
  // `ip addr show dev eth0` and `ip link eth0` name devices; other verbs change things.
  return /^(?:dev|to|from|table|scope|up|label)$/.test(verb)
    ? undefined
    : `ip ${words[0]} ${verb} changes the network`;
};

const iptablesCheck: Check = (_segment, args) => {
  for (let index = 0; index < args.length; index++) {
    const text = args[index]!.text;
    if (
      [
        '-L',
        '--list',
        '-S',
        '--list-rules',
        '-n',
        '--numeric',
        '-v',
        '--verbose',
        '-x',
        '--exact',
        '--line-numbers',
        '-w',
        '--wait',
      ].includes(text)
    )
      continue;
    if (text === '-t' || text === '--table') {
      index++;
      continue;
    }
    if (/^-[LSnvx]+$/.test(text)) continue;
    if (text.startsWith('-')) return `iptables ${text} changes the firewall`;
  }
  return findOption(args, ['--list', '--list-rules'], 'LS')
    ? undefined
    : 'iptables without -L/-S changes the firewall';
};

const sysctlCheck: Check = (_segment, args) => {
  if (findOption(args, ['--write', '--load', '--system'], 'wpf')) return 'writes kernel settings';
  return args.some((word) => word.text.includes('=')) ? 'KEY=VALUE writes a kernel setting' : undefined;
};

/** `declare -i` and `-n` make later values evaluate as arithmetic or name other variables. */
const declareCheck: Check = (_segment, args) => {
  for (const word of args) {
    if (word.dynamic && !word.text.includes('=')) return 'a variable name is only known at run time';
    if (/^[-+][a-zA-Z]*[inf]/.test(word.text) && !/^-[pfF]+$/.test(word.text))
      return `${word.text} makes values evaluate as arithmetic, name other variables or define functions`;
    if (/^[A-Za-z_][A-Za-z0-9_]*\[/.test(word.text)) return 'a subscript is evaluated as arithmetic';
  }
  return undefined;
};

const dateCheck = without(['--set'], 's', 'sets the clock');
const dmesgCheck = without(
  ['--clear', '--read-clear', '--console-off', '--console-on', '--console-level'],
  'cCDEn',
  'changes the kernel log',
);
const killProbe: Check = (_segment, args) => {
  const first = args[0]?.text;
  if (first === '-l' || first === '-L' || first === '--list' || first === '--table') return undefined;
  if (first === '-0' || (first === '-s' && args[1]?.text === '0')) return undefined;
  return 'kill sends a signal';
};

/** `mysql -e SQL` and `psql -c SQL`: judged by the SQL rules (see sql-statements.ts). */
export type SqlJudge = (sql: string) => string | undefined;

function sqlClient(
  codeOptions: string[],
  judge: () => SqlJudge | undefined,
  writeOptions: { long: string[]; short: string; valueLetters: string },
): Check {
  return (_segment, args) => {
    let code: ShellWord | undefined;
    for (let index = 0; index < args.length; index++) {
      const text = args[index]!.text;
      for (const option of codeOptions) {
        if (text === option) code = args[index + 1];
        else if (option.startsWith('--') && text.startsWith(`${option}=`))
          code = { ...args[index]!, text: text.slice(option.length + 1) };
        else if (!option.startsWith('--') && text.startsWith(option) && text.length > option.length)
          code = { ...args[index]!, text: text.slice(option.length) };
      }
      if (text === '-f' || text === '--file' || text.startsWith('--file='))
        return 'runs SQL from a file the policy cannot see';
      // psql -o FILE / -o '|cmd' and -L FILE write files or run a command; mysql
      // --init-command runs SQL; --tee, --pager, --log-file write or run.
      const writes = writeOptions.long.find((option) => namesLongOption(text, option));
      if (writes) return `${writes} writes a file, or runs a command or SQL the policy cannot see`;
      const letter = shortLetterIn(text, writeOptions.short, writeOptions.valueLetters);
      if (letter) return `-${letter} writes a file or runs a command`;
    }
    if (!code) return 'the client reads SQL from stdin or a terminal';
    if (code.dynamic) return 'the SQL is only known at run time';
    const problem = judge()?.(code.text);
    return problem;
  };
}

/** psql: `-o FILE` / `-o '|cmd'` (output to a file or a command), `-L FILE` (log). */
const PSQL_WRITE_OPTIONS = {
  long: ['--output', '--log-file'],
  short: 'oL',
  valueLetters: 'cdfhpUvPFRTzC',
};
/** mysql: `--init-command` runs SQL, `--tee` writes, `--pager` runs a program. */
const MYSQL_WRITE_OPTIONS = {
  long: ['--init-command', '--tee', '--pager', '--init-command-add', '--load-data-local-dir'],
  short: '',
  valueLetters: '',
};

let sqlJudge: SqlJudge | undefined;
/** Lets the SQL rules judge `psql -c` and `mysql -e` without a circular import. */
export function setSqlJudge(judge: SqlJudge): void {
  sqlJudge = judge;
}

/**
 * `less +cmd` runs a less command at start (`+!cmd` a shell command, `+|m cmd` a pipe), `-o`
 * writes the input to a file, a lesskey file can bind keys to commands.
 */
const lessCheck: Check = (_segment, args) => {
  for (const word of args) {
    if (word.text === '--') break;
    if (word.text.startsWith('+') && (word.dynamic || /[!|#]/.test(word.text)))
      return `${word.text} runs a command when it starts`;
  }
  const found = findOption(args, ['--log-file', '--LOG-FILE', '--lesskey-file', '--lesskey-src'], 'oOk');
  return found ? `${found} writes a file or loads key bindings` : undefined;
};

/** `tar -t` (list) only, with no option that runs a program or writes. */
const tarCheck: Check = (_segment, args) => {
  const texts = args.map((word) => word.text);
  const first = texts[0] ?? '';
  const listing =
    texts.some((text) => text === '--list' || /^-[a-zA-Z]*t/.test(text)) ||
    /^[a-zA-Z]*t[a-zA-Z]*$/.test(first);
  if (
    !listing ||
    texts.some((text) =>
      /^-[a-zA-Z]*[xcruA]|^--(?:extract|get|create|append|update|delete|concatenate)/.test(text),
    )
  )
    return 'only listing an archive (tar -t) is read-only';
  const runs = texts.find((text) =>
    /^--(?:checkpoint-action|to-command|use-compress-program|info-script|new-volume-script|rsh-command|index-file|file=-|volno-file)|^-[a-zA-Z]*[IF]$/.test(
      text,
    ),
  );
  return runs ? `${runs} runs a program or writes a file` : undefined;
};

/** `unzip -l|-v|-t|-Z` (list, test, info) only. */
const unzipCheck: Check = (_segment, args) =>
  args.some((word) => /^-[a-zA-Z]*[lvtZ]/.test(word.text)) &&
  !args.some((word) => /^-[a-zA-Z]*[dox]|^-[a-zA-Z]*[fu]/.test(word.text))
    ? undefined
    : 'only listing or testing an archive (unzip -l, -t) is read-only';

/** Cloud CLIs: `describe-*`, `list-*`, `get-*` and `list`/`describe`/`show` verbs; `aws s3 ls`. */
function cloudCheck(program: 'aws' | 'gcloud' | 'az'): Check {
  return (_segment, args) => {
    const plain = plainWords(args)
      .filter((word) => !word.dynamic)
      .map((word) => word.text);
    if (
      args.some((word) =>
        /^--(?:cli-input-|generate-cli-skeleton|debug-file|output-file|flags-file)/.test(word.text),
      )
    )
      return 'an option reads input or writes a file';
    // gcloud and az: the command path is the words before the first option (`az vm list -o table`).
    const path: string[] = [];
    for (const word of args) {
      if (word.text.startsWith('-') || word.dynamic) break;
      path.push(word.text);
    }
    const verbs = program === 'aws' ? plain.slice(1, 2) : path;
    const verb = program === 'aws' ? (verbs[0] ?? '') : (verbs.at(-1) ?? '');
    const readOnly =
      program === 'aws'
        ? /^(?:describe-.+|list-.+|get-(?!password-data|secret-value|parameter|parameters|login-password|authorization-token|session-token|federation-token|credentials-for-identity).+)$/.test(
            verb,
          ) ||
          (plain[0] === 's3' && verb === 'ls') ||
          (plain[0] === 'sts' && verb === 'get-caller-identity')
        : /^(?:list|describe|show|list-.+|get-iam-policy)$/.test(verb);
    if (
      program !== 'aws' &&
      plain.some((text) =>
        /^(?:secrets|keys|credentials|get-credentials|print-access-token|print-identity-token|get-access-token|account)$/.test(
          text,
        ),
      )
    )
      return `${program} ${plain.join(' ')} reads credentials`;
    return readOnly ? undefined : `${program} ${verb || '(no command)'} is not known to be read-only`;
  };
}

/** A subscript in a variable name a builtin reads is evaluated as arithmetic (`test -v 'a[...]'`). */
const variableNameCheck: Check = (segment) =>
  variableNameOperands(programName(segment.words[0]?.text ?? ''), segment.words).some(
    (word) => word.dynamic || word.text.includes('['),
  )
    ? 'a subscript in the variable name is evaluated as arithmetic, which can run commands'
    : undefined;

const READ_ONLY: Record<string, Check> = {
  gzip: (_segment, args) =>
    args.some((word) => /^(?:-l|--list|-t|--test)$/.test(word.text)) &&
    !args.some(
      (word) =>
        /^-[a-zA-Z]*[dfcr]|^--(?:decompress|force|stdout|recursive)/.test(word.text) &&
        !/^-[lt]$/.test(word.text),
    )
      ? undefined
      : 'only listing or testing an archive (gzip -l, -t) is read-only',
  readelf: anyArgs,
  objdump: anyArgs,
  nm: anyArgs,
  fuser: without(['--kill', '--signal'], 'kM', 'kills processes'),
  tcpdump: without(
    [],
    'wzCWG',
    'writes capture files or runs a command on them (-w, -z, -C, -W, -G)',
    'ABcDEFiIjJmMrsTvVyZ',
  ),
  pg_isready: anyArgs,
  bc: anyArgs,
  terraform: (_segment, args) => {
    const plain = args.filter((word) => !word.text.startsWith('-')).map((word) => word.text);
    const known = [
      'show',
      'version',
      'providers',
      'output',
      'fmt',
      'graph',
      'workspace show',
      'workspace list',
      'state list',
      'state show',
    ];
    const verb = [plain.slice(0, 2).join(' '), plain[0] ?? ''].find((candidate) => known.includes(candidate));
    if (!verb)
      return `terraform ${plain[0] ?? ''} is not known to be read-only (plan and validate run providers and data sources)`;
    if (verb === 'fmt' && !args.some((word) => /^-(?:check|diff|list=true)/.test(word.text)))
      return 'terraform fmt rewrites files';
    return undefined;
  },
  tar: tarCheck,
  unzip: unzipCheck,
  zipinfo: anyArgs,
  aws: cloudCheck('aws'),
  gcloud: cloudCheck('gcloud'),
  az: cloudCheck('az'),
  man: without(
    ['--pager', '--html', '--config-file', '--preprocessor', '--local-file'],
    'PHCpl',
    'runs a program or reads a local file as a page',
  ),
  ls: anyArgs,
  dir: anyArgs,
  vdir: anyArgs,
  cat: anyArgs,
  tac: anyArgs,
  nl: anyArgs,
  head: anyArgs,
  tail: anyArgs,
  less: lessCheck,
  more: lessCheck,
  wc: anyArgs,
  cut: anyArgs,
  paste: anyArgs,
  join: anyArgs,
  tr: anyArgs,
  fold: anyArgs,
  fmt: anyArgs,
  expand: anyArgs,
  unexpand: anyArgs,
  column: anyArgs,
  comm: anyArgs,
  cmp: anyArgs,
  diff: anyArgs,
  grep: anyArgs,
  egrep: anyArgs,
  fgrep: anyArgs,
  zgrep: anyArgs,
  zegrep: anyArgs,
  zfgrep: anyArgs,
  zcat: anyArgs,
  bzcat: anyArgs,
  xzcat: anyArgs,
  zstdcat: anyArgs,
  rg: without(['--pre', '--search-zip'], 'z', 'runs a preprocessor program'),
  strings: anyArgs,
  od: anyArgs,
  hexdump: anyArgs,
  hd: anyArgs,
  xxd: maxPlain(1, 'xxd INPUT OUTPUT writes a file'),
  base32: anyArgs,
  base64: anyArgs,
  basenc: anyArgs,
  md5sum: anyArgs,
  sha1sum: anyArgs,
  sha224sum: anyArgs,
  sha256sum: anyArgs,
  sha384sum: anyArgs,
  sha512sum: anyArgs,
  b2sum: anyArgs,
  cksum: anyArgs,
  sum: anyArgs,
  file: without(['--compile'], 'C', 'writes a compiled magic file'),
  stat: anyArgs,
  readlink: anyArgs,
  realpath: anyArgs,
  basename: anyArgs,
  dirname: anyArgs,
  pwd: anyArgs,
  echo: anyArgs,
  printf: without([], 'v', 'assigns a variable'),
  true: anyArgs,
  false: anyArgs,
  test: variableNameCheck,
  '[': variableNameCheck,
  ':': anyArgs,
  date: dateCheck,
  uptime: anyArgs,
  uname: anyArgs,
  hostname: all(
    without(['--file', '--boot'], 'Fb', 'sets the host name'),
    maxPlain(0, 'hostname NAME sets the host name'),
  ),
  whoami: anyArgs,
  id: anyArgs,
  groups: anyArgs,
  who: anyArgs,
  w: anyArgs,
  last: anyArgs,
  lastb: anyArgs,
  lastlog: without(['--clear', '--set'], 'CS'),
  users: anyArgs,
  logname: anyArgs,
  printenv: anyArgs,
  locale: anyArgs,
  df: anyArgs,
  du: anyArgs,
  free: anyArgs,
  vmstat: anyArgs,
  iostat: anyArgs,
  mpstat: anyArgs,
  pidstat: anyArgs,
  sar: without(['-o'], 'o', 'writes a data file'),
  nproc: anyArgs,
  arch: anyArgs,
  getconf: anyArgs,
  tty: anyArgs,
  seq: anyArgs,
  sleep: anyArgs,
  yes: anyArgs,
  which: anyArgs,
  type: anyArgs,
  whereis: anyArgs,
  lscpu: anyArgs,
  lsmem: anyArgs,
  lspci: anyArgs,
  lsusb: anyArgs,
  lsmod: anyArgs,
  lsblk: anyArgs,
  blkid: anyArgs,
  findmnt: anyArgs,
  lsof: anyArgs,
  lslocks: anyArgs,
  lsns: anyArgs,
  lsipc: anyArgs,
  lshw: without(['-dump'], '', 'writes a file'),
  dmidecode: without(['--dump-bin'], '', 'writes a file'),
  pstree: anyArgs,
  ps: anyArgs,
  pgrep: anyArgs,
  pidof: anyArgs,
  top: anyArgs,
  iotop: anyArgs,
  ss: without(['--kill'], 'K', 'kills sockets'),
  netstat: anyArgs,
  ping: anyArgs,
  ping6: anyArgs,
  arping: anyArgs,
  traceroute: anyArgs,
  traceroute6: anyArgs,
  tracepath: anyArgs,
  mtr: anyArgs,
  dig: anyArgs,
  nslookup: anyArgs,
  host: anyArgs,
  getent: anyArgs,
  whois: anyArgs,
  jq: anyArgs,
  yq: without(['--inplace', '--in-place'], 'i', 'edits files in place'),
  xmllint: without(['--output'], 'o', 'writes a file'),
  tree: without([], 'o', 'writes a file'),
  namei: anyArgs,
  numfmt: anyArgs,
  expr: anyArgs,
  cal: anyArgs,
  ncal: anyArgs,
  factor: anyArgs,
  rev: anyArgs,
  shuf: without(['--output'], 'o', 'writes a file'),
  sort: sortCheck,
  uniq: maxPlain(1, 'uniq INPUT OUTPUT writes a file'),
  tee: teeCheck,
  look: anyArgs,
  iconv: without(['--output'], 'o', 'writes a file'),
  dmesg: dmesgCheck,
  journalctl: journalctlCheck,
  systemctl: systemctlCheck,
  'systemd-analyze': subcommands(
    {
      longValue: [
        '--host',
        '--machine',
        '--root',
        '--image',
        '--order',
        '--require',
        '--from-pattern',
        '--to-pattern',
        '--fuzz',
        '--man',
        '--generators',
        '--iterations',
        '--base-time',
        '--unit',
        '--security-policy',
        '--threshold',
        '--offline',
        '--profile',
        '--json',
        '--table',
      ],
      longFlags: ['--user', '--system', '--global', '--no-pager', '--quiet', '--help', '--version'],
    },
    Object.fromEntries(
      [
        'blame',
        'critical-chain',
        'time',
        'dot',
        'dump',
        'cat-config',
        'unit-files',
        'unit-paths',
        'calendar',
        'timespan',
        'timestamp',
        'verify',
        'security',
        'syscall-filter',
        'filesystems',
        'condition',
        'exit-status',
        'capability',
        'inspect-elf',
        'malloc',
        'fdstore',
        'pcrs',
        'srk',
        'log-level',
        'log-target',
        'service-watchdogs',
        'architectures',
        'smbios11',
      ].map((verb) => [verb, true as const]),
    ),
    { depth: 1, empty: true },
  ),
  'systemd-cgls': anyArgs,
  'systemd-cgtop': anyArgs,
  'systemd-detect-virt': anyArgs,
  'systemd-resolve': without(
    [
      '--flush-caches',
      '--reset-statistics',
      '--reset-server-features',
      '--set-dns',
      '--set-domain',
      '--revert',
    ],
    '',
    'changes the resolver',
  ),
  loginctl: subcommands(
    {
      shortValue: 'pPHMon',
      shortFlags: 'alq',
      longValue: ['--property', '--host', '--machine', '--output', '--lines', '--kill-whom', '--signal'],
      longFlags: [
        '--all',
        '--full',
        '--value',
        '--no-pager',
        '--no-legend',
        '--no-ask-password',
        '--help',
        '--version',
      ],
    },
    Object.fromEntries(
      [
        'list-sessions',
        'session-status',
        'show-session',
        'list-users',
        'user-status',
        'show-user',
        'list-seats',
        'seat-status',
        'show-seat',
      ].map((verb) => [verb, true as const]),
    ),
    { depth: 1, empty: true },
  ),
  hostnamectl: subcommands(
    {
      shortValue: 'HM',
      longValue: ['--host', '--machine', '--json'],
      longFlags: ['--static', '--transient', '--pretty', '--no-ask-password', '--help', '--version'],
    },
    {
      status: true,
      hostname: maxPlain(1, 'sets the host name'),
      'icon-name': maxPlain(1, 'sets'),
      chassis: maxPlain(1, 'sets'),
      deployment: maxPlain(1, 'sets'),
      location: maxPlain(1, 'sets'),
    },
    { depth: 1, empty: true },
  ),
  timedatectl: subcommands(
    {
      shortValue: 'HMp',
      shortFlags: 'a',
      longValue: ['--host', '--machine', '--property'],
      longFlags: [
        '--adjust-system-clock',
        '--monitor',
        '--all',
        '--value',
        '--no-pager',
        '--no-ask-password',
        '--help',
        '--version',
      ],
    },
    Object.fromEntries(
      ['status', 'show', 'list-timezones', 'timesync-status', 'show-timesync'].map((verb) => [
        verb,
        true as const,
      ]),
    ),
    { depth: 1, empty: true },
  ),
  localectl: subcommands(
    {
      shortValue: 'HM',
      longFlags: ['--no-pager', '--no-convert', '--no-ask-password', '--help', '--version'],
    },
    Object.fromEntries(
      [
        'status',
        'list-locales',
        'list-keymaps',
        'list-x11-keymap-models',
        'list-x11-keymap-layouts',
        'list-x11-keymap-variants',
        'list-x11-keymap-options',
      ].map((verb) => [verb, true as const]),
    ),
    { depth: 1, empty: true },
  ),
  resolvectl: subcommands(
    {
      shortValue: 'ipt',
      shortFlags: '46',
      longValue: [
        '--interface',
        '--protocol',
        '--type',
        '--class',
        '--service-address',
        '--service-txt',
        '--cname',
        '--search',
        '--raw',
        '--legend',
        '--stale-data',
        '--json',
        '--cache',
        '--zone',
        '--trust-anchor',
        '--network',
        '--synthesize',
        '--relax-single-label',
      ],
      longFlags: ['--no-pager', '--help', '--version'],
    },
    Object.fromEntries(
      [
        'status',
        'query',
        'service',
        'openpgp',
        'tlsa',
        'statistics',
        'monitor',
        'show-cache',
        'show-server-state',
        'log-level',
      ].map((verb) => [verb, true as const]),
    ),
    { depth: 1, empty: true },
  ),
  networkctl: subcommands(
    {
      shortFlags: 'asl',
      longValue: ['--lines', '--json'],
      longFlags: ['--all', '--stats', '--full', '--no-pager', '--no-legend', '--help', '--version'],
    },
    Object.fromEntries(['list', 'status', 'lldp', 'label', 'cat'].map((verb) => [verb, true as const])),
    { depth: 1, empty: true },
  ),
  busctl: subcommands(
    {
      longValue: ['--address', '--host', '--machine', '--match', '--size', '--json', '--timeout'],
      longFlags: [
        '--user',
        '--system',
        '--show-machine',
        '--unique',
        '--acquired',
        '--activatable',
        '--list',
        '--quiet',
        '--verbose',
        '--full',
        '--no-pager',
        '--no-legend',
        '--help',
        '--version',
      ],
    },
    Object.fromEntries(
      ['list', 'status', 'tree', 'introspect', 'monitor', 'capture', 'get-property', 'help'].map((verb) => [
        verb,
        true as const,
      ]),
    ),
    { depth: 1, empty: true },
  ),
  coredumpctl: subcommands(
    {
      shortValue: 'SUrFD',
      shortFlags: 'q1',
      longValue: ['--since', '--until', '--field', '--directory', '--file', '--json', '--root', '--image'],
      longFlags: ['--no-pager', '--no-legend', '--reverse', '--quiet', '--all', '--help', '--version'],
    },
    { list: true, info: true },
    { depth: 1, empty: true },
  ),
  machinectl: subcommands(
    {
      longFlags: ['--all', '--full', '--no-pager', '--no-legend', '--value', '--help', '--version'],
      longValue: ['--property', '--host', '--lines', '--output'],
    },
    Object.fromEntries(
      ['list', 'status', 'show', 'list-images', 'image-status', 'show-image'].map((verb) => [
        verb,
        true as const,
      ]),
    ),
    { depth: 1, empty: true },
  ),
  nmcli: (_segment, args) => {
    const words = plainWords(args).map((word) => word.text);
    const [object = '', verb = ''] = words;
    if (object === '') return undefined;
    if (/^g/.test(object))
      return verb === '' || (/^(?:s|status|hostname|permissions|logging)$/.test(verb) && words.length <= 2)
        ? undefined
        : 'nmcli general changes settings';
    if (
      /^(?:d|c|r|n)/.test(object) &&
      (verb === '' || /^(?:s|status|show|list|wifi|connectivity|monitor|lldp)$/.test(verb))
    )
      return words[2] === 'connect' || words[2] === 'rescan' || (object.startsWith('r') && words.length > 2)
        ? 'nmcli changes the network'
        : undefined;
    return `nmcli ${object} ${verb} changes the network`;
  },
  ip: ipCheck,
  ifconfig: (_segment, args) =>
    plainWords(args).length <= 1 ? undefined : 'ifconfig with settings changes an interface',
  route: (_segment, args) =>
    plainWords(args).length === 0 ? undefined : 'route add/del changes the routing table',
  arp: without(['--delete', '--set', '--file'], 'dsf', 'changes the ARP table'),
  iptables: iptablesCheck,
  ip6tables: iptablesCheck,
  'iptables-legacy': iptablesCheck,
  'iptables-nft': iptablesCheck,
  'iptables-save': without(['--file'], 'f', 'writes a file'),
  'ip6tables-save': without(['--file'], 'f', 'writes a file'),
  nft: (_segment, args) => {
    const words = plainWords(args).map((word) => word.text);
    return words[0] === 'list' || (words.length === 0 && findOption(args, ['--version', '--help'], 'vh'))
      ? undefined
      : 'nft changes the firewall';
  },
  ufw: (_segment, args) => {
    const words = plainWords(args).map((word) => word.text);
    return words[0] === 'status' || (words[0] === 'show' && words[1] !== undefined) || words[0] === 'version'
      ? undefined
      : `ufw ${words[0] ?? ''} changes the firewall`;
  },
  'firewall-cmd': (_segment, args) =>
    args.every((word) => /^--(?:state|list-|get-|query-|info-|zone=|permanent$|version|help)/.test(word.text))
      ? undefined
      : 'firewall-cmd changes the firewall',
  conntrack: (_segment, args) =>
    findOption(args, ['--dump', '--count', '--stats', '--event', '--get'], 'LCSEG') &&
    !findOption(args, ['--delete', '--flush', '--update', '--create'], 'DFUI')
      ? undefined
      : 'conntrack changes the connection table',
  tc: (_segment, args) => {
    const words = plainWords(args).map((word) => word.text);
    return words.length <= 1 || /^(?:show|list|ls|s|l)$/.test(words[1] ?? '')
      ? undefined
      : `tc ${words.slice(0, 2).join(' ')} changes traffic control`;
  },
  ethtool: (_segment, args) =>
    findOption(
      args,
      [
        '--change',
        '--offload',
        '--set-ring',
        '--pause',
        '--coalesce',
        '--set-channels',
        '--change-eeprom',
        '--flash',
        '--set-rxfh-indir',
        '--reset',
        '--set-eee',
        '--set-fec',
        '--set-priv-flags',
        '--identify',
        '--test',
        '--config-nfc',
        '--set-phy-tunable',
        '--set-module',
      ],
      'sKGACLEfXWpt',
    )
      ? 'changes the interface'
      : undefined,
  iw: (_segment, args) => {
    const words = plainWords(args).map((word) => word.text);
    return words.some((word) => /^(?:set|del|add|connect|disconnect|scan|reg)$/.test(word))
      ? 'iw changes the wireless settings'
      : undefined;
  },
  sensors: without(['--set'], 's', 'applies the set statements of the configuration'),
  sysctl: sysctlCheck,
  modinfo: anyArgs,
  lsattr: anyArgs,
  smartctl: without(
    ['--test', '--smart', '--offlineauto', '--saveauto', '--set', '--abort', '--log'],
    'tsoSX',
    'changes the device',
  ),
  swapon: (_segment, args) => (plainWords(args).length === 0 ? undefined : 'swapon DEVICE enables swap'),
  mount: (_segment, args) => (plainWords(args).length === 0 ? undefined : 'mount changes the mounts'),
  ulimit: (_segment, args) =>
    args.every((word) => /^-[a-zA-Z]+$/.test(word.text))
      ? undefined
      : 'ulimit with a value changes the limits',
  umask: maxPlain(0, 'umask MODE changes the file mode mask'),
  alias: (_segment, args) =>
    args.every((word) => word.text === '-p')
      ? undefined
      : 'defines an alias, which changes what later commands run',
  declare: declareCheck,
  typeset: declareCheck,
  // The names and values of assignments are judged on their own (see the profile's assignment rules).
  export: (_segment, args) =>
    args.every((word) => /^-[pnf]+$/.test(word.text) || /^[A-Za-z_][A-Za-z0-9_]*(?:=|$)/.test(word.text)) &&
    !args.some((word) => /^-[a-z]*f/.test(word.text))
      ? undefined
      : 'export -f exports functions',
  set: (_segment, args) =>
    args.every(
      (word) =>
        /^[-+](?:[euxvCfnbhmBHPT]+|o)$/.test(word.text) ||
        /^(?:errexit|nounset|pipefail|xtrace|verbose|noclobber|noglob)$/.test(word.text),
    ) && !args.some((word) => word.text === '-n' || word.text === '--')
      ? undefined
      : 'set changes positional parameters or shell options',
  shopt: (_segment, args) =>
    args.every((word) => /^-[pqo]+$/.test(word.text) || !word.text.startsWith('-')) &&
    !args.some((word) => /^-[su]/.test(word.text))
      ? undefined
      : 'shopt -s/-u changes shell options',
  trap: (_segment, args) =>
    args.every((word) => /^-[pl]$/.test(word.text))
      ? undefined
      : 'trap sets a handler, which runs code later',
  hash: (_segment, args) =>
    args.every((word) => /^-[lt]$/.test(word.text) || !word.text.startsWith('-')) &&
    !args.some((word) => /^-[pdr]/.test(word.text))
      ? undefined
      : 'hash -p makes a name run another program',
  jobs: anyArgs,
  wait: anyArgs,
  cd: anyArgs,
  pushd: anyArgs,
  popd: anyArgs,
  dirs: anyArgs,
  exit: anyArgs,
  return: anyArgs,
  break: anyArgs,
  continue: anyArgs,
  shift: anyArgs,
  getopts: anyArgs,
  read: (_segment, args) =>
    args.some((word) => word.text.includes('[') || word.dynamic)
      ? 'read into a subscript evaluates it as arithmetic'
      : undefined,
  local: declareCheck,
  readonly: declareCheck,
  kill: killProbe,
  crontab: (_segment, args) =>
    args.some((word) => word.text === '-l') && !args.some((word) => /^-[erid]/.test(word.text))
      ? undefined
      : 'crontab changes scheduled jobs',
  atq: anyArgs,
  docker: dockerCheck,
  podman: dockerCheck,
  nerdctl: dockerCheck,
  'docker-compose': dockerCheck,
  'podman-compose': dockerCheck,
  crictl: subcommands(
    {
      shortValue: 'rcit',
      shortFlags: 'D',
      longValue: ['--runtime-endpoint', '--image-endpoint', '--config', '--timeout'],
      longFlags: ['--debug', '--help', '--version'],
    },
    Object.fromEntries(
      [
        'ps',
        'pods',
        'images',
        'img',
        'inspect',
        'inspectp',
        'inspecti',
        'logs',
        'info',
        'stats',
        'statsp',
        'version',
        'exec',
        'imagefsinfo',
        'metricsp',
      ].map((verb) => [verb, true as const]),
    ),
    { depth: 1 },
  ),
  kubectl: kubectlCheck,
  oc: kubectlCheck,
  helm: helmCheck,
  git: gitCheck,
  curl: curlCheck,
  wget: wgetCheck,
  find: findCheck,
  sed: sedCheck,
  awk: awkCheck,
  gawk: awkCheck,
  mawk: awkCheck,
  nawk: awkCheck,
  openssl: (_segment, args) => {
    const verb = plainWords(args)[0]?.text ?? '';
    if (
      ![
        'x509',
        's_client',
        'verify',
        'version',
        'ciphers',
        'crl',
        'asn1parse',
        'req',
        'rsa',
        'ec',
        'pkey',
        'pkcs7',
        'pkcs12',
        'sess_id',
        'dgst',
        'list',
        'errstr',
        'speed',
        'prime',
        'rand',
        'ocsp',
        'storeutl',
        'help',
        'info',
      ].includes(verb)
    )
      return `openssl ${verb} is not a read-only subcommand`;
    return args.some((word) =>
      [
        '-out',
        '-keyout',
        '-sess_out',
        '-writerand',
        '-certout',
        '-reqout',
        '-respout',
        '-new',
        '-newkey',
        '-signkey',
      ].includes(word.text),
    )
      ? 'writes keys or files'
      : undefined;
  },
  'ssh-keygen': (_segment, args) =>
    findOption(args, [], 'lFyBDL') && !findOption(args, [], 'RtbfNpcqI')
      ? undefined
      : 'ssh-keygen creates or changes keys',
  'ssh-keyscan': anyArgs,
  nc: (_segment, args) =>
    findOption(args, [], 'z') && !findOption(args, [], 'elcLkU')
      ? undefined
      : 'nc can send data or run programs',
  apt: subcommands(
    {
      shortValue: 'ot',
      longValue: ['--option', '--target-release'],
      longFlags: ['--installed', '--upgradable', '--all-versions', '--help', '--version', '--full'],
    },
    Object.fromEntries(
      ['list', 'show', 'search', 'policy', 'depends', 'rdepends', 'madison', 'showsrc', 'changelog'].map(
        (verb) => [verb, true as const],
      ),
    ),
    { depth: 1 },
  ),
  'apt-cache': subcommands(
    {
      shortValue: 'oc',
      longValue: ['--option', '--config-file'],
      longFlags: ['--installed', '--names-only', '--full', '--recurse', '--help', '--version'],
    },
    Object.fromEntries(
      [
        'show',
        'search',
        'policy',
        'depends',
        'rdepends',
        'madison',
        'showpkg',
        'showsrc',
        'stats',
        'pkgnames',
        'dump',
        'unmet',
      ].map((verb) => [verb, true as const]),
    ),
    { depth: 1 },
  ),
  dpkg: (_segment, args) =>
    args.length > 0 &&
    args.every((word) =>
      /^(?:-[lLsSp]|--(?:list|listfiles|status|search|print-architecture|print-foreign-architectures|get-selections|version|help|audit|verify|compare-versions)|[^-].*)$/.test(
        word.text,
      ),
    ) &&
    findOption(
      args,
      [
        '--list',
        '--listfiles',
        '--status',
        '--search',
        '--print-architecture',
        '--print-foreign-architectures',
        '--get-selections',
        '--version',
        '--help',
        '--audit',
        '--verify',
        '--compare-versions',
      ],
      'lLsSp',
    )
      ? undefined
      : 'dpkg installs or removes packages',
  'dpkg-query': anyArgs,
  rpm: (_segment, args) =>
    findOption(args, ['--query', '--verify', '--querytags', '--version', '--showrc', '--eval'], 'qV') &&
    !findOption(
      args,
      [
        '--install',
        '--upgrade',
        '--freshen',
        '--erase',
        '--import',
        '--setperms',
        '--setugids',
        '--restore',
        '--rebuilddb',
        '--initdb',
      ],
      'iUFe',
    )
      ? undefined
      : 'rpm installs or removes packages',
  yum: subcommands(
    {
      shortValue: 'cd',
      shortFlags: 'qCv',
      longValue: ['--config', '--enablerepo', '--disablerepo'],
      longFlags: ['--quiet', '--cacheonly', '--help', '--version'],
    },
    Object.fromEntries(
      [
        'list',
        'info',
        'repolist',
        'search',
        'provides',
        'whatprovides',
        'deplist',
        'check-update',
        'history',
        'repoquery',
        'version',
      ].map((verb) => [verb, true as const]),
    ),
    { depth: 1 },
  ),
  dnf: subcommands(
    {
      shortValue: 'cd',
      shortFlags: 'qCv',
      longValue: ['--config', '--enablerepo', '--disablerepo'],
      longFlags: ['--quiet', '--cacheonly', '--help', '--version'],
    },
    Object.fromEntries(
      [
        'list',
        'info',
        'repolist',
        'search',
        'provides',
        'deplist',
        'check-update',
        'history',
        'repoquery',
        'version',
      ].map((verb) => [verb, true as const]),
    ),
    { depth: 1 },
  ),
  apk: subcommands(
    { longFlags: ['--installed', '--help', '--version', '--verbose', '--quiet'] },
    Object.fromEntries(
      ['info', 'list', 'search', 'policy', 'dot', 'stats', 'version'].map((verb) => [verb, true as const]),
    ),
    { depth: 1 },
  ),
  snap: subcommands(
    {},
    Object.fromEntries(
      ['list', 'info', 'find', 'version', 'services', 'changes', 'connections', 'interfaces'].map((verb) => [
        verb,
        true as const,
      ]),
    ),
    { depth: 1 },
  ),
  pip: subcommands(
    {},
    { list: true, show: true, freeze: true, check: true, '--version': true },
    { depth: 1 },
  ),
  pip3: subcommands({}, { list: true, show: true, freeze: true, check: true }, { depth: 1 }),
  etcdctl: subcommands(
    {
      longValue: [
        '--endpoints',
        '--cacert',
        '--cert',
        '--key',
        '--write-out',
        '--user',
        '--password',
        '--command-timeout',
        '--dial-timeout',
      ],
      longFlags: [
        '--insecure-skip-tls-verify',
        '--debug',
        '--help',
        '--keys-only',
        '--prefix',
        '--print-value-only',
        '--cluster',
      ],
      shortValue: 'w',
    },
    {
      get: true,
      'member list': true,
      'endpoint health': true,
      'endpoint status': true,
      'endpoint hashkv': true,
      version: true,
      'alarm list': true,
      'user list': true,
      'role list': true,
      watch: true,
    },
  ),
  consul: subcommands(
    {},
    {
      members: true,
      info: true,
      version: true,
      'catalog services': true,
      'catalog nodes': true,
      'kv get': true,
      monitor: true,
      'operator raft': true,
    },
  ),
  mysql: sqlClient(['-e', '--execute'], () => sqlJudge, MYSQL_WRITE_OPTIONS),
  mariadb: sqlClient(['-e', '--execute'], () => sqlJudge, MYSQL_WRITE_OPTIONS),
  psql: sqlClient(['-c', '--command'], () => sqlJudge, PSQL_WRITE_OPTIONS),
  sqlite3: (_segment, args) => {
    const plain = plainWords(args);
    if (plain.length < 2) return 'sqlite3 reads SQL from stdin';
    if (findOption(args, ['-cmd', '-init'], '')) return 'runs commands from an option';
    return sqlJudge?.(
      plain
        .slice(1)
        .map((word) => word.text)
        .join(' '),
    );
  },
  'redis-cli': (_segment, args) => {
    const valueOptions = [
      '-h',
      '-p',
      '-a',
      '-n',
      '-u',
      '-s',
      '-r',
      '-i',
      '-d',
      '-D',
      '--user',
      '--pass',
      '--askpass',
      '--pattern',
      '--count',
      '--quoted-pattern',
      '--memkeys-samples',
      '--cacert',
      '--cacertdir',
      '--cert',
      '--key',
      '--sni',
      '--tls-ciphers',
      '--tls-ciphersuites',
    ];
    const plain = args.filter(
      (word, index) => !word.text.startsWith('-') && !valueOptions.includes(args[index - 1]?.text ?? ''),
    );
    // Scans and statistics modes read only; they take no command.
    if (
      args.some((word) =>
        /^--(?:scan|bigkeys|memkeys|hotkeys|stat|latency|latency-history|latency-dist|intrinsic-latency)$/.test(
          word.text,
        ),
      ) &&
      plain.length === 0
    )
      return undefined;
    if (args.some((word) => /^--(?:rdb|functions-rdb|pipe|eval|replica|slave)$|^-x$/.test(word.text)))
      return 'redis-cli writes a dump, pipes commands or runs a script';
    const command = plain[0]?.text.toUpperCase();
    if (command === 'CONFIG')
      return /^GET$/i.test(plain[1]?.text ?? '')
        ? undefined
        : 'CONFIG SET, REWRITE and RESETSTAT change the server';
    if (!command) return 'redis-cli reads commands from stdin';
    const reads = [
      'PING',
      'INFO',
      'GET',
      'MGET',
      'KEYS',
      'SCAN',
      'TYPE',
      'TTL',
      'PTTL',
      'EXISTS',
      'STRLEN',
      'LLEN',
      'LRANGE',
      'LINDEX',
      'HGET',
      'HGETALL',
      'HKEYS',
      'HVALS',
      'HLEN',
      'HMGET',
      'SMEMBERS',
      'SCARD',
      'SISMEMBER',
      'ZRANGE',
      'ZCARD',
      'ZSCORE',
      'ZRANK',
      'DBSIZE',
      'CLIENT',
      'SLOWLOG',
      'MEMORY',
      'LATENCY',
      'ROLE',
      'TIME',
      'LASTSAVE',
      'XLEN',
      'XRANGE',
      'XINFO',
      'PUBSUB',
      'OBJECT',
      'DUMP',
      'COMMAND',
    ];
    if (!reads.includes(command)) return `redis ${command} is not a read`;
    if (command === 'CLIENT' && !/^(?:LIST|INFO|GETNAME|ID)$/i.test(plain[1]?.text ?? ''))
      return 'CLIENT changes connections';
    if (['SLOWLOG', 'MEMORY', 'LATENCY'].includes(command) && /^(?:RESET|PURGE)$/i.test(plain[1]?.text ?? ''))
      return `${command} RESET changes the server`;
    return undefined;
  },
  tmux: subcommands(
    {},
    { ls: true, 'list-sessions': true, 'list-windows': true, 'list-panes': true, 'capture-pane': true },
    { depth: 1 },
  ),
  getfacl: anyArgs,
  getcap: anyArgs,
  'ssh-add': (_segment, args) =>
    args.every((word) => /^-[lL]$/.test(word.text)) && args.length > 0
      ? undefined
      : 'ssh-add changes the agent',
  nsupdate: () => 'changes DNS',
  ntpq: anyArgs,
  chronyc: (_segment, args) =>
    [
      'tracking',
      'sources',
      'sourcestats',
      'activity',
      'clients',
      'serverstats',
      'ntpdata',
      'rtcdata',
      'smoothing',
      'waitsync',
      'manual',
    ].includes(plainWords(args)[0]?.text ?? '') && plainWords(args)[0]?.text !== 'manual'
      ? undefined
      : 'chronyc changes the clock settings',
  screen: (_segment, args) =>
    args.length > 0 && args.every((word) => /^-(?:ls|list)$/.test(word.text))
      ? undefined
      : 'screen starts sessions',
};

/** Wrappers the read-only profile looks through (their inner command is judged on its own). */
const READ_ONLY_WRAPPERS = new Set([
  'sudo',
  'doas',
  'env',
  'xargs',
  'nohup',
  'time',
  'nice',
  'ionice',
  'timeout',
  'stdbuf',
  'setsid',
  'command',
  'builtin',
  'exec',
  'flock',
  'watch',
  'su',
  'runuser',
  'sg',
  'taskset',
  'unbuffer',
  'sshpass',
  'busybox',
  'toybox',
  'nocache',
  'chrt',
  'numactl',
]);

/** Programs whose arguments are all harmless however many are appended (`xargs CMD`). */
function takesAnyArguments(program: string): boolean {
  return READ_ONLY[program] === anyArgs;
}

function wrapperVerdict(segment: CommandSegment, program: string): SegmentVerdict {
  const wrapper = segment.wrapper;
  const rule = `read-only:${program}`;
  if (!wrapper) return allow(rule);
  if (wrapper.runs === 'stdin-shell')
    return ask(
      'read-only:shell-from-stdin',
      `${program} starts a shell that reads its commands from stdin; the policy cannot see them`,
    );
  if (
    program === 'sudo' &&
    wrapper.options.some((option) => option.name === '-e' || option.name === '--edit')
  )
    return ask('read-only:sudo-edit', 'sudo -e edits files');
  if (
    program === 'time' &&
    wrapper.options.some((option) => option.name === '-o' || option.name === '--output')
  )
    return ask('read-only:time-output', 'time -o writes a file');
  if (program === 'ionice' && wrapper.runs === 'nothing')
    return ask('read-only:ionice', 'ionice -p changes the priority of running processes');
  if (program === 'chrt' && wrapper.runs === 'nothing')
    return ask('read-only:chrt', 'chrt -p changes the scheduling of running processes');
  if (program === 'taskset' && wrapper.runs === 'nothing')
    return ask('read-only:taskset', 'taskset -p changes the CPU affinity of running processes');
  if (program === 'exec' && wrapper.runs === 'nothing') {
    return segment.redirects.length > 0
      ? ask('read-only:exec-redirect', 'exec with only redirections changes where every later output goes')
      : allow(rule);
  }
  return allow(rule);
}

/**
 * The read-only profile's verdict on one segment: allowed only when the program is on the list
 * and its rule finds nothing that writes or changes state.
 */
/** The checks every segment gets before its program's rule: name, path, environment, redirections. */
export function commonReadOnlyProblem(segment: CommandSegment): SegmentVerdict | undefined {
  const first = segment.words[0];
  if (!first) return readOnlyRedirects(segment);
  if (first.dynamic || first.pattern)
    return ask(
      'read-only:dynamic-command-name',
      'the command name is only known at run time ($VAR, $(...), a glob); the policy cannot see what runs',
    );
  if (first.text.includes('/') && !SYSTEM_DIRS.test(first.text))
    return ask(
      'read-only:program-path',
      `runs ${first.text}, a program outside the system directories: the policy cannot see what that file does`,
    );
  for (const assignment of segment.assignments) {
    const value = assignment.value?.text ?? '';
    if (
      PAGER_VARIABLES.test(assignment.name) &&
      /^(?:cat|less|more|)$/.test(value) &&
      !assignment.value?.dynamic
    )
      continue;
    if (!SAFE_PREFIX_VARIABLES.test(assignment.name))
      return ask(
        'read-only:environment',
        `${assignment.name}=... changes how the command behaves (it can make a program load or run other code)`,
      );
  }
  return readOnlyRedirects(segment);
}

export function readOnlyVerdict(segment: CommandSegment): SegmentVerdict {
  const first = segment.words[0];
  if (!first) return readOnlyRedirects(segment) ?? allow('read-only:redirect');
  if (first.dynamic || first.pattern)
    return ask(
      'read-only:dynamic-command-name',
      'the command name is only known at run time ($VAR, $(...), a glob); the policy cannot see what runs',
    );
  const program = programName(first.text);
  if (first.text.includes('/') && !SYSTEM_DIRS.test(first.text))
    return ask(
      'read-only:program-path',
      `runs ${first.text}, a program outside the system directories: the policy cannot see what that file does`,
    );
  for (const assignment of segment.assignments) {
    const value = assignment.value?.text ?? '';
    if (
      PAGER_VARIABLES.test(assignment.name) &&
      /^(?:cat|less|more|)$/.test(value) &&
      !assignment.value?.dynamic
    )
      continue;
    if (!SAFE_PREFIX_VARIABLES.test(assignment.name))
      return ask(
        'read-only:environment',
        `${assignment.name}=... changes how the command behaves (it can make a program load or run other code)`,
      );
  }
  const redirect = readOnlyRedirects(segment);
  if (redirect) return redirect;
  if (READ_ONLY_WRAPPERS.has(program) && segment.wrapper) return wrapperVerdict(segment, program);
  if (program === 'ssh') return sshVerdict(segment);
  const check = READ_ONLY[program];
  if (!check) return ask('read-only:not-listed', `${program} is not on the read-only list`);
  if (segment.extraArguments && !takesAnyArguments(program))
    return ask(
      'read-only:extra-arguments',
      `${program} gets more arguments at run time (xargs) and they could make it write`,
    );
  const args = segment.words.slice(1);
  const problem = check(segment, args);
  return problem ? ask(`read-only:${program}`, `${program}: ${problem}`) : allow(`read-only:${program}`);
}

/** Output redirections are read-only only into /dev/null and the like, or to other descriptors. */
function readOnlyRedirects(segment: CommandSegment): SegmentVerdict | undefined {
  for (const redirect of segment.redirects) {
    const verdict = redirectVerdict(redirect);
    if (verdict) return verdict;
  }
  return undefined;
}

export function redirectVerdict(redirect: {
  operator: string;
  target: ShellWord;
}): SegmentVerdict | undefined {
  const { operator, target } = redirect;
  if (operator === '<' || operator === '<<' || operator === '<<-' || operator === '<<<' || operator === '<&')
    return undefined;
  if ((operator === '>&' || operator === '<&') && /^(?:\d+-?|-)$/.test(target.text) && !target.dynamic)
    return undefined;
  if (target.dynamic)
    return ask('read-only:redirect', `output goes to ${target.text}, a file only known at run time`);
  if (HARMLESS_OUTPUTS.has(target.text)) return undefined;
  return ask('read-only:redirect', `writes the file ${target.text} (${operator})`);
}

function sshVerdict(segment: CommandSegment): SegmentVerdict {
  const remote = sshRemoteCommand(segment.words);
  const harmless =
    /^(?:ConnectTimeout|StrictHostKeyChecking|BatchMode|UserKnownHostsFile|Port|User|LogLevel|ServerAliveInterval|ServerAliveCountMax|ConnectionAttempts|IdentitiesOnly|PasswordAuthentication|PubkeyAuthentication|HostKeyAlgorithms|Compression|AddressFamily|CheckHostIP|NumberOfPasswordPrompts|PreferredAuthentications|HashKnownHosts|ControlPath|ControlMaster|ControlPersist|IdentityFile|RequestTTY)=/i;
  for (const option of remote.options) {
    if (['-L', '-R', '-D', '-W', '-w', '-N', '-f', '-M', '-S', '-O', '-E', '-F', '-e'].includes(option.name))
      return ask(
        'read-only:ssh',
        `ssh ${option.name} opens tunnels, uses a config file or controls connections`,
      );
    if (option.name === '-o' && !harmless.test(option.value?.text ?? ''))
      return ask(
        'read-only:ssh',
        `ssh -o ${option.value?.text ?? ''} can run local commands (ProxyCommand, LocalCommand...)`,
      );
  }
  if (remote.command.length === 0)
    return ask('read-only:ssh', 'ssh with no remote command starts a login shell');
  return allow('read-only:ssh');
}

/** Whether a program is on the read-only list (for the destructive profile's unknown-program scan). */
export function isReadOnlyListed(program: string): boolean {
  return (
    READ_ONLY[program] !== undefined || READ_ONLY_WRAPPERS.has(program) || WRAPPERS[program] !== undefined
  );
}
