import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError, errorMessage } from '../errors/opsmate-error.js';
import { yamlModule } from '../config/yaml-module.js';
import { analyseShell, type CommandSegment } from './policy/command-segments.js';
import {
  judgeShell,
  judgeSql,
  POLICY_PROFILES,
  type PolicyProfile,
  type ProfileVerdict,
} from './policy/policy-profiles.js';
import { cliOptionSpec } from './policy/read-only-commands.js';
import {
  globRegex,
  matchesExact,
  matchesPattern,
  matchesPrefix,
  ruleRegex,
  type MatchMode,
  type RuleSubject,
} from './policy/rule-patterns.js';
import {
  loadShellParser,
  parsePlainCommand,
  type ParsedShell,
  type ShellParser,
} from './policy/shell-parser.js';

export { POLICY_PROFILES, PROFILE_DESCRIPTIONS, type PolicyProfile } from './policy/policy-profiles.js';

export type PolicyAction = 'allow' | 'ask' | 'deny';

/** How an "always allow" rule matches: the exact command, or every command starting with it. */
export type AllowMatch = 'exact' | 'prefix';

/** How one part of a command (a segment, a SQL statement, a construct) was judged. */
export interface PolicyPart {
  action: PolicyAction;
  rule: string;
  /** The part, as the policy saw it (wrappers named: `rm -rf / (inside sudo)`). */
  subject: string;
  reason: string;
}

/** What the policy says about one command line. */
export interface PolicyDecision {
  action: PolicyAction;
  /** The rule that decided: `read-only:<name>`, `builtin:<name>`, `<file>#<n> <name>`, `session`, `parser` or `default`. */
  rule: string;
  /** Why, in words for the reviewer and the model. */
  reason: string;
  /** The command segment that decided, when one did. */
  segment?: string;
  /** The profile the command was judged with. */
  profile: PolicyProfile;
  /** The language the command was read as (`shell`, `sql`...). */
  language: string;
  /** Every part and how it was judged, in order. */
  parts: PolicyPart[];
}

/** Where a command will run, for rules scoped to runtimes, targets and languages. */
export interface PolicyScope {
  runtime: string;
  target: Record<string, string>;
  /** The runtime's command language id; `shell` when absent. */
  language?: string;
}

const globs = z.union([z.string(), z.array(z.string())]);

const ruleSchema = z
  .object({
    name: z.string().optional(),
    action: z.enum(['allow', 'ask', 'deny']),
    commands: z
      .array(z.string().min(1))
      .optional()
      .describe('Command patterns: a program then arguments, each word a glob; "*" matches any command'),
    prefix: z
      .union([z.string().min(1), z.array(z.string().min(1))])
      .optional()
      .describe(
        'Command prefixes: the command starts with exactly these words ("systemctl restart nginx"); ask and deny rules also match them with options between the words',
      ),
    exact: z
      .union([z.string().min(1), z.array(z.string().min(1))])
      .optional()
      .describe('Whole commands: the command is exactly these words, no more ("systemctl restart nginx")'),
    match: z
      .string()
      .optional()
      .describe('A regular expression tested against the command segment; a leading (?i) ignores case'),
    tools: z
      .array(z.string().min(1))
      .optional()
      .describe(
        'Tool names the rule decides calls of, each a glob: "everything__echo", "grafana__*" (MCP tools are named server__tool)',
      ),
    runtime: globs.optional(),
    target: z.record(z.string(), z.string()).optional(),
    language: globs.optional().describe('Command language ids the rule applies to (default: all)'),
    reason: z.string().optional(),
  })
  .strict()
  .refine(
    (rule) =>
      rule.commands !== undefined ||
      rule.match !== undefined ||
      rule.prefix !== undefined ||
      rule.exact !== undefined ||
      rule.tools !== undefined,
    { message: 'a rule needs commands, prefix, exact, match or tools' },
  );

export const policyFileSchema = z
  .object({
    profile: z
      .enum(POLICY_PROFILES)
      .optional()
      .describe('The profile for what no rule decides (the --policy-profile setting beats it)'),
    builtinRules: z
      .boolean()
      .default(true)
      .describe('false: no profile; only these rules, and anything they do not match runs'),
    rules: z.array(ruleSchema).default([]),
  })
  .strict();

