import { Command, Option } from 'commander';
import { existsSync } from 'node:fs';
import { auditLogPath } from '../../config/settings.js';
import { ConfigError } from '../../errors/opsmate-error.js';
import {
  describeUnfinished,
  readAuditCommands,
  verifyAuditLog,
  type AuditCommandView,
} from '../../safety/verify-audit-log.js';
import type { CliContext } from '../cli-context.js';
import { addSettingOptions, readSettings } from '../field-options.js';
import { outputOption, parseOutputFormat, writeJson } from '../output-format.js';
import { renderTable } from '../render/table.js';

/** Exit status of `audit verify` when the chain is broken. */
export const EXIT_AUDIT_TAMPERED = 1;

export function auditCommand(context: CliContext): Command {
  const audit = new Command('audit').summary(
    'show and verify the audit log of commands opsmate ran or refused',
  );
  const verify = new Command('verify')
    .summary('check that no audit line was edited, inserted or deleted')
    .description(
      'Check the hash chains of the audit log, line by line, and the head file that records its last ' +
        'durable record. Commands that started and have no finished record (opsmate was killed while ' +
        'they ran) are listed. Exit 0 when intact, 1 at the first broken line (named in the message), ' +
        '2 when the file is missing or the flags are wrong. Reads v1 and v2 logs.',
    );
  addSettingOptions(verify, ['auditLog', 'home', 'loglevel']);
  verify.action((_options, self: Command) => {
    const settings = readSettings(self, context);
    const path = auditLogPath(settings);
    const result = verifyAuditLog(path);
    for (const warning of result.warnings) context.logger.warn(warning);
    if (result.problem) {
      context.stderr.write(`opsmate: error: audit log ${path}: ${result.problem.message}\n`);
      process.exitCode = EXIT_AUDIT_TAMPERED;
      return;
    }
    for (const command of result.unfinished) context.stdout.write(`${describeUnfinished(command)}\n`);
    const unfinished =
      result.unfinished.length > 0
        ? `; ${result.unfinished.length} command${result.unfinished.length === 1 ? '' : 's'} without a finished record`
        : '';
    context.stdout.write(
      `audit log ${path}: ${result.entries} entries, ${result.commands} command${result.commands === 1 ? '' : 's'}, chain intact${unfinished}\n`,
    );
    process.exitCode = 0;
  });
  audit.addCommand(verify);
  audit.addCommand(showCommand(context));
  return audit;
}

function showCommand(context: CliContext): Command {
  const show = new Command('show')
    .summary('print the audit log as a table: time, target, command, decision, exit, duration')
    .description(
      'Print the commands of the audit log, run or refused, one row each: when, on which runtime and target, the ' +
        'command, who decided (policy rule, reviewer, --yes, no terminal), its exit status and how long it ran. ' +
        'A command with a started record and no finished one shows as "no result". Reads v1 and v2 logs; ' +
        'lines that are not intact records are skipped (`opsmate audit verify` names them).',
    )
    .addOption(
      new Option(
        '--since <WHEN>',
        'only commands from this long ago (30s, 15m, 1h, 2d) or since this date/time',
      ),
    )
    .addOption(
      new Option(
        '--target <PATTERN>',
        'only commands whose runtime or target matches (a glob: db-*, host=web-1, ssh)',
      ),
    )
    .addOption(new Option('--session <ID>', 'only the commands of one session (see `opsmate sessions list`)'))
    .addOption(new Option('-n, --limit <N>', 'only the last N commands'))
    .addOption(new Option('--json', 'print JSON (same as -o json)'))
    .addOption(outputOption());
  addSettingOptions(show, ['auditLog', 'home', 'loglevel']);
  show.action(
    async (
      options: {
        since?: string;
        target?: string;
        session?: string;
        limit?: string;
        json?: boolean;
        output?: string;
      },
      self: Command,
    ) => {
      const format = options.json ? 'json' : parseOutputFormat(options.output);
      const settings = readSettings(self, context);
      const path = auditLogPath(settings);
      if (!existsSync(path)) {
        throw new ConfigError(`audit log ${path} does not exist`, {
          hint: 'nothing has been run yet, or choose the file with --audit-log (env OPSMATE_AUDIT_LOG)',
        });
      }
      const since = options.since === undefined ? undefined : parseSince(options.since);
      const target = options.target === undefined ? undefined : globPattern(options.target);
      const limit = options.limit === undefined ? undefined : parseLimit(options.limit);
      let commands = readAuditCommands(path).filter(
        (command) =>
          (since === undefined || Date.parse(command.time) >= since) &&
          (target === undefined || targetMatches(command, target)) &&
          (options.session === undefined || (command.sessionId ?? '').startsWith(options.session)),
      );
      if (limit !== undefined) commands = commands.slice(-limit);
      if (format === 'json') {
        writeJson(context.stdout, commands);
        return;
      }
      if (commands.length === 0) {
        context.stderr.write(`opsmate: no commands in ${path} match\n`);
        return;
      }
      context.stdout.write(
        await renderTable({
          title: `Audit log ${path}`,
          head: ['Time', 'Target', 'Command', 'Decision', 'Exit', 'Duration'],
          rows: commands.map((command) => [
            command.time.replace('T', ' ').slice(0, 19),
            targetText(command),
            oneLine(command.tool ? command.command : command.command, 100),
            decisionText(command),
            exitText(command),
            command.durationMs === undefined || !command.finished ? '' : durationText(command.durationMs),
          ]),
          isTerminal: Boolean(context.stdout.isTTY),
        }),
      );
    },
  );
  return show;
}

