import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Path of the built CLI entry. Tests run the real binary, so `npm run build` must have run. */
export const CLI_PATH = fileURLToPath(new URL('../bin/opsmate.js', import.meta.url));
const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** Generous bound so a hung CLI fails its test instead of hanging the run; not a timing assertion. */
const HANG_LIMIT_MS = 120_000;

/** Throws when `dist/` lacks `module` (a path under dist/, e.g. `runtimes/docker/docker-runtime.js`). */
export function requireBuilt(module = 'cli/main.js'): void {
  if (!existsSync(join(ROOT, 'dist', module))) {
    throw new Error(`dist/${module} is missing: run \`npm run build\` before the CLI tests`);
  }
}

export interface CliResult {
  exitCode: number | null;
  stdout: string;
  stderr: string;
  /** Pid the CLI ran as (e.g. to tell its /proc entry from others'); undefined if it never started. */
  pid: number | undefined;
}

interface SpawnOptions {
  env: NodeJS.ProcessEnv;
  input?: string;
  cwd?: string;
  timeoutMs?: number;
}

async function spawnCli(args: string[], options: SpawnOptions): Promise<CliResult> {
  requireBuilt();
  requireBuilt('cli-bundle/main.js');
  const child = spawn(process.execPath, [CLI_PATH, ...args], {
    env: options.env,
    cwd: options.cwd ?? ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
  child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  child.stdin.on('error', () => undefined);
  child.stdin.end(options.input ?? '');
  const hang = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? HANG_LIMIT_MS);
  try {
    const exitCode = await new Promise<number | null>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (status) => resolve(status));
    });
    return { exitCode, stdout, stderr, pid: child.pid };
  } finally {
    clearTimeout(hang);
  }
}

function withOverrides(
  base: NodeJS.ProcessEnv,
  overrides: Record<string, string | undefined> = {},
): NodeJS.ProcessEnv {
  const env = { ...base };
  for (const [name, value] of Object.entries(overrides)) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  return env;
}

/**
 * Runs the built `opsmate` with this process's env, less OPSMATE_*, RUNTIME_* and
 * SHELL_COMMAND_RUNTIME (so the developer's own settings cannot leak into a test), plus `env`.
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
  const base: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.startsWith('OPSMATE_') && !name.startsWith('RUNTIME_') && name !== 'SHELL_COMMAND_RUNTIME') {
      base[name] = value;
    }
  }
  return await spawnCli(args, { ...options, env: withOverrides(base, options.env) });
}

export interface RunCliOptions {
  args: string[];
  /** Added to a clean environment: PATH, a throwaway HOME and OPSMATE_HOME, NO_COLOR. No API keys. */
  env?: Record<string, string | undefined>;
  input?: string;
  cwd?: string;
}

/** Like {@link runCli}, but from an environment that holds nothing of the developer's shell. */
export async function runCliIsolated(options: RunCliOptions): Promise<CliResult> {
  const home = mkdtempSync(join(tmpdir(), 'opsmate-e2e-home-'));
  const base: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: home,
    OPSMATE_HOME: join(home, '.opsmate'),
    NO_COLOR: '1',
    LANG: 'C.UTF-8',
  };
  return await spawnCli(options.args, {
    env: withOverrides(base, options.env),
    ...(options.input !== undefined ? { input: options.input } : {}),
    ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
  });
}

/** A CLI process started by {@link startCliIsolated}, to signal or inspect while it runs. */
export interface RunningCli {
  pid: number;
  /** Resolves when stdout (or stderr, with `stream`) has matched `pattern`; rejects if the CLI exits first. */
  waitForOutput(pattern: RegExp, stream?: 'stdout' | 'stderr'): Promise<RegExpMatchArray>;
  kill(signal: NodeJS.Signals): void;
  /** Everything the CLI printed and its exit code (null when a signal ended it), once it exits. */
  done: Promise<CliResult & { signal: NodeJS.Signals | null }>;
}

/**
 * Starts the built `opsmate` like {@link runCliIsolated} and returns at once, so a test can wait
 * for a command to be running and then signal the CLI.
 */
export function startCliIsolated(options: RunCliOptions & { home?: string }): RunningCli {
  requireBuilt();
  const home = options.home ?? mkdtempSync(join(tmpdir(), 'opsmate-e2e-home-'));
  const env = withOverrides(
    {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: home,
      OPSMATE_HOME: join(home, '.opsmate'),
      NO_COLOR: '1',
      LANG: 'C.UTF-8',
    },
    options.env,
  );
  const child = spawn(process.execPath, [CLI_PATH, ...options.args], {
    env,
    cwd: options.cwd ?? ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const output = { stdout: '', stderr: '' };
  const waiters = new Set<() => void>();
  const onData = (stream: 'stdout' | 'stderr') => (text: string) => {
    output[stream] += text;
    for (const waiter of waiters) waiter();
  };
  child.stdout.setEncoding('utf8').on('data', onData('stdout'));
  child.stderr.setEncoding('utf8').on('data', onData('stderr'));
  child.stdin.on('error', () => undefined);
  if (options.input !== undefined) child.stdin.write(options.input);
  const hang = setTimeout(() => child.kill('SIGKILL'), HANG_LIMIT_MS);
  const done = new Promise<CliResult & { signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (exitCode, signal) => {
      clearTimeout(hang);
      for (const waiter of waiters) waiter();
      resolve({ exitCode, signal, stdout: output.stdout, stderr: output.stderr, pid: child.pid });
    });
  });
  let exited = false;
  void done.then(() => (exited = true));
  return {
    pid: child.pid!,
    done,
    kill: (signal) => child.kill(signal),
    waitForOutput: (pattern, stream = 'stdout') =>
      new Promise((resolve, reject) => {
        const check = (): void => {
          const match = pattern.exec(output[stream]);
          if (match) {
            waiters.delete(check);
            resolve(match);
          } else if (exited || child.exitCode !== null || child.signalCode !== null) {
            waiters.delete(check);
            reject(
              new Error(`the CLI ended before printing ${pattern}:\n${output.stdout}\n${output.stderr}`),
            );
          }
        };
        waiters.add(check);
        check();
      }),
  };
}