export type PolicyFile = z.output<typeof policyFileSchema>;
type PolicyRule = z.output<typeof ruleSchema>;

interface CompiledRule {
  label: string;
  action: PolicyAction;
  reason: string;
  runtimes?: RegExp[];
  target?: Array<[string, RegExp]>;
  languages?: RegExp[];
  /** Tool-name globs (`tools:`); a rule without them decides no tool call. */
  tools?: RegExp[];
  matches(subject: RuleSubject): boolean;
}

const PARSER_NOT_LOADED = 'the shell parser is not loaded';
/** Decisions remembered per policy. */
const DECISION_CACHE_ENTRIES = 1024;
/** Longer commands are judged each time (their key would cost more than it saves). */
const MAX_CACHED_COMMAND_CHARS = 8192;
/**
 * Longer commands are not parsed (a 1 MB line takes seconds to parse, blocking everything): they
 * ask, unless the profile is allow-all or there is no profile.
 */
const MAX_COMMAND_CHARS = 64 * 1024;

const STRICTNESS: Record<PolicyAction, number> = { allow: 0, ask: 1, deny: 2 };

/** Options of {@link CommandPolicy}. */
export interface CommandPolicyOptions {
  file?: PolicyFile;
  /** Where the rules came from, for messages. */
  source?: string;
  /** The profile; beats the file's. Default: the file's, else `defaultProfile`. */
  profile?: PolicyProfile;
  /** The profile when neither the setting nor the file names one. Default `read-only`. */
  defaultProfile?: PolicyProfile;
  /** Where "always allow" rules are saved (the policy file, or where it would be). */
  savePath?: string;
}

/**
 * Decides whether a command may run. The command is split into parts (shell: every simple
 * command, including those behind wrappers and in code strings, and constructs such as function
 * definitions; SQL: every statement). User rules come first, per part, in file order (session
 * rules from "always allow" before them); what no user rule decides, the profile decides. The
 * command gets the strictest decision of its parts (deny > ask > allow).
 */
export class CommandPolicy {
  readonly #rules: CompiledRule[];
  readonly #sessionRules: CompiledRule[] = [];
  /** Decisions already made, most recently used last (a small LRU; see {@link evaluate}). */
  readonly #decisions = new Map<string, PolicyDecision>();
  readonly #useProfile: boolean;
  /** Where the rules came from, for messages. */
  readonly source: string;
  readonly profile: PolicyProfile;
  readonly savePath: string | undefined;

  constructor(options: CommandPolicyOptions = {}) {
    const file = options.file ?? policyFileSchema.parse({});
    this.source = options.source ?? 'built-in rules';
    this.savePath = options.savePath;
    this.profile = options.profile ?? file.profile ?? options.defaultProfile ?? 'read-only';
    this.#useProfile = file.builtinRules;
    const sourceName = options.source ?? 'policy';
    this.#rules = file.rules.map((rule, index) => compileRule(rule, `${sourceName}#${index + 1}`));
  }

  /** Reads a policy file. Throws a ConfigError naming the file and the problem. */
  static fromFile(path: string, options: Omit<CommandPolicyOptions, 'file' | 'source'> = {}): CommandPolicy {
    return new CommandPolicy({
      ...options,
      file: readPolicyFile(path),
      source: path,
      savePath: options.savePath ?? path,
    });
  }

  /**
   * The policy for a run: the given file (which must exist), else `defaultPath` when it exists,
   * else no user rules. "Always allow" rules are saved to the file, or to `defaultPath`.
   */
  static load(options: {
    file?: string;
    defaultPath: string;
    profile?: PolicyProfile;
    defaultProfile?: PolicyProfile;
  }): CommandPolicy {
    const profiles = {
      ...(options.profile ? { profile: options.profile } : {}),
      ...(options.defaultProfile ? { defaultProfile: options.defaultProfile } : {}),
    };
    if (options.file !== undefined) {
      if (!existsSync(options.file)) {
        throw new ConfigError(`policy file ${options.file} does not exist`, {
          hint: 'create it or fix --policy-file (env OPSMATE_POLICY_FILE)',
        });
      }
      return CommandPolicy.fromFile(options.file, profiles);
    }
    return existsSync(options.defaultPath)
      ? CommandPolicy.fromFile(options.defaultPath, profiles)
      : new CommandPolicy({ ...profiles, savePath: options.defaultPath });
  }

