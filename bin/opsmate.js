#!/usr/bin/env node
import { fileURLToPath } from 'node:url';
import { exitProcess, main } from '../dist/cli/main.js';

const code = await main(process.argv.slice(2), process.env, { entry: fileURLToPath(import.meta.url) });
// Let piped stdout and stderr drain before exiting, or the tail of a big output is lost.
await Promise.all(
  [process.stdout, process.stderr].map(
    (stream) =>
      new Promise((resolve) => (stream.writableNeedDrain ? stream.once('drain', resolve) : resolve())),
  ),
);
exitProcess(code);
