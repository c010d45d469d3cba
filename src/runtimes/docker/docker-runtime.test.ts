// Integration tests against the real dockerd on this machine, with images built locally by
// test-support/docker-images.ts. Every container gets a unique name and is removed at the end.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { OpsmateError, RuntimeError } from '../../errors/opsmate-error.js';
import { co } from '../../process/child-process.js';
import type { Runtime, RuntimeContext } from '../../runtime/contract.js';
import { runtimeConformanceSuite } from '../../testing/conformance-suite.js';
import {
  busyboxImageMissingReason,
  debianImageMissingReason,
  ensureBusyboxImage,
  ensureDebianImage,
  removeContainers,
  startSleepingContainer,
  uniqueContainerName,
} from '../../../test-support/docker-images.js';
import { integrationSkip } from '../../../test-support/integration.js';
import { dockerConfigSchema, dockerRuntime } from './docker-runtime.js';

const debianSkip = integrationSkip('dockerd (debian image)', debianImageMissingReason());
const busyboxSkip = integrationSkip('dockerd (busybox image)', busyboxImageMissingReason());
const created: string[] = [];
after(() => removeContainers(created));

async function container(image: 'debian' | 'busybox', label: string): Promise<string> {
  const tag = image === 'debian' ? await ensureDebianImage() : await ensureBusyboxImage();
  const name = uniqueContainerName(label);
  created.push(name);
  return await startSleepingContainer({ image: tag, name });
}

function docker(config: Record<string, unknown>, context: RuntimeContext): Runtime {
  return dockerRuntime.create(dockerConfigSchema.parse(config), context);
}

runtimeConformanceSuite({
  name: 'docker container (debian, bash)',
  skip: debianSkip,
  create: async (context) => docker({ containerName: await container('debian', 'conformance') }, context),
});

runtimeConformanceSuite({
  // The default shell is /bin/bash; this image has only busybox sh, so this also covers the fallback.
  name: 'docker container (busybox, sh)',
  skip: busyboxSkip,
  create: async (context) => docker({ containerName: await container('busybox', 'conformance-sh') }, context),
});