  /**
   * Allows `command` for the rest of this process, in this scope: exactly these words (the
   * default), or with `match: 'prefix'` every command starting with them.
   */
  allowForSession(command: string, scope: PolicyScope, options: { match?: AllowMatch } = {}): void {
    this.#decisions.clear();
    this.#sessionRules.unshift(
      compileRule(
        {
          action: 'allow',
          [options.match ?? 'exact']: command,
          runtime: scope.runtime,
          ...(Object.keys(scope.target).length > 0 ? { target: scope.target } : {}),
          ...(scope.language ? { language: scope.language } : {}),
        },
        'session',
      ),
    );
  }

  /**
   * Appends an allow rule for `command` (exactly, or with `match: 'prefix'` as a prefix) to the
   * policy file (created when missing), keeping what is there, comments included. The rule is
   * scoped to the runtime and target.
   */
  saveAllowRule(command: string, scope: PolicyScope, options: { match?: AllowMatch } = {}): string {
    const path = this.savePath;
    if (!path)
      throw new ConfigError('there is no policy file to save the rule to', {
        hint: 'set --policy-file (env OPSMATE_POLICY_FILE)',
      });
    const text = existsSync(path) ? readFileSync(path, 'utf8') : '';
    const document = yamlModule().parseDocument(text);
    if (document.errors.length > 0)
      throw new ConfigError(`policy file ${path}: ${document.errors[0]!.message}`);
    if (!document.contents || !document.has('rules')) document.set('rules', document.createNode([]));
    const rule: Record<string, unknown> = {
      name: 'always-allow',
      action: 'allow',
      [options.match ?? 'exact']: command,
      runtime: scope.runtime,
    };
    if (Object.keys(scope.target).length > 0) rule.target = scope.target;
    if (scope.language && scope.language !== 'shell') rule.language = scope.language;
    document.addIn(['rules'], document.createNode(rule));
    writeFileSync(path, document.toString(), { mode: 0o600 });
    return path;
  }

  /**
   * Why `prefix` may not be allowed as a prefix, if it may not: when the command it was cut from
   * (`command`), or the prefix itself, is one the ask-destructive rules flag (`rm -rf /tmp/build`
   * cut to `rm -rf`, `kubectl delete pod web-1` cut to `kubectl`), a prefix would leave the
   * targets open, so only the exact command may be allowed.
   */
  async prefixProblem(prefix: string, scope: PolicyScope, command?: string): Promise<string | undefined> {
    for (const text of command !== undefined && command !== prefix ? [command, prefix] : [prefix]) {
      const decision = await DESTRUCTIVE_CHECK.evaluate(text, scope);
      if (decision.action !== 'allow')
        return `"${text}" is flagged by ${decision.rule} (${decision.reason}): a prefix "${prefix}" would allow it on any target`;
    }
    return undefined;
  }

  /**
   * Judges a call of a tool that stands for no shell command (an MCP server's tool, a plugin's):
   * the first user rule in scope whose `tools` globs match its name decides; with no such rule,
   * `allow-all` (or `builtinRules: false`) allows it and otherwise undefined is returned, leaving
   * the decision to the tool-call default (read-only tools run, others ask).
   */
  evaluateTool(tool: string, scope: PolicyScope): PolicyDecision | undefined {
    const base = { profile: this.profile, language: 'tool', parts: [] };
    // A tool call has no command language: a rule's `language` does not limit its `tools`.
    const rule = [...this.#sessionRules, ...this.#rules].find(({ languages: _any, ...candidate }) => {
      return (
        candidate.tools?.some((pattern) => pattern.test(tool)) === true && inScope(candidate, scope, 'tool')
      );
    });
    if (rule) return { ...base, action: rule.action, rule: rule.label, reason: rule.reason };
    if (this.profile === 'allow-all' || !this.#useProfile) {
      return {
        ...base,
        action: 'allow',
        rule: this.#useProfile ? 'allow-all' : 'default',
        reason: 'no rule matched',
      };
    }
    return undefined;
  }

  /**
   * Judges a command. Loads the shell parser on first use when the command needs it. A decision
   * depends only on the command, the scope and this policy's rules, so the last
   * {@link DECISION_CACHE_ENTRIES} decisions are remembered (and forgotten when "always allow"
   * adds a rule); the returned object is shared and must not be changed.
   */
  async evaluate(command: string, scope: PolicyScope): Promise<PolicyDecision> {
    if (command.length > MAX_CACHED_COMMAND_CHARS) return this.#evaluateUncached(command, scope);
    const key = this.#cacheKey(command, scope);
    const known = this.#decisions.get(key);
    if (known) {
      this.#decisions.delete(key);
      this.#decisions.set(key, known);
      return known;
    }
    const decision = await this.#evaluateUncached(command, scope);
    this.#decisions.set(key, decision);
    if (this.#decisions.size > DECISION_CACHE_ENTRIES)
      this.#decisions.delete(this.#decisions.keys().next().value!);
    return decision;
  }

  #cacheKey(command: string, scope: PolicyScope): string {
    const target = Object.keys(scope.target)
      .sort()
      .map((key) => `${key}=${scope.target[key]}`)
      .join('\u0001');
    return `${scope.language ?? 'shell'}\u0000${scope.runtime}\u0000${target}\u0000${command}`;
  }

  async #evaluateUncached(command: string, scope: PolicyScope): Promise<PolicyDecision> {
    const language = scope.language ?? 'shell';
    if (command.length > MAX_COMMAND_CHARS && this.profile !== 'allow-all' && this.#useProfile)
      return this.#decide(
        [
          {
            action: 'ask',
            rule: 'parser',
            subject: `${command.slice(0, 80)}…`,
            reason: `the command is ${Math.round(command.length / 1024)} KiB long; the policy checks commands of up to ${MAX_COMMAND_CHARS / 1024} KiB`,
          },
        ],
        language,
      );
    if (language === 'shell') {
      // Plain lines (most of an investigation) are read without loading tree-sitter; a code
      // string inside one that is not plain (`sh -c 'echo $(id)'`) loads it and reads again.
      if (parsePlainCommand(command)) {
        const fast = this.#evaluateShell(command, scope, undefined);
        if (!fast.parts.some((part) => part.reason.endsWith(PARSER_NOT_LOADED))) return fast;
      }
      return this.#evaluateShell(command, scope, await loadShellParser());
    }
    return this.#evaluateOther(command, scope, language);
  }

  #evaluateShell(command: string, scope: PolicyScope, parser: ShellParser | undefined): PolicyDecision {
    const parse = (code: string): ParsedShell => {
      const plain = parsePlainCommand(code);
      if (plain) return plain;
      if (!parser) return { commands: [], constructs: [], problems: [PARSER_NOT_LOADED] };
      return parser.parse(code);
    };
    const analysis = analyseShell(command, parse);
    const profile = this.profile;
    const verdicts = this.#useProfile ? judgeShell(analysis, profile) : new Map<unknown, ProfileVerdict>();
    const rules = this.#rulesFor(scope, 'shell');
    const parts: PolicyPart[] = [];
    for (const problem of analysis.problems) {
      parts.push({
        action: profile === 'allow-all' ? 'allow' : 'ask',
        rule: 'parser',
        subject: command,
        reason: `the command could not be fully checked: ${problem}`,
      });
    }
    for (const segment of analysis.segments) {
      const subject = describe(segment);
      const ruleSubject: RuleSubject = { words: segment.words, text: segment.text, shell: true };
      const rule = rules.find((candidate) => candidate.matches(ruleSubject));
      if (rule) {
        parts.push({ action: rule.action, rule: rule.label, subject, reason: rule.reason });
        continue;
      }
      const verdict = verdicts.get(segment);
      parts.push(
        verdict
          ? { action: verdict.allow ? 'allow' : 'ask', rule: verdict.rule, subject, reason: verdict.reason }
          : {
              action: 'allow',
              rule: this.#useProfile ? profile : 'default',
              subject,
              reason: 'no rule matched',
            },
      );
    }
    for (const construct of analysis.constructs) {
      const verdict = verdicts.get(construct);
      if (verdict && !verdict.allow)
        parts.push({
          action: 'ask',
          rule: verdict.rule,
          subject: verdict.subject ?? construct.kind,
          reason: verdict.reason,
        });
    }
    return this.#decide(parts, 'shell');
  }

  #evaluateOther(command: string, scope: PolicyScope, language: string): PolicyDecision {
    const rules = this.#rulesFor(scope, language);
    const parts: PolicyPart[] = [];
    if (language !== 'sql') {
      // A language the policy cannot read: only user rules (on the whole text) and the profile decide.
      const subject = {
        words: command
          .trim()
          .split(/\s+/)
          .map((text) => ({ text })),
        text: command.trim(),
      };
      const rule = rules.find((candidate) => candidate.matches(subject));
      if (rule)
        parts.push({ action: rule.action, rule: rule.label, subject: subject.text, reason: rule.reason });
      else if (this.profile === 'allow-all' || !this.#useProfile)
        parts.push({ action: 'allow', rule: this.profile, subject: subject.text, reason: 'no rule matched' });
      else
        parts.push({
          action: 'ask',
          rule: `${this.profile}:unknown-language`,
          subject: subject.text,
          reason: `the policy cannot read ${language} commands, so it cannot tell whether this one is safe`,
        });
      return this.#decide(parts, language);
    }
    const judged = judgeSql(command, this.#useProfile ? this.profile : 'allow-all');
    for (const problem of judged.problems) {
      parts.push({
        action: this.profile === 'allow-all' ? 'allow' : 'ask',
        rule: 'parser',
        subject: command,
        reason: `the SQL could not be fully checked: ${problem}`,
      });
    }
    judged.statements.forEach((statement, index) => {
      const subject = {
        words: statement.words.map((word) => ({ text: word.toLowerCase() })),
        text: statement.text,
      };
      const rule = rules.find((candidate) => candidate.matches(subject));
      if (rule) {
        parts.push({ action: rule.action, rule: rule.label, subject: statement.text, reason: rule.reason });
        return;
      }
      const verdict = judged.verdicts[index]!;
      parts.push({
        action: verdict.allow ? 'allow' : 'ask',
        rule: verdict.rule,
        subject: statement.text,
        reason: verdict.reason,
      });
    });
    return this.#decide(parts, language);
  }

  #decide(parts: PolicyPart[], language: string): PolicyDecision {
    let decided: PolicyPart | undefined;
    for (const part of parts) {
      if (!decided || STRICTNESS[part.action] > STRICTNESS[decided.action]) decided = part;
    }
    const base = { profile: this.profile, language, parts };
    if (!decided) return { ...base, action: 'allow', rule: 'default', reason: 'nothing to run' };
    if (decided.action === 'allow' && parts.length > 1) {
      const rules = [...new Set(parts.map((part) => part.rule))];
      return {
        ...base,
        action: 'allow',
        rule: rules.length === 1 ? rules[0]! : rules.join(', '),
        reason:
          this.profile === 'read-only' ? 'every part is read-only or allowed by a rule' : decided.reason,
      };
    }
    return {
      ...base,
      action: decided.action,
      rule: decided.rule,
      reason: decided.reason,
      ...(decided.rule !== 'parser' ? { segment: decided.subject } : {}),
    };
  }

  #rulesFor(scope: PolicyScope, language: string): CompiledRule[] {
    return [...this.#sessionRules, ...this.#rules].filter((rule) => inScope(rule, scope, language));
  }
}

