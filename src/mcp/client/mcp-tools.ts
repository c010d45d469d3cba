import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import {
  defineTool,
  truncateText,
  type ToolDefinition,
  type ToolResult,
} from '../../agent/tools/tool-contract.js';
import { wrapUntrusted } from '../../agent/tools/untrusted-text.js';
import { errorMessage } from '../../errors/opsmate-error.js';
import { McpConnection, type McpToolInfo } from './mcp-connection.js';
import type { McpServerConfig } from './mcp-server-config.js';

/** Characters of a server's tool description the model is given. */
const MAX_DESCRIPTION_CHARS = 2000;

/** One MCP tool as the model gets it, with where it comes from. */
export interface McpTool {
  /** The server's name, as configured. */
  server: string;
  /** The tool's own name on its server. */
  tool: string;
  /** What the policy, audit and review see: `origin` of the call, `mcp <server>`. */
  origin: string;
  /** The scope of policy rules and audit records: runtime `mcp`, target `{ server }`. */
  runtime: { name: 'mcp'; target(): Record<string, string> };
  /** NOT guarded: the caller wraps it in the tool-call guard before the model may call it. */
  definition: ToolDefinition;
}

/** The servers that started, their tools, and one line per server that did not. */
export interface McpTools {
  connections: McpConnection[];
  tools: McpTool[];
  /** `MCP server "x" (stdio: ...) did not start: ...`, one per failed server. */
  problems: string[];
  close(): Promise<void>;
}

/**
 * Starts every configured server at once, each within `timeoutMs`; a server that fails is one
 * line in `problems` and the others carry on. Tools are named `<server>__<tool>` (characters a
 * model API does not take become `_`, cut to 64); a name that clashes with one before it is left
 * out and said in `problems`.
 */
export async function connectMcpServers(options: {
  servers: readonly McpServerConfig[];
  timeoutMs: number;
  signal?: AbortSignal;
  /** Names already taken (the built-in tools). */
  reservedNames?: readonly string[];
  onStderr?: (server: string, line: string) => void;
}): Promise<McpTools> {
  const settled = await Promise.allSettled(
    options.servers.map((server) =>
      McpConnection.open({
        server,
        timeoutMs: options.timeoutMs,
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.onStderr ? { onStderr: (line: string) => options.onStderr!(server.name, line) } : {}),
      }),
    ),
  );
  const connections: McpConnection[] = [];
  const problems: string[] = [];
  for (const outcome of settled) {
    if (outcome.status === 'fulfilled') connections.push(outcome.value);
    else problems.push(errorMessage(outcome.reason));
  }
  const taken = new Set((options.reservedNames ?? []).map((name) => name.toLowerCase()));
  const tools: McpTool[] = [];
  for (const connection of connections) {
    for (const info of offeredTools(connection)) {
      const name = mcpToolName(connection.server.name, info.name);
      if (taken.has(name.toLowerCase())) {
        problems.push(
          `MCP server "${connection.server.name}": its tool ${info.name} is left out: the name ${name} is taken`,
        );
        continue;
      }
      taken.add(name.toLowerCase());
      tools.push({
        server: connection.server.name,
        tool: info.name,
        origin: `mcp ${connection.server.name}`,
        runtime: { name: 'mcp', target: () => ({ server: connection.server.name }) },
        definition: mcpToolDefinition({ connection, info, name }),
      });
    }
  }
  return {
    connections,
    tools,
    problems,
    close: async () => {
      await Promise.all(connections.map((connection) => connection.close()));
    },
  };
}

/** `<server>__<tool>`, in the characters model APIs accept for tool names, at most 64. */
export function mcpToolName(server: string, tool: string): string {
  const clean = (text: string) => text.replace(/[^A-Za-z0-9_]/g, '_');
  let name = `${clean(server)}__${clean(tool)}`;
  if (!/^[A-Za-z]/.test(name)) name = `mcp_${name}`;
  return name.slice(0, 64);
}

/** The server's tools the user lets the model see (`includeTools`, `excludeTools`). */
function offeredTools(connection: McpConnection): McpToolInfo[] {
  const { includeTools, excludeTools } = connection.server;
  return connection.tools.filter(
    (tool) =>
      (includeTools === undefined || includeTools.includes(tool.name)) && !excludeTools?.includes(tool.name),
  );
}

