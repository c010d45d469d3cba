import { existsSync, readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError, errorMessage } from '../errors/opsmate-error.js';
import { BUILTIN_RULES } from './builtin-rules.js';
import { programName, splitCommand, type CommandSegment } from './command-segments.js';

export type PolicyAction = 'allow' | 'ask' | 'deny';

/** What the policy says about one command line. */
export interface PolicyDecision {
  action: PolicyAction;
  /** The rule that decided: `builtin:<name>`, `<file>#<n> <name>`, `parser` or `default`. */
  rule: string;
  /** Why, in words for the reviewer and the model. */
  reason: string;
  /** The command segment that decided, when one did. */
  segment?: string;
}

/** Where a command will run, for rules scoped to runtimes and targets. */
export interface PolicyScope {
  runtime: string;
  target: Record<string, string>;
}

const ruleSchema = z
  .object({
    name: z.string().optional(),
    action: z.enum(['allow', 'ask', 'deny']),
    commands: z
      .array(z.string().min(1))
      .optional()
      .describe('Command patterns: a program then arguments, each word a glob; "*" matches any command'),
    match: z.string().optional().describe('A regular expression tested against the command segment'),
    runtime: z.union([z.string(), z.array(z.string())]).optional(),
    target: z.record(z.string(), z.string()).optional(),
    reason: z.string().optional(),
  })
  .strict()
  .refine((rule) => rule.commands !== undefined || rule.match !== undefined, {
    message: 'a rule needs commands or match',
  });

export const policyFileSchema = z
  .object({
    builtinRules: z.boolean().default(true).describe('Apply opsmate\'s built-in "ask" rules after these'),
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
  matches(segment: CommandSegment): boolean;
}

const STRICTNESS: Record<PolicyAction, number> = { allow: 0, ask: 1, deny: 2 };

/**
 * Decides whether a command may run. Every segment of the command (see `splitCommand`) is judged
 * on its own: the first rule that matches it wins, user rules before built-in ones, and a segment
 * no rule matches is allowed. The command gets the strictest decision of its segments.
 */
export class CommandPolicy {
  readonly #rules: CompiledRule[];
  /** Where the rules came from, for messages. */
  readonly source: string;

  constructor(options: { file?: PolicyFile; source?: string } = {}) {
    const file = options.file ?? policyFileSchema.parse({});
    this.source = options.source ?? 'built-in rules';
    const sourceName = options.source ?? 'policy';
    this.#rules = [
      ...file.rules.map((rule, index) => compileRule(rule, `${sourceName}#${index + 1}`)),
      ...(file.builtinRules
        ? BUILTIN_RULES.map((rule) => ({
            label: `builtin:${rule.name}`,
            action: rule.action,
            reason: rule.reason,
            matches: (segment: CommandSegment) => rule.matches(segment),
          }))
        : []),
    ];
  }

  /** Reads a policy file. Throws a ConfigError naming the file and the problem. */
  static fromFile(path: string): CommandPolicy {
    let data: unknown;
    try {
      data = parseYaml(readFileSync(path, 'utf8')) ?? {};
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
        new RegExp(rule.match);
      } catch (error) {
        throw new ConfigError(`policy file ${path} rule ${index + 1}: bad match: ${errorMessage(error)}`);
      }
    }
    return new CommandPolicy({ file: parsed.data, source: path });
  }

  /**
   * The policy for a run: the given file (which must exist), else `defaultPath` when it exists,
   * else the built-in rules alone.
   */
  static load(options: { file?: string; defaultPath: string }): CommandPolicy {
    if (options.file !== undefined) {
      if (!existsSync(options.file)) {
        throw new ConfigError(`policy file ${options.file} does not exist`, {
          hint: 'create it or fix --policy-file (env OPSMATE_POLICY_FILE)',
        });
      }
      return CommandPolicy.fromFile(options.file);
    }
    return existsSync(options.defaultPath)
      ? CommandPolicy.fromFile(options.defaultPath)
      : new CommandPolicy();
  }

  evaluate(command: string, scope: PolicyScope): PolicyDecision {
    const { segments, problems } = splitCommand(command);
    let decision: PolicyDecision | undefined;
    const consider = (candidate: PolicyDecision): void => {
      if (!decision || STRICTNESS[candidate.action] > STRICTNESS[decision.action]) decision = candidate;
    };
    if (problems.length > 0) {
      consider({
        action: 'ask',
        rule: 'parser',
        reason: `the command could not be fully checked: ${problems[0]}`,
      });
    }
    const rules = this.#rules.filter((rule) => inScope(rule, scope));
    for (const segment of segments) {
      if (segment.words.length === 0) continue;
      const rule = rules.find((candidate) => candidate.matches(segment));
      if (!rule) continue;
      consider({
        action: rule.action,
        rule: rule.label,
        reason: rule.reason,
        segment: describeSegment(segment),
      });
    }
    return decision ?? { action: 'allow', rule: 'default', reason: 'no rule matched' };
  }
}