/** `30s`, `15m`, `1h`, `2d`, `1w` ago, or a date the JS Date parser reads, as epoch milliseconds. */
export function parseSince(text: string, now = Date.now()): number {
  const match = /^(\d+(?:\.\d+)?)\s*(s|m|h|d|w)$/i.exec(text.trim());
  if (match) {
    const unit = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 }[match[2]!.toLowerCase() as 's'];
    return now - Number(match[1]) * unit * 1000;
  }
  const date = Date.parse(text);
  if (!Number.isNaN(date)) return date;
  throw new ConfigError(
    `--since ${JSON.stringify(text)} is not valid: expected a duration (30s, 15m, 1h, 2d) or a date`,
    {
      hint: 'e.g. --since 1h or --since 2026-12-01T08:00',
    },
  );
}

function parseLimit(text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) {
    throw new ConfigError(`--limit ${JSON.stringify(text)} is not valid: expected a whole number above 0`);
  }
  return value;
}

/** A glob (`*`, `?`) as a whole-string regular expression. */
function globPattern(glob: string): RegExp {
  const source = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${source}$`, 'i');
}

/** The pattern matches the runtime name, a target value, or `key=value`. */
function targetMatches(command: AuditCommandView, pattern: RegExp): boolean {
  if (pattern.test(command.runtime)) return true;
  return Object.entries(command.target ?? {}).some(
    ([key, value]) => pattern.test(value) || pattern.test(`${key}=${value}`),
  );
}

function targetText(command: AuditCommandView): string {
  const facts = Object.values(command.target ?? {});
  return [command.runtime, ...facts].join(' ');
}

function decisionText(command: AuditCommandView): string {
  const by = command.decidedBy;
  const rule = command.rule ? ` [${command.rule}]` : '';
  switch (command.outcome) {
    case 'approved':
      return by === 'policy' ? `allowed${rule}` : `approved by ${by}${rule}`;
    case 'edited':
      return `edited by ${by}${rule}`;
    case 'denied':
      return `denied${rule}`;
    case 'cancelled':
      return by === 'no-terminal' ? `refused: no terminal${rule}` : `cancelled by ${by}${rule}`;
    default:
      return String(command.outcome);
  }
}

function exitText(command: AuditCommandView): string {
  if (command.outcome === 'denied' || command.outcome === 'cancelled') return 'not run';
  if (!command.finished) return 'no result';
  if (command.error) return 'runtime error';
  if (command.timedOut) return 'timed out';
  if (command.cancelled) return `stopped${command.signal ? ` (${command.signal})` : ''}`;
  return command.exitCode === null || command.exitCode === undefined
    ? 'no exit code'
    : String(command.exitCode);
}

function durationText(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

function oneLine(text: string, max: number): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}
