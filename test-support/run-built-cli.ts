/**
 * Runs the built CLI (`bin/opsmate.js` over `dist/`) as a user would, for end-to-end tests.
 * `npm test` builds first; run `npm run build` before running such a test file alone.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';

const ROOT = new URL('..', import.meta.url).pathname;
const BIN = `${ROOT}bin/opsmate.js`;

export interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Throws when `dist/` lacks `module` (a path under dist/, e.g. `runtimes/docker/docker-runtime.js`). */
export function requireBuilt(module = 'cli/main.js'): void {
  if (!existsSync(`${ROOT}dist/${module}`)) {
    throw new Error(`dist/${module} is missing: run \`npm run build\` before the end-to-end tests`);
  }
}

/** Runs `node bin/opsmate.js ARGS` with node's own path, so PATH may be anything. */
export function runBuiltCli(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {},
): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: options.cwd ?? ROOT,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}