/** The built-in ask-destructive rules alone, for {@link CommandPolicy.prefixProblem}. */
const DESTRUCTIVE_CHECK = new CommandPolicy({ profile: 'ask-destructive' });

function readPolicyFile(path: string): PolicyFile {
  let data: unknown;
  try {
    data = yamlModule().parse(readFileSync(path, 'utf8')) ?? {};
  } catch (error) {
    throw new ConfigError(`policy file ${path}: ${errorMessage(error)}`, {
      hint: 'fix the file or point --policy-file (env OPSMATE_POLICY_FILE) at another one',
    });
  }
  const parsed = policyFileSchema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? ` at ${issue.path.join('.')}` : '';
    throw new ConfigError(`policy file ${path}${where}: ${issue?.message ?? 'invalid'}`, {
      hint: 'see docs/safety.md for the policy file format',
    });
  }
  for (const [index, rule] of parsed.data.rules.entries()) {
    if (rule.match === undefined) continue;
    try {
      ruleRegex(rule.match);
    } catch (error) {
      throw new ConfigError(`policy file ${path} rule ${index + 1}: bad match: ${errorMessage(error)}`);
    }
  }
  return parsed.data;
}

function describe(segment: CommandSegment): string {
  const text =
    segment.words.length > 0
      ? segment.text
      : segment.redirects.map((redirect) => `${redirect.operator} ${redirect.target.text}`).join(' ');
  return segment.via.length > 0 ? `${text} (inside ${segment.via.join(' → ')})` : text;
}

