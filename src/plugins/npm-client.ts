import { co, type CoResult } from '../process/child-process.js';
import { OpsmateError } from '../errors/opsmate-error.js';

/** npm may download and build for a while; past this something is wrong. */
export const NPM_TIMEOUT_MS = 10 * 60_000;

/**
 * Flags on every npm run in the plugins folder. `--legacy-peer-deps`: plugins list opsmate as a
 * peer dependency, which the running opsmate satisfies (see host-resolution.ts); npm must not
 * try to fetch it. `--install-links=false`: a folder installed with `-e` stays a symlink.
 */
const COMMON_FLAGS = [
  '--no-audit',
  '--no-fund',
  '--no-update-notifier',
  '--legacy-peer-deps',
  '--install-links=false',
];

export interface NpmRunOptions {
  /** The plugins folder; npm runs there as its own project (`--prefix`). */
  pluginsDir: string;
  signal?: AbortSignal;
  /** Extra environment for npm, e.g. a separate cache. */
  env?: NodeJS.ProcessEnv;
}

/** Runs `npm <args>` in the plugins folder. Rejects only when npm cannot be started at all. */
export async function runNpm(args: readonly string[], options: NpmRunOptions): Promise<CoResult> {
  const result = await co(['npm', ...args, ...COMMON_FLAGS, '--prefix', options.pluginsDir], {
    cwd: options.pluginsDir,
    timeoutMs: NPM_TIMEOUT_MS,
    // Killed with opsmate: an install opsmate is not there to check and roll back must not finish.
    dieWithParent: true,
    env: { ...process.env, ...options.env },
    ...(options.signal ? { signal: options.signal } : {}),
  });
  if (result.spawnError) {
    throw new OpsmateError(`cannot run npm: ${result.spawnError.message}`, {
      hint: 'opsmate installs plugins with npm, which comes with Node.js: put npm on PATH',
    });
  }
  return result;
}

/** One line saying why an npm run failed, taken from npm's own error lines. */
export function npmFailure(result: CoResult): string {
  if (result.timedOut) return `npm did not finish within ${NPM_TIMEOUT_MS / 60_000} minutes`;
  if (result.cancelled) return 'npm was interrupted';
  const lines = `${result.stderr}\n${result.stdout}`
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.startsWith('npm error') || line.startsWith('npm ERR!'))
    .map((line) => line.replace(/^npm (?:error|ERR!)\s*/, ''))
    .filter((line) => line !== '' && !/^(?:code |errno |syscall |A complete log|Log files)/.test(line));
  const detail = lines.find((line) => !/^(?:path |enoent$)/.test(line)) ?? lines[0];
  const status =
    result.exitCode === null ? `signal ${result.signal ?? 'unknown'}` : `status ${result.exitCode}`;
  return detail ? `npm failed: ${detail}` : `npm exited with ${status}`;
}
