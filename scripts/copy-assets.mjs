#!/usr/bin/env node
// Copies the text files that sit next to the code (long prompts and tool descriptions, *.md and
// *.txt under src/) into dist/, where the built modules read them. tsc copies only code.
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const source = join(root, 'src');
const target = join(root, 'dist');

function copyAssets(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) copyAssets(path);
    else if (/\.(md|txt)$/.test(entry.name)) {
      const destination = join(target, relative(source, path));
      mkdirSync(dirname(destination), { recursive: true });
      copyFileSync(path, destination);
    }
  }
}

copyAssets(source);
