#!/usr/bin/env node
// Runs the benchmarks named on the command line (default: every bench/*.bench.ts) through tsx.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';

const dir = new URL('.', import.meta.url).pathname;
const names = process.argv.slice(2);
const files = names.length > 0 ? names : readdirSync(dir).filter((name) => name.endsWith('.bench.ts')).map((name) => dir + name);
let failed = false;
for (const file of files) {
  console.log(`\n# ${file}`);
  const result = spawnSync(process.execPath, ['--import', 'tsx', file], { stdio: 'inherit' });
  failed ||= result.status !== 0;
}
process.exit(failed ? 1 : 0);
