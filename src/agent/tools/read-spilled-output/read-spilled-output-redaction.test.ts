import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { Runtime } from '../../../runtime/contract.js';
import { SecretRedactor } from '../../../safety/secret-redactor.js';
import { SpillFiles } from '../spill-files.js';
import type { ToolContext } from '../tool-contract.js';
import { readSpilledOutputTool } from './read-spilled-output-tool.js';

const dir = mkdtempSync(join(tmpdir(), 'opsmate-spill-read-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const KEY_LINES = [
  'MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun',
  'VTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK',
  'LxoS2tFczGkPLPgizskuemMghRniWaoLcyehkd3qqGElvW/VDL5AaWTg0nLVkjRo',
];
const file = join(dir, '1.stdout');
writeFileSync(
  file,
  [
    'line one',
    'DB_PASSWORD=spill-secret-1',
    '-----BEGIN RSA PRIVATE KEY-----',
    ...KEY_LINES,
    '-----END RSA PRIVATE KEY-----',
    'last line',
  ].join('\n'),
);

function context(redact: boolean): ToolContext {
  const spillFiles = new SpillFiles();
  spillFiles.remember(file);
  return {
    runtime: {} as Runtime,
    spillFiles,
    maxOutputLength: 100_000,
    ...(redact ? { redactor: new SecretRedactor() } : {}),
  };
}

async function read(input: Record<string, unknown>, redact = true): Promise<string> {
  const parsed = readSpilledOutputTool.inputSchema.parse({ file, ...input });
  const result = await readSpilledOutputTool.execute(parsed, context(redact), {
    signal: new AbortController().signal,
  });
  return result.llmContent;
}

describe('ReadSpilledOutput masks secrets in spill files', () => {
  it('masks a whole read, keeping line numbers', async () => {
    const text = await read({});
    for (const secret of ['spill-secret-1', ...KEY_LINES]) assert.equal(text.includes(secret), false, secret);
    assert.match(text, /2: DB_PASSWORD=\[REDACTED:secret-env\]/);
    assert.match(text, /8: last line/);
  });

  it('masks key lines when the range starts inside the key, or a pattern picks them out', async () => {
    const middle = await read({ startLine: 5, lineCount: 2 });
    assert.equal(middle.includes(KEY_LINES[1]!), false, middle);
    const grep = await read({ pattern: '^[A-Za-z0-9+/]{40,}$' });
    for (const secret of KEY_LINES) assert.equal(grep.includes(secret), false, grep);
  });

  it('shows everything with masking off', async () => {
    assert.match(await read({}, false), /spill-secret-1/);
  });
});
