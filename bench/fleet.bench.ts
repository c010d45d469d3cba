/**
 * Fleet benchmark (issue 14), not part of the tests: 50 real sshd targets on this machine, each on
 * its own loopback address (127.0.14.101-150, port 47550) with its own host key and its own host
 * name (a UTS namespace each; needs root), all in one Ansible INI inventory. On that inventory and
 * with the same parallelism (10) it compares
 *
 *   opsmate exec --inventory INV -t all -- 'hostname; uname -r'
 *   ansible all -i INV -m shell -a 'hostname; uname -r' -f 10      (Debian's ansible-core 2.14)
 *   a plain sequential ssh loop
 *
 * cold (no SSH master connections) and warm (run again at once: Ansible's and the loop's
 * ControlPersist masters from the cold run are alive; opsmate closes its masters when it exits, so
 * its warm run has none either), in interleaved rounds. Wall time is spawn to exit; peak memory is
 * the highest sum of PSS over every process of the run (children, and ssh masters that daemonize,
 * found by an env tag each run carries), sampled every 25 ms. Every run must print all 50 host
 * names, or the benchmark fails.
 *
 *   node --import tsx bench/fleet.bench.ts [--rounds 5] [--hosts 50]
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startSshd, type SshdServer } from '../test-support/sshd-server.js';
import { machineLine, median } from './bench-support.js';

const PEAK_MEMORY_TARGET_MB = 200;
const SAMPLE_INTERVAL_MS = 25;
const CLI = fileURLToPath(new URL('../bin/opsmate.js', import.meta.url));

function option(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  const value = index >= 0 ? Number(process.argv[index + 1]) : NaN;
  return Number.isInteger(value) && value > 0 ? value : fallback;
}

const rounds = option('rounds', 5);
const hostCount = option('hosts', 50);
const COMMAND = 'hostname; uname -r';

/** Sum of PSS (KiB) of every process whose environment carries `tag`. */
function taggedPssKib(tag: string): number {
  let total = 0;
  const needle = `WT_TARGETS_BENCH_TAG=${tag}`;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (!readFileSync(`/proc/${entry}/environ`, 'latin1').includes(needle)) continue;
      const rollup = readFileSync(`/proc/${entry}/smaps_rollup`, 'latin1');
      const match = /^Pss:\s+(\d+) kB/m.exec(rollup);
      if (match) total += Number(match[1]);
    } catch {
      // gone, or not ours to read
    }
  }
  return total;
}

