import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  checkPod,
  classifyKubectlFailure,
  kubectlExecArgv,
  kubectlGetPodArgv,
  kubectlSideChannelArgv,
  kubernetesNameProblem,
} from './kubectl-cli.js';

const target = { namespace: 'prod', pod: 'api-7d9f' };

function pod(fields: {
  phase?: string;
  containers?: string[];
  states?: Record<string, object>;
  deleting?: boolean;
}): string {
  const containers = fields.containers ?? ['app'];
  return JSON.stringify({
    metadata: { name: 'api-7d9f', ...(fields.deleting ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}) },
    spec: { containers: containers.map((name) => ({ name, image: `${name}:1` })) },
    status: {
      phase: fields.phase ?? 'Running',
      containerStatuses: containers.map((name) => ({
        name,
        state: fields.states?.[name] ?? { running: {} },
      })),
    },
  });
}

describe('kubectl argv', () => {
  it('exec attaches stdin without a TTY and names container and namespace', () => {
    assert.deepEqual(kubectlExecArgv({ ...target, container: 'app', shell: '/bin/sh' }), [
      'kubectl',
      'exec',
      '-i',
      '-c',
      'app',
      '-n',
      'prod',
      'api-7d9f',
      '--',
      '/bin/sh',
    ]);
  });

  it('passes context and kubeconfig attached to their options', () => {
    const argv = kubectlGetPodArgv({ ...target, context: '-x weird', kubeconfig: '/k/config' });
    assert.deepEqual(argv, [
      'kubectl',
      '--kubeconfig=/k/config',
      '--context=-x weird',
      'get',
      'pod',
      'api-7d9f',
      '-n',
      'prod',
      '-o',
      'json',
    ]);
  });

  it('the side channel passes the script and its arguments as separate words', () => {
    const argv = kubectlSideChannelArgv({ ...target, container: 'app', script: 'echo "$1"', args: ['1'] });
    assert.deepEqual(argv.slice(-6), ['--', 'sh', '-c', 'echo "$1"', 'sh', '1']);
    assert.ok(!argv.includes('-i'));
  });

  it('rejects names Kubernetes would not accept before they reach kubectl', () => {
    assert.equal(kubernetesNameProblem({ namespace: 'default', pod: 'web-0.x', container: 'c1' }), undefined);
    assert.match(kubernetesNameProblem({ namespace: 'default', pod: 'box; touch /tmp/x' }) ?? '', /pod name/);
    assert.match(kubernetesNameProblem({ namespace: 'default', pod: '--all' }) ?? '', /pod name/);
    assert.match(kubernetesNameProblem({ namespace: 'a b', pod: 'p' }) ?? '', /namespace/);
    assert.match(kubernetesNameProblem({ namespace: 'ns', pod: 'p', container: '$(x)' }) ?? '', /container/);
    assert.match(kubernetesNameProblem({ namespace: 'ns', pod: '' }) ?? '', /no pod/);
  });
});

describe('pod checks', () => {
  it('takes the first container when none is named', () => {
    assert.deepEqual(checkPod(pod({ containers: ['app', 'sidecar'] }), target), {
      container: 'app',
      containers: ['app', 'sidecar'],
      image: 'app:1',
    });
  });

  it('lists the containers when the named one is missing', () => {
    const checked = checkPod(pod({ containers: ['app', 'sidecar'] }), { ...target, container: 'db' });
    assert.ok('problem' in checked);
    assert.match(checked.problem, /has no container db; it has: app, sidecar/);
  });

  it('refuses pods that are not Running, terminating, or whose container is not running', () => {
    const pending = checkPod(pod({ phase: 'Pending' }), target);
    assert.ok('problem' in pending);
    assert.match(pending.problem, /is Pending, not Running/);
    const deleting = checkPod(pod({ deleting: true }), target);
    assert.ok('problem' in deleting && /terminating/.test(deleting.problem));
    const crashing = checkPod(pod({ states: { app: { waiting: { reason: 'CrashLoopBackOff' } } } }), target);
    assert.ok('problem' in crashing && /waiting \(CrashLoopBackOff\)/.test(crashing.problem));
    const garbage = checkPod('<html>', target);
    assert.ok('problem' in garbage && /JSON/.test(garbage.problem));
  });

  it('classifies kubectl errors', () => {
    assert.equal(classifyKubectlFailure('Error from server (NotFound): pods "x" not found'), 'pod-not-found');
    assert.equal(
      classifyKubectlFailure('Error from server (NotFound): namespaces "y" not found'),
      'namespace-not-found',
    );
    assert.equal(
      classifyKubectlFailure(
        'The connection to the server localhost:8080 was refused - did you specify the right host or port?',
      ),
      'unreachable',
    );
    assert.equal(
      classifyKubectlFailure(
        'Error from server (Forbidden): pods "x" is forbidden: User "u" cannot get resource',
      ),
      'forbidden',
    );
  });
});
