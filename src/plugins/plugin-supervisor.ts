import { spawn } from 'node:child_process';
import { fstatSync, writeSync } from 'node:fs';
import { Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { isatty, WriteStream } from 'node:tty';

/**
 * The plugin supervisor. A command that imports plugin code runs in a child process of the
 * `opsmate` the user started, laid out so that plugin code can neither write to opsmate's stdout
 * nor hang opsmate at import:
 *
 * - the child's fd 1 (`process.stdout`, `console.log`, `fs.writeSync(1)`, a subprocess spawned with
 *   `stdio: 'inherit'`) is the user's stderr; opsmate's own output goes to fd 3, which is the
 *   user's stdout. Node does not pass fds 3 and 4 on to the programs opsmate starts.
 * - before each plugin module is imported the child says so on fd 4 (synchronously, so the
 *   message is out before the module's code runs) and again when the import is over. A module
 *   still importing after its time (a synchronous loop never lets the child's own import timeout
 *   fire) gets the child killed, and the command starts again with that module skipped and
 *   reported as broken: nothing of the command has run at that point, only imports.
 * - SIGINT, SIGTERM and SIGHUP sent to the supervisor are passed on to the child (a Ctrl-C from
 *   the terminal reaches both; opsmate counts a signal delivered twice at once as one, see
 *   `duplicateSignalFilter`), and the supervisor ends as the child did, with its status or signal.
 * - if the supervisor dies (SIGKILL, the OOM killer), the child sees its end of fd 4 close and
 *   sends itself SIGHUP, as when a terminal goes away: a running command is stopped and recorded.
 */

/** Set in the child's environment, then removed from `process.env` at start. */
const CHILD_ENV = 'OPSMATE_SUPERVISED_CHILD';
/** The modules skipped because they hung at import, as JSON, for the child to report. */
const SKIPPED_ENV = 'OPSMATE_SKIPPED_PLUGIN_MODULES';
const OUTPUT_FD = 3;
const CONTROL_FD = 4;
/** Time the supervisor allows beyond the child's own import timeout before it kills the child. */
const KILL_MARGIN_MS = 1_000;

/** A plugin module that did not finish importing, as told to the restarted child. */
export interface SkippedModule {
  packageName: string;
  modulePath: string;
  timeoutMs: number;
}

/** The child's side: where opsmate's output goes, and how it reports imports. */
export interface SupervisedChild {
  stdout: NodeJS.WriteStream;
  skipped: readonly SkippedModule[];
  /** Call before a plugin module is imported. */
  importing(module: SkippedModule): void;
  /** Call once its import is over, whatever the outcome. */
  imported(): void;
}

let child: SupervisedChild | undefined | null;

/**
 * In the supervised child, what {@link SupervisedChild} offers; undefined in a process the
 * supervisor did not start. Reads (and removes) the supervisor's environment variables once.
 */
export function supervisedChild(env: NodeJS.ProcessEnv = process.env): SupervisedChild | undefined {
  if (child !== undefined) return child ?? undefined;
  if (env[CHILD_ENV] !== '1') {
    child = null;
    return undefined;
  }
  let skipped: SkippedModule[];
  try {
    skipped = JSON.parse(env[SKIPPED_ENV] ?? '[]') as SkippedModule[];
  } catch {
    skipped = [];
  }
  delete env[CHILD_ENV];
  delete env[SKIPPED_ENV];
  const send = (message: object): void => {
    const line = Buffer.from(`${JSON.stringify(message)}\n`);
    for (let offset = 0; offset < line.length;) {
      try {
        offset += writeSync(CONTROL_FD, line, offset);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') return;
      }
    }
  };
  const watch = new Socket({ fd: CONTROL_FD, readable: true, writable: false });
  watch.on('error', () => undefined);
  watch.on('close', () => process.kill(process.pid, 'SIGHUP'));
  watch.resume();
  watch.unref();
  child = {
    stdout: openOutput(OUTPUT_FD),
    skipped,
    importing: (module) => send({ type: 'importing', ...module }),
    imported: () => send({ type: 'imported' }),
  };
  return child;
}

/**
 * Runs this command again as a supervised child (see the top of this file) and returns the
 * status to exit with. `entry` is the CLI script to run, with the same Node flags as this process.
 */
export async function superviseCommand(options: {
  entry: string;
  argv: readonly string[];
  env: NodeJS.ProcessEnv;
}): Promise<number> {
  const skipped: SkippedModule[] = [];
  for (;;) {
    const outcome = await runChild({ ...options, skipped });
    if ('hung' in outcome) {
      skipped.push(outcome.hung);
      continue;
    }
    if (outcome.signal) {
      // End as the child did, so that whoever started opsmate sees the same thing.
      process.removeAllListeners(outcome.signal);
      process.kill(process.pid, outcome.signal);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      return 128 + 1;
    }
    return outcome.code ?? 1;
  }
}

function runChild(options: {
  entry: string;
  argv: readonly string[];
  env: NodeJS.ProcessEnv;
  skipped: readonly SkippedModule[];
}): Promise<{ code: number | null; signal: NodeJS.Signals | null } | { hung: SkippedModule }> {
  return new Promise((resolve, reject) => {
    const started = spawn(process.execPath, [...process.execArgv, options.entry, ...options.argv], {
      env: { ...options.env, [CHILD_ENV]: '1', [SKIPPED_ENV]: JSON.stringify(options.skipped) },
      stdio: [0, 2, 2, 1, 'pipe'],
    });
    let importing: SkippedModule | undefined;
    let hung: SkippedModule | undefined;
    let timer: NodeJS.Timeout | undefined;
    const control = started.stdio[CONTROL_FD];
    if (control && 'on' in control) {
      control.on('error', () => undefined);
      createInterface({ input: control as NodeJS.ReadableStream, crlfDelay: Infinity }).on('line', (line) => {
        let message: { type?: string } & Partial<SkippedModule>;
        try {
          message = JSON.parse(line) as typeof message;
        } catch {
          return;
        }
        clearTimeout(timer);
        if (message.type === 'importing') {
          importing = {
            packageName: String(message.packageName),
            modulePath: String(message.modulePath),
            timeoutMs: Number(message.timeoutMs),
          };
          const module = importing;
          timer = setTimeout(() => {
            hung = module;
            started.kill('SIGKILL');
          }, module.timeoutMs + KILL_MARGIN_MS);
        } else {
          importing = undefined;
        }
      });
    }
    const forward = (signal: NodeJS.Signals) => (): void => {
      started.kill(signal);
    };
    const handlers = (['SIGINT', 'SIGTERM', 'SIGHUP'] as const).map(
      (signal) => [signal, forward(signal)] as const,
    );
    for (const [signal, handler] of handlers) process.on(signal, handler);
    started.on('error', (error) => {
      clearTimeout(timer);
      for (const [signal, handler] of handlers) process.off(signal, handler);
      reject(error);
    });
    started.on('exit', (code, signal) => {
      clearTimeout(timer);
      for (const [name, handler] of handlers) process.off(name, handler);
      if (hung) resolve({ hung });
      else resolve({ code, signal });
    });
  });
}

/** A stream writing to `fd` the way Node's own stdout does for that kind of file. */
function openOutput(fd: number): NodeJS.WriteStream {
  if (isatty(fd)) return new WriteStream(fd);
  let broken = false;
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      if (broken) {
        callback();
        return;
      }
      const data = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      try {
        for (let offset = 0; offset < data.length;) {
          try {
            offset += writeSync(fd, data, offset);
          } catch (error) {
            if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
            Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
          }
        }
      } catch (error) {
        // The reader went away (`| head`): drop the rest, as a closed pipe would.
        if ((error as NodeJS.ErrnoException).code === 'EPIPE') broken = true;
        else {
          callback(error as Error);
          return;
        }
      }
      callback();
    },
  }) as unknown as NodeJS.WriteStream;
  Object.assign(stream, { isTTY: false, fd, kind: fstatKind(fd) });
  return stream;
}

function fstatKind(fd: number): string {
  try {
    const stat = fstatSync(fd);
    return stat.isFile() ? 'file' : stat.isFIFO() ? 'pipe' : stat.isSocket() ? 'socket' : 'other';
  } catch {
    return 'unknown';
  }
}
