import { readFileSync } from 'node:fs';
import type { LineCounter, Node as YamlNode } from 'yaml';
import { z } from 'zod';
import { ConfigError, errorMessage } from '../../errors/opsmate-error.js';

/** Default seconds an MCP tool call may take before it is given up (`timeout` per server, in ms). */
export const DEFAULT_MCP_CALL_TIMEOUT_MS = 120_000;

const stringMap = z.record(z.string(), z.string());
const toolNames = z.array(z.string().min(1));

/** What every server entry may say, whatever its transport. Unknown keys are ignored (other clients' own). */
const commonFields = {
  /** Tools whose calls the user declares read-only: they run unasked (true: all of the server's). */
  readOnly: z.union([z.boolean(), toolNames]).optional(),
  /** Only these tools are offered to the model (gemini-cli's name). */
  includeTools: toolNames.optional(),
  /** These tools are never offered (gemini-cli's name); beats includeTools. */
  excludeTools: toolNames.optional(),
  /** Milliseconds a call may take (gemini-cli's `timeout`). */
  timeout: z.number().int().positive().optional(),
  /** Leave the server out (Cline and Roo's `disabled`). */
  disabled: z.boolean().optional(),
  description: z.string().optional(),
};

const stdioServer = z.looseObject({
  type: z.literal('stdio').optional(),
  command: z.string().min(1),
  args: z.array(z.string()).default([]),
  env: stringMap.default({}),
  cwd: z.string().optional(),
  ...commonFields,
});

const httpServer = z.looseObject({
  type: z.enum(['http', 'streamable-http', 'streamableHttp']).optional(),
  // Checked once `${VAR}`s are expanded (`"${GRAFANA_URL}/mcp"`).
  url: z.string().min(1),
  headers: stringMap.default({}),
  ...commonFields,
});

/** One entry of `mcpServers`, as Claude Desktop, Claude Code and gemini-cli write it. */
export const mcpServerEntrySchema = z
  .unknown()
  .transform((value, context): McpServerSpec | typeof z.NEVER => {
    const problem = (message: string, path: PropertyKey[] = []) => {
      context.addIssue({ code: 'custom', message, path });
      return z.NEVER;
    };
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      return problem('expected { command, args, env } or { url, headers }');
    }
    const entry = { ...(value as Record<string, unknown>) };
    // gemini-cli names a streamable HTTP server's address httpUrl (its url means SSE).
    if (entry.httpUrl !== undefined && entry.url === undefined) entry.url = entry.httpUrl;
    if (entry.type === 'sse' || (entry.httpUrl === undefined && entry.transport === 'sse')) {
      return problem('the SSE transport is not supported (it is deprecated in MCP): use streamable HTTP', [
        'type',
      ]);
    }
    const hasCommand = entry.command !== undefined;
    const hasUrl = entry.url !== undefined;
    if (hasCommand === hasUrl) {
      return problem(
        hasCommand
          ? 'give either command (a local server over stdio) or url (streamable HTTP), not both'
          : 'needs command (a local server over stdio) or url (streamable HTTP)',
      );
    }
    const fail = (issues: ReadonlyArray<{ message: string; path: PropertyKey[] }>): typeof z.NEVER => {
      for (const issue of issues)
        context.addIssue({ code: 'custom', message: issue.message, path: issue.path });
      return z.NEVER;
    };
    const common = (data: z.output<z.ZodObject<typeof commonFields>>): McpServerCommon => ({
      readOnly: data.readOnly ?? false,
      ...(data.includeTools ? { includeTools: data.includeTools } : {}),
      ...(data.excludeTools ? { excludeTools: data.excludeTools } : {}),
      timeoutMs: data.timeout ?? DEFAULT_MCP_CALL_TIMEOUT_MS,
      disabled: data.disabled ?? false,
    });
    if (hasCommand) {
      const parsed = stdioServer.safeParse(entry);
      if (!parsed.success) return fail(parsed.error.issues);
      const data = parsed.data;
      return {
        transport: 'stdio',
        command: data.command,
        args: data.args,
        env: data.env,
        ...(data.cwd !== undefined ? { cwd: data.cwd } : {}),
        ...common(data),
      };
    }
    const parsed = httpServer.safeParse(entry);
    if (!parsed.success) return fail(parsed.error.issues);
    return { transport: 'http', url: parsed.data.url, headers: parsed.data.headers, ...common(parsed.data) };
  });

