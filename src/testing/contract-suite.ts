import assert from 'node:assert/strict';
import fs, { mkdtempSync, rmSync, statSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Runtime, RunResult, RuntimeContext } from '../runtime/contract.js';
import { isNotRunResult } from '../runtime/command-review.js';

/** The commands the contract suite runs, in the runtime's own language. */
export interface ContractCommands {
  /** A command that succeeds (exit 0) and prints `text` on stdout. `text` is letters and digits. */
  print(text: string): string;
  /** A command that fails with a non-zero exit and says why on stderr. */
  fail: string;
  /** A command that runs for 5 s or more and prints nothing meanwhile. */
  slow: string;
  /** A command that prints at least `bytes` bytes on stdout. */
  bigOutput(bytes: number): string;
}

/** The contract commands for a POSIX shell runtime. */
export const SHELL_CONTRACT_COMMANDS: ContractCommands = {
  print: (text) => `echo ${text}`,
  fail: 'ls /opsmate-contract-no-such-file',
  slow: 'sleep 5',
  bigOutput: (bytes) => `head -c ${bytes} /dev/zero | tr '\\0' a`,
};

export interface ContractSuiteOptions {
  /** Shown in the test names, e.g. `postgres`. */
  name: string;
  /** Builds a fresh, unconnected runtime. Called once for the whole suite. */
  create: (context: RuntimeContext) => Runtime | Promise<Runtime>;
  commands: ContractCommands;
  /** A reason to skip the whole suite (e.g. the server is not installed), or false to run it. */
  skip?: string | false;
}

const OUTPUT_LIMIT = 4096;

/**
 * The tests every runtime must pass, shell or not (a SQL database, an API): the result shape,
 * exit status of success and failure, stdout and stderr apart, serialised concurrent runs,
 * timeouts, idle timeouts and cancellation that leave the runtime usable, a NUL byte in the
 * command refused with a clear result, long commands, big output cut and spilled in full, the
 * facts it declares, and connect/disconnect that may be called twice. Parameterised by the
 * commands to use, in the runtime's language. Call it at the top level of a `*.test.ts` file.
 */
