import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { resolve } from 'node:path';
import { randomToken, supervisorLine } from './shell-scripts.js';

/** How a session shell's process is started: what ShellSession gives `spawn`. */
export interface SessionShellSpawn {
  argv: readonly string[];
  /** The whole environment, already without opsmate's own secrets. */
  env: NodeJS.ProcessEnv;
  /** Where it starts; absent: this process's working directory. */
  cwd?: string | undefined;
}

/** A started session shell whose supervisor line (shell-scripts.ts) is written. */
export interface SessionShellProcess {
  child: ChildProcessWithoutNullStreams;
  supervisorToken: string;
}

/**
 * Starts a session shell's process: its own process group, three pipes, and the supervisor line
 * on its stdin. The one place both the engine and {@link startEarlyShell} start it, so an early
 * shell is started exactly as the engine would have.
 */
export function spawnSessionShell(options: SessionShellSpawn): SessionShellProcess {
  const [file = '', ...args] = options.argv;
  const supervisorToken = randomToken();
  const child = spawn(file, args, {
    env: options.env,
    cwd: options.cwd,
    detached: true,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  child.stdin.on('error', () => {});
  child.stdin.write(`${supervisorLine(supervisorToken)}\n`);
  return { child, supervisorToken };
}

interface EarlyShell extends SessionShellProcess {
  argv: readonly string[];
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** It failed to start or has ended: it is never handed out. */
  unusable: boolean;
}

/**
 * Where the early shell waits: a slot on the global object, not a module variable, because the
 * entry starts it from dist/ and the engine that takes it is the CLI bundle's copy of this module
 * (scripts/bundle-cli.mjs): both must find the same shell.
 */
const SLOT = Symbol.for('opsmate.early-shell');
const slot = globalThis as { [SLOT]?: EarlyShell | undefined };

/**
 * Starts the session shell of a command that will run in a shell started this way
 * (`opsmate exec` on the local runtime), while the rest of the CLI loads: the engine takes it
 * with {@link takeEarlyShell} when it starts its first shell, if that shell is started exactly
 * like this one. Nothing runs in it before then. One not taken (another shell, another runtime,
 * a command the policy refuses) is killed when the process exits. Returns its process id.
 */
export function startEarlyShell(options: {
  argv: readonly string[];
  env: NodeJS.ProcessEnv;
}): number | undefined {
  const waiting = slot[SLOT];
  if (waiting) return waiting.child.pid;
  const started = spawnSessionShell(options);
  const shell: EarlyShell = {
    ...started,
    argv: [...options.argv],
    env: { ...options.env },
    cwd: process.cwd(),
    unusable: false,
  };
  started.child.once('error', () => (shell.unusable = true));
  started.child.once('exit', () => (shell.unusable = true));
  // Until it is taken it must not keep opsmate running, nor outlive it.
  setReferenced(started.child, false);
  process.once('exit', () => {
    if (slot[SLOT] === shell) kill(shell);
  });
  slot[SLOT] = shell;
  return started.child.pid;
}

/**
 * The shell {@link startEarlyShell} started, when it was started exactly as `wanted` says and is
 * still alive; it is handed out once. Any other early shell is killed: `undefined` then, and the
 * caller starts its own.
 */
export function takeEarlyShell(wanted: SessionShellSpawn): SessionShellProcess | undefined {
  const shell = slot[SLOT];
  if (!shell) return undefined;
  slot[SLOT] = undefined;
  if (shell.unusable || !sameSpawn(shell, wanted)) {
    kill(shell);
    return undefined;
  }
  setReferenced(shell.child, true);
  return { child: shell.child, supervisorToken: shell.supervisorToken };
}

function sameSpawn(shell: EarlyShell, wanted: SessionShellSpawn): boolean {
  if (shell.argv.length !== wanted.argv.length || shell.argv.some((arg, index) => arg !== wanted.argv[index]))
    return false;
  if (resolve(wanted.cwd ?? process.cwd()) !== shell.cwd) return false;
  const names = Object.keys(wanted.env).filter((name) => wanted.env[name] !== undefined);
  const earlyNames = Object.keys(shell.env).filter((name) => shell.env[name] !== undefined);
  return names.length === earlyNames.length && names.every((name) => shell.env[name] === wanted.env[name]);
}

function kill(shell: EarlyShell): void {
  if (shell.child.pid === undefined || shell.child.exitCode !== null || shell.child.signalCode !== null)
    return;
  try {
    process.kill(-shell.child.pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

function setReferenced(child: ChildProcessWithoutNullStreams, referenced: boolean): void {
  for (const handle of [child, child.stdin, child.stdout, child.stderr] as Array<{
    ref?: () => void;
    unref?: () => void;
  }>) {
    if (referenced) handle.ref?.();
    else handle.unref?.();
  }
}
