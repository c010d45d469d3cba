import { z } from 'zod';
import { errorMessage } from '../../errors/opsmate-error.js';
import { ExtensionRegistry, zodObjectProblem } from '../extension-registry.js';
import { fetchUrlTool } from './fetch-url/fetch-url-tool.js';
import { fileEditorTool } from './file-editor/file-editor-tool.js';
import { alertmanagerAlertsTool } from './monitoring/alertmanager-alerts-tool.js';
import { alertmanagerSilenceTool } from './monitoring/alertmanager-silence-tool.js';
import { lokiQueryTool } from './monitoring/loki-query-tool.js';
import { prometheusMetricsTool } from './monitoring/prometheus-metrics-tool.js';
import { prometheusQueryTool } from './monitoring/prometheus-query-tool.js';
import { fleetCommandTool } from './fleet-command/fleet-command-tool.js';
import { readSpilledOutputTool } from './read-spilled-output/read-spilled-output-tool.js';
import { shellCommandTool } from './shell-command/shell-command-tool.js';
import { TOOL_SPECIFICATION_VERSION, type ToolDefinition } from './tool-contract.js';

/** Every tool opsmate ships. A new tool is a folder beside these plus one line here. */
export const BUILTIN_TOOLS: readonly ToolDefinition[] = [
  shellCommandTool as unknown as ToolDefinition,
  readSpilledOutputTool as unknown as ToolDefinition,
  fileEditorTool as unknown as ToolDefinition,
  fetchUrlTool as unknown as ToolDefinition,
  fleetCommandTool as unknown as ToolDefinition,
  prometheusMetricsTool as unknown as ToolDefinition,
  prometheusQueryTool as unknown as ToolDefinition,
  alertmanagerAlertsTool as unknown as ToolDefinition,
  alertmanagerSilenceTool as unknown as ToolDefinition,
  lokiQueryTool as unknown as ToolDefinition,
];

/** Tool names as model APIs accept them: a letter, then letters, digits and _, at most 64. */
const TOOL_NAME = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;

export type ToolRegistry = ExtensionRegistry<ToolDefinition>;

export function createToolRegistry(): ToolRegistry {
  return new ExtensionRegistry<ToolDefinition>({
    kind: 'tool',
    listCommand: 'opsmate list-tools',
    ignoreCase: true,
    validate: validateToolDefinition,
  });
}

/** A registry holding the built-in tools. */
export function builtinToolRegistry(): ToolRegistry {
  const registry = createToolRegistry();
  for (const tool of BUILTIN_TOOLS) registry.register(tool);
  return registry;
}

/** What is wrong with a tool definition from untrusted code, or undefined. */
export function validateToolDefinition(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return 'a tool definition must be an object';
  const tool = value as Partial<Record<keyof ToolDefinition, unknown>>;
  if (tool.specificationVersion !== TOOL_SPECIFICATION_VERSION) {
    return `tool definition has specificationVersion ${JSON.stringify(tool.specificationVersion)}, expected "${TOOL_SPECIFICATION_VERSION}" (build it with defineTool())`;
  }
  if (typeof tool.name !== 'string' || !TOOL_NAME.test(tool.name)) {
    return `tool name ${JSON.stringify(tool.name)} must match ${TOOL_NAME.source}`;
  }
  const what = `tool "${tool.name}"`;
  if (typeof tool.summary !== 'string' || tool.summary.trim() === '') return `${what} has no summary`;
  if (typeof tool.description !== 'string' && typeof tool.description !== 'function') {
    return `${what} has no description`;
  }
  if (typeof tool.readOnly !== 'boolean') {
    return `${what} must say whether it only reads: readOnly: true or false`;
  }
  if (typeof tool.title !== 'function') return `${what} has no title()`;
  if (typeof tool.execute !== 'function') return `${what} has no execute()`;
  if (tool.unavailable !== undefined && typeof tool.unavailable !== 'function')
    return `${what}: unavailable must be a function`;
  const schemaProblem = zodObjectProblem(tool.inputSchema, `${what}: its inputSchema`);
  if (schemaProblem) return schemaProblem;
  try {
    z.toJSONSchema(tool.inputSchema as z.ZodObject, { io: 'input' });
  } catch (error) {
    return `${what}: its inputSchema cannot be sent to the model as JSON Schema: ${errorMessage(error)}`;
  }
  return undefined;
}
