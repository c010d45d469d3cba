// Named targets, URIs and fleets through the built CLI, on real runtimes: local, sshd on loopback,
// Docker, Docker Compose (v1, the one Debian ships), and k8s through a STAND-IN kubectl
// (test-support/bin/kubectl maps kubectl exec onto a local container named like the pod: no
// Kubernetes cluster runs here).
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  BUSYBOX_IMAGE,
  busyboxImageMissingReason,
  ensureBusyboxImage,
  removeContainers,
  startSleepingContainer,
  uniqueContainerName,
} from '../../test-support/docker-images.js';
import { integrationSkip } from '../../test-support/integration.js';
import { auditLines, cliIn, cliWorkspace } from '../../test-support/cli-workspace.js';
import { sshdMissingReason, startSshd, type SshdServer } from '../../test-support/sshd-server.js';

const STAND_IN_BIN = new URL('../../test-support/bin', import.meta.url).pathname;
/** This worktree's own loopback range and port (each server has its own address). */
const FLEET_PREFIX = '127.0.14';
const FLEET_PORT = 47510;

const workspace = (config: string) => cliWorkspace(config, 'wt-targets-e2e-');
const auditOf = auditLines;
const cli = cliIn;

describe('named targets and URIs: local', () => {
  it('a named target and local:// run where they say, and the audit names the target', async () => {
    const where = workspace('targets:\n  scratch: { runtime: local, cwd: /usr }\n');
    const named = await cli(where, ['exec', '-t', 'scratch', '--', 'pwd']);
    assert.equal(named.exitCode, 0, named.stderr);
    assert.equal(named.stdout, '/usr\n');
    const uri = await cli(where, ['exec', '-t', 'local:///etc', '--', 'pwd']);
    assert.equal(uri.stdout, '/etc\n');
    const started = auditOf(where.opsmateHome).filter((record) => record.type === 'started');
    assert.equal(started[0]?.target?.target, 'scratch');
    // A URI names itself through the runtime's facts; it has no name of its own.
    assert.equal(started[1]?.target?.target, undefined);
    const listed = await cli(where, ['list-targets', '-o', 'json']);
    const parsed = JSON.parse(listed.stdout) as { targets: Array<{ name: string; runtime: string }> };
    assert.deepEqual(
      parsed.targets.map((target) => [target.name, target.runtime]),
      [['scratch', 'local']],
    );
  });

  it('an unknown name, a bad field and an unknown scheme: one error line, one hint, exit 2, nothing run', async () => {
    const where = workspace('targets:\n  web-1:\n    runtime: ssh\n    host: db\n    port: http\n');
    for (const [args, message] of [
      [
        ['exec', '-t', 'web1', '--', 'true'],
        /^opsmate: error: target pattern "web1": web1 matches no target or group\nopsmate: hint: did you mean web-1\?/,
      ],
      [
        ['exec', '-t', 'web-1', '--', 'true'],
        /^opsmate: error: .*config\.yaml:5: targets\.web-1\.port "http" is not valid/,
      ],
      [
        ['exec', '-t', 'sssh://x', '--', 'true'],
        /^opsmate: error: target sssh:\/\/x: no runtime takes sssh:\/\/ URIs\nopsmate: hint: did you mean ssh:\/\/\?/,
      ],
    ] as const) {
      const run = await cli(where, [...args]);
      assert.equal(run.exitCode, 2, run.stderr);
      assert.match(run.stderr, message);
      assert.equal(run.stderr.trimEnd().split('\n').length, 2, run.stderr);
    }
  });
});

