import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FakeRuntime } from '../../../../test-support/fake-runtime.js';
import { SpillFiles } from '../spill-files.js';
import { buildToolCall, type ToolContext, type ToolDefinition } from '../tool-contract.js';
import { readSpilledOutputTool } from './read-spilled-output-tool.js';

const tool = readSpilledOutputTool as unknown as ToolDefinition;

describe('ReadSpilledOutput', () => {
  let dir: string;
  let file: string;
  let context: ToolContext;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'opsmate-spill-test-'));
    file = join(dir, '1.stdout');
    writeFileSync(file, Array.from({ length: 1000 }, (_, index) => `line ${index + 1}`).join('\n') + '\n');
    context = { runtime: new FakeRuntime(), spillFiles: new SpillFiles(), maxOutputLength: 10_000 };
    context.spillFiles.remember(file);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  async function read(input: Record<string, unknown>) {
    const built = buildToolCall(tool, input);
    assert.ok(built.ok, built.ok ? '' : built.message);
    return tool.execute(built.input as never, context, { signal: new AbortController().signal });
  }

  it('returns a numbered line range and says more follows', async () => {
    const result = await read({ file, startLine: 10, lineCount: 3 });
    assert.match(result.llmContent, /10: line 10\n11: line 11\n12: line 12\n<\/untrusted-data/);
    assert.match(result.llmContent, /More lines follow/);
  });

  it('greps with line numbers and reports the file length at the end', async () => {
    const result = await read({ file, pattern: 'LINE 99\\d$', ignoreCase: true });
    assert.match(result.llmContent, /10 line\(s\) matching/);
    assert.match(result.llmContent, /990: line 990\n[\s\S]*999: line 999\n/);
    assert.match(result.llmContent, /The file has 1000 line\(s\)\./);
  });

  it('refuses files it was not told about and bad patterns, as errors for the model', async () => {
    const other = await read({ file: '/etc/passwd' });
    assert.equal(other.isError, true);
    assert.match(other.llmContent, /not a spill file of this session.*Readable files: /);
    const bad = await read({ file, pattern: '(' });
    assert.equal(bad.isError, true);
    assert.match(bad.llmContent, /not a valid regular expression/);
  });
});
