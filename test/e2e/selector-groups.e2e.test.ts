// Selector groups through the built CLI, on real runtimes: running Docker containers found by
// label, pods found by a label selector through a STAND-IN kubectl (test-support/bin/kubectl maps
// `kubectl get pods --selector` onto the labels of local containers: no Kubernetes cluster runs
// here), and the Host aliases of an ssh config file, each a real sshd on loopback.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
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
const SSH_PREFIX = '127.0.16';
const SSH_PORT = 47610;
/** Labels every container of this run carries, so containers of other runs are never found. */
const RUN = `run-${process.pid}`;

interface FleetJson {
  results: Array<{ target: string; status: string; stdout: string }>;
}

const workspace = (config: string) => cliWorkspace(config, 'wt-fleet-sel-e2e-');
const cli = cliIn;

function startedTargets(opsmateHome: string): string[] {
  return auditLines(opsmateHome)
    .filter((record) => record.type === 'started')
    .map((record) => record.target?.target ?? '')
    .sort();
}

const dockerSkip = integrationSkip('docker', busyboxImageMissingReason());

describe(
  'selector groups: docker labels and k8s label selectors (stand-in kubectl)',
  { skip: dockerSkip },
  () => {
    const names: Record<'web1' | 'web2' | 'db', string> = { web1: '', web2: '', db: '' };
    const env = { PATH: `${STAND_IN_BIN}${delimiter}${process.env.PATH ?? ''}` };
    before(async () => {
      const image = await ensureBusyboxImage();
      const labels = (app: string, tier: string) => ({
        'opsmate.test/sel': RUN,
        'opsmate.test/namespace': 'team-sel',
        app,
        tier,
      });
      names.web1 = await startSleepingContainer({
        image,
        name: uniqueContainerName('wt-fleet-web1'),
        labels: labels('web', 'front'),
      });
      names.web2 = await startSleepingContainer({
        image,
        name: uniqueContainerName('wt-fleet-web2'),
        labels: labels('web', 'canary'),
      });
      names.db = await startSleepingContainer({
        image,
        name: uniqueContainerName('wt-fleet-db'),
        labels: labels('db', 'back'),
      });
    });
    after(async () => {
      await removeContainers(Object.values(names).filter((name) => name !== ''));
    });

    const config = () =>
      [
        'targets:',
        `  web: { runtime: docker, selector: "opsmate.test/sel=${RUN},app=web" }`,
        `  front: { runtime: docker, selector: "opsmate.test/sel=${RUN},tier=front" }`,
        `  none: { runtime: docker, selector: "opsmate.test/sel=${RUN},app=nothing" }`,
        `  pods: { runtime: k8s, namespace: team-sel, selector: "opsmate.test/sel=${RUN},tier!=canary" }`,
        `  elsewhere: { runtime: k8s, namespace: other-ns, selector: "opsmate.test/sel=${RUN}" }`,
        '',
      ].join('\n');

    it('-t GROUP runs on the running containers with the labels, and only those; each audited by name', async () => {
      const where = workspace(config());
      const run = await cli(where, [
        'exec',
        '-t',
        'web',
        '-o',
        'json',
        '--',
        'cat /etc/hostname >/dev/null && echo in-box',
      ]);
      assert.equal(run.exitCode, 0, run.stderr);
      const parsed = JSON.parse(run.stdout) as FleetJson;
      assert.deepEqual(
        parsed.results.map((result) => [result.target, result.status, result.stdout]).sort(),
        [names.web1, names.web2].sort().map((name) => [name, 'ok', 'in-box\n']),
      );
      assert.deepEqual(startedTargets(where.opsmateHome), [names.web1, names.web2].sort());
    });

    it('patterns over selector groups intersect on the same containers: web:&front', async () => {
      const where = workspace(config());
      const run = await cli(where, ['exec', '-t', 'web:&front', '-o', 'json', '--', 'echo one']);
      assert.equal(run.exitCode, 0, run.stderr);
      assert.deepEqual(
        (JSON.parse(run.stdout) as FleetJson).results.map((result) => result.target),
        [names.web1],
      );
    });

    it('a k8s label selector picks the running pods of its namespace, != included', async () => {
      const where = workspace(config());
      const run = await cli(where, ['exec', '-t', 'pods', '-o', 'json', '--', 'echo pod'], env);
      assert.equal(run.exitCode, 0, run.stderr);
      assert.deepEqual(
        (JSON.parse(run.stdout) as FleetJson).results.map((result) => [result.target, result.stdout]).sort(),
        [names.db, names.web1].sort().map((name) => [name, 'pod\n']),
      );
    });

    it('a selector that finds nothing runs nothing anywhere, locally neither: one error, one hint, exit 2', async () => {
      const where = workspace(config());
      const marker = join(where.home, 'ran');
      for (const target of ['none', 'elsewhere']) {
        const run = await cli(where, ['exec', '-t', target, '--', `touch ${marker}`], env);
        assert.equal(run.exitCode, 2, run.stderr);
        assert.match(
          run.stderr,
          new RegExp(
            `^opsmate: error: -t ${target} selects no target \\(${target} found none\\)\\nopsmate: hint: `,
          ),
        );
        assert.equal(run.stderr.trimEnd().split('\n').length, 2, run.stderr);
      }
      assert.throws(() => readFileSync(marker), /ENOENT/);
    });

    it('a lookup that fails names the group and line; list-targets --discover shows what was found', async () => {
      const where = workspace(config());
      // No kubectl at all on PATH (this machine has a real one, which has no cluster to ask).
      const emptyBin = mkdtempSync(join(tmpdir(), 'wt-fleet-sel-nobin-'));
      const broken = await cli(where, ['exec', '-t', 'pods', '--', 'true'], { PATH: emptyBin });
      assert.equal(broken.exitCode, 2);
      assert.match(
        broken.stderr,
        /^opsmate: error: .*config\.yaml:5: targets\.pods: cannot find the targets of k8s selector ".*": kubectl is not installed/,
      );
      const lazy = await cli(where, ['list-targets'], env);
      assert.equal(lazy.exitCode, 0, lazy.stderr);
      assert.match(lazy.stdout, /web\s.*found when used/);
      const listed = await cli(where, ['list-targets', '--discover', '-o', 'json'], env);
      assert.equal(listed.exitCode, 0, listed.stderr);
      const parsed = JSON.parse(listed.stdout) as {
        targets: Array<{ name: string; runtime: string }>;
        groups: Array<{ name: string; members: string[]; found?: boolean }>;
      };
      const group = (name: string) => parsed.groups.find((entry) => entry.name === name);
      assert.deepEqual(group('web')?.members, [names.web1, names.web2].sort());
      assert.equal(group('web')?.found, true);
      assert.deepEqual(group('front')?.members, [names.web1]);
      // A container found as a docker target and as a pod is two targets: the pod is qualified.
      assert.deepEqual(group('pods')?.members, [names.db, `pods/${names.web1}`].sort());
    });
  },
);