describe('policy check -t: one decision per target, each with its own rules', () => {
  it('a group is checked target by target; a single target names itself; nothing runs', async () => {
    const where = workspace(
      'targets:\n  prod-db: { runtime: local, cwd: /var }\n  dev-1: { runtime: local }\n  both: { targets: [prod-db, dev-1] }\n',
    );
    const policyFile = join(where.home, 'policy.yaml');
    writeFileSync(
      policyFile,
      'rules:\n  - name: prod-no-restart\n    action: deny\n    target: { target: "prod-*" }\n    commands: ["systemctl restart"]\n    reason: prod restarts go through the change board\n',
    );
    const args = ['policy', 'check', '--policy-file', policyFile, '--policy-profile', 'ask-destructive'];
    const group = await cli(where, [...args, '-t', 'both', '-o', 'json', '--', 'systemctl restart nginx']);
    assert.equal(group.exitCode, 0, group.stderr);
    const parsed = JSON.parse(group.stdout) as {
      targets: Array<{ target: string; action: string; rule: string }>;
    };
    assert.deepEqual(
      parsed.targets.map((decision) => [
        decision.target,
        decision.action,
        decision.rule.endsWith(' prod-no-restart'),
      ]),
      [
        ['prod-db', 'deny', true],
        ['dev-1', parsed.targets[1]!.action, false],
      ],
    );
    assert.notEqual(parsed.targets[1]!.action, 'deny');
    const text = await cli(where, [...args, '-t', 'both', '--', 'systemctl restart nginx']);
    assert.match(text.stdout, /^target prod-db\n {2}deny\n {2}profile: ask-destructive\n/);
    assert.match(text.stdout, /\ntarget dev-1\n {2}(ask|allow)\n/);
    const single = await cli(where, [...args, '-t', 'prod-db', '--', 'systemctl restart nginx']);
    assert.match(
      single.stdout,
      /^deny\nprofile: ask-destructive\ntarget: prod-db\nrule: .*#1 prod-no-restart\n/,
    );
    const unknown = await cli(where, [...args, '-t', 'prod', '--', 'true']);
    assert.equal(unknown.exitCode, 2);
    assert.match(unknown.stderr, /^opsmate: error: target pattern "prod": prod matches no target or group/);
  });
});

describe('named targets and URIs: ssh', { skip: integrationSkip('sshd', sshdMissingReason()) }, () => {
  let server: SshdServer;
  before(async () => {
    server = await startSshd({ dirPrefix: 'wt-targets-sshd-' });
  });
  after(async () => await server?.stop());

  it('ssh://user@host:port and a named ssh target reach the server', async () => {
    const where = workspace(
      `targets:\n  box:\n    runtime: ssh\n    host: ${server.host}\n    port: ${server.port}\n    username: ${server.user}\n    keyFile: ${server.keyFile}\n    knownHostsFile: ${server.knownHostsFile}\n    knownHostsPolicy: strict\n`,
    );
    const named = await cli(where, ['exec', '-t', 'box', '--', 'echo over-ssh $((6*7))']);
    assert.equal(named.exitCode, 0, named.stderr);
    assert.equal(named.stdout, 'over-ssh 42\n');
    const uri = await cli(where, [
      'exec',
      '-t',
      `ssh://${server.user}@${server.host}:${server.port}`,
      '--runtime-ssh-key-file',
      server.keyFile,
      '--runtime-ssh-known-hosts-file',
      server.knownHostsFile,
      '--runtime-ssh-known-hosts-policy',
      'strict',
      '--',
      'echo uri $SSH_CONNECTION',
    ]);
    assert.equal(uri.exitCode, 0, uri.stderr);
    assert.match(uri.stdout, new RegExp(`^uri .* ${server.port}\\n$`));
    const started = auditOf(where.opsmateHome).filter((record) => record.type === 'started');
    assert.deepEqual(
      started.map((record) => [record.target?.target, record.target?.host]),
      [
        ['box', server.host],
        [undefined, server.host],
      ],
    );
  });
});

const dockerSkip = integrationSkip('dockerd', busyboxImageMissingReason());

