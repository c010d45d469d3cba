// The safety layer against its corpora: for each policy profile, the share of destructive
// commands that would run without asking and of read-only commands that would ask; for the
// masker, recall on planted secrets, false positives on lookalikes, and throughput on ordinary
// and adversarial input. Run: node --import tsx bench/policy.bench.ts
import { readFileSync } from 'node:fs';
import { CommandPolicy, POLICY_PROFILES } from '../src/safety/command-policy.js';
import { SecretRedactor } from '../src/safety/secret-redactor.js';
import { parsePlainCommand } from '../src/safety/policy/shell-parser.js';
import { machineLine, median, percentile, report } from './bench-support.js';

const corpus = (name: string): string => readFileSync(new URL(`corpora/${name}`, import.meta.url), 'utf8');

/** One command per line; `#` lines are comments; `@json "..."` holds a command with newlines. */
function commands(name: string): string[] {
  return corpus(name)
    .split('\n')
    .filter((line) => line.trim() !== '' && !line.startsWith('#'))
    .map((line) => (line.startsWith('@json ') ? (JSON.parse(line.slice(6)) as string) : line));
}

function jsonLines<T>(name: string): T[] {
  return corpus(name)
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as T);
}

const percent = (part: number, whole: number): string => `${((100 * part) / whole).toFixed(1)} %`;

console.log(machineLine());
const destructive = commands('destructive-commands.txt');
const readOnly = commands('read-only-commands.txt');
const scope = { runtime: 'local', target: {} };
const show = process.argv.includes('--show');
for (const profile of POLICY_PROFILES) {
  const policy = new CommandPolicy({ profile });
  let ran = 0;
  for (const command of destructive) {
    const decision = await policy.evaluate(command, scope);
    if (decision.action === 'allow') {
      ran++;
      if (show && profile !== 'allow-all') console.log(`  runs unasked [${profile}]: ${command}`);
    }
  }
  let asked = 0;
  for (const command of readOnly) {
    const decision = await policy.evaluate(command, scope);
    if (decision.action !== 'allow') {
      asked++;
      if (show && profile === 'read-only')
        console.log(`  asks [${profile}]: ${command}  (${decision.rule}: ${decision.reason})`);
    }
  }
  report(
    `${profile}: destructive that run unasked (of ${destructive.length})`,
    percent(ran, destructive.length),
    profile === 'read-only' ? '0 %' : undefined,
  );
  report(
    `${profile}: read-only that ask (of ${readOnly.length})`,
    percent(asked, readOnly.length),
    profile === 'read-only' ? '<= 5 %' : undefined,
  );
}

// Time per command, the first time a policy sees it (a new policy each round, so its decision
// cache is empty) and when it has seen it before; medians and 90th percentiles over the commands.
await new CommandPolicy().evaluate('ps aux | grep "[n]ginx" | head', scope);
const firstTimes: number[] = [];
const againTimes: number[] = [];
for (let round = 0; round < 5; round++) {
  const policy = new CommandPolicy();
  for (const command of readOnly) {
    const start = performance.now();
    await policy.evaluate(command, scope);
    const first = performance.now() - start;
    const again = performance.now();
    await policy.evaluate(command, scope);
    againTimes.push(performance.now() - again);
    if (round > 0) firstTimes.push(first);
  }
}
const micro = (ms: number): string => `${(ms * 1000).toFixed(1)} µs`;
report(
  'policy: read-only command seen for the first time',
  `${micro(median(firstTimes))} (p90 ${micro(percentile(firstTimes, 0.9))})`,
);
report('policy: the same command again (remembered)', micro(median(againTimes)));
const plain = readOnly.filter((command) => parsePlainCommand(command) !== undefined).length;
report('policy: read without tree-sitter (fast path)', percent(plain, readOnly.length));

const redactor = new SecretRedactor();
const planted = jsonLines<{ text: string; secret: string }>('planted-secrets.jsonl');
let leaked = 0;
for (const { text, secret } of planted) {
  const masked = redactor.redact(text).text;
  // A leak: the secret, or any 8 characters of it in a row, is still readable.
  const pieces = Array.from({ length: Math.max(1, secret.length - 7) }, (_, index) =>
    secret.slice(index, index + 8),
  );
  if (masked.includes(secret) || pieces.some((piece) => piece.length === 8 && masked.includes(piece))) {
    leaked++;
    if (show) console.log(`  leaked: ${JSON.stringify(text)} → ${JSON.stringify(masked)}`);
  }
}
report(
  `masker: recall on planted secrets (of ${planted.length})`,
  percent(planted.length - leaked, planted.length),
  '>= 98 %',
);
const lookalikes = jsonLines<{ text: string }>('lookalikes.jsonl');
let falsePositives = 0;
for (const { text } of lookalikes) {
  const masked = redactor.redact(text);
  if (masked.count > 0) {
    falsePositives++;
    if (show) console.log(`  masked a lookalike: ${JSON.stringify(masked.text)}`);
  }
}
report(
  `masker: false positives on lookalikes (of ${lookalikes.length})`,
  percent(falsePositives, lookalikes.length),
  '<= 1 %',
);

const MB = 1024 * 1024;
const ordinary = [...readOnly, ...lookalikes.map((entry) => entry.text)].join('\n');
const inputs: Record<string, string> = {
  'logs and configs (lookalikes, commands)': ordinary.repeat(Math.ceil(MB / ordinary.length)).slice(0, MB),
  'one 1 MB run of [A-Za-z0-9_.-]': 'aB9_.-'.repeat(MB / 6),
  'one 1 MB line of a=b:c tokens': 'a=b:c '.repeat(MB / 6),
  '1 MB command line (ls -la repeated)': 'ls -la /var/log/nginx; '.repeat(MB / 23),
  'key markers with no end (BEGIN ... PRIVATE KEY)': '-----BEGIN RSA PRIVATE KEY-----\nAAAA\n'.repeat(
    MB / 37,
  ),
  'secret-named keys without values (password=)': 'password= '.repeat(MB / 10),
};
// OPSMATE_BENCH_BASELINE=FILE: a masker module to compare with (e.g. main's secret-redactor.ts
// written to a temporary file), timed in the same rounds, interleaved.
const baselinePath = process.env.OPSMATE_BENCH_BASELINE;
const baseline = baselinePath
  ? new ((await import(baselinePath)) as { SecretRedactor: typeof SecretRedactor }).SecretRedactor()
  : undefined;
const ROUNDS = 7;
for (const [name, text] of Object.entries(inputs)) {
  const maskers = baseline ? { new: redactor, baseline } : { new: redactor };
  const rounds: Record<string, number[]> = { new: [], baseline: [] };
  for (const masker of Object.values(maskers)) masker.redact(text);
  for (let round = 0; round < ROUNDS; round++) {
    for (const [which, masker] of Object.entries(maskers)) {
      const start = performance.now();
      masker.redact(text);
      rounds[which]!.push(performance.now() - start);
    }
  }
  const speed = (times: number[]): string => `${(text.length / MB / (median(times) / 1000)).toFixed(0)} MB/s`;
  report(
    `masker throughput: ${name}`,
    speed(rounds.new!),
    `>= 50 MB/s${baseline ? `; baseline ${speed(rounds.baseline!)}` : ''}`,
  );
}
