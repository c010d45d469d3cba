import type { Runtime, RunOptions, RunResult } from '../src/runtime/contract.js';

/**
 * A runtime that runs nothing: it records each command and answers from `respond`, for unit
 * tests of tools and the agent. Implements the real contract.
 */
export class FakeRuntime implements Runtime {
  readonly name = 'fake';
  readonly commands: string[] = [];
  respond: (command: string, options: RunOptions) => Partial<RunResult> = () => ({});

  async connect(): Promise<void> {}
  async disconnect(): Promise<void> {}

  async run(command: string, options: RunOptions = {}): Promise<RunResult> {
    this.commands.push(command);
    const scripted = this.respond(command, options);
    return {
      command,
      exitCode: 0,
      stdout: '',
      stderr: '',
      stdoutBytes: Buffer.byteLength(scripted.stdout ?? ''),
      stderrBytes: Buffer.byteLength(scripted.stderr ?? ''),
      truncated: false,
      spillFiles: {},
      timedOut: false,
      cancelled: false,
      shellExited: false,
      durationMs: 1,
      ...scripted,
    };
  }

  async osInfo(): Promise<string> {
    return 'FakeOS 1.0';
  }
  async whoami(): Promise<string> {
    return 'tester';
  }
  async hasSystemd(): Promise<boolean> {
    return false;
  }
  async runtimeInfo(): Promise<string> {
    return 'Runtime: fake. Nothing really runs.';
  }
  target(): Record<string, string> {
    return { host: 'fake-host' };
  }
}
