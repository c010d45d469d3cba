import { z } from 'zod';
import { envVarMap } from '../../config/schema-fields.js';
import { RuntimeError } from '../../errors/opsmate-error.js';
import { co, type CoResult } from '../../process/child-process.js';
import {
  defineRuntime,
  type RunOptions,
  type RunResult,
  type RuntimeContext,
} from '../../runtime/contract.js';
import { ShellRuntime } from '../../runtime/shell-runtime.js';
import type { ShellExit, ShellTransport } from '../../runtime/shell-session/shell-session.js';
import {
  checkPod,
  classifyKubectlFailure,
  kubectlExecArgv,
  kubectlGetPodArgv,
  kubectlSideChannelArgv,
  kubernetesNameProblem,
  type KubectlTarget,
  type UsablePod,
} from './kubectl-cli.js';
import { pathSegments } from '../../targets/uri-parts.js';
import { k8sDiscovery } from './k8s-discovery.js';

/** kubectl get: a slow API server answers within this. */
const KUBECTL_CALL_TIMEOUT_MS = 30_000;
const SIDE_CHANNEL_TIMEOUT_MS = 15_000;

export const k8sConfigSchema = z.object({
  namespace: z.string().default('default').describe('Namespace of the pod'),
  pod: z.string().describe('Pod to run commands in'),
  container: z.string().optional().describe("Container in the pod (default: the pod's first container)"),
  shell: z
    .string()
    .default('/bin/sh')
    .describe('Shell in the container (default /bin/sh, which every image with a shell has)'),
  context: z.string().optional().describe('kubeconfig context (default: the current context)'),
  kubeconfig: z.string().optional().describe('kubeconfig file (default: $KUBECONFIG or ~/.kube/config)'),
  env: envVarMap().describe('Environment variables exported in the shell, as k=v,k2=v2'),
});

export type K8sConfig = z.output<typeof k8sConfigSchema>;

class K8sRuntime extends ShellRuntime {
  readonly #config: K8sConfig;
  readonly #target: KubectlTarget;
  #pod: UsablePod | undefined;

