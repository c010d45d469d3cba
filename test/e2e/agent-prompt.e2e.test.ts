// What the model is told, from the session's real settings: the time, the step budget, what
// happens to a change, the target's services, the tools' limits; the cli-lite context for small
// models; and the k8s context's kube contexts and namespaces, through the STAND-IN kubectl
// (test-support/bin/kubectl: no cluster runs here; it answers `config get-contexts` and
// `get namespaces` from its environment and the local containers' labels).
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { delimiter } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  busyboxImageMissingReason,
  ensureBusyboxImage,
  removeContainers,
  startSleepingContainer,
  uniqueContainerName,
} from '../../test-support/docker-images.js';
import {
  FakeLlmServer,
  systemPromptOf,
  toolDescriptionsOf,
  toolNamesOf,
} from '../../test-support/fake-llm/index.js';
import { integrationSkip } from '../../test-support/integration.js';
import { runCliIsolated } from '../../test-support/run-cli.js';

const STAND_IN_BIN = new URL('../../test-support/bin', import.meta.url).pathname;
const busyboxSkip = integrationSkip('dockerd (for the stand-in kubectl)', busyboxImageMissingReason());
const pod = busyboxSkip
  ? undefined
  : await startSleepingContainer({
      image: await ensureBusyboxImage(),
      name: uniqueContainerName('prompt-pod'),
      labels: { 'opsmate.test/namespace': 'team-prompt', 'opsmate.test/containers': 'app' },
    });
after(async () => await removeContainers(pod ? [pod] : []));

describe('what the model is told', () => {
  let fake: FakeLlmServer;
  let listener: Server;
  let port = 0;
  before(async () => {
    fake = await FakeLlmServer.start();
    listener = createServer();
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', () => resolve()));
    port = (listener.address() as { port: number }).port;
  });
  after(async () => {
    await fake?.close();
    listener?.close();
  });
  const ask = async (args: string[], env: Record<string, string> = {}) => {
    fake.requests.length = 0;
    fake.enqueue({ text: 'ok' });
    const run = await runCliIsolated({ args, env: { OPENAI_BASE_URL: fake.openAiBaseUrl, ...env } });
    assert.equal(run.exitCode, 0, run.stderr);
    return fake.requests[0]!;
  };

  it('the time, the budget from -i, what happens to a change, the services, the output limit', async () => {
    const request = await ask(['solve', 'look', '-i', '7', '-l', '6000']);
    const system = systemPromptOf(request);
    const year = new Date().getUTCFullYear();
    assert.match(system, new RegExp(`- Current time: ${year}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d UTC`));
    assert.match(system, /- Budget: up to 7 rounds of tool calls for this request/);
    // No terminal and the read-only profile: a change is refused, and the model is told so.
    assert.match(
      system,
      /- Changes: only commands the policy recognises as read-only run by themselves\. .* is refused, because there is no operator to ask/,
    );
    assert.match(
      system,
      new RegExp(
        `Services:\\n<untrusted-data id="\\w+" source="services">\\nListening sockets:\\n[\\s\\S]*127\\.0\\.0\\.1:${port} [^\\n]*\\(pid ${process.pid}\\)`,
      ),
    );
    assert.match(system, /Read and change files on the target with FileEditor/);
    assert.deepEqual(toolNamesOf(request), ['ShellCommand', 'ReadSpilledOutput', 'FileEditor', 'FetchUrl']);
    const descriptions = toolDescriptionsOf(request);
    assert.match(descriptions.ShellCommand!, /Output beyond 6000 bytes per stream/);
    assert.match(descriptions.ShellCommand!, /exit code is that of the last command of a list or pipeline/);
    assert.match(descriptions.FileEditor!, /never the machine opsmate runs on/);
    assert.match(descriptions.FetchUrl!, /FROM THE TARGET/);
  });

  it('one round for run, and changes that run unasked in allow-all', async () => {
    const system = systemPromptOf(await ask(['run', 'look', '--policy-profile', 'allow-all']));
    assert.match(system, /- Budget: ONE round of tool calls/);
    assert.match(system, /- Changes: commands and file changes run without asking/);
  });

  it('cli-lite: ShellCommand only, a short prompt with the essentials', async () => {
    const request = await ask(['run', 'look', '-c', 'cli-lite']);
    assert.deepEqual(toolNamesOf(request), ['ShellCommand']);
    const system = systemPromptOf(request);
    assert.ok(system.length < 2000, `the prompt has ${system.length} characters`);
    assert.match(system, /The target:\n<untrusted-data id="\w+" source="target-facts">\nRuntime: local\n/);
    assert.match(system, /- Budget: ONE round/);
    assert.doesNotMatch(system, /FileEditor|Services:/);
  });

  it(
    'k8s: kube contexts, namespaces and the kubectl rules, gathered through the runtime',
    { skip: busyboxSkip },
    async () => {
      const env = {
        PATH: `${STAND_IN_BIN}${delimiter}${process.env.PATH ?? ''}`,
        OPSMATE_FAKE_KUBECTL_CONTEXTS: 'prod-eu,staging',
      };
      const system = systemPromptOf(await ask(['run', 'look', '-c', 'k8s'], env));
      assert.match(
        system,
        /Kubernetes, as kubectl on the machine below sees it \(gathered before this conversation\):/,
      );
      assert.match(
        system,
        /source="kube-contexts">\nCURRENT +NAME[^\n]*\n\* +prod-eu +prod-eu-cluster[^\n]*\n +staging /,
      );
      assert.match(
        system,
        /Namespaces in the current context \(\d+\):\n<untrusted-data id="\w+" source="kube-namespaces">\n[^\n]*\bdefault kube-system\b[^\n]*\bteam-prompt\b/,
      );
      assert.match(system, /Always pass the namespace: -n NAMESPACE/);
      assert.match(system, /kubectl logs --tail=200/);
      assert.match(system, /no kubectl edit/);
      assert.match(system, /Never apply a manifest from a heredoc \(kubectl apply -f - <<EOF\)/);
    },
  );

  it(
    "k8s on the k8s runtime: the pod has no kubectl, so opsmate's own kubectl is asked",
    { skip: busyboxSkip },
    async () => {
      const env = { PATH: `${STAND_IN_BIN}${delimiter}${process.env.PATH ?? ''}` };
      const system = systemPromptOf(
        await ask(
          [
            'run',
            'look',
            '-c',
            'k8s',
            '--shell-command-runtime',
            'k8s',
            '--runtime-k8s-pod',
            pod ?? 'none',
            '--runtime-k8s-namespace',
            'team-prompt',
          ],
          env,
        ),
      );
      assert.match(system, /Kubernetes, as kubectl on the opsmate machine \(the target has none\) sees it/);
      assert.match(system, /\* +stand-in /);
      assert.match(system, /\bteam-prompt\b/);
    },
  );
});
