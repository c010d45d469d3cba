import { Command } from 'commander';
import { auditLogPath } from '../../config/settings.js';
import { verifyAuditLog } from '../../safety/audit-log.js';
import type { CliContext } from '../cli-context.js';
import { addSettingOptions, readSettings } from '../field-options.js';

/** Exit status of `audit verify` when the chain is broken. */
export const EXIT_AUDIT_TAMPERED = 1;

export function auditCommand(context: CliContext): Command {
  const audit = new Command('audit').summary('inspect the audit log of commands opsmate ran or refused');
  const verify = new Command('verify')
    .summary('check that no audit line was edited, inserted or deleted')
    .description(
      'Check the hash chain of the audit log, line by line, and the head file that records its last ' +
        'entry. Exit 0 when intact, 1 at the first broken line (named in the message), 2 when the ' +
        'file is missing or the flags are wrong.',
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
    context.stdout.write(`audit log ${path}: ${result.entries} entries, chain intact\n`);
    process.exitCode = 0;
  });
  audit.addCommand(verify);
  return audit;
}
