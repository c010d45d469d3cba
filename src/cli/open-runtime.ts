import type { Command } from 'commander';
import { mkdirSync } from 'node:fs';
import { ConfigError, errorMessage } from '../errors/opsmate-error.js';
import { namedPluginRuntime, pluginError } from '../plugins/plugin-errors.js';
import type { Settings } from '../config/settings.js';
import { auditLogPath, defaultPolicyPath, spillDir } from '../config/settings.js';
import type { CommandReviewer } from '../runtime/command-review.js';
import type { Runtime } from '../runtime/contract.js';
import { BoundedRuntime } from '../runtime/bounded-runtime.js';
import { pruneSpillFiles } from '../runtime/spill-files.js';
import { AuditLog, type AuditError } from '../safety/audit-log.js';
import { CommandPolicy, type PolicyProfile } from '../safety/command-policy.js';
import { GuardedRuntime, type AuditContext } from '../safety/guarded-runtime.js';
import { NoTerminalReviewer } from '../safety/reviewers.js';
import { SecretRedactor } from '../safety/secret-redactor.js';
import { ToolCallGuard } from '../safety/tool-call-guard.js';
import { ShellEquivalentToolCallPolicy } from '../safety/tool-call-policy.js';
import type { CliContext } from './cli-context.js';
import { resolveRuntimeConfig } from './field-options.js';
import { namedTargetRuntime, type TargetSpec } from '../targets/resolve-targets.js';