export function runtimeContractSuite(options: ContractSuiteOptions): void {
  const { commands } = options;
  describe(`runtime contract: ${options.name}`, { skip: options.skip || false }, () => {
    let runtime: Runtime;
    let spillDir: string;

    let writtenAtStart = '';

    before(async () => {
      spillDir = mkdtempSync(join(tmpdir(), 'opsmate-contract-'));
      writtenAtStart = await captureStdout(async () => {
        runtime = await options.create({ spillDir, outputLimitBytes: OUTPUT_LIMIT });
        await runtime.connect();
        await runtime.connect();
      });
    });
    after(async () => {
      await runtime?.disconnect();
      await runtime?.disconnect();
      rmSync(spillDir, { recursive: true, force: true });
    });

    it('returns a complete result for a command that succeeds', async () => {
      const command = commands.print('contract1');
      const result = await runtime.run(command);
      assertShape(result);
      assert.equal(result.command, command);
      assert.equal(result.exitCode, 0, result.stderr);
      assert.match(result.stdout, /contract1/);
      assert.equal(result.stdoutBytes, Buffer.byteLength(result.stdout));
      assert.equal(result.timedOut, false);
      assert.equal(result.cancelled, false);
      assert.equal(result.truncated, false);
      assert.deepEqual(result.spillFiles, {});
    });

    it('reports a failing command as a non-zero exit with its message on stderr', async () => {
      const result = await runtime.run(commands.fail);
      assertShape(result);
      assert.ok(result.exitCode !== null && result.exitCode !== 0, `exit ${result.exitCode}`);
      assert.ok(result.stderr.trim().length > 0, 'nothing on stderr');
      assert.doesNotMatch(result.stdout, /contract/);
      const next = await runtime.run(commands.print('afterfail'));
      assert.equal(next.exitCode, 0);
    });

    it('serialises concurrent runs, each with its own output', async () => {
      const results = await Promise.all(
        [1, 2, 3, 4].map((index) => runtime.run(commands.print(`parallel${index}x`))),
      );
      results.forEach((result, position) => {
        assert.equal(result.exitCode, 0);
        assert.match(result.stdout, new RegExp(`parallel${position + 1}x`));
        for (const other of [1, 2, 3, 4].filter((index) => index !== position + 1)) {
          assert.doesNotMatch(result.stdout, new RegExp(`parallel${other}x`));
        }
      });
    });

    it('stops a command at its timeout and stays usable', async () => {
      const result = await runtime.run(commands.slow, { timeoutMs: 1_000 });
      assertShape(result);
      assert.equal(result.timedOut, true);
      assert.equal(result.timeoutKind, 'total');
      assert.equal(result.cancelled, false);
      assert.ok(result.notice, 'a timeout has a notice');
      assert.ok(result.durationMs < 5_000, `it ran to the end (${result.durationMs} ms)`);
      assert.equal((await runtime.run(commands.print('aftertimeout'))).exitCode, 0);
    });

    it('stops a command that prints nothing for the idle timeout', async () => {
      const result = await runtime.run(commands.slow, { idleTimeoutMs: 1_000 });
      assert.equal(result.timedOut, true);
      assert.equal(result.timeoutKind, 'idle');
      assert.match((await runtime.run(commands.print('afteridle'))).stdout, /afteridle/);
    });

    it('cancels a command through an AbortSignal and stays usable', async () => {
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 500);
      const result = await runtime.run(commands.slow, { signal: controller.signal });
      assert.equal(result.cancelled, true);
      assert.equal(result.timedOut, false);
      assert.match((await runtime.run(commands.print('aftercancel'))).stdout, /aftercancel/);
    });

    it('refuses a NUL byte inside the command with a clear result', async () => {
      const result = await runtime.run(`${commands.print('nul')}\0`);
      assertShape(result);
      assert.notEqual(result.exitCode, 0);
      assert.match(`${result.stderr}\n${result.notice ?? ''}`, /NUL/);
      assert.match((await runtime.run(commands.print('afternul'))).stdout, /afternul/);
    });

    it('runs a 64 KiB command', async () => {
      const word = `w${'x'.repeat(64 * 1024)}`;
      const result = await runtime.run(commands.print(word));
      assert.equal(result.exitCode, 0, result.stderr.slice(0, 500));
      assert.ok(result.stdoutBytes > 64 * 1024);
    });

    it('keeps a head and a tail of big output and spills all of it to a file', async () => {
      const bytes = 2 * 1024 * 1024;
      const result = await runtime.run(commands.bigOutput(bytes), { timeoutMs: 120_000 });
      assert.equal(result.exitCode, 0, result.stderr.slice(0, 500));
      assert.equal(result.truncated, true);
      assert.ok(result.stdoutBytes >= bytes, `${result.stdoutBytes} bytes`);
      assert.ok(result.stdout.length < 2 * OUTPUT_LIMIT, `kept ${result.stdout.length} characters`);
      assert.match(result.stdout, /\[\.\.\. \d+ bytes omitted/);
      const spill = result.spillFiles.stdout;
      assert.ok(spill, 'no spill file');
      assert.equal(statSync(spill).size, result.stdoutBytes);
    });

    it('passes output to onOutput as it comes', async () => {
      const chunks: string[] = [];
      const result = await runtime.run(commands.print('streamed'), {
        onOutput: (chunk) => {
          chunks.push(Buffer.from(chunk.data).toString('utf8'));
        },
      });
      assert.equal(result.exitCode, 0);
      assert.match(chunks.join(''), /streamed/);
    });

    it('describes itself: name, language, runtime info, target facts', async () => {
      assert.equal(typeof runtime.name, 'string');
      if (runtime.language !== undefined) {
        assert.match(runtime.language.id, /^[a-z][a-z0-9-]*$/);
        assert.ok(runtime.language.description.trim().length > 0);
      }
      assert.match(await runtime.runtimeInfo(), /\S/);
      const target = runtime.target();
      for (const value of Object.values(target)) assert.equal(typeof value, 'string');
      if (runtime.whoami) assert.ok((await runtime.whoami()).length > 0);
      if (runtime.osInfo) assert.match(await runtime.osInfo(), /\S/);
      if (runtime.hasSystemd) assert.equal(typeof (await runtime.hasSystemd()), 'boolean');
    });

    it("writes nothing to opsmate's stdout (console.log, process.stdout, fd 1) from create, connect, run or disconnect", async () => {
      const written =
        writtenAtStart +
        (await captureStdout(async () => {
          await runtime.run(commands.print('quiet'));
          await runtime.disconnect();
          await runtime.connect();
        }));
      assert.equal(
        written,
        '',
        "opsmate's stdout carries only opsmate's output (scripts read it, e.g. `-o json`): write diagnostics to stderr (console.error), or return them in the result",
      );
    });

    it('reconnects on demand after disconnect', async () => {
      await runtime.disconnect();
      const result = await runtime.run(commands.print('reconnected'));
      assert.equal(result.exitCode, 0);
      assert.match(result.stdout, /reconnected/);
    });
  });
}