interface McpServerCommon {
  /** Tools the user declared read-only (true: all of them). MCP servers' own hints are not trusted. */
  readOnly: boolean | string[];
  includeTools?: string[];
  excludeTools?: string[];
  /** Milliseconds one call (and the start) may take. */
  timeoutMs: number;
  disabled: boolean;
}

/** A server as opsmate uses it, its values not yet expanded (`${VAR}`). */
export type McpServerSpec = McpServerCommon &
  (
    | { transport: 'stdio'; command: string; args: string[]; env: Record<string, string>; cwd?: string }
    | { transport: 'http'; url: string; headers: Record<string, string> }
  );

/** A configured server: its name, its settings (with `${VAR}` expanded), and where it was written. */
export type McpServerConfig = McpServerSpec & {
  name: string;
  /** `FILE:LINE` of its entry, for messages. */
  source: string;
};

/**
 * Where a list of servers comes from: the shape of a config file section (`ConfigSection` in
 * src/config/config-file.ts), so the config file's `mcpServers:` and a JSON file given by a flag
 * are read the same way.
 */
export interface McpServersSection {
  /** The file, for messages. */
  path: string;
  /** The `mcpServers` mapping as parsed (plain objects). */
  value: unknown;
  /** The line of a value inside the section by its key path (`['grafana', 'url']`). */
  lineOf(keyPath: readonly (string | number)[]): number;
}

/**
 * Reads a JSON file with an `mcpServers` object (Claude Desktop's `claude_desktop_config.json`,
 * Claude Code's `.mcp.json`, gemini-cli's `settings.json`); other top-level keys are ignored.
 * Throws a ConfigError naming the file (and the line) when it cannot be read or parsed. The YAML
 * parser (which keeps the lines) is loaded only here, for commands that are given such a file.
 */
