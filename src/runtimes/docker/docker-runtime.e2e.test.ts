// The built CLI with the docker and k8s runtimes, as a user runs it. Needs `npm run build` first.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
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
import { requireBuilt, runCli } from '../../../test-support/run-cli.js';

const skip = integrationSkip('dockerd', debianImageMissingReason() ?? busyboxImageMissingReason());
const STAND_IN_BIN = new URL('../../../test-support/bin', import.meta.url).pathname;

describe('opsmate CLI with the docker and k8s runtimes', { skip }, () => {
  const created: string[] = [];
  let debian: string;
  let pod: string;
  let emptyBin: string;

  before(async () => {
    requireBuilt('runtimes/docker/docker-runtime.js');
    emptyBin = mkdtempSync(join(tmpdir(), 'opsmate-empty-bin-'));
    debian = uniqueContainerName('cli');
    created.push(debian);
    await startSleepingContainer({ image: await ensureDebianImage(), name: debian });
    pod = uniqueContainerName('cli-pod');
    created.push(pod);
    await startSleepingContainer({ image: await ensureBusyboxImage(), name: pod });
  });
  after(async () => {
    await removeContainers(created);
    rmSync(emptyBin, { recursive: true, force: true });
  });

  const dockerExec = (args: string[], env: NodeJS.ProcessEnv = process.env) =>
    runCli(
      ['exec', '--shell-command-runtime', 'docker', '--runtime-docker-container-name', debian, ...args],
      { env },
    );

  it('exits with the exit code of the command', async () => {
    const run = await dockerExec(['--', 'echo in-container; exit 5']);
    assert.equal(run.exitCode, 5, run.stderr);
    assert.equal(run.stdout, 'in-container\n');
  });

  it('prints what the model is told with --info', async () => {
    const run = await dockerExec(['--info']);
    assert.equal(run.exitCode, 0, run.stderr);
    assert.match(run.stdout, /^Runtime info:\n<untrusted-data [^\n]+>\nRuntime: docker\. /);
    assert.match(run.stdout, new RegExp(`Container: ${debian} \\(id [0-9a-f]{12}\\)`));
    assert.match(run.stdout, /User:\n<untrusted-data [^\n]+>\nroot\n/);
    assert.match(run.stdout, /Debian GNU\/Linux 12 \(bookworm\)/);
  });

  it('takes the runtime config from RUNTIME_DOCKER_* env vars', async () => {
    const run = await runCli(['exec', '--', 'echo "$A-$B"'], {
      env: {
        ...process.env,
        SHELL_COMMAND_RUNTIME: 'docker',
        RUNTIME_DOCKER_CONTAINER_NAME: debian,
        RUNTIME_DOCKER_ENV: 'A=1,B=two words',
      },
    });
    assert.equal(run.stdout, '1-two words\n', run.stderr);
  });

  it('lists docker and k8s among the runtimes', async () => {
    const run = await runCli(['list-runtimes']);
    assert.equal(run.exitCode, 0);
    assert.match(run.stdout, /^docker\s+Runs commands inside a Docker container/m);
    assert.match(run.stdout, /^k8s\s+Runs commands inside a Kubernetes pod/m);
  });

  it('fails in one line when the docker daemon is down', async () => {
    const dead = `unix://${join(emptyBin, 'dead.sock')}`;
    const run = await dockerExec(['--', 'true'], { ...process.env, DOCKER_HOST: dead });
    assert.equal(run.exitCode, 1);
    assert.match(
      run.stderr,
      /^opsmate: error: docker runtime: cannot reach the Docker daemon: .*dead\.sock/m,
    );
    assert.match(run.stderr, /^opsmate: hint: start dockerd/m);
    assert.doesNotMatch(run.stderr, /\n\s+at /, 'no stack trace');
  });

  it('fails in one line when the docker client is missing', async () => {
    const run = await dockerExec(['--', 'true'], { ...process.env, PATH: emptyBin });
    assert.equal(run.exitCode, 1);
    assert.match(
      run.stderr,
      /^opsmate: error: docker runtime: docker is not installed \(not found on PATH\)$/m,
    );
  });

  it('fails in one line when the container name is not a name, and runs nothing', async () => {
    const marker = join(emptyBin, 'injected');
    const run = await runCli([
      'exec',
      '--shell-command-runtime',
      'docker',
      '--runtime-docker-container-name',
      `box; touch ${marker}`,
      '--',
      'true',
    ]);
    assert.equal(run.exitCode, 2);
    assert.match(run.stderr, /is not a valid container name or id/);
    assert.equal((await runCli(['exec', '--', `test -e ${marker}`])).exitCode, 1, 'the name was executed');
  });

  it('runs k8s commands through kubectl (a stand-in here) and says when kubectl is missing', async () => {
    const args = [
      'exec',
      '--shell-command-runtime',
      'k8s',
      '--runtime-k8s-pod',
      pod,
      '--',
      'echo "$0"; exit 7',
    ];
    const withStandIn = { ...process.env, PATH: `${STAND_IN_BIN}${delimiter}${process.env.PATH ?? ''}` };
    const run = await runCli(args, { env: withStandIn });
    assert.equal(run.exitCode, 7, run.stderr);
    assert.equal(run.stdout, '/bin/sh\n');
    const missing = await runCli(args, { env: { ...process.env, PATH: emptyBin } });
    assert.equal(missing.exitCode, 1);
    assert.match(
      missing.stderr,
      /^opsmate: error: k8s runtime: kubectl is not installed \(not found on PATH\)$/m,
    );
    assert.match(missing.stderr, /^opsmate: hint: install kubectl/m);
  });
});
