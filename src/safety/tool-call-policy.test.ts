import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CommandPolicy, policyFileSchema, type PolicyFile } from './command-policy.js';
import type { ToolCall } from './tool-call-guard.js';
import { ShellEquivalentToolCallPolicy } from './tool-call-policy.js';

const call = (asShellCommand: string | undefined, overrides: Partial<ToolCall> = {}): ToolCall => ({
  tool: 'FileEditor',
  arguments: {},
  readOnly: false,
  runtime: 'ssh',
  target: { host: 'web-1' },
  ...(asShellCommand !== undefined ? { asShellCommand } : {}),
  ...overrides,
});

const judge = (profile: 'read-only' | 'ask-destructive' | 'allow-all', file?: PolicyFile) =>
  new ShellEquivalentToolCallPolicy(new CommandPolicy({ profile, ...(file ? { file } : {}) }));

describe('ShellEquivalentToolCallPolicy', () => {
  it('judges a file write like the shell command it stands for, in each profile', async () => {
    const write = call("tee -- '/srv/app/config.yml'");
    const system = call("tee -- '/etc/nginx/nginx.conf'");
    assert.equal((await judge('read-only').evaluateToolCall(write))?.action, 'ask');
    assert.equal(
      (await judge('ask-destructive').evaluateToolCall(call("tee -- '/home/app/notes'")))?.action,
      'allow',
    );
    const asked = await judge('ask-destructive').evaluateToolCall(system);
    assert.equal(asked?.action, 'ask');
    assert.match(
      asked?.reason ?? '',
      /system files .*\(FileEditor is judged as the shell command: tee -- '\/etc\/nginx\/nginx\.conf'\)/,
    );
    assert.equal((await judge('allow-all').evaluateToolCall(system))?.action, 'allow');
    assert.equal(
      (await judge('read-only').evaluateToolCall(call("cat -- '/etc/hosts'", { readOnly: true })))?.action,
      'allow',
    );
  });

  it("applies the user's rules for the target: a deny on a host denies file changes and views there", async () => {
    const file = policyFileSchema.parse({
      rules: [{ action: 'deny', target: { host: 'web-*' }, commands: ['*'], reason: 'prod is read-only' }],
    });
    const denied = await judge('allow-all', file).evaluateToolCall(call("tee -- '/tmp/x'"));
    assert.equal(denied?.action, 'deny');
    assert.match(denied?.reason ?? '', /prod is read-only/);
    const elsewhere = await judge('allow-all', file).evaluateToolCall(
      call("tee -- '/tmp/x'", { target: { host: 'db-1' } }),
    );
    assert.equal(elsewhere?.action, 'allow');
  });

  it('leaves calls that stand for no shell command to the default', async () => {
    assert.equal(await judge('allow-all').evaluateToolCall(call(undefined)), undefined);
  });
});
