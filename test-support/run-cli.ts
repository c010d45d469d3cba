import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = new URL('..', import.meta.url).pathname;
export const CLI_PATH = join(ROOT, 'bin', 'opsmate.js');
/** Generous bound so a hung CLI fails its test instead of hanging the run; not a timing assertion. */
const HANG_LIMIT_MS = 90_000;

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunCliOptions {
  args: string[];
  /** Added to a clean environment: PATH, a throwaway HOME and OPSMATE_HOME, NO_COLOR. No API keys. */
  env?: Record<string, string | undefined>;
  /** Written to stdin, which is then closed. Without it stdin is empty (not a terminal). */
  input?: string;
  cwd?: string;
}

/**
 * Runs the built CLI (`node bin/opsmate.js`) as a user would, with an environment that holds
 * nothing from the developer's shell (no real API keys, no OPSMATE_* settings).
 */
export async function runCli(options: RunCliOptions): Promise<CliRun> {
  if (!existsSync(join(ROOT, 'dist', 'cli', 'main.js'))) {
    throw new Error('dist/ is missing: run `npm run build` before the end-to-end tests');
  }
  const home = mkdtempSync(join(tmpdir(), 'opsmate-e2e-home-'));
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: home,
    OPSMATE_HOME: join(home, '.opsmate'),
    NO_COLOR: '1',
    LANG: 'C.UTF-8',
  };
  for (const [name, value] of Object.entries(options.env ?? {})) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  const child = spawn(process.execPath, [CLI_PATH, ...options.args], {
    cwd: options.cwd ?? ROOT,
    env,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
  child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  child.stdin.on('error', () => undefined);
  child.stdin.end(options.input ?? '');
  const hang = setTimeout(() => child.kill('SIGKILL'), HANG_LIMIT_MS);
  try {
    const code = await new Promise<number | null>((resolve) =>
      child.on('close', (status) => resolve(status)),
    );
    return { code, stdout, stderr };
  } finally {
    clearTimeout(hang);
  }
}
