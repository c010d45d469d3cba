#!/usr/bin/env node
// Runs every *.test.ts under src/, test/ and examples/ with node's test runner through tsx.
// Node 20's runner does not expand globs, so the files are listed here. Extra arguments
// (file paths or --test-name-pattern=...) are passed through.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const SKIP = new Set(['node_modules', 'dist', 'dist-check', '.git']);

function findTests(dir) {
  const found = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (SKIP.has(entry.name)) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...findTests(path));
    else if (entry.name.endsWith('.test.ts')) found.push(relative(root, path));
  }
  return found;
}

const args = process.argv.slice(2);
const files = args.filter((arg) => !arg.startsWith('--'));
const flags = args.filter((arg) => arg.startsWith('--'));
const tests =
  files.length > 0
    ? files
    : ['src', 'test', 'examples'].flatMap((dir) => {
        try {
          return findTests(join(root, dir));
        } catch {
          return [];
        }
      });
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=300000', ...flags, ...tests],
  { cwd: root, stdio: 'inherit' },
);
process.exit(result.status ?? 1);
