import type { JSONValue } from 'ai';
import { z } from 'zod';
import type { ConfigSection } from '../../config/config-file.js';
import { parseSection, zodKeysAt } from '../../config/config-section.js';
import { isPlainObject } from '../../config/load-config.js';

/** What the config file may set per model (`models:` or Python Opsmate's `OPSMATE_MODELS_CONFIG:`). */
export interface ModelSettings {
  temperature?: number;
  topP?: number;
  /** Most tokens the model may write in one response. */
  maxOutputTokens?: number;
  /** For reasoning models (OpenAI o-series and gpt-5, xAI, Groq, Fireworks...). */
  reasoningEffort?: 'minimal' | 'low' | 'medium' | 'high';
  /** Extended thinking (Anthropic, Gemini, Claude on Bedrock): tokens the model may think with. */
  thinking?: { budgetTokens: number };
  /** USD per million tokens, for the cost estimate; replaces the built-in price. */
  price?: { input: number; output: number; cachedInput?: number };
}

const effort = z.enum(['minimal', 'low', 'medium', 'high']);

const entrySchema = z
  .object({
    temperature: z.number().min(0).max(2).optional(),
    topP: z.number().gt(0).max(1).optional(),
    maxOutputTokens: z.int().positive().optional(),
    reasoningEffort: effort.optional(),
    thinking: z
      .union([
        z.literal(false),
        z.object({ budgetTokens: z.int().min(1024), type: z.literal('enabled').optional() }).strict(),
        z.object({ type: z.literal('disabled') }).strict(),
      ])
      .optional(),
    price: z
      .object({
        input: z.number().min(0),
        output: z.number().min(0),
        cachedInput: z.number().min(0).optional(),
      })
      .strict()
      .optional(),
    /** Python Opsmate's supplemental tool-calling model: opsmate calls tools with the model itself. */
    toolCallModel: z.string().optional(),
  })
  .strict();

const sectionSchema = z.record(z.string(), entrySchema);

/** Opsmate's snake_case names for the camelCase ones. */
const ALIASES: Record<string, string> = {
  reasoning_effort: 'reasoningEffort',
  max_tokens: 'maxOutputTokens',
  max_output_tokens: 'maxOutputTokens',
  top_p: 'topP',
  budget_tokens: 'budgetTokens',
  tool_call_model: 'toolCallModel',
  cached_input: 'cachedInput',
};

/** Per-model settings by the name they are written under. */
export type ModelSettingsTable = ReadonlyMap<string, ModelSettings & { line: number; path: string }>;

/**
 * Reads the `models:` section. Each key is a model as `-m` names it (`o3`, `claude-sonnet-4-5`,
 * `ollama:qwen3:8b`). A bad entry throws a ConfigError naming the file and line.
 */
export function readModelSettings(section: ConfigSection | undefined): ModelSettingsTable {
  const table = new Map<string, ModelSettings & { line: number; path: string }>();
  if (!section) return table;
  const parsed = parseSection(section, {
    safeParse: (value: unknown) => {
      const result = sectionSchema.safeParse(normalise(value));
      if (result.success) return result;
      // Name the key as it is written in the file (reasoning_effort), so its line is found.
      const issues = result.error.issues.map((issue) => ({
        ...issue,
        path: writtenPath(value, issue.path),
      }));
      return { success: false as const, error: { issues } };
    },
    // Both spellings are allowed: the camelCase names and Opsmate's snake_case ones.
    knownKeys: (path) => {
      const keys = zodKeysAt(
        sectionSchema,
        path.map((part) => (typeof part === 'string' ? (ALIASES[part] ?? part) : Number(part))),
      );
      return [...keys, ...Object.keys(ALIASES).filter((alias) => keys.includes(ALIASES[alias]!))];
    },
  });
  for (const [name, entry] of Object.entries(parsed)) {
    const thinking =
      entry.thinking === undefined || entry.thinking === false || !('budgetTokens' in entry.thinking)
        ? undefined
        : { budgetTokens: entry.thinking.budgetTokens };
    table.set(name, {
      ...(entry.temperature !== undefined ? { temperature: entry.temperature } : {}),
      ...(entry.topP !== undefined ? { topP: entry.topP } : {}),
      ...(entry.maxOutputTokens !== undefined ? { maxOutputTokens: entry.maxOutputTokens } : {}),
      ...(entry.reasoningEffort !== undefined ? { reasoningEffort: entry.reasoningEffort } : {}),
      ...(thinking ? { thinking } : {}),
      ...(entry.price ? { price: entry.price } : {}),
      path: section.path,
      line: section.lineOf([name]),
    });
  }
  return table;
}

