#!/usr/bin/env node
import { main } from '../dist/cli/main.js';

const code = await main();
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
process.exit(code);
