import { z } from 'zod';
import { errorMessage } from '../../errors/opsmate-error.js';
import { ExtensionRegistry, zodObjectProblem } from '../extension-registry.js';
import { TOOL_SPECIFICATION_VERSION, type ToolDefinition } from './tool-contract.js';

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
