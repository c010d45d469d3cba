import { fetchUrlTool } from './fetch-url/fetch-url-tool.js';
import { fileEditorTool } from './file-editor/file-editor-tool.js';
import { alertmanagerAlertsTool } from './monitoring/alertmanager-alerts-tool.js';
import { alertmanagerSilenceTool } from './monitoring/alertmanager-silence-tool.js';
import { lokiQueryTool } from './monitoring/loki-query-tool.js';
import { prometheusMetricsTool } from './monitoring/prometheus-metrics-tool.js';
import { prometheusQueryTool } from './monitoring/prometheus-query-tool.js';
import { fleetCommandTool } from './fleet-command/fleet-command-tool.js';
import { knowledgeRetrievalTool } from './knowledge-retrieval/knowledge-retrieval-tool.js';
import { readSpilledOutputTool } from './read-spilled-output/read-spilled-output-tool.js';
import { shellCommandTool } from './shell-command/shell-command-tool.js';
import type { ToolDefinition } from './tool-contract.js';
import { createToolRegistry, type ToolRegistry } from './tool-registry.js';

// The registry's own code has no tool in it: the plugin loader (on every command's path) imports
// that, and only commands that give the model tools load these.
export { createToolRegistry, validateToolDefinition, type ToolRegistry } from './tool-registry.js';

/** Every tool opsmate ships. A new tool is a folder beside these plus one line here. */
export const BUILTIN_TOOLS: readonly ToolDefinition[] = [
  shellCommandTool as unknown as ToolDefinition,
  readSpilledOutputTool as unknown as ToolDefinition,
  fileEditorTool as unknown as ToolDefinition,
  fetchUrlTool as unknown as ToolDefinition,
  fleetCommandTool as unknown as ToolDefinition,
  knowledgeRetrievalTool as unknown as ToolDefinition,
  prometheusMetricsTool as unknown as ToolDefinition,
  prometheusQueryTool as unknown as ToolDefinition,
  alertmanagerAlertsTool as unknown as ToolDefinition,
  alertmanagerSilenceTool as unknown as ToolDefinition,
  lokiQueryTool as unknown as ToolDefinition,
];

/** A registry holding the built-in tools. */
export function builtinToolRegistry(): ToolRegistry {
  const registry = createToolRegistry();
  for (const tool of BUILTIN_TOOLS) registry.register(tool);
  return registry;
}
