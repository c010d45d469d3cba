/**
 * The three built-in profiles, each a way to judge what no user rule decided:
 * - `read-only` (the agent's default): a command runs without asking only when every part of it
 *   is recognised as read-only; anything else, and anything the parser cannot fully see, asks.
 * - `ask-destructive`: everything runs except what a rule knows to be destructive.
 * - `allow-all`: everything runs (still audited; user deny rules still apply).
 */
import { BUILTIN_RULES, SYSTEM_PATH } from './destructive-rules.js';
import {
  interpreterName,
  programName,
  SHELLS,
  shellInvocation,
  WRAPPERS,
  type CommandSegment,
  type ShellAnalysis,
} from './command-segments.js';
import {
  commonReadOnlyProblem,
  readOnlyVerdict,
  redirectVerdict,
  setSqlJudge,
  type SegmentVerdict,
} from './read-only-commands.js';
import type { Construct } from './shell-parser.js';
import { splitSql, sqlStatementProblem, type SqlProfile } from './sql-statements.js';

export const POLICY_PROFILES = ['read-only', 'ask-destructive', 'allow-all'] as const;
export type PolicyProfile = (typeof POLICY_PROFILES)[number];

export const PROFILE_DESCRIPTIONS: Record<PolicyProfile, string> = {
  'read-only': 'runs only commands recognised as read-only without asking',
  'ask-destructive': 'asks only for commands known to be destructive',
  'allow-all': 'runs everything without asking (still audited)',
};

/** A verdict on one part of a command: what the profile says and why. */
export interface ProfileVerdict {
  allow: boolean;
  rule: string;
  reason: string;
  /** The segment or construct it is about, for messages. */
  subject?: string;
}

/** Variables whose value changes what later commands run or load. */
const RISKY_VARIABLES =
  /^(?:PATH|LD_[A-Z_]+|BASH_ENV|ENV|PS4|PS1|PROMPT_COMMAND|IFS|SHELLOPTS|BASHOPTS|CDPATH|GLOBIGNORE|HISTFILE|EDITOR|VISUAL|BROWSER|[A-Z_]*PAGER|LESSOPEN|LESSCLOSE|GIT_[A-Z_]+|PYTHON[A-Z_]*|PERL5?[A-Z_]*|RUBYOPT|RUBYLIB|NODE_OPTIONS|NODE_PATH|SSH_ASKPASS|SUDO_ASKPASS|KUBECTL_EXTERNAL_DIFF|KUBE_EDITOR|DOCKER_HOST|TMPDIR|HOME|SHELL|BASH_FUNC_.*|BASH_XTRACEFD|MAIL|MAILPATH|TMOUT|POSIXLY_CORRECT|OPENSSL_CONF|GCONV_PATH|MALLOC_[A-Z_]+|JAVA_TOOL_OPTIONS|_JAVA_OPTIONS)$/;

