// Compose mode against the real dockerd with docker-compose v1 (what Debian 12 ships; the
// `docker compose` v2 plugin is not installed here, so `auto` exercises the fallback to v1).
// v2 detection and argv are covered by docker-cli.test.ts.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { RuntimeError } from '../../errors/opsmate-error.js';
import { co } from '../../process/child-process.js';
import type { Runtime, RuntimeContext } from '../../runtime/contract.js';
import { runtimeConformanceSuite } from '../../testing/conformance-suite.js';
import {
  BUSYBOX_IMAGE,
  busyboxImageMissingReason,
  DEBIAN_IMAGE,
  debianImageMissingReason,
  ensureBusyboxImage,
  ensureDebianImage,
} from '../../../test-support/docker-images.js';
import { integrationSkip } from '../../../test-support/integration.js';
import { dockerConfigSchema, dockerRuntime } from './docker-runtime.js';

function composeMissingReason(): string | undefined {
  const result = spawnSync('docker-compose', ['version'], { stdio: 'ignore', timeout: 30_000 });
  if (result.error || result.status !== 0)
    return 'docker-compose is not installed (apt-get install docker-compose)';
  return debianImageMissingReason() ?? busyboxImageMissingReason();
}

const skip = integrationSkip('docker-compose', composeMissingReason());
// mkdtemp makes the folder, hence the compose project name, unique to this run.
const projectDir = mkdtempSync(join(tmpdir(), 'opsmate-compose-'));
const composeFile = join(projectDir, 'docker-compose.yml');
writeFileSync(
  composeFile,
  [
    'version: "3"',
    'services:',
    '  app:',
    `    image: ${DEBIAN_IMAGE}`,
    '    command: ["sleep", "86400"]',
    '    init: true',
    '    environment:',
    '      SERVICE_ROLE: app',
    '  tiny:',
    `    image: ${BUSYBOX_IMAGE}`,
    '    command: ["sleep", "86400"]',
    '    init: true',
    '',
  ].join('\n'),
);
let composeUp: Promise<void> | undefined;

/** Builds the images and starts the project once, whichever test asks first. */
function upProject(): Promise<void> {
  composeUp ??= (async () => {
    await ensureDebianImage();
    await ensureBusyboxImage();
    const up = await co(['docker-compose', '-f', composeFile, 'up', '-d'], { timeoutMs: 180_000 });
    if (up.exitCode !== 0) throw new Error(`docker-compose up failed: ${up.stderr}`);
  })();
  return composeUp;
}

after(async () => {
  if (composeUp) {
    await co(['docker-compose', '-f', composeFile, 'down', '-v', '-t', '0'], { timeoutMs: 180_000 });
  }
  rmSync(projectDir, { recursive: true, force: true });
});

function compose(config: Record<string, unknown>, context: RuntimeContext): Runtime {
  return dockerRuntime.create(dockerConfigSchema.parse({ composeFile, ...config }), context);
}

runtimeConformanceSuite({
  name: 'docker compose v1 service (debian, bash)',
  skip,
  create: async (context) => {
    await upProject();
    return compose({ serviceName: 'app' }, context);
  },
});

describe('docker runtime, compose mode', { skip }, () => {
  let spillDir: string;
  let context: RuntimeContext;
  const runtimes: Runtime[] = [];
  const open = (config: Record<string, unknown>): Runtime => {
    const runtime = compose(config, context);
    runtimes.push(runtime);
    return runtime;
  };

  before(async () => {
    spillDir = mkdtempSync(join(tmpdir(), 'opsmate-compose-test-'));
    context = { spillDir, outputLimitBytes: 64 * 1024 };
    await upProject();
  });
  after(async () => {
    await Promise.all(runtimes.map((runtime) => runtime.disconnect()));
    rmSync(spillDir, { recursive: true, force: true });
  });

  it('runs in the service container, with its environment and ours', async () => {
    const runtime = open({ serviceName: 'app', env: { EXTRA: 'x y' } });
    const result = await runtime.run('echo "$SERVICE_ROLE|$EXTRA"');
    assert.equal(result.stdout, 'app|x y\n');
    const info = await runtime.runtimeInfo();
    assert.match(info, /Compose service: app of .*docker-compose\.yml \(docker-compose\)/);
    assert.equal(runtime.target().service, 'app');
  });

  it('finds docker-compose.yml in the working directory by default', async () => {
    const previous = process.cwd();
    process.chdir(projectDir);
    try {
      const runtime = open({ composeFile: 'docker-compose.yml', serviceName: 'tiny' });
      // tiny has only busybox sh: the default /bin/bash falls back to /bin/sh.
      assert.equal((await runtime.run('echo "$0"')).stdout, '/bin/sh\n');
    } finally {
      process.chdir(previous);
    }
  });

  it('says the compose file is missing', async () => {
    const runtime = open({ composeFile: join(projectDir, 'nope', 'docker-compose.yml'), serviceName: 'app' });
    await assert.rejects(runtime.connect(), (error: unknown) => {
      assert.ok(RuntimeError.isInstance(error));
      assert.match(error.message, /compose file .*\/nope\/docker-compose\.yml not found/);
      assert.match(error.hint ?? '', /--runtime-docker-compose-file/);
      return true;
    });
  });

  it('lists the services when the service is not in the file', async () => {
    const runtime = open({ serviceName: 'default' });
    await assert.rejects(runtime.connect(), (error: unknown) => {
      assert.ok(RuntimeError.isInstance(error));
      assert.match(error.message, /service default is not in .*docker-compose\.yml; it has: app, tiny$/);
      return true;
    });
  });

  it('says when the service has no running container, and starts it only when asked', async () => {
    await co(['docker-compose', '-f', composeFile, 'stop', '-t', '0', 'tiny'], { timeoutMs: 60_000 });
    await assert.rejects(open({ serviceName: 'tiny' }).connect(), (error: unknown) => {
      assert.ok(RuntimeError.isInstance(error));
      assert.match(error.message, /service tiny has no running container/);
      assert.match(error.hint ?? '', /docker-compose -f .* up -d tiny/);
      return true;
    });
    const starting = open({ serviceName: 'tiny', startStopped: true });
    assert.equal((await starting.run('echo up')).stdout, 'up\n');
  });
});
