import {
  closeSync,
  fstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { Script } from 'node:vm';

/**
 * V8 code caches for the libraries of the CLI bundle (scripts/bundle-cli.mjs): Node 20 has no
 * compile cache, and compiling zod and commander was a third of a cold start (docs/benchmarks.md,
 * "Cold start"). Each library is a CommonJS script compiled here with `vm.Script`, given the
 * bytecode V8 produced for it in an earlier run.
 *
 * Failing safe, as measured on Node 20:
 * - A cache is found by the script's content hash (computed by the build), Node's version and the
 *   CPU: another build or another Node never reads it. V8 itself checks its version, its flags and
 *   the source's length, and rejects what does not match (`cachedDataRejected`).
 * - V8 checks a cache's checksum only with `--verify-snapshot-checksum`, off in release builds: a
 *   cache corrupted on disk was seen to crash Node. The flag is switched on just around the
 *   compile and the cache's creation and off again at once (left on, it changes V8's flag hash and
 *   Node's own built-in modules lose their code cache): a corrupt cache is then rejected.
 * - A rejected or missing cache is compiled from source as without a cache, and written again
 *   when the process exits (to a temporary file, then renamed), with the bytecode of every
 *   function the command ran. Nothing is written when the folder is not writable; nothing is read
 *   from a file that is not the user's own.
 */

let cacheDirectory: string | undefined;
const writes: Array<() => void> = [];

/** What happened to each script's cache in this process, for tests and `--loglevel debug`. */
export const codeCacheEvents: Array<{ script: string; cache: 'used' | 'rejected' | 'absent' | 'off' }> = [];

/**
 * Where the caches are kept (a folder in opsmate's home); `undefined` turns caching off: the
 * scripts are compiled from source every time.
 */
export function useCodeCache(directory: string | undefined): void {
  cacheDirectory = directory;
}

/**
 * Runs the CommonJS script at `url` (a library bundled by scripts/bundle-cli.mjs) and returns its
 * `module.exports`, compiled with the code cache when there is a valid one. `contentHash` names
 * the script's exact content.
 */
export function loadCachedScript(options: { url: string; contentHash: string }): Record<string, unknown> {
  const file = fileURLToPath(options.url);
  const source = readFileSync(file, 'utf8');
  const name = basename(file).replace(/\.c?js$/, '');
  const directory = cacheDirectory;
  const cacheFile =
    directory === undefined
      ? undefined
      : join(directory, `${name}-${options.contentHash}-${process.version}-${process.arch}.v8`);
  const cachedData = cacheFile === undefined ? undefined : readOwnFile(cacheFile);
  const script = withChecksums(
    () =>
      new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
        filename: file,
        ...(cachedData ? { cachedData } : {}),
      }),
  );
  const cache =
    cacheFile === undefined
      ? 'off'
      : cachedData === undefined
        ? 'absent'
        : script.cachedDataRejected
          ? 'rejected'
          : 'used';
  codeCacheEvents.push({ script: name, cache });
  if (directory !== undefined && cacheFile !== undefined && cache !== 'used') {
    if (writes.length === 0) process.once('exit', writeCodeCaches);
    writes.push(() => writeCache({ directory, file: cacheFile, name, script }));
  }
  const module = { exports: {} as Record<string, unknown> };
  const run = script.runInThisContext() as (
    exports: unknown,
    require: NodeRequire,
    module: unknown,
    filename: string,
    dirname: string,
  ) => void;
  run(module.exports, createRequire(file), module, file, dirname(file));
  return module.exports;
}

function withChecksums<T>(work: () => T): T {
  setFlagsFromString('--verify-snapshot-checksum');
  try {
    return work();
  } finally {
    setFlagsFromString('--no-verify-snapshot-checksum');
  }
}

/** The file's bytes when it is a regular file of this user's, else undefined. */
function readOwnFile(path: string): Buffer | undefined {
  let descriptor: number | undefined;
  try {
    descriptor = openSync(path, 'r');
    const stat = fstatSync(descriptor);
    if (!stat.isFile() || (process.getuid !== undefined && stat.uid !== process.getuid())) return undefined;
    return readFileSync(descriptor);
  } catch {
    return undefined;
  } finally {
    if (descriptor !== undefined) closeSync(descriptor);
  }
}

/**
 * Writes the caches that were missing or rejected, with the bytecode of everything that ran so
 * far. Runs when the process exits; never throws.
 */
export function writeCodeCaches(): void {
  for (const write of writes.splice(0)) write();
}

/** Writes the script's cache, with what ran so far, and removes the caches of other builds. */
function writeCache(options: { directory: string; file: string; name: string; script: Script }): void {
  const temporary = `${options.file}.${process.pid}.tmp`;
  try {
    const data = withChecksums(() => options.script.createCachedData());
    mkdirSync(options.directory, { recursive: true, mode: 0o700 });
    writeFileSync(temporary, data, { mode: 0o600 });
    renameSync(temporary, options.file);
    const ofThisScript = new RegExp(
      `^${options.name.replace(/[^\w]/g, '\\$&')}-[0-9a-f]+-v[^-]+-[^-.]+\\.v8$`,
    );
    for (const entry of readdirSync(options.directory)) {
      if (ofThisScript.test(entry) && entry !== basename(options.file)) {
        rmSync(join(options.directory, entry), { force: true });
      }
    }
  } catch {
    // A cache is only a speed-up: without one the script is compiled from source next time too.
    try {
      rmSync(temporary, { force: true });
    } catch {
      // nothing more to do
    }
  }
}
