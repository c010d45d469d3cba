import { realpathSync } from 'node:fs';
import { isAbsolute, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { errorMessage } from '../errors/opsmate-error.js';

/**
 * What keeps plugin code (which runs in opsmate's process, at import and whenever opsmate calls
 * it or one of its timers fires) from ending or crashing opsmate behind its back:
 *
 * - `process.exit()` throws a {@link PluginExitError} instead of exiting: at import the plugin is
 *   reported as broken, in a call the call fails, in a timer it is a crash (below). opsmate's own
 *   code exits through {@link exitProcess}.
 * - an uncaught exception or unhandled rejection is a crash: the running command is stopped the
 *   way SIGTERM stops it (its audit record is finished), one `opsmate: error:` line names the
 *   plugin whose code it came from, and opsmate exits 1 once the command has unwound.
 *
 * Which plugin is to blame is read from the error's stack: a frame in a file under a plugin's
 * package folder (see {@link registerPluginRoot}).
 */

/** The exit opsmate itself uses; taken before anything can replace `process.exit`. */
const realExit: (code?: number) => never = process.exit.bind(process) as (code?: number) => never;

/** Ends opsmate with `code`. The only way opsmate's own code exits the process. */
export function exitProcess(code: number): never {
  return realExit(code);
}

/** What `process.exit()` throws while the guard is on. */
export class PluginExitError extends Error {
  readonly code: number | undefined;

  constructor(code: number | undefined, owner: string | undefined) {
    super(
      `${owner ? `plugin ${owner}` : 'code outside opsmate'} called process.exit(${code ?? ''}); a plugin must throw an error instead of ending opsmate`,
    );
    this.name = 'PluginExitError';
    this.code = code;
  }
}

/** Package folders (real paths) of the plugins imported so far, by package name. */
const pluginRoots = new Map<string, string>();

/** Records that code under `root` belongs to `packageName`, to name it in crash reports. */
export function registerPluginRoot(root: string, packageName: string): void {
  let real = root;
  try {
    real = realpathSync(root);
  } catch {
    // keep the path as given
  }
  pluginRoots.set(real, packageName);
}

/** The plugin whose code appears first in `error`'s stack, if any. */
export function pluginOwning(error: unknown): string | undefined {
  const stack = error instanceof Error && typeof error.stack === 'string' ? error.stack : '';
  for (const match of stack.matchAll(/(?:file:\/\/)?(\/[^\s():]+)(?::\d+){1,2}/g)) {
    let file = match[1]!;
    if (match[0].startsWith('file://')) {
      try {
        file = fileURLToPath(`file://${file}`);
      } catch {
        continue;
      }
    }
    for (const [root, packageName] of pluginRoots) {
      const inside = relative(root, file);
      if (inside !== '' && !inside.startsWith('..') && !isAbsolute(inside)) return packageName;
    }
  }
  return undefined;
}

export interface CrashReport {
  /** The plugin the crash is blamed on, when its code is on the stack. */
  plugin: string | undefined;
  message: string;
  kind: 'exception' | 'rejection';
  error: unknown;
}

export interface GuardOptions {
  /** Writes the one-line report; default process.stderr. */
  stderr?: NodeJS.WritableStream;
  /** Whether to add the stack to the report. */
  debug?: () => boolean;
  /**
   * Stops whatever command is running, as SIGTERM does; returns how many it stopped. Nothing
   * running means the crash was in the background: it is reported as a warning and opsmate goes on.
   */
  stopRunning: (report: CrashReport) => number;
}

/** How long a stopped command may take to unwind after a crash before opsmate exits anyway. */
export const CRASH_EXIT_GRACE_MS = 10_000;

let installed: { crashed: CrashReport | undefined } | undefined;

/**
 * Turns the guard on for the rest of the process (idempotent). After a crash that stopped a
 * command, {@link crashExitCode} says 1.
 */
export function guardProcess(options: GuardOptions): void {
  if (installed) return;
  const state: { crashed: CrashReport | undefined } = { crashed: undefined };
  installed = state;
  const stderr = options.stderr ?? process.stderr;
  process.exit = ((code?: number | string | null) => {
    const error = new PluginExitError(typeof code === 'number' ? code : undefined, undefined);
    const owner = pluginOwning(error);
    throw owner ? new PluginExitError(typeof code === 'number' ? code : undefined, owner) : error;
  }) as typeof process.exit;
  const onCrash = (error: unknown, kind: CrashReport['kind']): void => {
    const report: CrashReport = {
      plugin: pluginOwning(error),
      message: firstLine(errorMessage(error)),
      kind,
      error,
    };
    const what = kind === 'exception' ? 'threw an uncaught exception' : 'left a promise rejection unhandled';
    const who = report.plugin ? `plugin ${report.plugin}` : 'a callback (no plugin on its stack)';
    const stack = options.debug?.() && error instanceof Error && error.stack ? `${error.stack}\n` : '';
    if (state.crashed) {
      stderr.write(`opsmate: warn: ${who} ${what} again: ${report.message}\n${stack}`);
      return;
    }
    const stopped = options.stopRunning(report);
    if (stopped === 0) {
      stderr.write(`opsmate: warn: ${who} ${what} (in a timer or callback): ${report.message}\n${stack}`);
      return;
    }
    state.crashed = report;
    stderr.write(
      `opsmate: error: ${who} ${what} (in a timer or callback): ${report.message}; the running command was stopped\n${stack}`,
    );
    stderr.write(
      `opsmate: hint: ${report.plugin ? `report it to the plugin's author, or remove it: opsmate uninstall ${report.plugin}` : 'run again with --loglevel debug for the stack'}\n`,
    );
    setTimeout(() => realExit(1), CRASH_EXIT_GRACE_MS).unref();
  };
  process.on('uncaughtException', (error) => onCrash(error, 'exception'));
  process.on('unhandledRejection', (reason) => onCrash(reason, 'rejection'));
}

/** 1 once a crash stopped a command; undefined otherwise. */
export function crashExitCode(): number | undefined {
  return installed?.crashed ? 1 : undefined;
}

function firstLine(text: string): string {
  return text.split('\n').find((line) => line.trim() !== '') ?? text;
}
