const MARKER = Symbol.for('opsmate.error');

/** Options shared by every error in the opsmate family. */
export interface OpsmateErrorOptions {
  /** Process exit code the CLI uses when this error ends a command. Defaults to 1. */
  exitCode?: number;
  /** One line telling the user how to fix the problem. Printed after the message. */
  hint?: string;
  cause?: unknown;
}

/**
 * Root of opsmate's fatal errors. The CLI turns one of these into a single line plus an exit code.
 * Checked with `OpsmateError.isInstance`, which works across duplicate copies of the package
 * (a plugin may bundle its own opsmate), unlike `instanceof`.
 */
export class OpsmateError extends Error {
  readonly [MARKER] = true;
  readonly exitCode: number;
  readonly hint: string | undefined;

  constructor(message: string, options: OpsmateErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'OpsmateError';
    this.exitCode = options.exitCode ?? 1;
    this.hint = options.hint;
  }

  static isInstance(value: unknown): value is OpsmateError {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[MARKER] === true;
  }
}

/** A runtime could not connect, or its configuration cannot work. */
export class RuntimeError extends OpsmateError {
  constructor(message: string, options: OpsmateErrorOptions = {}) {
    super(message, options);
    this.name = 'RuntimeError';
  }

  static override isInstance(value: unknown): value is RuntimeError {
    return OpsmateError.isInstance(value) && (value as { name?: unknown }).name === 'RuntimeError';
  }
}

/** A flag, env var or config file value is invalid. Exit code 2, like a usage error. */
export class ConfigError extends OpsmateError {
  constructor(message: string, options: OpsmateErrorOptions = {}) {
    super(message, { exitCode: 2, ...options });
    this.name = 'ConfigError';
  }

  static override isInstance(value: unknown): value is ConfigError {
    return OpsmateError.isInstance(value) && (value as { name?: unknown }).name === 'ConfigError';
  }
}

/** Message of any thrown value, without assuming it is an Error. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === 'object' && error !== null && 'message' in error) return String(error.message);
  return String(error);
}
