// The k8s runtime against a STAND-IN kubectl (test-support/bin/kubectl): no Kubernetes cluster can
// run on these machines, so the stand-in maps `kubectl get pod -o json` and `kubectl exec` onto a
// real Docker container named after the pod. What this proves: the runtime's argv, its pod checks
// and the shell session over a kubectl-shaped transport. What it cannot: a real API server's
// behaviour (auth, SPDY/WebSocket streaming, kubelet idle timeouts).
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { RuntimeError } from '../../errors/opsmate-error.js';
import { co } from '../../process/child-process.js';
import type { Runtime, RuntimeContext } from '../../runtime/contract.js';
import { runtimeConformanceSuite } from '../../testing/conformance-suite.js';
import {
  busyboxImageMissingReason,
  ensureBusyboxImage,
  removeContainers,
  uniqueContainerName,
} from '../../../test-support/docker-images.js';
import { integrationSkip } from '../../../test-support/integration.js';
import { k8sConfigSchema, k8sRuntime } from './k8s-runtime.js';

const STAND_IN_BIN = new URL('../../../test-support/bin', import.meta.url).pathname;
// Put the stand-in first on PATH for this test file (each file runs in its own process).
process.env.PATH = `${STAND_IN_BIN}${delimiter}${process.env.PATH ?? ''}`;

const skip = integrationSkip('dockerd (for the stand-in kubectl)', busyboxImageMissingReason());
const created: string[] = [];
after(() => removeContainers(created));

/** A "pod": a busybox container (sh only: the runtime must not need bash) named like a pod. */
async function startPod(label: string, containers = 'app,sidecar'): Promise<string> {
  const image = await ensureBusyboxImage();
  const name = uniqueContainerName(label);
  created.push(name);
  const run = await co(
    [
      'docker',
      'run',
      '-d',
      '--init',
      '--name',
      name,
      '--label',
      `opsmate.test/containers=${containers}`,
    ].concat(['--label', 'opsmate.test/namespace=team-a', image, 'sleep', '86400']),
    { timeoutMs: 60_000 },
  );
  if (run.exitCode !== 0) throw new Error(`docker run failed: ${run.stderr}`);
  return name;
}

function k8s(config: Record<string, unknown>, context: RuntimeContext): Runtime {
  return k8sRuntime.create(k8sConfigSchema.parse(config), context);
}

runtimeConformanceSuite({
  name: 'k8s via stand-in kubectl (busybox, sh)',
  skip,
  create: async (context) => k8s({ pod: await startPod('k8s-conformance'), namespace: 'team-a' }, context),
});

describe('k8s runtime (stand-in kubectl)', { skip }, () => {
  let workDir: string;
  let context: RuntimeContext;
  const runtimes: Runtime[] = [];
  const open = (config: Record<string, unknown>): Runtime => {
    const runtime = k8s(config, context);
    runtimes.push(runtime);
    return runtime;
  };

  before(() => {
    workDir = mkdtempSync(join(tmpdir(), 'opsmate-k8s-test-'));
    context = { spillDir: join(workDir, 'spill'), outputLimitBytes: 64 * 1024 };
  });
  after(async () => {
    await Promise.all(runtimes.map((runtime) => runtime.disconnect()));
    rmSync(workDir, { recursive: true, force: true });
  });

  it('calls kubectl with exactly the expected words, and reaches the chosen container', async () => {
    const pod = await startPod('k8s-argv');
    const log = join(workDir, 'kubectl.log');
    process.env.OPSMATE_FAKE_KUBECTL_LOG = log;
    try {
      const runtime = open({
        pod,
        namespace: 'team-a',
        container: 'sidecar',
        context: 'staging',
        kubeconfig: '/etc/kube/config',
        env: { GREETING: 'hi there' },
      });
      assert.equal((await runtime.run('echo "$GREETING"')).stdout, 'hi there\n');
      const calls = readFileSync(log, 'utf8').trim().split('\n');
      assert.deepEqual(calls.slice(0, 2), [
        `--kubeconfig=/etc/kube/config --context=staging get pod ${pod} -n team-a -o json`,
        `--kubeconfig=/etc/kube/config --context=staging exec -i -c sidecar -n team-a ${pod} -- /bin/sh`,
      ]);
      assert.match(await runtime.runtimeInfo(), /Container: sidecar \(the pod has: app, sidecar\)/);
      assert.deepEqual(runtime.target(), {
        namespace: 'team-a',
        pod,
        container: 'sidecar',
        context: 'staging',
      });
    } finally {
      delete process.env.OPSMATE_FAKE_KUBECTL_LOG;
    }
  });

  it('says the pod is not found', async () => {
    await assert.rejects(open({ pod: 'no-such-pod', namespace: 'team-a' }).connect(), (error: unknown) => {
      assert.ok(RuntimeError.isInstance(error));
      assert.equal(error.message, 'k8s runtime: pod no-such-pod (namespace team-a) not found');
      assert.match(error.hint ?? '', /kubectl get pods -n team-a/);
      return true;
    });
  });

  it('refuses a pod that is not Running', async () => {
    const pod = await startPod('k8s-completed');
    await co(['docker', 'stop', '-t', '0', pod]);
    await assert.rejects(open({ pod, namespace: 'team-a' }).connect(), /is (Succeeded|Failed), not Running/);
  });

  it('lists the containers when the container is not in the pod', async () => {
    const pod = await startPod('k8s-container');
    await assert.rejects(
      open({ pod, namespace: 'team-a', container: 'db' }).connect(),
      /has no container db; it has: app, sidecar/,
    );
  });

  it('says so when the pod stops during a command', async () => {
    const pod = await startPod('k8s-stopped-mid');
    const runtime = open({ pod, namespace: 'team-a' });
    assert.equal((await runtime.run('echo up')).stdout, 'up\n');
    setTimeout(() => void co(['docker', 'kill', pod]), 500);
    const result = await runtime.run('sleep 30', { timeoutMs: 20_000 });
    assert.equal(result.shellExited, true);
    assert.match(result.notice ?? '', /not Running \(it changed during the command\)/);
    await assert.rejects(runtime.run('echo again'), /cannot exec into a container in a completed pod/);
  });

  it('says kubectl is missing', async () => {
    const emptyBin = join(workDir, 'empty-bin');
    mkdirSync(emptyBin, { recursive: true });
    const path = process.env.PATH;
    process.env.PATH = emptyBin;
    try {
      await assert.rejects(open({ pod: 'any' }).connect(), (error: unknown) => {
        assert.ok(RuntimeError.isInstance(error));
        assert.equal(error.message, 'k8s runtime: kubectl is not installed (not found on PATH)');
        return true;
      });
    } finally {
      process.env.PATH = path;
    }
  });

  it('never runs config values through a shell', async () => {
    const marker = `/tmp/opsmate-k8s-injected-${process.pid}-${Date.now()}`;
    const pod = await startPod('k8s-metachar');
    for (const config of [
      { pod: `box; touch ${marker}` },
      { pod, namespace: `team-a; touch ${marker}` },
      { pod, namespace: 'team-a', container: `$(touch ${marker})` },
    ]) {
      await assert.rejects(open(config).connect(), RuntimeError, JSON.stringify(config));
    }
    const shellWords = open({ pod, namespace: 'team-a', shell: `/bin/sh -c 'touch ${marker}'` });
    await assert.rejects(shellWords.connect(), RuntimeError);
    const inPod = await co(['docker', 'exec', pod, 'test', '-e', marker]);
    assert.notEqual(inPod.exitCode, 0, 'a config value ran in the pod');
  });
});
