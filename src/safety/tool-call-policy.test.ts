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

  it('leaves calls that stand for no shell command and match no rule to the default, except in allow-all', async () => {
    assert.equal(await judge('read-only').evaluateToolCall(call(undefined)), undefined);
    assert.equal(await judge('ask-destructive').evaluateToolCall(call(undefined)), undefined);
    assert.equal((await judge('allow-all').evaluateToolCall(call(undefined)))?.action, 'allow');
  });
  it("decides tools that stand for no command by the user's tools: rules, first match in file order", async () => {
    const file = policyFileSchema.parse({
      rules: [
        { action: 'deny', tools: ['everything__toggle-*'], reason: 'no toggles' },
        { action: 'allow', tools: ['everything__*'], runtime: 'mcp', target: { server: 'everything' } },
        { action: 'ask', tools: ['filesystem__read_*'], language: 'sql' },
      ],
    });
    const mcp = (tool: string, server = 'everything'): ToolCall =>
      call(undefined, { tool, runtime: 'mcp', target: { server } });
    const policy = judge('read-only', file);
    assert.equal((await policy.evaluateToolCall(mcp('everything__echo')))?.action, 'allow');
    const denied = await policy.evaluateToolCall(mcp('everything__toggle-logging'));
    assert.equal(denied?.action, 'deny');
    assert.equal(denied?.reason, 'no toggles');
    // Scoped: the same name from another server (or runtime) is not matched.
    assert.equal(await policy.evaluateToolCall(mcp('everything__echo', 'other')), undefined);
    // A rule's language does not limit its tools.
    assert.equal((await policy.evaluateToolCall(mcp('filesystem__read_file', 'fs')))?.action, 'ask');
    assert.equal(await policy.evaluateToolCall(mcp('filesystem__write_file', 'fs')), undefined);
    // allow-all allows what no rule decides; a deny rule still holds.
    assert.equal((await judge('allow-all', file).evaluateToolCall(mcp('x__y', 'x')))?.action, 'allow');
    assert.equal(
      (await judge('allow-all', file).evaluateToolCall(mcp('everything__toggle-a')))?.action,
      'deny',
    );
    // A tools rule decides no shell command.
    const commands = new CommandPolicy({ profile: 'read-only', file });
    assert.equal(
      (await commands.evaluate('everything__echo', { runtime: 'mcp', target: { server: 'everything' } }))
        .action,
      'ask',
    );
  });
});
