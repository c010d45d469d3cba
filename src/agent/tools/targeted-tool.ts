import { z } from 'zod';
import { defineTool, type ToolContext, type ToolDefinition } from './tool-contract.js';

/** One target of a session with several: its name and what its tools act through. */
export interface SessionTarget {
  name: string;
  /** The tool as it acts on this target (a plugin's tool is guarded per target). */
  tool: ToolDefinition;
  /** The runtime, masking and guarded calls of this target. */
  context: Pick<ToolContext, 'runtime' | 'guardedCalls' | 'redactor'>;
}

/**
 * A tool of a session with several targets: the same tool with a `target` argument, an enum of the
 * session's target names, and each call run on that target with its runtime (its own persistent
 * shell), its policy scope, its review and its audit records. The model must name the target: a
 * call without one, or naming another, is refused by the schema before anything runs.
 */
export function targetedTool(name: string, targets: readonly SessionTarget[]): ToolDefinition {
  const first = targets[0]!.tool;
  const names = targets.map((target) => target.name) as [string, ...string[]];
  const inputSchema = first.inputSchema.extend({
    target: z.enum(names).describe(`Where it runs: one of this session's targets (${names.join(', ')})`),
  });
  const description = first.description;
  return defineTool({
    name,
    summary: first.summary,
    description: (options) =>
      `${typeof description === 'string' ? description : description(options)}\n\nThis session has ${names.length} targets; give \`target\`, one of: ${names.join(', ')}.`,
    inputSchema,
    ...(first.languages ? { languages: first.languages } : {}),
    readOnly: first.readOnly,
    title: (input) => {
      const { target, ...rest } = input as { target: string } & Record<string, unknown>;
      return `[${target}] ${first.title(rest as never)}`;
    },
    execute: async (input, context, options) => {
      const { target, ...rest } = input as { target: string } & Record<string, unknown>;
      const chosen = targets.find((candidate) => candidate.name === target)!;
      const { guardedCalls, redactor, runtime } = chosen.context;
      // Nothing of another target's context may be left over: what the target lacks is absent.
      const { guardedCalls: _calls, redactor: _redactor, ...shared } = context;
      const targetContext: ToolContext = {
        ...shared,
        runtime,
        ...(guardedCalls ? { guardedCalls } : {}),
        ...(redactor ? { redactor } : {}),
      };
      return chosen.tool.execute(rest as never, targetContext, options);
    },
  });
}
