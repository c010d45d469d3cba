import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { stringList } from './schema-fields.js';
import type { FieldNaming } from './resolve-config.js';

/**
 * opsmate's own settings, each defined once: the CLI derives `--<field>` flags with `OPSMATE_<FIELD>`
 * env fallbacks (or the env name in `.meta({ env })`) for the commands that use them.
 */
export const settingsSchema = z.object({
  model: z
    .string()
    .default('gpt-4o')
    .describe(
      'Model to use: an Opsmate-style name (gpt-4o, claude-sonnet-4-5...) or provider:model; when not given, the default follows what is configured (only ANTHROPIC_API_KEY set: a Claude model; a local server with one model: that one; see `opsmate list-models`), gpt-4o when nothing is',
    )
    .meta({ short: 'm' }),
  context: z
    .string()
    .default('cli')
    .describe('Context that tells the model about its job and target')
    .meta({ short: 'c' }),
  tools: stringList().describe('Tools the model may use, comma-separated (default: those of the context)'),
  mcpConfig: stringList().describe(
    'JSON files with an "mcpServers" object (the shape of Claude Desktop, Claude Code and gemini-cli), comma-separated: their MCP servers\' tools are offered to the model as <server>__<tool>',
  ),
  systemPrompt: z.string().optional().describe("Replace the context's system prompt").meta({ short: 's' }),
  shellCommandRuntime: z
    .string()
    .default('local')
    .describe('Runtime the commands run in (see `opsmate list-runtimes`)')
    .meta({ env: 'SHELL_COMMAND_RUNTIME' }),
  home: z.string().optional().describe("Folder for opsmate's own files (default: ~/.opsmate)"),
  config: z
    .string()
    .optional()
    .describe('YAML config file of settings (default: <home>/config.yaml when it exists)'),
  pluginsDir: z.string().optional().describe('Folder where plugins are installed (default: <home>/plugins)'),
  loglevel: z
    .enum(['debug', 'info', 'warn', 'error'])
    .default('warn')
    .describe('How much opsmate logs to stderr'),
  outputLimit: z
    .int()
    .min(256)
    .default(64 * 1024)
    .describe('Bytes of each output stream kept in memory per command; the rest is spilled to a file'),
  maxOutputLength: z
    .int()
    .min(256)
    .default(10_000)
    .describe(
      'Bytes of each output stream of a command the model sees (head and tail); the rest is spilled to a file it can read in parts',
    )
    .meta({ short: 'l' }),
  spillLimit: z
    .int()
    .min(0)
    .default(1024 * 1024 * 1024)
    .describe(
      'Most bytes of one output stream saved to its spill file; writing stops there and the result says so (0: no spill files)',
    ),
  auditLog: z
    .string()
    .optional()
    .describe('Append-only, hash-chained log of every command, run or refused (default: <home>/audit.jsonl)'),
  auditSync: z
    .enum(['durable', 'written'])
    .default('written')
    .describe(
      'When the audit record of a command must be on disk: written = written to the log before the command runs and synced within 50 ms (survives opsmate being killed); durable = also synced before it runs (survives a power loss; one disk flush per command)',
    ),
  connectTimeout: z
    .number()
    .positive()
    .default(60)
    .describe('Seconds a runtime may take to connect before opsmate gives up on it'),
  fleetParallelism: z
    .int()
    .min(1)
    .max(500)
    .default(10)
    .describe('Targets a fleet command (exec -t GROUP) works on at once: connections open at a time'),
  modelTimeout: z
    .number()
    .positive()
    .default(300)
    .describe(
      'Seconds to wait for the model server: for its answer to start, and for each pause while it streams; then opsmate gives up, naming the server',
    ),
  policyFile: z
    .string()
    .optional()
    .describe('YAML file of allow/ask/deny command rules (default: <home>/policy.yaml when it exists)'),
  policyProfile: z
    .enum(['read-only', 'ask-destructive', 'allow-all'])
    .optional()
    .describe(
      "What runs without asking: read-only (only commands recognised as read-only), ask-destructive (all but known-destructive commands) or allow-all (default: the policy file's profile, else read-only for the agent and ask-destructive for exec)",
    ),
  redact: z
    .boolean()
    .default(true)
    .describe('Mask secrets in command output before the model sees it; the audit log is masked always'),
  dbUrl: z
    .string()
    .optional()
    .describe(
      "The team's knowledge base on PostgreSQL: postgres://USER:PASSWORD@HOST:PORT/DB (default: embedded, in <home>/knowledge)",
    )
    .meta({ env: 'OPSMATE_DB_URL' }),
  embeddingModel: z
    .string()
    .optional()
    .describe(
      'Embedding model for hybrid knowledge search: openai:MODEL, ollama:MODEL or openai-compatible:MODEL (OPSMATE_EMBEDDING_BASE_URL); default: full-text search only',
    ),
  saveSessions: z
    .boolean()
    .default(true)
    .describe(
      'Save every run, solve and chat as a session in <home>/sessions (masked; see `opsmate sessions list`)',
    ),
});

export type Settings = z.output<typeof settingsSchema>;
export type SettingKey = keyof Settings;

export const SETTINGS_NAMING: FieldNaming = { flagPrefix: '', envPrefix: 'OPSMATE_' };

/** opsmate's home folder: the setting, else `~/.opsmate`. */
export function homeDir(settings: Pick<Settings, 'home'>): string {
  return settings.home ?? join(homedir(), '.opsmate');
}

export function pluginsDir(settings: Pick<Settings, 'home' | 'pluginsDir'>): string {
  return settings.pluginsDir ?? join(homeDir(settings), 'plugins');
}

export function spillDir(settings: Pick<Settings, 'home'>): string {
  return join(homeDir(settings), 'spill');
}

/** The audit log: the setting, else `<home>/audit.jsonl`. */
export function auditLogPath(settings: Pick<Settings, 'home' | 'auditLog'>): string {
  return settings.auditLog ?? join(homeDir(settings), 'audit.jsonl');
}

/** Saved sessions (`opsmate sessions`). */
export function sessionsDir(settings: Pick<Settings, 'home'>): string {
  return join(homeDir(settings), 'sessions');
}

/** Where the command policy is looked for when `--policy-file` is not given. */
export function defaultPolicyPath(settings: Pick<Settings, 'home'>): string {
  return join(homeDir(settings), 'policy.yaml');
}