function describeSegment(segment: CommandSegment): string {
  return segment.via.length > 0 ? `${segment.text} (inside ${segment.via.join(' → ')})` : segment.text;
}

function inScope(rule: CompiledRule, scope: PolicyScope): boolean {
  if (rule.runtimes && !rule.runtimes.some((pattern) => pattern.test(scope.runtime))) return false;
  for (const [key, pattern] of rule.target ?? []) {
    const value = scope.target[key];
    if (value === undefined || !pattern.test(value)) return false;
  }
  return true;
}

function compileRule(rule: PolicyRule, position: string): CompiledRule {
  const label = rule.name ? `${position} ${rule.name}` : position;
  const patterns = (rule.commands ?? []).map((pattern) => pattern.trim().split(/\s+/));
  const regex = rule.match === undefined ? undefined : new RegExp(rule.match);
  const runtimes = rule.runtime === undefined ? undefined : [rule.runtime].flat().map(globRegex);
  return {
    label,
    action: rule.action,
    reason: rule.reason ?? defaultReason(rule.action, label),
    ...(runtimes ? { runtimes } : {}),
    ...(rule.target
      ? {
          target: Object.entries(rule.target).map(
            ([key, glob]) => [key, globRegex(glob)] as [string, RegExp],
          ),
        }
      : {}),
    matches: (segment) =>
      patterns.some((pattern) => matchesPattern(pattern, segment)) ||
      (regex !== undefined && regex.test(segment.text)),
  };
}

/** The reason of a file rule that gives none: `denied by policy rule <label>`. */
export function defaultReason(action: PolicyAction, label: string): string {
  return `${action === 'allow' ? 'allowed' : action === 'ask' ? 'needs approval' : 'denied'} by policy rule ${label}`;
}

/**
 * A command pattern: the first word is matched against the program (its file name unless the
 * pattern has a `/`), each further word against the next argument that is not an option, in
 * order. A pattern word that is itself an option (`-rf`) must appear anywhere among the options.
 */
export function matchesPattern(pattern: string[], segment: CommandSegment): boolean {
  const [programPattern, ...rest] = pattern;
  const first = segment.words[0];
  if (!programPattern || !first) return false;
  if (pattern.length === 1 && programPattern === '*') return true;
  const program = programPattern.includes('/') ? first.text : programName(first.text);
  if (!globRegex(programPattern).test(program)) return false;
  const words = segment.words.slice(1).map((word) => word.text);
  const positional = words.filter((word) => !word.startsWith('-'));
  let next = 0;
  for (const part of rest) {
    const glob = globRegex(part);
    if (part.startsWith('-')) {
      if (!words.some((word) => glob.test(word))) return false;
      continue;
    }
    const word = positional[next++];
    if (word === undefined || !glob.test(word)) return false;
  }
  return true;
}

/** `prod-*` → /^prod-.*$/; `?` is one character; everything else is literal. */
export function globRegex(glob: string): RegExp {
  const body = glob
    .split('')
    .map((char) => (char === '*' ? '.*' : char === '?' ? '.' : char.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${body}$`, 's');
}
