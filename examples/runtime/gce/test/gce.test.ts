import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { OpsmateError, type RuntimeContext } from 'opsmate';
import { runtimeConformanceSuite } from 'opsmate/testing';
import { integrationSkip } from '../../../../test-support/integration.js';
import { sshdMissingReason, startSshd, type SshdServer } from '../../../../test-support/sshd-server.js';
import gceRuntime, { gceConfigSchema, gcloudSshArgv, type GceConfig } from '../src/gce.js';
import { splitWords } from '../src/split-words.js';
import { STAND_IN_INSTANCE, writeStandInGcloud, type StandInGcloud } from './stand-in-gcloud.js';

function config(overrides: Partial<Record<keyof GceConfig, unknown>> = {}): GceConfig {
  return gceConfigSchema.parse({ instance: 'my-vm', ...overrides });
}

describe('gce runtime: gcloud argv', () => {
  it('builds gcloud compute ssh with IAP and --quiet by default', () => {
    assert.deepEqual(gcloudSshArgv(config({ zone: 'europe-west1-c' }), 'exec /bin/bash'), [
      'gcloud',
      'compute',
      'ssh',
      'my-vm',
      '--zone',
      'europe-west1-c',
      '--tunnel-through-iap',
      '--quiet',
      '--command',
      'exec /bin/bash',
    ]);
  });

  it('adds user, project, IAP options and extra flags as separate words', () => {
    const argv = gcloudSshArgv(
      config({
        username: 'ops',
        project: 'my-project',
        iapOptions: '--internal-ip',
        extraFlags: `--ssh-flag="-o ServerAliveInterval=30" --strict-host-key-checking=yes`,
        gcloudBinary: '/opt/google-cloud-sdk/bin/gcloud',
      }),
      'true',
    );
    assert.deepEqual(argv, [
      '/opt/google-cloud-sdk/bin/gcloud',
      'compute',
      'ssh',
      'ops@my-vm',
      '--project',
      'my-project',
      '--tunnel-through-iap',
      '--internal-ip',
      '--quiet',
      '--ssh-flag=-o ServerAliveInterval=30',
      '--strict-host-key-checking=yes',
      '--command',
      'true',
    ]);
  });

  it('leaves out IAP and its options when use-iap is false', () => {
    const argv = gcloudSshArgv(config({ useIap: false, iapOptions: '--internal-ip' }), 'true');
    assert.ok(!argv.includes('--tunnel-through-iap'));
    assert.ok(!argv.includes('--internal-ip'));
  });

  it('rejects values gcloud would read as flags, and bad quoting', () => {
    assert.equal(gceConfigSchema.safeParse({ instance: '--help' }).success, false);
    assert.equal(gceConfigSchema.safeParse({ instance: 'my-vm', zone: '-x' }).success, false);
    assert.equal(
      gceConfigSchema.safeParse({ instance: 'my-vm', username: '-oProxyCommand=x' }).success,
      false,
    );
    assert.throws(
      () => gceRuntime.create(config({ extraFlags: '--ssh-flag="unterminated' }), context()),
      (error: unknown) =>
        OpsmateError.isInstance(error) &&
        /--runtime-gce-extra-flags: unterminated double quote/.test(error.message),
    );
  });

  it('splits words like a shell, without expanding anything', () => {
    assert.deepEqual(splitWords(` a  'b c' "d \\"e\\"" f\\ g $HOME `), ['a', 'b c', 'd "e"', 'f g', '$HOME']);
    assert.deepEqual(splitWords(''), []);
    assert.deepEqual(splitWords(`''`), ['']);
  });
});

function context(): RuntimeContext {
  return { spillDir: tmpdir(), outputLimitBytes: 64 * 1024 };
}

describe('gce runtime: its URI form', () => {
  it('maps gce://zone/instance and gce://project/zone/instance onto its fields', () => {
    assert.deepEqual(gceRuntime.uri?.fields({ scheme: 'gce', body: 'europe-west1-c/web-1' }), {
      zone: 'europe-west1-c',
      instance: 'web-1',
    });
    assert.deepEqual(gceRuntime.uri?.fields({ scheme: 'gce', body: 'acme-prod/us-east1-b/db-1' }), {
      project: 'acme-prod',
      zone: 'us-east1-b',
      instance: 'db-1',
    });
    assert.throws(() => gceRuntime.uri?.fields({ scheme: 'gce', body: 'web-1' }), /zone\/instance/);
  });
});