describe('docker runtime', { skip: debianSkip || busyboxSkip }, () => {
  let spillDir: string;
  let context: RuntimeContext;
  const runtimes: Runtime[] = [];
  const open = (config: Record<string, unknown>): Runtime => {
    const runtime = docker(config, context);
    runtimes.push(runtime);
    return runtime;
  };

  before(() => {
    spillDir = mkdtempSync(join(tmpdir(), 'opsmate-docker-test-'));
    context = { spillDir, outputLimitBytes: 64 * 1024 };
  });
  after(async () => {
    await Promise.all(runtimes.map((runtime) => runtime.disconnect()));
    rmSync(spillDir, { recursive: true, force: true });
  });

  it('passes env to the commands verbatim, also after the shell restarts', async () => {
    const name = await container('debian', 'env');
    const tricky = `two words; $(touch /tmp/env-ran) \`id\` 'quoted' "double"`;
    const runtime = open({ containerName: name, env: { GREETING: 'hello', TRICKY: tricky } });
    const first = await runtime.run(
      'printf "%s|%s\\n" "$GREETING" "$TRICKY"; test -e /tmp/env-ran && echo ran',
    );
    assert.equal(first.stdout, `hello|${tricky}\n`);
    assert.equal((await runtime.run('kill -9 $PPID')).shellExited, true);
    assert.equal((await runtime.run('echo "$GREETING"')).stdout, 'hello\n');
  });

  it('runs as the configured user', async () => {
    const runtime = open({ containerName: await container('debian', 'user'), user: 'nobody' });
    assert.equal(await runtime.whoami!(), 'nobody');
  });

  it('says a container that stopped mid-command stopped, and will not run on it until started', async () => {
    const name = await container('debian', 'stopped-mid');
    const runtime = open({ containerName: name });
    assert.equal((await runtime.run('echo up')).stdout, 'up\n');
    setTimeout(() => void co(['docker', 'kill', name]), 500);
    const result = await runtime.run('echo waiting; sleep 30', { timeoutMs: 20_000 });
    assert.equal(result.timedOut, false);
    assert.equal(result.shellExited, true);
    assert.equal(result.stdout, 'waiting\n');
    assert.match(
      result.notice ?? '',
      new RegExp(`container ${name} stopped during the command .*docker start ${name}`),
    );
    await assert.rejects(runtime.run('echo again'), (error: unknown) => {
      assert.ok(RuntimeError.isInstance(error));
      assert.match(error.message, new RegExp(`container ${name} is not running`));
      assert.match(error.hint ?? '', /docker start/);
      return true;
    });
  });

  it('starts a stopped container only when startStopped is set', async () => {
    const name = await container('busybox', 'start-stopped');
    await co(['docker', 'stop', '-t', '0', name]);
    const refusing = open({ containerName: name });
    await assert.rejects(refusing.connect(), /is not running \(exited/);
    const starting = open({ containerName: name, startStopped: true });
    assert.equal((await starting.run('echo started')).stdout, 'started\n');
    // And again after it stops mid-session: the next command starts it.
    setTimeout(() => void co(['docker', 'kill', name]), 300);
    const killed = await starting.run('sleep 30', { timeoutMs: 20_000 });
    assert.match(killed.notice ?? '', /stopped during the command.*the next command starts it again/);
    assert.equal((await starting.run('echo back')).stdout, 'back\n');
  });

  it('explains a missing container with a hint', async () => {
    const runtime = open({ containerName: uniqueContainerName('never-created') });
    await assert.rejects(runtime.connect(), (error: unknown) => {
      assert.ok(RuntimeError.isInstance(error));
      assert.match(error.message, /^docker runtime: container opsmate-test-never-created-\S+ not found$/);
      assert.match(error.hint ?? '', /docker ps -a/);
      return true;
    });
  });

  it('learns from the first shell, started with no probe, that the image has no bash, and keeps to sh', async () => {
    const runtime = open({ containerName: await container('busybox', 'no-bash') });
    assert.equal((await runtime.run('echo first')).stdout, 'first\n');
    assert.match(await runtime.runtimeInfo(), /Shell: \/bin\/sh/);
    // A replaced shell is started directly with what the first one said.
    const killed = await runtime.run('kill -9 $PPID');
    assert.equal(killed.shellExited, true);
    const next = await runtime.run('echo "${BASH_VERSION:-no bash}"');
    assert.equal(next.stdout, 'no bash\n');
    assert.match(await runtime.runtimeInfo(), /Shell: \/bin\/sh/);
  });

  it('names a shell that is not in the image', async () => {
    const runtime = open({ containerName: await container('busybox', 'no-zsh'), shell: '/bin/zsh' });
    await assert.rejects(runtime.connect(), /\/bin\/zsh not found in container .*/);
  });

  it('never runs config values through a shell', async () => {
    const marker = `/tmp/opsmate-injected-${process.pid}-${Date.now()}`;
    const name = await container('busybox', 'metachar');
    const attempts: Array<Record<string, unknown>> = [
      { containerName: `box; touch ${marker}` },
      { containerName: `$(touch ${marker})` },
      { containerName: `--privileged` },
      { containerName: name, shell: `/bin/sh -c 'touch ${marker}'` },
      { containerName: name, user: `root; touch ${marker}` },
      { containerName: '', serviceName: `web; touch ${marker}` },
      { containerName: '', composeFile: `x.yml; touch ${marker}` },
    ];
    for (const config of attempts) {
      const runtime = open(config);
      // A bad name is a ConfigError, a refused shell a RuntimeError: both are opsmate's errors.
      await assert.rejects(
        runtime.connect(),
        (error: unknown) => OpsmateError.isInstance(error),
        JSON.stringify(config),
      );
    }
    // An env var name a shell cannot export is refused already by the schema (envVarMap).
    assert.equal(
      dockerConfigSchema.safeParse({ containerName: name, env: { 'X;touch': marker } }).success,
      false,
    );
    assert.equal(existsSync(marker), false, 'a config value ran on this machine');
    const inContainer = await co(['docker', 'exec', name, 'test', '-e', marker]);
    assert.notEqual(inContainer.exitCode, 0, 'a config value ran in the container');
  });

  it('describes itself and its target', async () => {
    const name = await container('debian', 'info');
    const runtime = open({ containerName: name });
    await runtime.connect();
    const info = await runtime.runtimeInfo();
    assert.match(info, new RegExp(`Container: ${name} \\(id [0-9a-f]{12}\\)`));
    assert.match(info, /Image: opsmate-test\/debian/);
    assert.match(info, /Shell: \/bin\/bash/);
    assert.equal(runtime.target().container, name);
    assert.match(await runtime.osInfo!(), /Debian GNU\/Linux 12/);
  });
});