function killTagged(tag: string): void {
  const needle = `WT_TARGETS_BENCH_TAG=${tag}`;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${entry}/environ`, 'latin1').includes(needle))
        process.kill(Number(entry), 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

interface Measured {
  wallMs: number;
  peakMb: number;
  stdout: string;
}

async function measure(argv: string[], env: NodeJS.ProcessEnv, tag: string): Promise<Measured> {
  let peak = 0;
  const sampler = setInterval(() => {
    peak = Math.max(peak, taggedPssKib(tag));
  }, SAMPLE_INTERVAL_MS);
  const started = performance.now();
  const child = spawn(argv[0]!, argv.slice(1), {
    env: { ...env, WT_TARGETS_BENCH_TAG: tag },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
  child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
  const wallMs = performance.now() - started;
  clearInterval(sampler);
  peak = Math.max(peak, taggedPssKib(tag));
  const names = new Set(stdout.match(/\bbench-h\d+\b/g) ?? []);
  if (names.size !== hostCount)
    throw new Error(
      `${argv.slice(0, 3).join(' ')} reached ${names.size} of ${hostCount} hosts (status ${status}):\n${stderr.slice(0, 2000)}\n${stdout.slice(0, 2000)}`,
    );
  return { wallMs, peakMb: peak / 1024, stdout };
}

console.log(machineLine());
console.log(
  `load before: ${loadavg()
    .map((value) => value.toFixed(2))
    .join(' ')}`,
);
const ansibleVersion = execFileSync('ansible', ['--version'], { encoding: 'utf8' }).split('\n')[0];
console.log(`${ansibleVersion}; ${spawnSync('ssh', ['-V'], { encoding: 'utf8' }).stderr.trim()}`);

const dir = mkdtempSync(join(tmpdir(), 'wt-targets-fleet-bench-'));
const clientKey = join(dir, 'client_key');
execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', clientKey]);
const servers: SshdServer[] = [];
try {
  for (let index = 0; index < hostCount; index++) {
    servers.push(
      await startSshd({
        address: `127.0.14.${101 + index}`,
        port: 47550,
        hostname: `bench-h${String(index + 1).padStart(2, '0')}`,
        clientKeyFile: clientKey,
        dirPrefix: 'wt-targets-bench-sshd-',
      }),
    );
  }
  const knownHosts = join(dir, 'known_hosts');
  writeFileSync(knownHosts, `${servers.map((server) => server.knownHostsLine).join('\n')}\n`);
  const user = servers[0]!.user;
  const inventory = join(dir, 'hosts.ini');
  writeFileSync(
    inventory,
    [
      '[web]',
      ...servers.map((server, index) => `h${String(index + 1).padStart(2, '0')} ansible_host=${server.host}`),
      '',
      '[all:vars]',
      'ansible_port=47550',
      `ansible_user=${user}`,
      `ansible_ssh_private_key_file=${clientKey}`,
      `ansible_ssh_common_args='-o UserKnownHostsFile=${knownHosts} -o StrictHostKeyChecking=yes'`,
      'ansible_python_interpreter=/usr/bin/python3',
      '',
    ].join('\n'),
  );
  const baseEnv: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    LANG: 'C.UTF-8',
    NO_COLOR: '1',
  };
  const opsmateHome = join(dir, 'opsmate-home');
  const ansibleCp = join(dir, 'ansible-cp');
  const loopCp = join(dir, 'loop-cp');
  const loopScript = join(dir, 'loop.sh');
  writeFileSync(
    loopScript,
    [
      '#!/bin/bash',
      '# Sequential: one host after the other. $1: extra ssh options (ControlMaster for warm runs).',
      `for host in ${servers.map((server) => server.host).join(' ')}; do`,
      `  ssh $1 -i ${clientKey} -p 47550 -o UserKnownHostsFile=${knownHosts} -o StrictHostKeyChecking=yes -o BatchMode=yes ${user}@$host '${COMMAND}'`,
      'done',
      '',
    ].join('\n'),
    { mode: 0o755 },
  );
  const tools = {
    opsmate: {
      argv: [
        process.execPath,
        CLI,
        'exec',
        '--inventory',
        inventory,
        '-t',
        'all',
        '--runtime-ssh-known-hosts-file',
        knownHosts,
        '--runtime-ssh-known-hosts-policy',
        'strict',
        '--',
        COMMAND,
      ],
      env: { ...baseEnv, OPSMATE_HOME: opsmateHome },
      reset: () => rmSync(opsmateHome, { recursive: true, force: true }),
    },
    ansible: {
      argv: ['ansible', 'all', '-i', inventory, '-m', 'shell', '-a', COMMAND, '-f', '10'],
      env: {
        ...baseEnv,
        ANSIBLE_SSH_CONTROL_PATH_DIR: ansibleCp,
        ANSIBLE_HOST_KEY_CHECKING: 'True',
        ANSIBLE_LOCAL_TEMP: join(dir, 'ansible-tmp'),
        ANSIBLE_NOCOLOR: '1',
      },
      reset: () => rmSync(ansibleCp, { recursive: true, force: true }),
    },
    'ssh loop': {
      argv: ['bash', loopScript, `-o ControlMaster=auto -o ControlPath=${loopCp}/%C -o ControlPersist=60`],
      env: baseEnv,
      reset: () => {
        rmSync(loopCp, { recursive: true, force: true });
        mkdirSync(loopCp);
      },
    },
  } as const;
  type Tool = keyof typeof tools;
  const results = new Map<string, Measured[]>();
  const record = (key: string, value: Measured): void => {
    results.set(key, [...(results.get(key) ?? []), value]);
  };
  const leftovers: string[] = [];
  for (let round = 1; round <= rounds; round++) {
    for (const name of Object.keys(tools) as Tool[]) {
      const tool = tools[name];
      // Cold: the masters of this tool's earlier runs are gone.
      for (const tag of leftovers.splice(0)) killTagged(tag);
      tool.reset();
      const coldTag = randomUUID();
      leftovers.push(coldTag);
      record(`${name} cold`, await measure([...tool.argv], tool.env, coldTag));
      const warmTag = randomUUID();
      leftovers.push(warmTag);
      record(`${name} warm`, await measure([...tool.argv], tool.env, warmTag));
    }
    console.log(`round ${round}/${rounds} done (load ${loadavg()[0]!.toFixed(2)})`);
  }
  for (const tag of leftovers) killTagged(tag);
  console.log(
    `\n${hostCount} hosts, parallelism 10, ${rounds} interleaved rounds; medians (wall time, peak PSS of all processes of the run)`,
  );
  console.log(`${'run'.padEnd(16)} ${'wall s'.padStart(8)} ${'peak MB'.padStart(8)}   all rounds (s)`);
  for (const [key, values] of results) {
    const walls = values.map((value) => value.wallMs / 1000);
    console.log(
      `${key.padEnd(16)} ${median(walls).toFixed(2).padStart(8)} ${median(values.map((value) => value.peakMb))
        .toFixed(0)
        .padStart(8)}   ${walls.map((wall) => wall.toFixed(2)).join(' ')}`,
    );
  }
  const wall = (key: string): number => median(results.get(key)!.map((value) => value.wallMs));
  for (const mode of ['cold', 'warm']) {
    console.log(
      `${mode}: ansible / opsmate = ${(wall(`ansible ${mode}`) / wall(`opsmate ${mode}`)).toFixed(2)}x, ssh loop / opsmate = ${(wall(`ssh loop ${mode}`) / wall(`opsmate ${mode}`)).toFixed(2)}x`,
    );
  }
  const opsmatePeak = Math.max(
    ...[...results.get('opsmate cold')!, ...results.get('opsmate warm')!].map((value) => value.peakMb),
  );
  console.log(
    `opsmate peak memory, highest of all runs: ${opsmatePeak.toFixed(0)} MB (target < ${PEAK_MEMORY_TARGET_MB} MB)`,
  );
  console.log(
    `load after: ${loadavg()
      .map((value) => value.toFixed(2))
      .join(' ')}`,
  );
} finally {
  await Promise.all(servers.map((server) => server.stop()));
  rmSync(dir, { recursive: true, force: true });
}
