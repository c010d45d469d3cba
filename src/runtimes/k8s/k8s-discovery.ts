import { co } from '../../process/child-process.js';
import type { RuntimeDiscovery } from '../../runtime/contract.js';
import { kubectlGetPodsArgv, kubernetesNameProblem } from './kubectl-cli.js';

/**
 * Running pods that match a label selector, in the group's namespace (and context, kubeconfig):
 * `targets: { api: { runtime: k8s, selector: app=api,tier!=canary, namespace: prod } }`. The
 * selector is kubectl's own (`=`, `!=`, `in (...)`, `notin (...)`, `key`, `!key`), checked by
 * the cluster, never by opsmate.
 */
export const k8sDiscovery: RuntimeDiscovery = {
  usage:
    "a Kubernetes label selector, as kubectl -l takes it (app=api,tier!=canary); the group's namespace's running pods that match",
  find: async ({ selector, fields, signal }) => {
    const namespace = fields.namespace ?? 'default';
    const problem = kubernetesNameProblem({ namespace, pod: 'x' });
    if (problem) throw new Error(problem);
    const argv = kubectlGetPodsArgv({
      selector,
      namespace,
      ...(fields.context ? { context: fields.context } : {}),
      ...(fields.kubeconfig ? { kubeconfig: fields.kubeconfig } : {}),
    });
    const result = await co(argv, { signal });
    if (result.spawnError?.code === 'ENOENT') throw new Error('kubectl is not installed (not found on PATH)');
    if (result.exitCode !== 0)
      throw new Error(
        result.stderr.trim().split('\n').at(-1) ||
          `kubectl get pods ended with ${result.exitCode ?? result.signal}`,
      );
    return result.stdout
      .split('\n')
      .map((line) => line.trim().replace(/^pods?\//, ''))
      .filter((name) => name !== '')
      .sort()
      .map((pod) => ({ name: pod, fields: { pod } }));
  },
};