/** A path of normalised keys as the keys are written in `raw` (snake_case aliases). */
function writtenPath(raw: unknown, path: readonly PropertyKey[]): PropertyKey[] {
  const written: PropertyKey[] = [];
  let node = raw;
  for (const part of path) {
    let key = part;
    if (isPlainObject(node) && typeof part === 'string' && !(part in node)) {
      key = Object.keys(node).find((candidate) => ALIASES[candidate] === part) ?? part;
    }
    written.push(key);
    node = isPlainObject(node) ? node[String(key)] : Array.isArray(node) ? node[Number(key)] : undefined;
  }
  return written;
}

function normalise(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(normalise);
  if (!isPlainObject(value)) return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => [ALIASES[key] ?? key, normalise(item)]),
  );
}

/**
 * The settings for a model: the entry written as `provider:model`, else as the bare model id,
 * else as the name given to `-m`.
 */
export function settingsForModel(
  table: ModelSettingsTable,
  model: { provider: string; modelId: string; name?: string },
): (ModelSettings & { line: number; path: string }) | undefined {
  return (
    table.get(`${model.provider}:${model.modelId}`) ??
    table.get(model.modelId) ??
    (model.name !== undefined ? table.get(model.name) : undefined)
  );
}

type JSONObject = { [key: string]: JSONValue | undefined };

/** What `streamText` takes from the settings: common call settings and provider options. */
export interface ModelCallSettings {
  temperature?: number;
  topP?: number;
  maxOutputTokens?: number;
  providerOptions?: Record<string, JSONObject>;
}

/** Turns model settings into the SDK's call settings for the model's provider. */
export function callSettings(provider: string, settings: ModelSettings | undefined): ModelCallSettings {
  if (!settings) return {};
  const options: Record<string, JSONObject> = {};
  const add = (key: string, values: JSONObject): void => {
    options[key] = { ...options[key], ...values };
  };
  const { reasoningEffort, thinking } = settings;
  if (reasoningEffort !== undefined) {
    if (provider === 'openai' || provider === 'azure') add('openai', { reasoningEffort });
    else if (provider === 'xai')
      add('xai', { reasoningEffort: reasoningEffort === 'minimal' ? 'low' : reasoningEffort });
    else if (provider === 'groq')
      add('groq', { reasoningEffort: reasoningEffort === 'minimal' ? 'low' : reasoningEffort });
    else if (provider === 'fireworks') add('fireworks', { reasoningEffort });
    else if (provider === 'google' || provider === 'vertex') {
      for (const key of googleKeys(provider))
        add(key, { thinkingConfig: { thinkingLevel: reasoningEffort } });
    } else if (provider === 'ollama') add('ollama', { think: true });
  }
  if (thinking !== undefined) {
    if (provider === 'anthropic')
      add('anthropic', { thinking: { type: 'enabled', budgetTokens: thinking.budgetTokens } });
    else if (provider === 'bedrock') {
      add('bedrock', { reasoningConfig: { type: 'enabled', budgetTokens: thinking.budgetTokens } });
    } else if (provider === 'google' || provider === 'vertex') {
      for (const key of googleKeys(provider)) {
        add(key, { thinkingConfig: { thinkingBudget: thinking.budgetTokens, includeThoughts: true } });
      }
    }
  }
  return {
    ...(settings.temperature !== undefined ? { temperature: settings.temperature } : {}),
    ...(settings.topP !== undefined ? { topP: settings.topP } : {}),
    ...(settings.maxOutputTokens !== undefined ? { maxOutputTokens: settings.maxOutputTokens } : {}),
    ...(Object.keys(options).length > 0 ? { providerOptions: options } : {}),
  };
}

/** Vertex reads Gemini's options under its own name or Google's. */
function googleKeys(provider: string): string[] {
  return provider === 'vertex' ? ['vertex', 'google'] : ['google'];
}