function inScope(rule: CompiledRule, scope: PolicyScope, language: string): boolean {
  if (rule.runtimes && !rule.runtimes.some((pattern) => pattern.test(scope.runtime))) return false;
  if (rule.languages && !rule.languages.some((pattern) => pattern.test(language))) return false;
  for (const [key, pattern] of rule.target ?? []) {
    const value = scope.target[key];
    if (value === undefined || !pattern.test(value)) return false;
  }
  return true;
}

function compileRule(rule: PolicyRule, position: string): CompiledRule {
  const label = rule.name ? `${position} ${rule.name}` : position;
  const words = (text: string): string[] => text.trim().split(/\s+/);
  // A shell command as the reviewer saw it (`rm -rf '/tmp/my dir'`): its words as the shell reads
  // them, so the rule matches the segment it came from.
  const shellRule = rule.language === undefined || [rule.language].flat().includes('shell');
  const commandWords = (text: string): string[] =>
    shellRule ? (shellWords(text) ?? words(text)) : words(text);
  const patterns = (rule.commands ?? []).map(words);
  const prefixes = [rule.prefix ?? []].flat().map(commandWords);
  const exacts = [rule.exact ?? []].flat().map(commandWords);
  const regex = rule.match === undefined ? undefined : ruleRegex(rule.match);
  const runtimes = rule.runtime === undefined ? undefined : [rule.runtime].flat().map(globRegex);
  const languages = rule.language === undefined ? undefined : [rule.language].flat().map(globRegex);
  // An allow rule must hold for every reading of the command; ask and deny for any of them.
  const mode: MatchMode = rule.action === 'allow' ? 'all' : 'any';
  const patternOptions = { mode, specFor: cliOptionSpec };
  const tools = rule.tools?.map(globRegex);
  return {
    label,
    action: rule.action,
    reason: rule.reason ?? defaultReason(rule.action, label),
    ...(runtimes ? { runtimes } : {}),
    ...(languages ? { languages } : {}),
    ...(tools ? { tools } : {}),
    ...(rule.target
      ? {
          target: Object.entries(rule.target).map(
            ([key, glob]) => [key, globRegex(glob)] as [string, RegExp],
          ),
        }
      : {}),
    matches: (subject) =>
      patterns.some((pattern) => matchesPattern(pattern, subject, patternOptions)) ||
      exacts.some((exact) => matchesExact(exact, subject)) ||
      prefixes.some(
        (prefix) =>
          matchesPrefix(prefix, subject) ||
          (mode === 'any' && matchesPattern(prefix, subject, patternOptions)),
      ) ||
      (regex !== undefined && regex.test(subject.text)),
  };
}

/** The words of a plain shell command (quotes removed), or undefined when it is not one. */
function shellWords(text: string): string[] | undefined {
  const parsed = parsePlainCommand(text);
  const command = parsed?.commands[0];
  if (!parsed || parsed.commands.length !== 1 || !command || parsed.constructs.length > 0) return undefined;
  if (command.assignments.length > 0 || command.redirects.length > 0) return undefined;
  if (command.words.some((word) => word.dynamic)) return undefined;
  return command.words.map((word) => word.text);
}

/** The reason of a file rule that gives none: `denied by policy rule <label>`. */
export function defaultReason(action: PolicyAction, label: string): string {
  return `${action === 'allow' ? 'allowed' : action === 'ask' ? 'needs approval' : 'denied'} by policy rule ${label}`;
}
