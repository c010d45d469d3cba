import { errorMessage, OpsmateError } from '../errors/opsmate-error.js';
import type { Runtime, RunOptions, RunResult } from '../runtime/contract.js';

/**
 * An error thrown by a plugin's code, as one opsmate error that names the plugin and its package.
 * An OpsmateError keeps its message (prefixed), hint and exit code; anything else is a bug in the
 * plugin, and the hint says where to report it.
 */
export function pluginError(error: unknown, options: { what: string; packageName: string }): OpsmateError {
  const prefix = `${options.what} (plugin ${options.packageName})`;
  if (OpsmateError.isInstance(error)) {
    const copy = new OpsmateError(`${prefix}: ${error.message}`, {
      exitCode: error.exitCode,
      ...(error.hint !== undefined ? { hint: error.hint } : {}),
      cause: error,
    });
    copy.name = error.name;
    return copy;
  }
  return new OpsmateError(`${prefix} failed: ${errorMessage(error)}`, {
    hint: `this is a bug in ${options.packageName}: report it to its author, or remove it with opsmate uninstall -y ${options.packageName}`,
    cause: error,
  });
}

/**
 * Wraps a plugin's runtime so that whatever its code throws (connect, run, the probes) names the
 * plugin and package. Results pass through untouched.
 */
export function namedPluginRuntime(runtime: Runtime, packageName: string): Runtime {
  const what = `runtime "${runtime.name}"`;
  const named = async <T>(member: string, work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (error) {
      throw pluginError(error, { what: `${what} ${member}`, packageName });
    }
  };
  const wrapped: Runtime = {
    get name() {
      return runtime.name;
    },
    get language() {
      return runtime.language;
    },
    connect: (options) => named('connect()', () => runtime.connect(options)),
    // BoundedRuntime, around this, keeps disconnect from rejecting or hanging and says why.
    disconnect: () => named('disconnect()', () => runtime.disconnect()),
    run: (command: string, options?: RunOptions): Promise<RunResult> =>
      named('run()', () => runtime.run(command, options)),
    runtimeInfo: () => named('runtimeInfo()', () => runtime.runtimeInfo()),
    target: () => {
      try {
        return runtime.target();
      } catch (error) {
        throw pluginError(error, { what: `${what} target()`, packageName });
      }
    },
  };
  if (runtime.osInfo) wrapped.osInfo = () => named('osInfo()', () => runtime.osInfo!());
  if (runtime.whoami) wrapped.whoami = () => named('whoami()', () => runtime.whoami!());
  if (runtime.hasSystemd) wrapped.hasSystemd = () => named('hasSystemd()', () => runtime.hasSystemd!());
  if (runtime.services) wrapped.services = () => named('services()', () => runtime.services!());
  return wrapped;
}