describe('named targets and URIs: docker, compose, k8s (stand-in kubectl)', { skip: dockerSkip }, () => {
  const containers: string[] = [];
  let composeDir = '';
  let composeReady = false;
  before(async () => {
    const image = await ensureBusyboxImage();
    containers.push(await startSleepingContainer({ image, name: uniqueContainerName('wt-targets-box') }));
    containers.push(
      await startSleepingContainer({
        image,
        name: uniqueContainerName('wt-targets-pod'),
        labels: { 'opsmate.test/namespace': 'team-t', 'opsmate.test/containers': 'app' },
      }),
    );
    composeDir = mkdtempSync(join(tmpdir(), 'wt-targets-compose-'));
    writeFileSync(
      join(composeDir, 'docker-compose.yml'),
      `version: "3"\nservices:\n  tiny:\n    image: ${BUSYBOX_IMAGE}\n    command: ["sleep", "86400"]\n    init: true\n    environment:\n      ROLE: compose-tiny\n`,
    );
    const up = spawnSync('docker-compose', ['up', '-d'], {
      cwd: composeDir,
      encoding: 'utf8',
      timeout: 120_000,
    });
    composeReady = up.status === 0;
  });
  after(async () => {
    await removeContainers(containers);
    if (composeDir) {
      spawnSync('docker-compose', ['down', '-v', '-t', '1'], { cwd: composeDir, timeout: 120_000 });
      rmSync(composeDir, { recursive: true, force: true });
    }
  });

  it('docker://container and a named docker target run in the container (busybox sh)', async () => {
    const where = workspace(`targets:\n  box: { runtime: docker, containerName: ${containers[0]} }\n`);
    const named = await cli(where, ['exec', '-t', 'box', '--', 'cat /etc/hostname; echo $0']);
    assert.equal(named.exitCode, 0, named.stderr);
    assert.match(named.stdout, /\/bin\/sh\n$/);
    const uri = await cli(where, ['exec', '-t', `docker://${containers[0]}`, '--', 'echo in-$((1+1))']);
    assert.equal(uri.stdout, 'in-2\n');
    assert.equal(
      auditOf(where.opsmateHome).find((record) => record.type === 'started')?.target?.target,
      'box',
    );
  });

  it('compose://file#service runs in the service', async (t) => {
    if (!composeReady) return t.skip('docker-compose up failed here');
    const where = workspace('');
    const run = await cli(where, [
      'exec',
      '-t',
      `compose://${join(composeDir, 'docker-compose.yml')}#tiny`,
      '--',
      'echo $ROLE',
    ]);
    assert.equal(run.exitCode, 0, run.stderr);
    assert.equal(run.stdout, 'compose-tiny\n');
  });

  it('k8s://namespace/pod/container and a named k8s target, through the stand-in kubectl', async () => {
    const env = { PATH: `${STAND_IN_BIN}${delimiter}${process.env.PATH ?? ''}` };
    const where = workspace(`targets:\n  api: { runtime: k8s, namespace: team-t, pod: ${containers[1]} }\n`);
    const named = await cli(where, ['exec', '-t', 'api', '--', 'echo pod-ok'], env);
    assert.equal(named.exitCode, 0, named.stderr);
    assert.equal(named.stdout, 'pod-ok\n');
    const uri = await cli(
      where,
      ['exec', '-t', `k8s://team-t/${containers[1]}/app`, '--', 'echo uri-ok'],
      env,
    );
    assert.equal(uri.exitCode, 0, uri.stderr);
    assert.equal(uri.stdout, 'uri-ok\n');
    const wrongNamespace = await cli(where, ['exec', '-t', `k8s://nope/${containers[1]}`, '--', 'true'], env);
    assert.notEqual(wrongNamespace.exitCode, 0);
  });
});

/** Loopback servers are ours: the range must be routable here (127.0.0.0/8 always is on Linux). */
function fleetMissingReason(): string | undefined {
  return sshdMissingReason();
}

