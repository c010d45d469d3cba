import { z } from 'zod';
import { gatherTargetFacts } from '../../runtime/target-facts.js';
import { defineTool, type ToolResult } from '../../agent/tools/tool-contract.js';
import { targetFactsForModel, wrapUntrusted } from '../../agent/tools/untrusted-text.js';

/**
 * What `opsmate exec --info` prints, as a tool: the runtime and target, and where they apply OS,
 * user, systemd and the services (listening sockets, how services start). The runtime's own
 * fixed probes, each fact wrapped as untrusted data and masked by the guarded runtime.
 */
export const describeTargetTool = defineTool({
  name: 'DescribeTarget',
  summary: 'What the target is: runtime, OS, user, systemd, listening services (as `opsmate exec --info`)',
  description:
    'Describes the target the commands run on: the runtime and its target (host, container, pod), and where they apply the OS, the user, whether systemd runs, and the services (listening sockets with their processes, how services are started). Call it first to know where you are.',
  inputSchema: z.object({}),
  readOnly: true,
  title: () => 'describe the target',
  async execute(_input, context): Promise<ToolResult> {
    const facts = await gatherTargetFacts(context.runtime);
    const text = targetFactsForModel(facts);
    const failed =
      facts.failures.length > 0
        ? `\nSome probes failed:\n${wrapUntrusted('probe failures', facts.failures.join('\n'))}`
        : '';
    return { llmContent: `${text}${failed}`, display: { kind: 'text', text: `${text}${failed}` } };
  },
});
