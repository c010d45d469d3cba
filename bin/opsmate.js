#!/usr/bin/env node
import { main } from '../dist/cli/main.js';

const code = await main();
// Let piped stdout and stderr drain before exiting, or the tail of a big output is lost.
await Promise.all(
  [process.stdout, process.stderr].map(
    (stream) => new Promise((resolve) => (stream.writableNeedDrain ? stream.once('drain', resolve) : resolve())),
  ),
);
process.exit(code);
