import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  CallToolRequestSchema,
  ListToolsRequestSchema,
  type CallToolResult,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import {
  buildToolCall,
  toolDescription,
  type ToolContext,
  type ToolDefinition,
  type ToolResult,
} from '../../agent/tools/tool-contract.js';
import { errorMessage } from '../../errors/opsmate-error.js';
import { isNotRunResult } from '../../runtime/command-review.js';

/** What a call's outcome says beyond its text, for clients that read structured content. */
interface CallFacts {
  /** The command's exit code; null when it was stopped or did not run. */
  exitCode?: number | null;
  timedOut?: boolean;
  cancelled?: boolean;
  /** It was refused (policy, nobody to ask, no audit record) and never started. */
  notRun?: boolean;
}

/** Runs work one piece at a time, in order; shared by every session on one runtime. */
export class SerialQueue {
  #tail: Promise<unknown> = Promise.resolve();

  run<T>(work: () => Promise<T>): Promise<T> {
    const next = this.#tail.then(work, work);
    this.#tail = next.catch(() => undefined);
    return next;
  }

  /** Resolves once everything queued so far has finished. */
  async idle(): Promise<void> {
    await this.#tail;
  }
}

/**
 * opsmate's tools served over MCP: each `tools/call` runs the same tool definition the agent's
 * model calls, with the same tool context, so the guarded runtime and the tool-call guard judge,
 * record and mask it (commands through `GuardedRuntime`; file tools and URL fetches through
 * `guardedCalls`). Calls run one at a time, in order, as in the agent: the runtime has one shell.
 * A client's cancellation (`notifications/cancelled`) and `close()` abort the running call.
 */
export function createOpsmateMcpServer(options: {
  tools: readonly ToolDefinition[];
  toolContext: ToolContext;
  version: string;
  /** Shared by the sessions of one runtime (HTTP serves several); default: one of its own. */
  queue?: SerialQueue;
  /** Told when a tool throws (a bug); the client gets an error result naming the tool. */
  onToolError?: (message: string) => void;
}): { server: Server; close(): Promise<void> } {
  const { tools, toolContext } = options;
  const server = new Server(
    { name: 'opsmate', version: options.version },
    {
      capabilities: { tools: {} },
      instructions:
        'opsmate runs commands on one target (a host over SSH, a container, a pod, or this machine) with a command policy, secret masking and an audit log. Commands that the policy does not allow are not run, and the result says why: nobody can be asked from here. Call DescribeTarget first.',
    },
  );
  const stopAll = new AbortController();
  const queue = options.queue ?? new SerialQueue();

  server.setRequestHandler(ListToolsRequestSchema, () => ({
    tools: tools.map((tool): Tool => ({
      name: tool.name,
      description: toolDescription(tool, toolContext.runtime, {
        maxOutputLength: toolContext.maxOutputLength,
      }),
      inputSchema: z.toJSONSchema(tool.inputSchema, { io: 'input' }) as Tool['inputSchema'],
      annotations: { title: tool.summary, readOnlyHint: tool.readOnly, openWorldHint: true },
    })),
  }));

  server.setRequestHandler(CallToolRequestSchema, async (request, extra): Promise<CallToolResult> => {
    const tool = tools.find((candidate) => candidate.name === request.params.name);
    if (!tool) {
      return errorResult(
        `There is no tool ${request.params.name}; the tools are ${tools.map((candidate) => candidate.name).join(', ')}.`,
      );
    }
    const built = buildToolCall(tool, request.params.arguments ?? {});
    if (!built.ok) return errorResult(built.message);
    return queue.run(async () => {
      const signal = AbortSignal.any([extra.signal, stopAll.signal]);
      if (signal.aborted)
        return errorResult(`The ${tool.name} call was cancelled before it started; nothing ran.`);
      let result: ToolResult;
      try {
        result = await tool.execute(built.input as never, toolContext, { signal });
      } catch (error) {
        const message = `${tool.name} failed: ${errorMessage(error)}`;
        options.onToolError?.(message);
        return errorResult(message);
      }
      const facts = callFacts(result);
      return {
        content: [{ type: 'text', text: result.llmContent }],
        ...(result.isError === true || facts.notRun === true ? { isError: true } : {}),
        ...(Object.keys(facts).length > 0 ? { structuredContent: { ...facts } } : {}),
      };
    });
  });

  return {
    server,
    close: async () => {
      stopAll.abort();
      await queue.idle();
      await server.close();
    },
  };
}

function errorResult(text: string): CallToolResult {
  return { content: [{ type: 'text', text }], isError: true };
}

function callFacts(result: ToolResult): CallFacts {
  if (result.display.kind !== 'command') return {};
  const run = result.display.result;
  const notRun = isNotRunResult(run);
  return {
    exitCode: run.exitCode,
    ...(run.timedOut ? { timedOut: true } : {}),
    ...(run.cancelled ? { cancelled: true } : {}),
    ...(notRun ? { notRun: true } : {}),
  };
}