describe('a fleet over real sshd targets', { skip: integrationSkip('sshd', fleetMissingReason()) }, () => {
  const servers: SshdServer[] = [];
  let dir = '';
  let inventory = '';
  let knownHosts = '';
  const REACHABLE = 11;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wt-targets-fleet-'));
    const clientKey = join(dir, 'client_key');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', clientKey]);
    knownHosts = join(dir, 'known_hosts');
    for (let index = 0; index < REACHABLE; index++) {
      // Two servers differ: their sessions get another ROLE, as a misconfigured pair would.
      const role = index === 3 || index === 8 ? 'canary' : 'web';
      servers.push(
        await startSshd({
          address: `${FLEET_PREFIX}.${10 + index}`,
          port: FLEET_PORT,
          clientKeyFile: clientKey,
          dirPrefix: 'wt-targets-sshd-',
          extraConfig: [`SetEnv FLEET_ROLE=${role}`],
        }),
      );
    }
    const user = servers[0]!.user;
    const lines = ['[web]'];
    servers.forEach((server, index) =>
      lines.push(`web${String(index + 1).padStart(2, '0')} ansible_host=${server.host}`),
    );
    // Nothing listens here: unreachable, and it must not stop the others.
    lines.push(`web12 ansible_host=${FLEET_PREFIX}.${10 + REACHABLE}`);
    lines.push(
      '',
      '[canary]',
      'web04',
      'web09',
      '',
      '[all:vars]',
      `ansible_port=${FLEET_PORT}`,
      `ansible_user=${user}`,
      `ansible_ssh_private_key_file=${clientKey}`,
      '',
    );
    inventory = join(dir, 'hosts.ini');
    writeFileSync(inventory, lines.join('\n'));
  });
  after(async () => {
    await Promise.all(servers.map((server) => server.stop()));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const fleetArgs = (): string[] => [
    '--inventory',
    inventory,
    '--runtime-ssh-known-hosts-file',
    knownHosts,
    '--runtime-ssh-connect-retries',
    '0',
    '--runtime-ssh-timeout',
    '5',
  ];

  it('groups identical results, the odd ones first, the unreachable one apart; exits 1; one audit record per target', async () => {
    const where = workspace('');
    const text = await cli(where, ['exec', '-t', 'all', ...fleetArgs(), '--', 'echo role=$FLEET_ROLE']);
    assert.equal(text.exitCode, 1, text.stderr);
    const headers = text.stdout.split('\n').filter((line) => !line.startsWith(' '));
    assert.deepEqual(headers.slice(0, 3), [
      'exit 0 (2 targets: web04, web09)',
      'exit 0 (9 targets: web01, web02, web03, web05, web06, web07, web08, web10, web11)',
      'unreachable (1 target: web12)',
    ]);
    assert.match(text.stdout, /exit 0 \(2 targets: web04, web09\)\n {2}role=canary\n/);
    assert.match(text.stdout, /web11\)\n {2}role=web\n/);
    assert.match(text.stdout, /12 targets: 11 ok, 1 unreachable in /);

    const json = await cli(where, [
      'exec',
      '-t',
      'all',
      ...fleetArgs(),
      '-o',
      'json',
      '--',
      'echo role=$FLEET_ROLE',
    ]);
    const parsed = JSON.parse(json.stdout) as {
      results: Array<{ target: string; status: string; stdout: string }>;
      groups: Array<{ status: string; count: number; targets: string[] }>;
    };
    assert.equal(parsed.results.length, 12);
    assert.deepEqual(
      parsed.results
        .map((result) => [result.target, result.status, result.stdout])
        .filter(([, status]) => status !== 'ok'),
      [['web12', 'unreachable', '']],
    );
    assert.deepEqual(
      parsed.groups.map((group) => group.count),
      [2, 9, 1],
    );
    const started = auditOf(where.opsmateHome).filter((record) => record.type === 'started');
    // The unreachable target never got a command to record; every other target one each run.
    assert.deepEqual(
      [...new Set(started.map((record) => record.target?.target))].sort(),
      servers.map((_, index) => `web${String(index + 1).padStart(2, '0')}`),
    );
    assert.equal(started.length, 22);
    assert.equal(
      new Set(started.slice(0, 11).map((record) => record.sessionId)).size,
      1,
      'one session per fan-out',
    );
  });

  it('patterns pick part of the inventory: web:&canary, all:!canary', async () => {
    const where = workspace('');
    const both = await cli(where, [
      'exec',
      '-t',
      'web:&canary',
      ...fleetArgs(),
      '-o',
      'json',
      '--',
      'echo $FLEET_ROLE',
    ]);
    assert.equal(both.exitCode, 0, both.stderr);
    const picked = JSON.parse(both.stdout) as { results: Array<{ target: string; stdout: string }> };
    assert.deepEqual(
      picked.results.map((result) => [result.target, result.stdout]),
      [
        ['web04', 'canary\n'],
        ['web09', 'canary\n'],
      ],
    );
    const rest = await cli(where, [
      'exec',
      '-t',
      'all:!canary:!web12',
      ...fleetArgs(),
      '-o',
      'json',
      '--',
      'echo $FLEET_ROLE',
    ]);
    assert.equal(rest.exitCode, 0, rest.stderr);
    const others = JSON.parse(rest.stdout) as { groups: Array<{ count: number }> };
    assert.deepEqual(
      others.groups.map((group) => group.count),
      [9],
    );
  });

  it('read-only, no terminal: a write on the fan-out is not run anywhere (126), a read runs everywhere', async () => {
    const where = workspace('');
    const marker = join(dir, 'written-by-fleet');
    const write = await cli(where, [
      'exec',
      '-t',
      'web:!web12',
      '--policy-profile',
      'read-only',
      ...fleetArgs(),
      '--',
      `touch ${marker}`,
    ]);
    assert.equal(write.exitCode, 126, write.stderr + write.stdout);
    assert.match(write.stdout, /^not run \(11 targets: web01,/m);
    assert.throws(() => readFileSync(marker), /ENOENT/);
    const records = auditOf(where.opsmateHome);
    assert.equal(records.filter((record) => record.type === 'started').length, 0);
    const refused = records.filter((record) => record.type === 'refused');
    // One record per target, naming it: each was judged for its own target.
    assert.deepEqual(
      refused.map((record) => record.target?.target).sort(),
      servers.map((_, index) => `web${String(index + 1).padStart(2, '0')}`),
    );
    const read = await cli(where, [
      'exec',
      '-t',
      'web:!web12',
      '--policy-profile',
      'read-only',
      ...fleetArgs(),
      '--',
      'cat /etc/hostname',
    ]);
    assert.equal(read.exitCode, 0, read.stderr);
    assert.match(read.stdout, /^exit 0 \(11 targets: /m);
  });
});
