import { Command } from 'commander';
import { auditLogPath } from '../../config/settings.js';
import { describeUnfinished, verifyAuditLog } from '../../safety/verify-audit-log.js';
import type { CliContext } from '../cli-context.js';
import { addSettingOptions, readSettings } from '../field-options.js';

/** Exit status of `audit verify` when the chain is broken. */
export const EXIT_AUDIT_TAMPERED = 1;

export function auditCommand(context: CliContext): Command {
  const audit = new Command('audit').summary('inspect the audit log of commands opsmate ran or refused');
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
    const settings = readSettings(self, context.env);
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
  return audit;
}