/** Whether the user declared this tool read-only; the server's own `readOnlyHint` does not count. */
export function userSaysReadOnly(server: McpServerConfig, tool: string): boolean {
  return server.readOnly === true || (Array.isArray(server.readOnly) && server.readOnly.includes(tool));
}

/**
 * A tool definition that calls `info` on its server. The arguments are checked against the
 * server's JSON Schema (converted to zod; a schema zod cannot read accepts any object and leaves
 * the check to the server). The result's text, resources and structured content come back to the
 * model wrapped as untrusted data, cut to `maxOutputLength`; images and audio are named, not sent.
 */
function mcpToolDefinition(options: {
  connection: McpConnection;
  info: McpToolInfo;
  name: string;
}): ToolDefinition {
  const { connection, info, name } = options;
  const server = connection.server;
  const readOnly = userSaysReadOnly(server, info.name);
  const origin = `MCP server "${server.name}"`;
  const description = truncateText(
    `${info.title ? `${info.title}: ` : ''}${info.description ?? '(no description)'}`,
    MAX_DESCRIPTION_CHARS,
  );
  return defineTool({
    name,
    summary: oneLine(info.title ?? info.description ?? info.name).slice(0, 100),
    description: `Tool ${info.name} of the ${origin} (its own words follow).\n${description}`,
    inputSchema: inputSchemaOf(info.inputSchema),
    readOnly,
    // The renderer shows it after the tool's name: `fs__write_file {"path":...}`.
    title: (input) => truncateText(JSON.stringify(input), 200),
    async execute(input, context, callOptions): Promise<ToolResult> {
      const source = `mcp ${server.name}/${info.name}`;
      let result: CallToolResult;
      try {
        result = await connection.call({ tool: info.name, arguments: input, signal: callOptions.signal });
      } catch (error) {
        const message = errorMessage(error);
        return { llmContent: message, display: { kind: 'text', text: message }, isError: true };
      }
      const text = truncateText(resultText(result), context.maxOutputLength);
      const head = result.isError === true ? `${name} reported an error:` : `${name} returned:`;
      return {
        llmContent: `${head}\n${wrapUntrusted(source, text)}`,
        display: { kind: 'text', text },
        ...(result.isError === true ? { isError: true } : {}),
      };
    },
  });
}

function inputSchemaOf(schema: Record<string, unknown>): z.ZodObject {
  try {
    const converted = z.fromJSONSchema({ type: 'object', ...schema } as never);
    if ((converted as { _zod?: { def?: { type?: string } } })._zod?.def?.type === 'object') {
      return converted as unknown as z.ZodObject;
    }
  } catch {
    // Below: any object, checked by the server.
  }
  return z.looseObject({});
}

/** A result as text: each content part in order, or the structured content when there is none. */
export function resultText(result: CallToolResult): string {
  const parts: string[] = [];
  for (const part of result.content ?? []) {
    switch (part.type) {
      case 'text':
        parts.push(part.text);
        break;
      case 'image':
      case 'audio':
        parts.push(
          `[${part.type} ${part.mimeType}, ${Math.floor((part.data.length * 3) / 4)} bytes, not shown]`,
        );
        break;
      case 'resource': {
        const resource = part.resource;
        parts.push(
          'text' in resource && typeof resource.text === 'string'
            ? `[resource ${resource.uri}]\n${resource.text}`
            : `[resource ${resource.uri}${resource.mimeType ? ` (${resource.mimeType})` : ''}, binary, not shown]`,
        );
        break;
      }
      case 'resource_link':
        parts.push(`[resource link ${part.uri}${part.name ? ` (${part.name})` : ''}]`);
        break;
      default:
        parts.push(`[${(part as { type: string }).type} content, not shown]`);
    }
  }
  if (parts.length === 0 && result.structuredContent !== undefined) {
    parts.push(JSON.stringify(result.structuredContent, null, 2));
  }
  return parts.length === 0 ? '(no content)' : parts.join('\n');
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}
