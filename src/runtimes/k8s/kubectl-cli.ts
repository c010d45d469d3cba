/** Where kubectl points: the kubeconfig and context to use, both optional. */
export interface KubectlTarget {
  kubeconfig?: string;
  context?: string;
  namespace: string;
  pod: string;
}

/** RFC 1123 label: namespaces and container names. */
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** RFC 1123 subdomain: pod names. */
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

/**
 * What is wrong with the names that reach kubectl as positional words, or undefined. Kubernetes
 * allows nothing else in them, so a value with spaces, `;` or a leading `-` never gets that far.
 */
export function kubernetesNameProblem(names: {
  namespace: string;
  pod: string;
  container?: string;
}): string | undefined {
  if (names.pod === '') return 'no pod given';
  if (!DNS_SUBDOMAIN.test(names.pod) || names.pod.length > 253) {
    return `${JSON.stringify(names.pod)} is not a valid pod name (lower-case letters, digits, - and .)`;
  }
  if (!DNS_LABEL.test(names.namespace) || names.namespace.length > 63) {
    return `${JSON.stringify(names.namespace)} is not a valid namespace (lower-case letters, digits and -)`;
  }
  if (names.container !== undefined && (!DNS_LABEL.test(names.container) || names.container.length > 63)) {
    return `${JSON.stringify(names.container)} is not a valid container name (lower-case letters, digits and -)`;
  }
  return undefined;
}

/** `--kubeconfig=F --context=C`, attached so a value can never be read as another option. */
function globalOptions(target: KubectlTarget): string[] {
  return [
    ...(target.kubeconfig ? [`--kubeconfig=${target.kubeconfig}`] : []),
    ...(target.context ? [`--context=${target.context}`] : []),
  ];
}

/** `kubectl get pod POD -n NS -o json`. */
export function kubectlGetPodArgv(target: KubectlTarget): string[] {
  return [
    'kubectl',
    ...globalOptions(target),
    'get',
    'pod',
    target.pod,
    '-n',
    target.namespace,
    '-o',
    'json',
  ];
}

/**
 * `kubectl get pods -n NS --selector=S --field-selector=status.phase=Running -o name`: the running
 * pods a label selector picks, one `pod/NAME` a line. The selector is attached to its option, so
 * it can never be read as another one.
 */
export function kubectlGetPodsArgv(options: Omit<KubectlTarget, 'pod'> & { selector: string }): string[] {
  return [
    'kubectl',
    ...globalOptions({ ...options, pod: '' }),
    'get',
    'pods',
    '-n',
    options.namespace,
    `--selector=${options.selector}`,
    '--field-selector=status.phase=Running',
    '-o',
    'name',
  ];
}

/** `kubectl exec -i -c C -n NS POD -- SHELL`: stdin attached, no TTY. */
export function kubectlExecArgv(options: KubectlTarget & { container: string; shell: string }): string[] {
  return [
    'kubectl',
    ...globalOptions(options),
    'exec',
    '-i',
    '-c',
    options.container,
    '-n',
    options.namespace,
    options.pod,
    '--',
    options.shell,
  ];
}

/** `kubectl exec -c C -n NS POD -- sh -c SCRIPT sh ARGS...`, the out-of-band side channel. */
export function kubectlSideChannelArgv(
  options: KubectlTarget & { container: string; script: string; args: readonly string[] },
): string[] {
  return [
    'kubectl',
    ...globalOptions(options),
    'exec',
    '-c',
    options.container,
    '-n',
    options.namespace,
    options.pod,
    '--',
    'sh',
    '-c',
    options.script,
    'sh',
    ...options.args,
  ];
}

/** The parts of a pod object (`kubectl get pod -o json`) the runtime reads. */
interface PodObject {
  metadata?: { deletionTimestamp?: string };
  spec?: { containers?: Array<{ name?: string; image?: string }> };
  status?: {
    phase?: string;
    reason?: string;
    message?: string;
    containerStatuses?: Array<{
      name?: string;
      state?: {
        running?: object;
        waiting?: { reason?: string };
        terminated?: { reason?: string; exitCode?: number };
      };
    }>;
  };
}

/** A pod that can run commands: which container, and facts for runtimeInfo. */
export interface UsablePod {
  container: string;
  image?: string;
  containers: string[];
}

/** Why a pod cannot run commands, with a hint. */
export interface PodProblem {
  problem: string;
  hint: string;
}

/**
 * Checks a pod object: it must be Running, not being deleted, have the container (the first one
 * when none is named) and that container must be running.
 */
export function checkPod(
  json: string,
  target: KubectlTarget & { container?: string },
): UsablePod | PodProblem {
  let pod: PodObject;
  try {
    pod = JSON.parse(json) as PodObject;
  } catch {
    return { problem: 'kubectl get pod did not print JSON', hint: 'check the kubectl on PATH' };
  }
  const where = `pod ${target.pod} (namespace ${target.namespace})`;
  const describe = `kubectl describe pod ${target.pod} -n ${target.namespace}`;
  const containers = (pod.spec?.containers ?? []).map((container) => container.name ?? '').filter(Boolean);
  const phase = pod.status?.phase ?? 'Unknown';
  if (phase !== 'Running') {
    const reason = pod.status?.reason ? ` (${pod.status.reason})` : '';
    return { problem: `${where} is ${phase}${reason}, not Running`, hint: `see \`${describe}\`` };
  }
  if (pod.metadata?.deletionTimestamp) {
    return { problem: `${where} is terminating`, hint: 'choose a pod that is not being deleted' };
  }
  const container = target.container ?? containers[0];
  if (container === undefined) return { problem: `${where} has no containers`, hint: `see \`${describe}\`` };
  if (!containers.includes(container)) {
    return {
      problem: `${where} has no container ${container}; it has: ${containers.join(', ')}`,
      hint: 'set --runtime-k8s-container (env RUNTIME_K8S_CONTAINER) to one of them',
    };
  }
  const state = pod.status?.containerStatuses?.find((status) => status.name === container)?.state;
  if (state && !state.running) {
    const why = state.waiting
      ? `waiting (${state.waiting.reason ?? 'unknown reason'})`
      : state.terminated
        ? `terminated (${state.terminated.reason ?? `exit code ${state.terminated.exitCode}`})`
        : 'not running';
    return { problem: `container ${container} of ${where} is ${why}`, hint: `see \`${describe}\`` };
  }
  const image = pod.spec?.containers?.find((entry) => entry.name === container)?.image;
  return { container, containers, ...(image ? { image } : {}) };
}

/** What kubectl's stderr says went wrong. */
export type KubectlFailure = 'pod-not-found' | 'namespace-not-found' | 'unreachable' | 'forbidden' | 'other';

export function classifyKubectlFailure(stderr: string): KubectlFailure {
  if (/\(NotFound\).*pods? "/i.test(stderr)) return 'pod-not-found';
  if (/\(NotFound\).*namespaces? "/i.test(stderr)) return 'namespace-not-found';
  if (
    /Unable to connect to the server|The connection to the server .* was refused|connection refused|no such host|i\/o timeout|context deadline exceeded/i.test(
      stderr,
    )
  )
    return 'unreachable';
  if (/\(Forbidden\)|forbidden:/i.test(stderr)) return 'forbidden';
  return 'other';
}
