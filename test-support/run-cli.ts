import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Path of the built CLI entry. Tests run the real binary, so `npm run build` must have run. */
export const CLI_PATH = fileURLToPath(new URL('../bin/opsmate.js', import.meta.url));

/** Throws when `dist/` lacks `module` (a path under dist/, e.g. `runtimes/docker/docker-runtime.js`). */
export function requireBuilt(module = 'cli/main.js'): void {
  const path = fileURLToPath(new URL(`../dist/${module}`, import.meta.url));
  if (!existsSync(path))
    throw new Error(`dist/${module} is missing: run \`npm run build\` before the CLI tests`);
}

export interface CliResult {
  exitCode: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the built `opsmate` with arguments, optional stdin and env overrides (merged over a copy of
 * this process's env with OPSMATE_ and RUNTIME_ variables removed, so the developer's own
 * settings cannot leak into a test).
 */
export async function runCli(
  args: string[],
  options: {
    env?: Record<string, string | undefined>;
    input?: string;
    cwd?: string;
    timeoutMs?: number;
  } = {},
): Promise<CliResult> {
  requireBuilt();
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.startsWith('OPSMATE_') && !name.startsWith('RUNTIME_') && name !== 'SHELL_COMMAND_RUNTIME') {
      env[name] = value;
    }
  }
  for (const [name, value] of Object.entries(options.env ?? {})) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  return await new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI_PATH, ...args], { env, cwd: options.cwd, stdio: 'pipe' });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
    child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (exitCode) => {
      clearTimeout(timer);
      resolve({ exitCode, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}