export async function readMcpConfigFile(path: string): Promise<McpServersSection> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read the MCP config file ${path}: ${errorMessage(error)}`, {
      hint: 'fix the path given to --mcp-config (env OPSMATE_MCP_CONFIG)',
    });
  }
  try {
    JSON.parse(text);
  } catch (error) {
    // Node 20 names a position only for some errors; its message may quote the text, newlines too.
    const position = /position (\d+)/.exec(errorMessage(error))?.[1];
    const line = position === undefined ? undefined : text.slice(0, Number(position)).split('\n').length;
    const message = errorMessage(error).replace(/\s+/g, ' ').slice(0, 300);
    throw new ConfigError(`${path}${line === undefined ? '' : `:${line}`}: not valid JSON: ${message}`, {
      hint: line === undefined ? `fix the JSON syntax of ${path}` : `fix line ${line} of ${path}`,
    });
  }
  // JSON is YAML: the YAML parser keeps the position of every value, for line numbers.
  const { isMap, isScalar, isSeq, LineCounter, parseDocument } = await import('yaml');
  const lines = new LineCounter();
  const document = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const root = document.contents;
  const servers = isMap(root) ? root.get('mcpServers', true) : undefined;
  if (!isMap(servers)) {
    throw new ConfigError(`${path}: has no "mcpServers" object`, {
      hint: 'write { "mcpServers": { "<name>": { "command": "...", "args": [...] } } } (the shape Claude Desktop and gemini-cli use)',
    });
  }
  const topLine = lineOfNode(servers, lines) ?? 1;
  return {
    path,
    value: servers.toJSON() as unknown,
    lineOf(keyPath) {
      let node: unknown = servers;
      let line = topLine;
      for (const key of keyPath) {
        if (!isMap(node) && !isSeq(node)) break;
        const next: unknown = node.get(key, true);
        if (next === undefined) break;
        const pair = isMap(node)
          ? node.items.find((item) => isScalar(item.key) && item.key.value === key)
          : undefined;
        line = lineOfNode((pair?.key as YamlNode | undefined) ?? (next as YamlNode), lines) ?? line;
        node = next;
      }
      return line;
    },
  };
}

function lineOfNode(node: YamlNode | undefined, lines: LineCounter): number | undefined {
  const offset = node?.range?.[0];
  return offset === undefined ? undefined : lines.linePos(offset).line;
}

/** One server as written in a section: validated, its `${VAR}`s not yet expanded. */
export interface McpServerEntry {
  name: string;
  spec: McpServerSpec;
  section: McpServersSection;
}

/** Our keys, and the other clients' keys we know and ignore; anything close to ours is a typo. */
const OWN_KEYS = [
  'command',
  'args',
  'env',
  'cwd',
  'url',
  'headers',
  'type',
  'httpUrl',
  'readOnly',
  'includeTools',
  'excludeTools',
  'timeout',
  'disabled',
  'description',
];

/**
 * Validates the servers of one section (the config file's `mcpServers:` or a JSON file's). The
 * first bad entry throws a ConfigError `FILE:LINE: mcpServers.<name>.<field>: problem`; a key that
 * looks like a misspelt one of ours (`readonly`, `comand`) too, while other clients' own keys
 * (`trust`, `alwaysAllow`...) are ignored.
 */
export function parseMcpServers(section: McpServersSection): McpServerEntry[] {
  if (typeof section.value !== 'object' || section.value === null || Array.isArray(section.value)) {
    throw sectionProblem(section, [], 'must be a mapping of server names to servers');
  }
  return Object.entries(section.value).map(([name, value]) => {
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$/.test(name)) {
      throw sectionProblem(section, [name], 'a server name is letters, digits, _ . and -, at most 40');
    }
    if (typeof value === 'object' && value !== null) {
      for (const key of Object.keys(value)) {
        if (OWN_KEYS.includes(key)) continue;
        const meant = OWN_KEYS.find(
          (own) =>
            own.toLowerCase() === key.toLowerCase() || editDistance(own, key) <= (own.length <= 4 ? 1 : 2),
        );
        if (meant) throw sectionProblem(section, [name, key], `unknown key ${key} (did you mean ${meant}?)`);
      }
    }
    const parsed = mcpServerEntrySchema.safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const path = (issue?.path ?? []).map((part) => (typeof part === 'number' ? part : String(part)));
      throw sectionProblem(section, [name, ...path], issue?.message ?? 'invalid');
    }
    return { name, spec: parsed.data as McpServerSpec, section };
  });
}

/**
 * The servers of some sections, in order (a later section's server of the same name replaces an
 * earlier one), `disabled` ones left out, `${VAR}` and `${VAR:-default}` in command, args, env,
 * cwd, url and headers expanded from `env` (so a token need not be written in the file). The first
 * bad entry throws a ConfigError `FILE:LINE: mcpServers.<name>.<field>: problem`.
 */
export function mcpServersFrom(options: {
  sections: readonly McpServersSection[];
  env: Readonly<Record<string, string | undefined>>;
}): McpServerConfig[] {
  return expandMcpServers({ entries: options.sections.flatMap(parseMcpServers), env: options.env });
}

/** {@link mcpServersFrom} for entries already parsed (the config file's section is parsed once). */
export function expandMcpServers(options: {
  entries: readonly McpServerEntry[];
  env: Readonly<Record<string, string | undefined>>;
}): McpServerConfig[] {
  const byName = new Map<string, McpServerConfig>();
  for (const { name, spec, section } of options.entries) {
    const expand = (text: string, field: (string | number)[]): string =>
      expandVariables(text, options.env, (variable) =>
        sectionProblem(
          section,
          [name, ...field],
          `\${${variable}} is not set (write \${${variable}:-default} for a default)`,
        ),
      );
    const expandMap = (map: Record<string, string>, field: string): Record<string, string> =>
      Object.fromEntries(Object.entries(map).map(([key, text]) => [key, expand(text, [field, key])]));
    const source = `${section.path}:${section.lineOf([name])}`;
    const server: McpServerConfig =
      spec.transport === 'stdio'
        ? {
            ...spec,
            name,
            source,
            command: expand(spec.command, ['command']),
            args: spec.args.map((arg, index) => expand(arg, ['args', index])),
            env: expandMap(spec.env, 'env'),
            ...(spec.cwd !== undefined ? { cwd: expand(spec.cwd, ['cwd']) } : {}),
          }
        : {
            ...spec,
            name,
            source,
            url: httpUrl(expand(spec.url, ['url']), () =>
              sectionProblem(section, [name, 'url'], 'expected an http:// or https:// URL'),
            ),
            headers: expandMap(spec.headers, 'headers'),
          };
    byName.delete(name);
    byName.set(name, server);
  }
  return [...byName.values()].filter((server) => !server.disabled);
}

/**
 * The config file's `mcpServers:` section, in the shape of the config file API's
 * `ConfigSectionDefinition` (`defineConfigSection`, src/config/config-section-definition.ts on
 * the config branch): registered by adding it to `CONFIG_SECTIONS` in src/config/config-sections.ts.
 * `read` validates (once per command, before anything connects); `${VAR}`s are expanded when the
 * servers are used, from the environment with the file's values under it.
 */
export const mcpServersConfigSection = {
  name: 'mcpServers',
  description:
    "MCP servers whose tools the model may use: { <name>: { command, args, env } | { url, headers } } (Claude Desktop's shape)",
  read: (section: McpServersSection): McpServerEntry[] => parseMcpServers(section),
  rows: (entries: McpServerEntry[]) =>
    entries.map((entry) => ({
      name: entry.name,
      // Env and header values may be secrets: only their names are shown.
      value:
        entry.spec.transport === 'stdio'
          ? `stdio: ${entry.spec.command}${entry.spec.args.length > 0 ? ` (${entry.spec.args.length} args)` : ''}${keysOf(entry.spec.env, 'env')}`
          : `http: ${entry.spec.url.replace(/\?.*$/, '')}${keysOf(entry.spec.headers, 'headers')}`,
      keyPath: [entry.name],
    })),
};

function httpUrl(text: string, problem: () => Error): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw problem();
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw problem();
  return text;
}

function keysOf(map: Record<string, string>, label: string): string {
  const keys = Object.keys(map);
  return keys.length === 0 ? '' : `, ${label} ${keys.join(', ')}`;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(
        previous[j]! + 1,
        current[j - 1]! + 1,
        previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = current;
  }
  return previous[b.length]!;
}

/** `${VAR}` and `${VAR:-default}` (the forms Claude Code and gemini-cli expand); `$$` is not special. */
function expandVariables(
  text: string,
  env: Readonly<Record<string, string | undefined>>,
  missing: (variable: string) => Error,
): string {
  return text.replace(
    /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g,
    (_match, variable: string, fallback?: string) => {
      const value = env[variable];
      if (value !== undefined && value !== '') return value;
      if (fallback !== undefined) return fallback;
      throw missing(variable);
    },
  );
}

function sectionProblem(
  section: McpServersSection,
  keyPath: readonly (string | number)[],
  message: string,
): ConfigError {
  const line = section.lineOf(keyPath);
  const where = ['mcpServers', ...keyPath].join('.');
  return new ConfigError(`${section.path}:${line}: ${where}: ${message}`, {
    hint: `fix line ${line} of ${section.path} (see docs/mcp.md)`,
  });
}
