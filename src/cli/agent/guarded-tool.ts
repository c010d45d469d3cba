import type { ToolDefinition, ToolResult } from '../../agent/tools/tool-contract.js';
import { wrapUntrusted } from '../../agent/tools/untrusted-text.js';
import { errorMessage } from '../../errors/opsmate-error.js';
import type { ToolCallGuard } from '../../safety/tool-call-guard.js';

/**
 * A plugin's tool whose every call goes through the tool-call guard: policy (by `readOnly`),
 * review, secret masking and the audit log. A refused call reaches the model as "NOT run" with
 * the reason; an error thrown by the plugin names the plugin.
 */
export function guardedTool(options: {
  tool: ToolDefinition;
  guard: ToolCallGuard;
  /** `plugin opsmate-tool-http`, for messages and the audit log. */
  origin: string;
  /** The runtime's name and target, recorded with each call. */
  runtime: { name: string; target(): Record<string, string> };
}): ToolDefinition {
  const { tool, guard, origin, runtime } = options;
  return {
    ...tool,
    async execute(input, context, callOptions): Promise<ToolResult> {
      const outcome = await guard.run<ToolResult>({
        call: {
          tool: tool.name,
          arguments: input,
          readOnly: tool.readOnly,
          runtime: runtime.name,
          target: runtime.target(),
          origin,
        },
        signal: callOptions.signal,
        validate: (raw) => {
          const parsed = tool.inputSchema.safeParse(raw);
          return parsed.success
            ? { ok: true, value: parsed.data }
            : { ok: false, message: parsed.error.issues.map((issue) => issue.message).join('; ') };
        },
        execute: async (args) => {
          // A plugin's tool is guarded from outside: it gets no guard of its own to hand out.
          const { guardedCalls: _own, ...pluginContext } = context;
          try {
            return await tool.execute(args as never, pluginContext, callOptions);
          } catch (error) {
            const message = `${tool.name} (${origin}) failed: ${errorMessage(error)}`;
            return { llmContent: message, display: { kind: 'text', text: message }, isError: true };
          }
        },
        mask: (result, redact) => {
          const llm = redact(result.llmContent);
          const display =
            result.display.kind === 'text'
              ? { kind: 'text' as const, text: redact(result.display.text).text }
              : result.display;
          return {
            value: { ...result, llmContent: llm.text, display },
            outputBytes: Buffer.byteLength(result.llmContent),
            failed: result.isError === true,
            redactions: llm.count,
          };
        },
      });
      if (!outcome.ran) {
        const text = `The ${tool.name} call was NOT run: ${outcome.reason}.\nDo not assume its outcome; ask the user or try another approach.`;
        return { llmContent: text, display: { kind: 'text', text: `not run: ${outcome.reason}` } };
      }
      if (!outcome.edited) return outcome.value;
      const note = `The user edited the arguments before the call ran: ${wrapUntrusted('arguments', JSON.stringify(outcome.arguments))}\n`;
      return { ...outcome.value, llmContent: note + outcome.value.llmContent };
    },
  };
}