/** How the runtime is guarded; everything has a safe default. */
export interface GuardFlags extends AuditContext {
  /**
   * Asked when the policy says `ask` (and for every command with `reviewAll`). Default: a
   * reviewer that refuses, for runs with no terminal. `-r/--review` and the policy share it.
   */
  reviewer?: CommandReviewer;
  /** `-r/--review`: review every command, not only those the policy asks about. */
  reviewAll?: boolean;
  /** Tells the user a command was not run because it could not be audited. Default: error and hint on stderr. */
  onAuditFailure?: (error: AuditError) => void;
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
export function createRuntimeFromFlags(options: OpenRuntimeOptions): GuardedRuntime {
  return openGuardedRuntime(options).runtime;
}

export interface OpenRuntimeOptions {
  command: Command;
  settings: Settings;
  context: CliContext;
  guard?: GuardFlags;
  outputLimitBytes?: number;
  /** Replaces the `--spill-limit` setting; 0 keeps no spill files (output shown live). */
  spillLimitBytes?: number;
  /** A target chosen with `-t` (a name or a URI) instead of `--shell-command-runtime`. */
  target?: TargetSpec;
}

/**
 * Like {@link createRuntimeFromFlags}, and also the guard for tool calls that do not go through
 * the runtime (plugin tools), sharing its policy, reviewer, audit log and masking.
 */
export function openGuardedRuntime(options: OpenRuntimeOptions): {
  runtime: GuardedRuntime;
  toolCalls: ToolCallGuard;
} {
  const guard = openGuard(options);
  const runtime = guard.runtimeFor(options.target);
  return { runtime, toolCalls: guard.toolCallsFor(runtime) };
}

/** One policy, reviewer, audit log and masking, shared by the runtimes of several targets. */
export interface OpenedGuard {
  /** The target's runtime (`--shell-command-runtime`'s when none), guarded; not connected. */
  runtimeFor(target: TargetSpec | undefined, options?: { reviewer?: CommandReviewer }): GuardedRuntime;
  /** The guard for tool calls that do not go through a runtime, in `runtime`'s audit context. */
  toolCallsFor(runtime: GuardedRuntime): ToolCallGuard;
  readonly policy: CommandPolicy;
}

/** The guard of {@link openGuardedRuntime}, for as many targets as a fleet or a session has. */
export function openGuard(options: OpenRuntimeOptions): OpenedGuard {
  const { settings, context } = options;
  const guard = options.guard ?? {};
  const reviewer = guard.reviewer ?? new NoTerminalReviewer();
  const audit = new AuditLog(auditLogPath(settings), { sync: settings.auditSync });
  // The config file's keys are opsmate's own secrets too: mask them wherever they show up.
  const redactor = new SecretRedactor({ env: context.config.env });
  const onWarning = (message: string): void => context.logger.warn(message);
  const policy = CommandPolicy.load({
    ...(settings.policyFile !== undefined ? { file: settings.policyFile } : {}),
    defaultPath: defaultPolicyPath(settings),
    ...(settings.policyProfile !== undefined ? { profile: settings.policyProfile } : {}),
    defaultProfile: guard.defaultProfile ?? 'read-only',
  });
  return {
    policy,
    runtimeFor: (target, runtimeOptions) => {
      // Bounded for every runtime, built-in or plugin: connect and disconnect cannot hang opsmate.
      const inner = new BoundedRuntime({
        runtime: createBareRuntime({ ...options, ...(target ? { target } : {}) }),
        connectTimeoutMs: Math.round(settings.connectTimeout * 1000),
        onWarning,
      });
      return new GuardedRuntime({
        runtime: inner,
        policy,
        reviewer: runtimeOptions?.reviewer ?? reviewer,
        reviewAll: guard.reviewAll ?? false,
        audit,
        redactor,
        redact: settings.redact,
        ...(guard.sessionId !== undefined ? { sessionId: guard.sessionId } : {}),
        ...(guard.instruction !== undefined ? { instruction: guard.instruction } : {}),
        onWarning,
        onAuditFailure: guard.onAuditFailure ?? ((error) => reportAuditFailure(context, error)),
      });
    },
    toolCallsFor: (runtime) =>
      new ToolCallGuard({
        reviewer,
        reviewAll: guard.reviewAll ?? false,
        audit,
        redactor,
        redact: settings.redact,
        // Calls that stand for a shell command (the file tools) are judged as that command.
        policy: new ShellEquivalentToolCallPolicy(policy),
        profile: policy.profile,
        auditContext: () => runtime.auditContext,
        onWarning,
      }),
  };
}

/** The one error line (and hint) a user gets when a command was not run for want of an audit record. */
export function reportAuditFailure(context: CliContext, error: AuditError): void {
  context.stderr.write(`opsmate: error: not run: ${error.message}\n`);
  if (error.hint) context.stderr.write(`opsmate: hint: ${error.hint}\n`);
}

/** The runtime itself, unguarded. Only for code that never runs a command through it. */
function createBareRuntime(options: {
  command: Command;
  settings: Settings;
  context: CliContext;
  outputLimitBytes?: number;
  spillLimitBytes?: number;
  target?: TargetSpec;
}): Runtime {
  const runtime = createUnnamedRuntime(options);
  const target = options.target;
  return target && !target.isUri ? namedTargetRuntime(runtime, target.name) : runtime;
}

function createUnnamedRuntime(options: {
  command: Command;
  settings: Settings;
  context: CliContext;
  outputLimitBytes?: number;
  spillLimitBytes?: number;
  target?: TargetSpec;
}): Runtime {
  requireNotBroken(options.target?.runtime ?? options.settings.shellCommandRuntime, options.context);
  const { definition, config } = resolveRuntimeConfig({
    command: options.command,
    registry: options.context.registry,
    runtimeName: options.settings.shellCommandRuntime,
    env: options.context.env,
    config: options.context.config,
    warn: (message) => options.context.logger.warn(message),
    target: options.target,
  });
  const spillFolder = spillDir(options.settings);
  // A runtime may spill from its first command on: the folder exists before create() runs.
  try {
    mkdirSync(spillFolder, { recursive: true, mode: 0o700 });
  } catch (error) {
    throw new ConfigError(`cannot create the spill folder ${spillFolder}: ${errorMessage(error)}`, {
      hint: 'fix its permissions or choose another home with --home (env OPSMATE_HOME)',
    });
  }
  pruneSpillFiles(spillFolder);
  const runtimeContext = {
    spillDir: spillFolder,
    outputLimitBytes: options.outputLimitBytes ?? options.settings.outputLimit,
    spillLimitBytes: options.spillLimitBytes ?? options.settings.spillLimit,
  };
  const { source } = options.context.registry.require(definition.name);
  if (source.kind !== 'plugin' || source.packageName === undefined) {
    return definition.create(config as never, runtimeContext);
  }
  let created: Runtime;
  try {
    created = definition.create(config as never, runtimeContext);
  } catch (error) {
    throw pluginError(error, {
      what: `runtime "${definition.name}" create()`,
      packageName: source.packageName,
    });
  }
  return namedPluginRuntime(created, source.packageName);
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
