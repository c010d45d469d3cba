// End-to-end, on every transport (local, docker with bash and busybox sh, ssh to a loopback sshd,
// k8s through the STAND-IN kubectl of test-support/bin, which maps kubectl exec onto docker exec):
// - opsmate's API keys reach no process it starts: the shell, the transport (`docker exec`,
//   `kubectl`, `ssh`), the side channel that stops a timed-out command, the checks before;
// - SIGTERM to opsmate stops the running command on the target and is recorded.
// Every docker, ssh and kubectl that opsmate starts goes through a wrapper on PATH that saves its
// environment (/proc/self/environ as exec'd) and then execs the real program.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { co } from '../../src/process/child-process.js';
import { processAlive } from '../../src/process/file-lock.js';
import { readAuditCommands } from '../../src/safety/verify-audit-log.js';
import {
  busyboxImageMissingReason,
  debianImageMissingReason,
  ensureBusyboxImage,
  ensureDebianImage,
  removeContainers,
  startSleepingContainer,
  uniqueContainerName,
} from '../../test-support/docker-images.js';
import { integrationSkip } from '../../test-support/integration.js';
import { startCliIsolated } from '../../test-support/run-cli.js';
import {
  sshdMissingReason,
  sshRuntimeFlags,
  startSshd,
  type SshdServer,
} from '../../test-support/sshd-server.js';

const OWN_KEY = 'sk-wtaudit-own-key-0123456789abcdef';
const OTHER_KEY = 'sk-ant-wtaudit-key-0123456789abcdef';
const STAND_IN_KUBECTL = new URL('../../test-support/bin/kubectl', import.meta.url).pathname;
const scratch = mkdtempSync(join(tmpdir(), 'opsmate-wt-audit-transports-'));
const wrapperBin = join(scratch, 'bin');
const envLog = join(scratch, 'env-log');
mkdirSync(wrapperBin);
mkdirSync(envLog);

function which(program: string): string | undefined {
  const found = spawnSync('sh', ['-c', `command -v ${program}`], { encoding: 'utf8' }).stdout.trim();
  return found === '' ? undefined : found;
}

/** A wrapper that records the environment it was started with, then runs `real`. */
function writeWrapper(name: string, real: string | undefined): void {
  if (!real) return;
  writeFileSync(
    join(wrapperBin, name),
    `#!/bin/sh\ntr '\\0' '\\n' </proc/$$/environ >"${envLog}/${name}.$$"\nexec ${real} "$@"\n`,
  );
  chmodSync(join(wrapperBin, name), 0o755);
}
writeWrapper('docker', which('docker'));
writeWrapper('ssh', which('ssh'));
writeWrapper('kubectl', STAND_IN_KUBECTL);

const dockerSkip = integrationSkip('docker', debianImageMissingReason());
const busyboxSkip = integrationSkip('docker (busybox)', busyboxImageMissingReason());
const sshSkip = integrationSkip('sshd', sshdMissingReason());
const containers: string[] = [];
const server: SshdServer | undefined = sshSkip ? undefined : await startSshd();
const debian = dockerSkip
  ? undefined
  : await startSleepingContainer({
      image: await ensureDebianImage(),
      name: uniqueContainerName('wt-audit-env'),
    });
const busybox = busyboxSkip
  ? undefined
  : await startSleepingContainer({
      image: await ensureBusyboxImage(),
      name: uniqueContainerName('wt-audit-bb'),
    });
