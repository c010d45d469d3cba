import type { Command } from 'commander';
import { ConfigError } from '../errors/opsmate-error.js';
import type { Settings } from '../config/settings.js';
import { auditLogPath, defaultPolicyPath, spillDir } from '../config/settings.js';
import type { CommandReviewer } from '../runtime/command-review.js';
import type { Runtime } from '../runtime/contract.js';
import { pruneSpillFiles } from '../runtime/spill-files.js';
import { AuditLog } from '../safety/audit-log.js';
import { CommandPolicy, type PolicyProfile } from '../safety/command-policy.js';
import { GuardedRuntime, type AuditContext } from '../safety/guarded-runtime.js';
import { NoTerminalReviewer } from '../safety/reviewers.js';
import { SecretRedactor } from '../safety/secret-redactor.js';
import type { CliContext } from './cli-context.js';
import { resolveRuntimeConfig } from './field-options.js';

/** How the runtime is guarded; everything has a safe default. */
export interface GuardFlags extends AuditContext {
  /**
   * Asked when the policy says `ask` (and for every command with `reviewAll`). Default: a
   * reviewer that refuses, for runs with no terminal. `-r/--review` and the policy share it.
   */
  reviewer?: CommandReviewer;
  /** `-r/--review`: review every command, not only those the policy asks about. */
  reviewAll?: boolean;
  /**
   * The profile when neither `--policy-profile` nor the policy file names one: `read-only` for
   * commands a model proposes (the default), `ask-destructive` for `exec`, where the user typed it.
   */
  defaultProfile?: PolicyProfile;
}

/**
 * Builds the runtime chosen by `--shell-command-runtime` from the command's flags and env,
 * wrapped in a {@link GuardedRuntime} (policy, review, secret masking, audit log) so every
 * command that uses it is guarded. Validates the whole config and the policy file first; does
 * not connect. `outputLimitBytes` replaces the `--output-limit` setting, for commands whose
 * limit is what the model may see.
 */
export function createRuntimeFromFlags(options: {
  command: Command;
  settings: Settings;
  context: CliContext;
  guard?: GuardFlags;
  outputLimitBytes?: number;
}): GuardedRuntime {
  const { settings, context } = options;
  const runtime = createBareRuntime(options);
  const guard = options.guard ?? {};
  return new GuardedRuntime({
    runtime,
    policy: CommandPolicy.load({
      ...(settings.policyFile !== undefined ? { file: settings.policyFile } : {}),
      defaultPath: defaultPolicyPath(settings),
      ...(settings.policyProfile !== undefined ? { profile: settings.policyProfile } : {}),
      defaultProfile: guard.defaultProfile ?? 'read-only',
    }),
    reviewer: guard.reviewer ?? new NoTerminalReviewer(),
    reviewAll: guard.reviewAll ?? false,
    audit: new AuditLog(auditLogPath(settings)),
    redactor: new SecretRedactor({ env: context.env }),
    redact: settings.redact,
    ...(guard.sessionId !== undefined ? { sessionId: guard.sessionId } : {}),
    ...(guard.instruction !== undefined ? { instruction: guard.instruction } : {}),
    onWarning: (message) => context.logger.warn(message),
  });
}

/** The runtime itself, unguarded. Only for code that never runs a command through it. */
function createBareRuntime(options: {
  command: Command;
  settings: Settings;
  context: CliContext;
  outputLimitBytes?: number;
}): Runtime {
  requireNotBroken(options.settings.shellCommandRuntime, options.context);
  const { definition, config } = resolveRuntimeConfig({
    command: options.command,
    registry: options.context.registry,
    runtimeName: options.settings.shellCommandRuntime,
    env: options.context.env,
    warn: (message) => options.context.logger.warn(message),
  });
  const spillFolder = spillDir(options.settings);
  pruneSpillFiles(spillFolder);
  return definition.create(config as never, {
    spillDir: spillFolder,
    outputLimitBytes: options.outputLimitBytes ?? options.settings.outputLimit,
  });
}

/** A runtime that a broken plugin was meant to provide gets that plugin's reason, not "unknown". */
function requireNotBroken(runtimeName: string, context: CliContext): void {
  if (context.registry.get(runtimeName)) return;
  const problem = context.pluginProblems.find((line) => line.includes(`runtime "${runtimeName}"`));
  if (!problem) return;
  throw new ConfigError(`runtime "${runtimeName}" comes from a broken plugin: ${problem}`, {
    hint: 'fix the plugin and reinstall it (opsmate install --force-reinstall ...), or see opsmate list-plugins',
  });
}
