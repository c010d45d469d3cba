import { co } from '../../process/child-process.js';
import { SHELL_LANGUAGE, type Runtime } from '../../runtime/contract.js';
import { gatherTargetFacts } from '../../runtime/target-facts.js';
import { targetFactsForModel, wrapUntrusted } from '../tools/untrusted-text.js';
import { defineContext } from './context-contract.js';
import { DEFAULT_TOOLS, toolHints, WORKING_RULES } from './shared-instructions.js';

const INSTRUCTIONS = `You are opsmate, an SRE assistant for Kubernetes. You help the user operate and troubleshoot a Kubernetes cluster by running kubectl (and other shell commands) with the ShellCommand tool from the machine described below.`;

const KUBECTL_RULES = `Rules for kubectl:
- Always pass the namespace: -n NAMESPACE (or --all-namespaces to list across them); never rely on the context's default.
- Start from get (with -o wide) and describe, events (kubectl get events -n NS --sort-by=.lastTimestamp) and logs before changing anything.
- Bound every log read: kubectl logs --tail=200 (add --since=1h, --previous for a crashed container); never -f, never -w.
- Nothing interactive: no kubectl edit, no exec -it, no port-forward or attach that never ends.
- Never apply a manifest from a heredoc (kubectl apply -f - <<EOF): write it to a file (FileEditor create, which the operator sees as a diff), check it with kubectl diff -f FILE, then apply -f FILE.
- Before scaling, deleting, restarting or patching, say what it will do and why.`;

const TOOLS = DEFAULT_TOOLS;
/** Kube contexts and namespaces told to the model at most. */
const MAX_CONTEXT_LINES = 20;
const MAX_NAMESPACES = 60;
const PROBE_TIMEOUT_MS = 15_000;

/** Kubernetes troubleshooting through kubectl on the runtime's machine. */
export const k8sContext = defineContext({
  name: 'k8s',
  description: 'Kubernetes troubleshooting through kubectl: kube contexts and namespaces gathered first',
  tools: TOOLS,
  async systemPrompt({ runtime, instructions, tools, signal }) {
    const facts = targetFactsForModel(await gatherTargetFacts(runtime));
    const cluster = await kubeFacts(runtime, signal);
    const rules = [WORKING_RULES, ...toolHints(tools ?? TOOLS)].join('\n');
    return [
      instructions ?? INSTRUCTIONS,
      '',
      rules,
      '',
      KUBECTL_RULES,
      '',
      cluster,
      '',
      'The machine kubectl runs on:',
      facts,
    ].join('\n');
  },
});

/**
 * The kube contexts and the current context's namespaces, gathered before the first model call:
 * with kubectl through the runtime (guarded and audited like any command; both are read-only), or,
 * when the target has no kubectl (a k8s runtime's pod), with the kubectl opsmate itself uses.
 */
async function kubeFacts(runtime: Runtime, signal: AbortSignal | undefined): Promise<string> {
  if ((runtime.language ?? SHELL_LANGUAGE).id !== SHELL_LANGUAGE.id)
    return 'Kubernetes: not looked at (the runtime has no shell).';
  const onTarget = await probeOnTarget(runtime, signal);
  const found = onTarget ?? (await probeLocally(runtime.target().context, signal));
  const where = onTarget
    ? 'kubectl on the machine below'
    : 'kubectl on the opsmate machine (the target has none)';
  if (!found)
    return `Kubernetes: kubectl is not installed on the target${runtime.name === 'local' ? '' : ' nor on the opsmate machine'}.`;
  const lines = [`Kubernetes, as ${where} sees it (gathered before this conversation):`];
  if (found.contexts.ok) {
    const contextLines = found.contexts.text.split('\n').filter((line) => line.trim() !== '');
    const cut = contextLines.length > MAX_CONTEXT_LINES + 1;
    lines.push(
      'Contexts (kubectl config get-contexts; * marks the current one):',
      wrapUntrusted(
        'kube-contexts',
        [
          ...contextLines.slice(0, MAX_CONTEXT_LINES + 1),
          ...(cut ? [`... ${contextLines.length - MAX_CONTEXT_LINES - 1} more`] : []),
        ].join('\n'),
      ),
    );
  } else
    lines.push(
      'Contexts: kubectl config get-contexts failed:',
      wrapUntrusted('kube-contexts-error', found.contexts.text),
    );
  if (found.namespaces.ok) {
    const names = found.namespaces.text
      .split('\n')
      .map((line) => line.trim().replace(/^namespace\//, ''))
      .filter((name) => name !== '');
    const shown = names.slice(0, MAX_NAMESPACES).join(' ');
    lines.push(
      `Namespaces in the current context (${names.length}${names.length > MAX_NAMESPACES ? `, the first ${MAX_NAMESPACES} shown` : ''}):`,
      wrapUntrusted('kube-namespaces', shown || '(none)'),
    );
  } else
    lines.push(
      'Namespaces: kubectl get namespaces failed:',
      wrapUntrusted('kube-namespaces-error', found.namespaces.text),
    );
  return lines.join('\n');
}

interface Probe {
  ok: boolean;
  text: string;
}

async function probeOnTarget(
  runtime: Runtime,
  signal: AbortSignal | undefined,
): Promise<{ contexts: Probe; namespaces: Probe } | undefined> {
  const run = async (command: string): Promise<Probe & { missing: boolean }> => {
    const result = await runtime.run(command, { timeoutMs: PROBE_TIMEOUT_MS, ...(signal ? { signal } : {}) });
    const missing =
      result.exitCode === 127 || /kubectl: (command )?not found|No such file/.test(result.stderr);
    const ok = result.exitCode === 0;
    return {
      ok,
      missing,
      text: (ok ? result.stdout : result.stderr || result.notice || `exit ${result.exitCode}`).trim(),
    };
  };
  const contexts = await run('kubectl config get-contexts');
  if (contexts.missing) return undefined;
  const namespaces = await run('kubectl get namespaces -o name');
  return { contexts, namespaces };
}

async function probeLocally(
  context: string | undefined,
  signal: AbortSignal | undefined,
): Promise<{ contexts: Probe; namespaces: Probe } | undefined> {
  const base = ['kubectl', ...(context ? [`--context=${context}`] : [])];
  const run = async (args: string[]): Promise<Probe & { missing: boolean }> => {
    const result = await co([...base, ...args], {
      timeoutMs: PROBE_TIMEOUT_MS,
      ...(signal ? { signal } : {}),
    });
    const missing = result.spawnError !== undefined;
    const ok = result.exitCode === 0;
    return { ok, missing, text: (ok ? result.stdout : result.stderr || `exit ${result.exitCode}`).trim() };
  };
  const contexts = await run(['config', 'get-contexts']);
  if (contexts.missing) return undefined;
  return { contexts, namespaces: await run(['get', 'namespaces', '-o', 'name']) };
}