const pod = busyboxSkip ? undefined : await startPod();
for (const name of [debian, busybox, pod]) if (name) containers.push(name);
after(async () => {
  await removeContainers(containers);
  await server?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

/** A busybox "pod" for the stand-in kubectl: a container named like the pod, in namespace team-a. */
async function startPod(): Promise<string> {
  const name = uniqueContainerName('wt-audit-pod');
  const run = await co(
    [
      'docker',
      'run',
      '-d',
      '--init',
      '--name',
      name,
      '--label',
      'opsmate.test/namespace=team-a',
      await ensureBusyboxImage(),
      'sleep',
      '86400',
    ],
    { timeoutMs: 60_000 },
  );
  if (run.exitCode !== 0) throw new Error(`docker run failed: ${run.stderr}`);
  return name;
}

interface Transport {
  name: string;
  skip: string | false;
  args: () => string[];
  /** Programs whose starts must all have been recorded by a wrapper. */
  wrapped: string[];
  /** Whether a process of the command is still alive on the target. */
  alive: (pid: number) => Promise<boolean>;
}

const inContainer = (container: string | undefined) => async (pid: number) =>
  (await co(['docker', 'exec', container ?? 'none', 'kill', '-0', String(pid)], { timeoutMs: 15_000 }))
    .exitCode === 0;

const TRANSPORTS: Transport[] = [
  {
    name: 'local',
    skip: false,
    args: () => [],
    wrapped: [],
    alive: (pid) => Promise.resolve(processAlive(pid)),
  },
  {
    name: 'docker (bash)',
    skip: dockerSkip,
    args: () => ['--shell-command-runtime', 'docker', '--runtime-docker-container-name', debian!],
    wrapped: ['docker'],
    alive: inContainer(debian),
  },
  {
    name: 'docker (busybox sh)',
    skip: busyboxSkip,
    args: () => ['--shell-command-runtime', 'docker', '--runtime-docker-container-name', busybox!],
    wrapped: ['docker'],
    alive: inContainer(busybox),
  },
  {
    name: 'ssh',
    skip: sshSkip,
    args: () => sshRuntimeFlags(server!),
    wrapped: ['ssh'],
    // The loopback sshd runs the commands on this machine.
    alive: (pid) => Promise.resolve(processAlive(pid)),
  },
  {
    name: 'k8s (stand-in kubectl)',
    skip: busyboxSkip,
    args: () => [
      '--shell-command-runtime',
      'k8s',
      '--runtime-k8s-pod',
      pod!,
      '--runtime-k8s-namespace',
      'team-a',
    ],
    wrapped: ['kubectl', 'docker'],
    alive: inContainer(pod),
  },
];

/** Pids of every live descendant of `root`, from /proc. */
function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // exited meanwhile
    }
  }
  const found: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    for (const child of children.get(queue.shift()!) ?? []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

function environOf(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/environ`, 'utf8');
  } catch {
    return undefined;
  }
}

function clearEnvLog(): void {
  for (const file of readdirSync(envLog)) rmSync(join(envLog, file));
}

for (const transport of TRANSPORTS) {
  describe(`safety of the processes opsmate starts: ${transport.name}`, { skip: transport.skip }, () => {
    it('gives none of them its API keys: transport, shell, side channel, checks', async () => {
      clearEnvLog();
      const cli = startCliIsolated({
        args: ['exec', '--timeout', '4', ...transport.args(), '--', 'echo ready; sleep 30'],
        env: {
          PATH: `${wrapperBin}${delimiter}${process.env.PATH ?? ''}`,
          OPENAI_API_KEY: OWN_KEY,
          ANTHROPIC_API_KEY: OTHER_KEY,
        },
      });
      await cli.waitForOutput(/ready\n/);
      // While the command runs: the transport process and everything under opsmate.
      const running = descendants(cli.pid);
      assert.ok(running.length > 0, 'opsmate has no child process');
      assert.match(environOf(cli.pid) ?? '', new RegExp(OWN_KEY), 'the test did not give opsmate the key');
      for (const pid of running) {
        const environ = environOf(pid);
        if (environ === undefined) continue;
        assert.equal(environ.includes(OWN_KEY) || environ.includes(OTHER_KEY), false, `pid ${pid} has a key`);
      }
      const result = await cli.done;
      assert.equal(result.exitCode, 124, result.stderr);
      // Every docker/ssh/kubectl started, short-lived ones included (the timeout's side channel).
      const logs = readdirSync(envLog);
      for (const program of transport.wrapped) {
        assert.ok(
          logs.some((file) => file.startsWith(`${program}.`)),
          `no ${program} was started through the wrapper`,
        );
      }
      if (transport.wrapped.length > 0) assert.ok(logs.length >= 2, `only ${logs.join(', ')} started`);
      for (const file of logs) {
        const environ = readFileSync(join(envLog, file), 'utf8');
        assert.equal(environ.includes(OWN_KEY) || environ.includes(OTHER_KEY), false, `${file} had a key`);
        assert.match(environ, /^PATH=/m);
      }
    });

    it('stops the command on the target when opsmate gets SIGTERM, and records that', async () => {
      const home = mkdtempSync(join(scratch, 'home-'));
      const command = 'sleep 30 & echo "pid=$!"; wait';
      const cli = startCliIsolated({
        home,
        args: ['exec', ...transport.args(), '--', command],
        env: { PATH: `${wrapperBin}${delimiter}${process.env.PATH ?? ''}` },
      });
      const [, pid] = await cli.waitForOutput(/pid=(\d+)\n/);
      cli.kill('SIGTERM');
      const result = await cli.done;
      assert.equal(result.exitCode, 143, result.stderr);
      let stillThere = true;
      for (let attempt = 0; attempt < 50 && stillThere; attempt++) {
        stillThere = await transport.alive(Number(pid));
        if (stillThere) await sleep(100);
      }
      assert.equal(stillThere, false, `the command (pid ${pid}) is still running on the target`);
      const [entry] = readAuditCommands(join(home, '.opsmate', 'audit.jsonl'));
      assert.equal(entry!.finished, true);
      assert.equal(entry!.cancelled, true);
      assert.equal(entry!.signal, 'SIGTERM');
    });
  });
}