/** A literal value that holds command-substitution text, which bash may run later. */
function storesCode(construct: Construct): boolean {
  return (
    construct.kind === 'assignment' &&
    construct.value !== undefined &&
    !construct.value.dynamic &&
    /\$\(|`/.test(construct.value.text)
  );
}

function describeSegment(segment: CommandSegment): string {
  const text =
    segment.words.length > 0
      ? segment.text
      : segment.redirects.map((redirect) => `${redirect.operator} ${redirect.target.text}`).join(' ');
  return segment.via.length > 0 ? `${text} (inside ${segment.via.join(' → ')})` : text;
}

/** What the read-only profile says about a shell segment, beyond the allowlist: shells and interpreters. */
function readOnlySegment(segment: CommandSegment): SegmentVerdict {
  const common = commonReadOnlyProblem(segment);
  if (common && !common.allow) return common;
  const first = segment.words[0];
  const program = first && !first.dynamic ? programName(first.text) : '';
  if (SHELLS.has(program) && (!first!.text.includes('/') || /^\/(?:usr\/)?s?bin\//.test(first!.text))) {
    const invocation = shellInvocation(segment.words);
    if (invocation.noExec) return { allow: true, rule: 'read-only:shell-syntax-check' };
    if (invocation.startupFile)
      return {
        allow: false,
        rule: 'read-only:shell-script',
        reason: `${program} runs the start-up file ${invocation.startupFile.text}; the policy cannot see it`,
      };
    if (invocation.code) {
      return invocation.code.dynamic
        ? {
            allow: false,
            rule: 'read-only:dynamic-shell-code',
            reason: `the code given to ${program} -c is built at run time; the policy cannot see it`,
          }
        : { allow: true, rule: 'read-only:shell-code' };
    }
    if (invocation.script && !invocation.readsStdin)
      return {
        allow: false,
        rule: 'read-only:shell-script',
        reason: `${program} runs the script ${invocation.script.text}; the policy cannot see what it does`,
      };
    return {
      allow: false,
      rule: 'read-only:shell-from-stdin',
      reason: `${program} runs commands read from stdin (a pipe, here-string or here-document); the policy does not run code it cannot see as read-only`,
    };
  }
  if (program === 'eval')
    return { allow: false, rule: 'read-only:eval', reason: 'eval runs a string as code' };
  if (program === 'source' || program === '.')
    return {
      allow: false,
      rule: 'read-only:source',
      reason: `${program} runs a file's commands in the shell; the policy cannot see them`,
    };
  if (program === 'coproc')
    return {
      allow: false,
      rule: 'read-only:coproc',
      reason: 'coproc runs a command in the background with pipes the policy cannot follow',
    };
  const interpreter = interpreterName(program);
  if (interpreter && !first!.text.includes('/')) {
    const words = segment.words.slice(1).map((word) => word.text);
    if (words.length > 0 && words.every((text) => /^(?:--?version|-V)$/.test(text)))
      return { allow: true, rule: 'read-only:version' };
    if (interpreter === 'python' && words[0] === '-m' && words[1] === 'json.tool' && words.length <= 3)
      return { allow: true, rule: 'read-only:python-json-tool' };
    return {
      allow: false,
      rule: 'read-only:interpreter',
      reason: `${program} runs code (inline -c/-e, a script or stdin) the policy cannot check`,
    };
  }
  return readOnlyVerdict(segment);
}

function readOnlyConstruct(construct: Construct): ProfileVerdict | undefined {
  switch (construct.kind) {
    case 'function-definition':
      return {
        allow: false,
        rule: 'read-only:function-definition',
        reason: 'defines a shell function, which changes what a later name runs',
        subject: construct.text,
      };
    case 'arithmetic':
      return construct.literal
        ? undefined
        : {
            allow: false,
            rule: 'read-only:arithmetic',
            reason:
              'arithmetic on variables or substitutions: bash evaluates their values as expressions, which can run commands (a[$(...)])',
            subject: construct.text,
          };
    case 'test-variable':
      return {
        allow: false,
        rule: 'read-only:arithmetic',
        reason: 'a subscript in [[ -v ]] is evaluated as arithmetic',
        subject: construct.text,
      };
    case 'indirect-expansion':
      return {
        allow: false,
        rule: 'read-only:indirect-expansion',
        reason: '${!name} names a variable by the value of another; its subscript is evaluated as arithmetic',
        subject: construct.text,
      };
    case 'prompt-expansion':
      return {
        allow: false,
        rule: 'read-only:prompt-expansion',
        reason: '${var@P} runs the command substitutions in the value',
        subject: construct.text,
      };
    case 'assignment':
      if (RISKY_VARIABLES.test(construct.name))
        return {
          allow: false,
          rule: 'read-only:environment',
          reason: `setting ${construct.name} changes what later commands run or load`,
          subject: construct.text,
        };
      if (storesCode(construct))
        return {
          allow: false,
          rule: 'read-only:stored-code',
          reason: 'the value holds $(...) or backticks as text, which a later expansion can run',
          subject: construct.text,
        };
      return undefined;
    case 'compound-redirect': {
      const verdict = redirectVerdict(construct.redirect);
      return verdict && !verdict.allow
        ? { allow: false, rule: verdict.rule, reason: verdict.reason, subject: construct.text }
        : undefined;
    }
  }
}

function destructiveConstruct(construct: Construct): ProfileVerdict | undefined {
  if (construct.kind === 'prompt-expansion')
    return {
      allow: false,
      rule: 'builtin:prompt-expansion',
      reason: '${var@P} runs the command substitutions in the value',
      subject: construct.text,
    };
  if (
    construct.kind === 'assignment' &&
    /^(?:PATH|LD_PRELOAD|LD_LIBRARY_PATH|LD_AUDIT|BASH_ENV|ENV|PS4|PROMPT_COMMAND|IFS|SHELLOPTS|BASHOPTS)$/.test(
      construct.name,
    )
  )
    return {
      allow: false,
      rule: 'builtin:change-shell-lookup',
      reason: `setting ${construct.name} changes what later commands run`,
      subject: construct.text,
    };
  if (
    construct.kind === 'assignment' &&
    /^(?:[A-Z_]*PAGER|GIT_[A-Z_0-9]+|LESSOPEN|LESSCLOSE|EDITOR|VISUAL|BROWSER|KUBE_EDITOR|KUBECTL_EXTERNAL_DIFF|SSH_ASKPASS|SUDO_ASKPASS|RSYNC_RSH|TAR_OPTIONS|NODE_OPTIONS|PERL5OPT|PYTHONSTARTUP)$/.test(
      construct.name,
    ) &&
    (construct.value?.dynamic === true ||
      !/^(?:cat|less|more|less -R|less -FRX|most|)$/.test((construct.value?.text ?? '').trim()))
  )
    return {
      allow: false,
      rule: 'builtin:program-in-a-variable',
      reason: `${construct.name} names a program that later commands run`,
      subject: construct.text,
    };
  if (storesCode(construct))
    return {
      allow: false,
      rule: 'builtin:stored-code',
      reason: 'the value holds $(...) or backticks as text, which a later expansion can run',
      subject: construct.text,
    };
  if (construct.kind === 'compound-redirect') {
    const target = construct.redirect.target;
    if (
      />/.test(construct.redirect.operator) &&
      construct.redirect.operator !== '>&' &&
      (target.dynamic ||
        (SYSTEM_PATH.test(target.text) && !/^\/dev\/(?:null|stdout|stderr)$/.test(target.text)))
    )
      return {
        allow: false,
        rule: 'builtin:overwrite-system-file',
        reason: 'writes into system files or kernel settings',
        subject: construct.text,
      };
  }
  return undefined;
}

/** The profile's verdicts on every segment and construct of a shell command, asking ones first. */
export function judgeShell(
  analysis: ShellAnalysis,
  profile: PolicyProfile,
): Map<CommandSegment | Construct, ProfileVerdict> {
  const verdicts = new Map<CommandSegment | Construct, ProfileVerdict>();
  if (profile === 'allow-all') return verdicts;
  for (const segment of analysis.segments) {
    if (profile === 'read-only') {
      const verdict = readOnlySegment(segment);
      verdicts.set(
        segment,
        verdict.allow
          ? { allow: true, rule: verdict.rule, reason: 'read-only', subject: describeSegment(segment) }
          : { allow: false, rule: verdict.rule, reason: verdict.reason, subject: describeSegment(segment) },
      );
    } else {
      const rule =
        BUILTIN_RULES.find((candidate) => candidate.matches(segment)) ?? unknownProgramRule(segment);
      if (rule)
        verdicts.set(segment, {
          allow: false,
          rule: `builtin:${rule.name}`,
          reason: rule.reason,
          subject: describeSegment(segment),
        });
    }
  }
  for (const construct of analysis.constructs) {
    const verdict = profile === 'read-only' ? readOnlyConstruct(construct) : destructiveConstruct(construct);
    if (verdict) verdicts.set(construct, verdict);
  }
  return verdicts;
}

/**
 * A program the policy does not know may run its arguments as a command (`ip netns exec x rm
 * -rf /`, a wrapper not on the list): try the destructive rules on each argument that names a
 * program, from there on.
 */
function unknownProgramRule(segment: CommandSegment): (typeof BUILTIN_RULES)[number] | undefined {
  const first = segment.words[0];
  if (!first || first.dynamic) return undefined;
  const program = programName(first.text);
  if (KNOWN_NOT_RUNNING.has(program) || isListedForScan(program)) return undefined;
  for (let index = 1; index < segment.words.length; index++) {
    const word = segment.words[index]!;
    if (word.dynamic || word.text.startsWith('-')) continue;
    if (!SCANNED_PROGRAMS.has(programName(word.text))) continue;
    const inner: CommandSegment = {
      ...segment,
      words: segment.words.slice(index),
      text: segment.words
        .slice(index)
        .map((item) => item.text)
        .join(' '),
      redirects: [],
      assignments: [],
      via: [...segment.via, `${program} ?`],
    };
    const rule = BUILTIN_RULES.find((candidate) => candidate.matches(inner));
    if (rule) return rule;
  }
  return undefined;
}

/** Programs the destructive rules are about: worth looking for behind unknown wrappers. */
const SCANNED_PROGRAMS = new Set([
  'rm',
  'dd',
  'shred',
  'truncate',
  'wipefs',
  'mkfs',
  'mkswap',
  'kill',
  'killall',
  'pkill',
  'reboot',
  'shutdown',
  'halt',
  'poweroff',
  'iptables',
  'ip6tables',
  'nft',
  'systemctl',
  'find',
  'chmod',
  'chown',
  'mv',
  'userdel',
  'sh',
  'bash',
  'dash',
  'zsh',
  'python',
  'python3',
  'perl',
  'ruby',
  'node',
  'kubectl',
  'docker',
  'git',
  'mkfs.ext4',
  'mkfs.xfs',
  'fdisk',
  'parted',
  'crontab',
  'rsync',
]);
/** Programs known to take words that are not commands (`echo rm -rf /`, `grep rm`, `man rm`). */
const KNOWN_NOT_RUNNING = new Set([
  'echo',
  'printf',
  'man',
  'apropos',
  'whatis',
  'info',
  'help',
  'type',
  'which',
  'whereis',
  'command',
  'git',
  'apt',
  'apt-get',
  'apt-cache',
  'dpkg',
  'yum',
  'dnf',
  'rpm',
  'pip',
  'npm',
  'grep',
  'egrep',
  'fgrep',
  'rg',
  'ag',
  'ack',
  'logger',
  'wall',
  'notify-send',
  'jq',
  'yq',
  'kubectl',
  'helm',
  'docker',
  'podman',
  'journalctl',
  'systemctl',
  'curl',
  'wget',
  'tar',
  'zip',
  'unzip',
  'gzip',
  'ls',
  'cat',
  'sed',
  'awk',
  'head',
  'tail',
  'sort',
  'uniq',
  'cut',
  'tr',
  'wc',
  'test',
  '[',
  '[[',
  'pgrep',
  'pidof',
  'ps',
  'alias',
  'trap',
  'export',
  'declare',
  'local',
  'read',
  'history',
  'fc',
  'mysql',
  'psql',
  'redis-cli',
  'sqlite3',
]);

/** Programs whose inner commands the segment analysis already finds exactly. */
const UNWRAPPED = new Set([
  'ssh',
  'find',
  'kubectl',
  'oc',
  'ip',
  'docker',
  'podman',
  'nerdctl',
  'crictl',
  'lxc',
  'incus',
  'docker-compose',
  'podman-compose',
  'flock',
  'eval',
  'alias',
  'trap',
  'source',
  '.',
]);

function isListedForScan(program: string): boolean {
  return (
    SHELLS.has(program) ||
    interpreterName(program) !== undefined ||
    WRAPPERS[program] !== undefined ||
    UNWRAPPED.has(program)
  );
}

/** The SQL profile's verdict on each statement of a SQL command. */
export function judgeSql(
  source: string,
  profile: PolicyProfile,
): { verdicts: ProfileVerdict[]; problems: string[]; statements: ReturnType<typeof splitSql>['statements'] } {
  const analysis = splitSql(source);
  const verdicts: ProfileVerdict[] = analysis.statements.map((statement) => {
    if (profile === 'allow-all')
      return {
        allow: true,
        rule: 'allow-all',
        reason: 'allowed by the allow-all profile',
        subject: statement.text,
      };
    const problem = sqlStatementProblem(statement, profile as SqlProfile);
    return problem
      ? {
          allow: false,
          rule: profile === 'read-only' ? 'read-only:sql' : 'builtin:sql-destructive',
          reason: problem,
          subject: statement.text,
        }
      : {
          allow: true,
          rule: profile === 'read-only' ? 'read-only:sql' : 'default',
          reason: 'read-only',
          subject: statement.text,
        };
  });
  return { verdicts, problems: analysis.problems, statements: analysis.statements };
}

// `psql -c` / `mysql -e` in a shell command are judged by the SQL rules of the read-only profile.
setSqlJudge((sql) => {
  const judged = judgeSql(sql, 'read-only');
  if (judged.problems.length > 0) return judged.problems[0];
  return judged.verdicts.find((verdict) => !verdict.allow)?.reason;
});
