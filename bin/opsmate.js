#!/usr/bin/env node
import { fileURLToPath } from 'node:url';
import { exitProcess, runCli } from '../dist/cli/cli-entry.js';

const code = await runCli({
  argv: process.argv.slice(2),
  env: process.env,
  entry: fileURLToPath(import.meta.url),
});
// Let piped stdout and stderr drain before exiting, or the tail of a big output is lost.
await Promise.all(
  [process.stdout, process.stderr].map(
    (stream) =>
      // A closed pipe (`| head -1`) never drains.
      new Promise((resolve) =>
        stream.writableNeedDrain && !stream.destroyed ? stream.once('drain', resolve) : resolve(),
      ),
  ),
);
exitProcess(code);
