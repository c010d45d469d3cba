import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';

// Every load runs in a new Node process, as the CLI does: within one process V8 reuses what it
// compiled for the same source and would never read the cache again.
const MODULE = fileURLToPath(new URL('./code-cache.ts', import.meta.url));

// A CommonJS script with enough functions that V8's cache of it is tens of KB.
const SCRIPT = `${Array.from(
  { length: 200 },
  (_, index) => `function f${index}(value) { return value * ${index} + ${index % 7}; }`,
).join('\n')}
exports.sum = (value) => ${Array.from({ length: 200 }, (_, index) => `f${index}(value)`).join(' + ')};
exports.path = require('node:path').basename(__filename);
`;
const EXPECTED_SUM = Array.from({ length: 200 }, (_, index) => 2 * index + (index % 7)).reduce(
  (a, b) => a + b,
);

describe('loadCachedScript', () => {
  let scratch: string;
  let loader: string;
  let cacheDir: string;

  before(() => {
    scratch = mkdtempSync(join(tmpdir(), 'opsmate-code-cache-'));
    const file = join(scratch, 'library.cjs');
    writeFileSync(file, SCRIPT);
    cacheDir = join(scratch, 'cache');
    loader = join(scratch, 'load.ts');
    writeFileSync(
      loader,
      `import { codeCacheEvents, loadCachedScript, useCodeCache } from ${JSON.stringify(MODULE)};
const [directory, contentHash] = process.argv.slice(2);
useCodeCache(directory === '-' ? undefined : directory);
const exports = loadCachedScript({ url: ${JSON.stringify(pathToFileURL(file).href)}, contentHash: contentHash! });
const event = codeCacheEvents.at(-1)!;
console.log(JSON.stringify({ script: event.script, cache: event.cache, sum: (exports.sum as (value: number) => number)(2), path: exports.path }));
`,
    );
  });
  after(() => rmSync(scratch, { recursive: true, force: true }));

  /** Loads the script in a new process with `directory` as the cache folder (null: none). */
  function load(
    directory: string | null = cacheDir,
    contentHash = 'aaaa',
  ): { script: string; cache: string; sum: unknown; path: unknown } {
    const child = spawnSync(process.execPath, ['--import', 'tsx', loader, directory ?? '-', contentHash], {
      encoding: 'utf8',
    });
    assert.equal(child.status, 0, child.stderr);
    return JSON.parse(child.stdout) as { script: string; cache: string; sum: unknown; path: unknown };
  }
  const cacheFiles = () => readdirSync(cacheDir).filter((name) => name.endsWith('.v8'));
  const ran = (cache: string) => ({ script: 'library', cache, sum: EXPECTED_SUM, path: 'library.cjs' });

  it('compiles from source without a cache folder, and writes nothing', () => {
    assert.deepEqual(load(null), ran('off'));
    assert.throws(() => readdirSync(cacheDir), /ENOENT/);
  });

  it('writes the cache when the first run exits, then uses it, and the script behaves the same', () => {
    assert.deepEqual(load(), ran('absent'));
    const [name] = cacheFiles();
    assert.match(name!, new RegExp(`^library-aaaa-${process.version}-${process.arch}\\.v8$`));
    assert.equal(statSync(join(cacheDir, name!)).mode & 0o777, 0o600);
    assert.equal(statSync(cacheDir).mode & 0o777, 0o700);
    const written = statSync(join(cacheDir, name!)).mtimeMs;
    assert.deepEqual(load(), ran('used'));
    assert.deepEqual(load(), ran('used'));
    assert.deepEqual(cacheFiles(), [name]);
    assert.equal(statSync(join(cacheDir, name!)).mtimeMs, written, 'a used cache is not written again');
  });

  it('rejects a corrupted, truncated or foreign cache, runs from source and writes a good one', () => {
    const [name] = cacheFiles();
    const path = join(cacheDir, name!);
    const good = readFileSync(path);
    const corrupted = Buffer.from(good);
    // Bytes flipped in the payload, the header intact: without V8's checksum this crashed Node.
    for (let index = 64; index < corrupted.length; index += 97) corrupted[index]! ^= 0x5a;
    writeFileSync(path, corrupted);
    assert.deepEqual(load(), ran('rejected'));
    assert.deepEqual(load(), ran('used'), 'rewritten');

    writeFileSync(path, good.subarray(0, good.length >> 1));
    assert.deepEqual(load(), ran('rejected'), 'truncated');
    writeFileSync(path, 'not a cache at all');
    assert.deepEqual(load(), ran('rejected'), 'garbage');
    assert.deepEqual(load(), ran('used'));
  });

  it('never reads the cache of another build, and removes it when writing its own', () => {
    const unrelated = join(cacheDir, 'library-notes.txt');
    writeFileSync(unrelated, 'kept');
    assert.deepEqual(load(cacheDir, 'bbbb'), ran('absent'));
    assert.deepEqual(cacheFiles(), [`library-bbbb-${process.version}-${process.arch}.v8`]);
    assert.equal(readFileSync(unrelated, 'utf8'), 'kept', 'only caches of this script are removed');
  });

  it('runs normally when the cache folder cannot be written', () => {
    const blocker = join(scratch, 'a-file');
    writeFileSync(blocker, '');
    assert.deepEqual(load(join(blocker, 'cache')), ran('absent'));
    assert.deepEqual(load(join(blocker, 'cache')), ran('absent'));
  });
});