describe('gce runtime: preflight', () => {
  it('says clearly when gcloud is missing, without retrying', async () => {
    const runtime = gceRuntime.create(
      config({ gcloudBinary: '/nonexistent/gcloud', connectRetries: 5 }),
      context(),
    );
    const started = Date.now();
    await assert.rejects(runtime.connect(), (error: unknown) => {
      assert.ok(OpsmateError.isInstance(error));
      assert.match(error.message, /gce runtime: \/nonexistent\/gcloud does not exist/);
      assert.match(error.hint ?? '', /--runtime-gce-gcloud-binary/);
      return true;
    });
    assert.ok(Date.now() - started < 1_000, 'a missing gcloud was retried');
    await runtime.disconnect();
  });
});

const sshdSkip = integrationSkip('sshd', sshdMissingReason());

describe('gce runtime through a stand-in gcloud', { skip: sshdSkip }, () => {
  let server: SshdServer;
  let scratch: string;
  let gcloud: StandInGcloud;
  before(async () => {
    server = await startSshd();
    scratch = mkdtempSync(join(tmpdir(), 'opsmate-gce-'));
    gcloud = writeStandInGcloud(scratch, server);
  });
  after(async () => {
    await server?.stop();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it('runs commands on the instance and reports exit codes', async () => {
    const runtime = gceRuntime.create(
      config({
        zone: 'europe-west1-c',
        project: 'demo-project',
        gcloudBinary: join(gcloud.binDir, 'gcloud'),
      }),
      context(),
    );
    try {
      const result = await runtime.run('echo "on $(hostname)"; exit 3');
      assert.equal(result.exitCode, 3);
      assert.match(result.stdout, /^on /);
      assert.match(
        await runtime.runtimeInfo(),
        /instance my-vm \(zone europe-west1-c, project demo-project\)/,
      );
      assert.deepEqual(runtime.target(), {
        instance: 'my-vm',
        zone: 'europe-west1-c',
        project: 'demo-project',
      });
    } finally {
      await runtime.disconnect();
    }
    const first = gcloud.calls()[0]!;
    assert.deepEqual(first.slice(0, 9), [
      'compute',
      'ssh',
      'my-vm',
      '--zone',
      'europe-west1-c',
      '--project',
      'demo-project',
      '--tunnel-through-iap',
      '--quiet',
    ]);
    assert.deepEqual(first.slice(-2), ['--command', 'exec /bin/bash']);
  });

  it("reports gcloud's own error in one line and does not retry it", async () => {
    const runtime = gceRuntime.create(
      config({ instance: 'no-such-vm', gcloudBinary: join(gcloud.binDir, 'gcloud'), connectRetries: 3 }),
      context(),
    );
    const before = gcloud.calls().length;
    await assert.rejects(
      runtime.connect(),
      /gcloud compute ssh failed: ERROR: \(gcloud\.compute\.ssh\).*not found/,
    );
    assert.equal(gcloud.calls().length - before, 1, 'a refused connection was retried');
    await runtime.disconnect();
  });
});

// The suite every runtime must pass, through the stand-in gcloud and a real sshd.
// The suite calls create() once per part of it: every server it started is stopped.
const conformanceServers: SshdServer[] = [];
const conformanceDirs: string[] = [];
after(async () => {
  await Promise.all(conformanceServers.map((server) => server.stop()));
  for (const dir of conformanceDirs) rmSync(dir, { recursive: true, force: true });
});
runtimeConformanceSuite({
  name: 'gce (stand-in gcloud, loopback sshd)',
  skip: sshdSkip,
  create: async (runtimeContext) => {
    const server = await startSshd();
    conformanceServers.push(server);
    const dir = mkdtempSync(join(tmpdir(), 'opsmate-gce-conformance-'));
    conformanceDirs.push(dir);
    const standIn = writeStandInGcloud(dir, server);
    return gceRuntime.create(
      config({
        instance: STAND_IN_INSTANCE,
        zone: 'europe-west1-c',
        gcloudBinary: join(standIn.binDir, 'gcloud'),
      }),
      runtimeContext,
    );
  },
});