/**
 * What `work` writes to this process's stdout: through `process.stdout.write` (and so
 * `console.log`) and `fs.write`/`fs.writeSync` on fd 1. It still reaches stdout.
 */
export async function captureStdout(work: () => Promise<void>): Promise<string> {
  let captured = '';
  const record = (chunk: unknown): void => {
    // The test runner reports through stdout too, from Node's own code only: not counted.
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 40;
    const frames = (new Error().stack ?? '').split('\n').slice(3); // past record() and the wrapper
    Error.stackTraceLimit = limit;
    if (!frames.some((frame) => frame.includes('/') && !/\(node:|at node:/.test(frame))) return;
    captured +=
      typeof chunk === 'string'
        ? chunk
        : chunk instanceof Uint8Array
          ? Buffer.from(chunk).toString('utf8')
          : String(chunk);
  };
  const stdout = process.stdout;
  const originalWrite = stdout.write;
  const originalWriteSync = fs.writeSync;
  const originalFsWrite = fs.write;
  stdout.write = function (this: unknown, chunk: unknown, ...rest: unknown[]): boolean {
    record(chunk);
    return (originalWrite as (...args: unknown[]) => boolean).call(stdout, chunk, ...rest);
  } as typeof stdout.write;
  fs.writeSync = function (fd: number, chunk: unknown, ...rest: unknown[]): number {
    if (fd === 1) record(chunk);
    return (originalWriteSync as (...args: unknown[]) => number)(fd, chunk, ...rest);
  } as typeof fs.writeSync;
  fs.write = function (fd: number, chunk: unknown, ...rest: unknown[]): void {
    if (fd === 1) record(chunk);
    (originalFsWrite as (...args: unknown[]) => void)(fd, chunk, ...rest);
  } as typeof fs.write;
  syncBuiltinESMExports();
  try {
    await work();
  } finally {
    stdout.write = originalWrite;
    fs.writeSync = originalWriteSync;
    fs.write = originalFsWrite;
    syncBuiltinESMExports();
  }
  return captured;
}

function assertShape(result: RunResult): void {
  assert.equal(typeof result.command, 'string');
  assert.ok(result.exitCode === null || Number.isInteger(result.exitCode));
  for (const key of ['stdout', 'stderr'] as const) assert.equal(typeof result[key], 'string');
  for (const key of ['stdoutBytes', 'stderrBytes', 'durationMs'] as const) {
    assert.ok(Number.isFinite(result[key]) && result[key] >= 0, key);
  }
  for (const key of ['truncated', 'timedOut', 'cancelled', 'shellExited'] as const) {
    assert.equal(typeof result[key], 'boolean', key);
  }
  assert.equal(typeof result.spillFiles, 'object');
  assert.equal(isNotRunResult(result), false, 'a command the runtime ran is not a refused one');
}
