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

function context(redact: boolean, maxOutputLength = 100_000, spill = file): ToolContext {
  const spillFiles = new SpillFiles();
  spillFiles.remember(spill);
  return {
    runtime: {} as Runtime,
    spillFiles,
    maxOutputLength,
    ...(redact ? { redactor: new SecretRedactor() } : {}),
  };
}

async function read(
  input: Record<string, unknown>,
  redact = true,
  options: { maxOutputLength?: number; file?: string } = {},
): Promise<string> {
  const spill = options.file ?? file;
  const parsed = readSpilledOutputTool.inputSchema.parse({ file: spill, ...input });
  const result = await readSpilledOutputTool.execute(
    parsed,
    context(redact, options.maxOutputLength, spill),
    {
      signal: new AbortController().signal,
    },
  );
  return result.llmContent;
}

/** Any 8 characters of the secret in a row. */
function showsPartOf(text: string, secret: string): string | undefined {
  for (let index = 0; index + 8 <= secret.length; index++)
    if (text.includes(secret.slice(index, index + 8))) return secret.slice(index, index + 8);
  return undefined;
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

  it('matches the pattern against the masked text: a pattern only the raw secret would match finds nothing', async () => {
    for (const pattern of ['spill-secret', 'DB_PASSWORD=s', 'DB_PASSWORD=spill-secret-1$', 'secret-1']) {
      const found = await read({ pattern });
      assert.match(found, /^0 line\(s\) matching/, `${pattern} found:\n${found}`);
      // (The first line repeats the pattern itself.)
      assert.equal(found.split('\n').slice(1).join('\n').includes('spill-secret-1'), false, found);
    }
    // The same patterns on the raw file (masking off) do find it: the test can fail.
    assert.match(await read({ pattern: 'spill-secret' }, false), /^1 line\(s\) matching/);
    // What a pattern sees is the masked line.
    assert.match(
      await read({ pattern: 'DB_PASSWORD=\\[REDACTED' }),
      /2: DB_PASSWORD=\[REDACTED:secret-env\]/,
    );
  });

  it('never shows most of a secret that the output limit cuts through', async () => {
    const secret = 'Zq8-cut-boundary-Secret-41x7';
    const cutFile = join(dir, '2.stdout');
    const lines = Array.from({ length: 40 }, (_, index) => `row ${index} ${'.'.repeat(20)}`);
    lines.splice(20, 0, `API_TOKEN=${secret}`, `Authorization: Bearer ${secret}`, `token: ${secret}`);
    writeFileSync(cutFile, lines.join('\n'));
    // Every limit from well before the secret lines to well after them: the cut lands on each character.
    for (let limit = 200; limit <= 1_400; limit += 7) {
      const text = await read({ lineCount: 100 }, true, { maxOutputLength: limit, file: cutFile });
      assert.equal(
        showsPartOf(text, secret),
        undefined,
        `limit ${limit} showed part of the secret:\n${text}`,
      );
      assert.doesNotMatch(text, /\[REDACTED:[^\]\n]*\n\[\.\.\./, `limit ${limit} left half a mask`);
    }
    // Unmasked, the same cut does show it: the sweep covers the secret lines.
    const raw = await read({ lineCount: 100 }, false, { maxOutputLength: 100_000, file: cutFile });
    assert.ok(showsPartOf(raw, secret));
  });
});