  constructor(config: K8sConfig, context: RuntimeContext) {
    super({ name: 'k8s', context, env: config.env });
    this.#config = config;
    this.#target = {
      namespace: config.namespace,
      pod: config.pod,
      ...(config.context ? { context: config.context } : {}),
      ...(config.kubeconfig ? { kubeconfig: config.kubeconfig } : {}),
    };
  }

  get #where(): string {
    return `pod ${this.#config.pod} (namespace ${this.#config.namespace})`;
  }

  protected override async preflight(): Promise<void> {
    const problem = kubernetesNameProblem({
      namespace: this.#config.namespace,
      pod: this.#config.pod,
      ...(this.#config.container !== undefined ? { container: this.#config.container } : {}),
    });
    if (problem) {
      throw new RuntimeError(`k8s runtime: ${problem}`, {
        hint: 'fix --runtime-k8s-pod / --runtime-k8s-namespace / --runtime-k8s-container',
      });
    }
    this.#pod = await this.#checkPod();
  }

  protected override transport(): ShellTransport {
    const container = this.#pod?.container ?? this.#config.container;
    if (!container) throw new RuntimeError('k8s runtime: connect() was not called');
    return { argv: kubectlExecArgv({ ...this.#target, container, shell: this.#config.shell }) };
  }

  protected override sideChannel(script: string, args: string[]): Promise<CoResult> {
    const container = this.#pod?.container;
    if (!container) return Promise.reject(new Error('k8s runtime: no container yet'));
    return co(kubectlSideChannelArgv({ ...this.#target, container, script, args }), {
      timeoutMs: SIDE_CHANNEL_TIMEOUT_MS,
    });
  }

  protected override describeExit(exit: ShellExit): string | undefined {
    const stderr = exit.stderr;
    if (/container not found|cannot exec into a container in a completed pod/i.test(stderr)) {
      return `the container is gone from ${this.#where}: ${lastLine(stderr)}`;
    }
    switch (classifyKubectlFailure(stderr)) {
      case 'pod-not-found':
        return `${this.#where} no longer exists`;
      case 'unreachable':
        return `lost the connection to the Kubernetes API server (${lastLine(stderr)})`;
      case 'forbidden':
        return `kubectl was refused: ${lastLine(stderr)}`;
      default:
        if (/executable file not found|no such file or directory/i.test(stderr)) {
          return `the shell ${this.#config.shell} does not exist in the container (set --runtime-k8s-shell)`;
        }
        if (/exit code 137/.test(stderr))
          return `the shell was killed (exit code 137; the container may have restarted)`;
        if (exit.exitCode === 126 || exit.exitCode === 127 || /exit code 12[67]/.test(stderr)) {
          return `the shell ${this.#config.shell} could not be started in the container (status ${exit.exitCode}: missing or not executable; set --runtime-k8s-shell)`;
        }
        return undefined;
    }
  }

  /** kubectl only says the stream ended; when the shell is lost, ask what happened to the pod. */
  override async run(command: string, options: RunOptions = {}): Promise<RunResult> {
    const result = await super.run(command, options);
    if (!result.shellExited) return result;
    const got = await co(kubectlGetPodArgv(this.#target), { timeoutMs: KUBECTL_CALL_TIMEOUT_MS });
    let notice: string | undefined;
    if (got.exitCode !== 0) {
      if (classifyKubectlFailure(got.stderr) === 'pod-not-found') {
        notice = `${this.#where} was deleted during the command`;
      }
    } else {
      const checked = checkPod(got.stdout, { ...this.#target, ...this.#containerOption() });
      if ('problem' in checked) notice = `${checked.problem} (it changed during the command)`;
    }
    if (!notice) return result;
    // Keep the session's word on a timeout or a cancel; its guess about the shell is replaced.
    const interrupted = (result.timedOut || result.cancelled) && result.notice;
    return { ...result, notice: interrupted ? `${notice}; ${result.notice}` : notice };
  }

  async runtimeInfo(): Promise<string> {
    return [
      'Runtime: k8s. Commands run inside a Kubernetes pod through `kubectl exec`, in a persistent shell.',
      `Pod: ${this.#config.pod}`,
      `Namespace: ${this.#config.namespace}`,
      `Container: ${this.#pod?.container ?? this.#config.container ?? '(the first one)'}` +
        (this.#pod && this.#pod.containers.length > 1
          ? ` (the pod has: ${this.#pod.containers.join(', ')})`
          : ''),
      ...(this.#pod?.image ? [`Image: ${this.#pod.image}`] : []),
      ...(this.#config.context ? [`Context: ${this.#config.context}`] : []),
      `Shell: ${this.#config.shell}`,
      ...(this.session.cwd ? [`Working directory: ${this.session.cwd}`] : []),
    ].join('\n');
  }

  target(): Record<string, string> {
    return {
      namespace: this.#config.namespace,
      pod: this.#config.pod,
      ...((this.#pod?.container ?? this.#config.container)
        ? { container: this.#pod?.container ?? this.#config.container! }
        : {}),
      ...(this.#config.context ? { context: this.#config.context } : {}),
    };
  }

  #containerOption(): { container?: string } {
    const container = this.#pod?.container ?? this.#config.container;
    return container ? { container } : {};
  }

  async #checkPod(): Promise<UsablePod> {
    const got = await co(kubectlGetPodArgv(this.#target), { timeoutMs: KUBECTL_CALL_TIMEOUT_MS });
    if (got.spawnError?.code === 'ENOENT') {
      throw new RuntimeError('k8s runtime: kubectl is not installed (not found on PATH)', {
        hint: 'install kubectl (https://kubernetes.io/docs/tasks/tools/) or add it to PATH',
      });
    }
    if (got.exitCode !== 0) {
      const said = lastLine(got.stderr) || `exit status ${got.exitCode ?? got.signal}`;
      switch (classifyKubectlFailure(got.stderr)) {
        case 'pod-not-found':
          throw new RuntimeError(`k8s runtime: ${this.#where} not found`, {
            hint: `list pods with \`kubectl get pods -n ${this.#config.namespace}\`, then set --runtime-k8s-pod`,
          });
        case 'namespace-not-found':
          throw new RuntimeError(`k8s runtime: namespace ${this.#config.namespace} not found`, {
            hint: 'set --runtime-k8s-namespace (env RUNTIME_K8S_NAMESPACE)',
          });
        case 'unreachable':
          throw new RuntimeError(`k8s runtime: cannot reach the Kubernetes API server: ${said}`, {
            hint: 'check the cluster is up and --runtime-k8s-context / --runtime-k8s-kubeconfig point at it',
          });
        case 'forbidden':
          throw new RuntimeError(`k8s runtime: not allowed to read ${this.#where}: ${said}`, {
            hint: 'use a context whose user may get and exec into pods',
          });
        default:
          throw new RuntimeError(`k8s runtime: kubectl get pod failed: ${said}`);
      }
    }
    const checked = checkPod(got.stdout, { ...this.#target, ...this.#containerOption() });
    if ('problem' in checked)
      throw new RuntimeError(`k8s runtime: ${checked.problem}`, { hint: checked.hint });
    return checked;
  }
}

function lastLine(text: string): string {
  const lines = text.trim().split('\n');
  return (lines[lines.length - 1] ?? '').trim();
}

export const k8sRuntime = defineRuntime({
  name: 'k8s',
  description: 'Runs commands inside a Kubernetes pod through kubectl exec.',
  configSchema: k8sConfigSchema,
  uri: {
    schemes: ['k8s'],
    usage: ['k8s://namespace/pod[/container]', 'k8s://context/namespace/pod/[container]'],
    fields: ({ body }) => {
      const parts = pathSegments(body, 'name');
      // Three parts are namespace/pod/container; a context comes with four (the last may be empty).
      const [context, namespace, pod, container] =
        parts.length === 4
          ? parts
          : parts.length === 3
            ? [undefined, ...parts]
            : [undefined, ...parts, undefined];
      if (parts.length < 2 || parts.length > 4 || !namespace || !pod)
        throw new Error(
          'expected namespace/pod, namespace/pod/container or context/namespace/pod/[container]',
        );
      return {
        namespace,
        pod,
        ...(container ? { container } : {}),
        ...(context ? { context } : {}),
      };
    },
  },
  discover: k8sDiscovery,
  create: (config, context) => new K8sRuntime(config, context),
});