describe(
  'selector groups: Host aliases of an ssh config file, on real sshd',
  { skip: integrationSkip('sshd', sshdMissingReason()) },
  () => {
    const servers: SshdServer[] = [];
    let dir = '';
    let configFile = '';
    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'wt-fleet-sel-ssh-'));
      const clientKey = join(dir, 'client_key');
      execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', clientKey]);
      for (const [index, role] of ['a', 'b', 'c'].entries())
        servers.push(
          await startSshd({
            address: `${SSH_PREFIX}.${10 + index}`,
            port: SSH_PORT,
            clientKeyFile: clientKey,
            dirPrefix: 'wt-fleet-sel-sshd-',
            extraConfig: [`SetEnv FLEET_ROLE=${role}`],
          }),
        );
      mkdirSync(join(dir, 'conf.d'));
      // web-c comes through an Include; the shared settings through a Host pattern.
      writeFileSync(join(dir, 'conf.d', 'c.conf'), `Host web-c\n  HostName ${servers[2]!.host}\n`);
      configFile = join(dir, 'ssh_config');
      writeFileSync(
        configFile,
        [
          `Include ${join(dir, 'conf.d')}/*.conf`,
          `Host web-a`,
          `  HostName ${servers[0]!.host}`,
          `Host web-b db-x`,
          `  HostName ${servers[1]!.host}`,
          `Host web-* db-*`,
          `  User ${servers[0]!.user}`,
          `  Port ${SSH_PORT}`,
          `  IdentityFile ${clientKey}`,
          `  IdentitiesOnly yes`,
          `  UserKnownHostsFile ${join(dir, 'known_hosts')}`,
          '',
        ].join('\n'),
      );
    });
    after(async () => {
      await Promise.all(servers.map((server) => server.stop()));
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('runs on every alias the patterns match, with the Host blocks ssh applies; ! excludes', async () => {
      const where = workspace(
        `targets:\n  webs: { runtime: ssh, selector: "web-* !web-b", configFile: ${configFile}, connectRetries: 0 }\n`,
      );
      const run = await cli(where, ['exec', '-t', 'webs', '-o', 'json', '--', 'echo role=$FLEET_ROLE']);
      assert.equal(run.exitCode, 0, run.stderr);
      assert.deepEqual(
        (JSON.parse(run.stdout) as FleetJson).results.map((result) => [
          result.target,
          result.status,
          result.stdout,
        ]),
        [
          ['web-c', 'ok', 'role=c\n'],
          ['web-a', 'ok', 'role=a\n'],
        ],
      );
      assert.deepEqual(startedTargets(where.opsmateHome), ['web-a', 'web-c']);
    });

    it('an unreadable config file is one clear error', async () => {
      const where = workspace(
        `targets:\n  webs: { runtime: ssh, selector: "web-*", configFile: ${join(dir, 'missing')} }\n`,
      );
      const run = await cli(where, ['exec', '-t', 'webs', '--', 'true']);
      assert.equal(run.exitCode, 2);
      assert.match(
        run.stderr,
        /^opsmate: error: .*targets\.webs: cannot find the targets of ssh selector "web-\*": cannot read .*missing/,
      );
    });
  },
);
