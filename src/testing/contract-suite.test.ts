// The contract suite is generic: the local shell runtime passes it, and so does a runtime built
// on CommandRuntime whose "language" is four words, which exercises the non-shell helpers.
import assert from 'node:assert/strict';
import { writeSync } from 'node:fs';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CommandRuntime,
  type CommandExecution,
  type CommandOutcome,
} from '../runtime/command-runtime/command-runtime.js';
import type { RuntimeContext } from '../runtime/contract.js';
import { localRuntime } from '../runtimes/local/local-runtime.js';
import { captureStdout, runtimeContractSuite, SHELL_CONTRACT_COMMANDS } from './contract-suite.js';

runtimeContractSuite({
  name: 'local (bash)',
  create: (context) => localRuntime.create(localRuntime.configSchema.parse({}), context),
  commands: SHELL_CONTRACT_COMMANDS,
});

/** Commands: `print TEXT`, `fail`, `wait SECONDS` (ignores nothing: stops on abort), `big BYTES`. */
class WordsRuntime extends CommandRuntime {
  opened = 0;

  constructor(context: RuntimeContext) {
    super({ name: 'words', context, language: { id: 'words', description: 'print, fail, wait or big' } });
  }

  protected async open(): Promise<void> {
    this.opened++;
  }

  protected async close(): Promise<void> {}

  protected async execute(command: string, execution: CommandExecution): Promise<CommandOutcome> {
    const [verb, argument = ''] = command.split(' ', 2);
    if (verb === 'print') {
      await execution.write('stdout', `${command.slice('print '.length)}\n`);
      return { exitCode: 0 };
    }
    if (verb === 'wait') {
      await sleep(Number(argument) * 1000, undefined, { signal: execution.signal });
      return { exitCode: 0 };
    }
    if (verb === 'big') {
      const chunk = 'a'.repeat(64 * 1024);
      for (let written = 0; written < Number(argument); written += chunk.length) {
        await execution.write('stdout', chunk);
      }
      return { exitCode: 0 };
    }
    await execution.write('stderr', `no such command: ${verb}\n`);
    return { exitCode: 1 };
  }

  async runtimeInfo(): Promise<string> {
    return 'Runtime: words. A test runtime that is not a shell.';
  }

  target(): Record<string, string> {
    return { kind: 'test' };
  }
}

runtimeContractSuite({
  name: 'a CommandRuntime (not a shell)',
  create: (context) => new WordsRuntime(context),
  commands: {
    print: (text) => `print ${text}`,
    fail: 'fail',
    slow: 'wait 5',
    bigOutput: (bytes) => `big ${bytes}`,
  },
});

describe('captureStdout, which the contract suite uses to tell an author their runtime writes to stdout', () => {
  it('sees console.log, process.stdout.write and fs.writeSync(1), and not stderr', async () => {
    const written = await captureStdout(async () => {
      console.log('one');
      process.stdout.write('two\n');
      writeSync(1, 'three\n');
      console.error('not this');
      writeSync(2, 'nor this\n');
    });
    assert.equal(written, 'one\ntwo\nthree\n');
  });
});
