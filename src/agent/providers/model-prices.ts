/**
 * List prices in USD per million tokens, for the cost estimate shown after each turn. They are
 * estimates: providers change prices, and discounts, batch and cached-input rates are not all
 * modelled. A `price:` in the config file's `models:` section replaces an entry.
 */
export interface ModelPrice {
  input: number;
  output: number;
  /** Cached input tokens, when the provider bills them apart. */
  cachedInput?: number;
}

/** Model id prefixes (longest match wins) and their list prices, checked 2025. */
const PRICES: ReadonlyArray<readonly [prefix: string, price: ModelPrice]> = [
  ['gpt-4o-mini', { input: 0.15, output: 0.6, cachedInput: 0.075 }],
  ['gpt-4o', { input: 2.5, output: 10, cachedInput: 1.25 }],
  ['gpt-4.1-nano', { input: 0.1, output: 0.4, cachedInput: 0.025 }],
  ['gpt-4.1-mini', { input: 0.4, output: 1.6, cachedInput: 0.1 }],
  ['gpt-4.1', { input: 2, output: 8, cachedInput: 0.5 }],
  ['o3-mini', { input: 1.1, output: 4.4, cachedInput: 0.55 }],
  ['o4-mini', { input: 1.1, output: 4.4, cachedInput: 0.275 }],
  ['o3', { input: 2, output: 8, cachedInput: 0.5 }],
  ['claude-3-5-haiku', { input: 0.8, output: 4 }],
  ['claude-3-5-sonnet', { input: 3, output: 15 }],
  ['claude-3-7-sonnet', { input: 3, output: 15 }],
  ['claude-sonnet-4', { input: 3, output: 15 }],
  ['claude-opus-4', { input: 15, output: 75 }],
  ['claude-haiku-4', { input: 1, output: 5 }],
  ['grok-3-mini', { input: 0.3, output: 0.5 }],
  ['grok-3', { input: 3, output: 15 }],
  ['grok-4', { input: 3, output: 15 }],
  ['gemini-2.5-pro', { input: 1.25, output: 10 }],
  ['gemini-2.5-flash', { input: 0.3, output: 2.5 }],
  ['gemini-2.0-flash', { input: 0.1, output: 0.4 }],
  ['mistral-large', { input: 2, output: 6 }],
  ['mistral-medium', { input: 0.4, output: 2 }],
  ['codestral', { input: 0.3, output: 0.9 }],
  ['deepseek-chat', { input: 0.27, output: 1.1 }],
  ['deepseek-reasoner', { input: 0.55, output: 2.19 }],
];

/** Providers whose models run on the user's own hardware: no per-token price. */
const LOCAL_PROVIDERS = new Set(['ollama']);

/**
 * The price of a model: its own entry (a Bedrock or Vertex id is matched on the vendor's model
 * name inside it), 0 for a local server, undefined when unknown.
 */
export function priceOf(provider: string, modelId: string): ModelPrice | undefined {
  if (LOCAL_PROVIDERS.has(provider)) return { input: 0, output: 0 };
  const id = modelId
    .toLowerCase()
    .replace(/^(us|eu|apac|global)\./, '')
    .replace(/^anthropic\./, '');
  let best: readonly [string, ModelPrice] | undefined;
  for (const entry of PRICES) {
    if (id.startsWith(entry[0]) && (!best || entry[0].length > best[0].length)) best = entry;
  }
  return best?.[1];
}

/** Tokens one turn (or a whole session) used. */
export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
  totalTokens: number;
  /** Input tokens served from the provider's cache, when reported (part of inputTokens). */
  cachedInputTokens?: number;
  /** Output tokens spent on reasoning, when reported (part of outputTokens). */
  reasoningTokens?: number;
}

/** Estimated USD cost of some usage, or undefined when the price is not known. */
export function estimateCost(usage: TokenUsage, price: ModelPrice | undefined): number | undefined {
  if (!price) return undefined;
  const cached = Math.min(usage.cachedInputTokens ?? 0, usage.inputTokens);
  const cachedRate = price.cachedInput ?? price.input;
  const dollars =
    ((usage.inputTokens - cached) * price.input + cached * cachedRate + usage.outputTokens * price.output) /
    1_000_000;
  return Math.round(dollars * 1_000_000) / 1_000_000;
}

/** Adds two usages. */
export function addUsage(a: TokenUsage, b: TokenUsage): TokenUsage {
  const sum = (x: number | undefined, y: number | undefined): number | undefined =>
    x === undefined && y === undefined ? undefined : (x ?? 0) + (y ?? 0);
  const cached = sum(a.cachedInputTokens, b.cachedInputTokens);
  const reasoning = sum(a.reasoningTokens, b.reasoningTokens);
  return {
    inputTokens: a.inputTokens + b.inputTokens,
    outputTokens: a.outputTokens + b.outputTokens,
    totalTokens: a.totalTokens + b.totalTokens,
    ...(cached !== undefined ? { cachedInputTokens: cached } : {}),
    ...(reasoning !== undefined ? { reasoningTokens: reasoning } : {}),
  };
}

export const NO_USAGE: TokenUsage = { inputTokens: 0, outputTokens: 0, totalTokens: 0 };
