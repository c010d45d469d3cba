import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfigText } from '../../config/config-file.js';
import { ConfigError } from '../../errors/opsmate-error.js';
import { estimateCost, priceOf } from './model-prices.js';
import { callSettings, readModelSettings, settingsForModel } from './model-settings.js';

const PATH = '/x/config.yaml';
const section = (text: string) => parseConfigText({ path: PATH, text }).sections.get('models');

describe('per-model settings', () => {
  it('reads camelCase and Opsmate snake_case, and finds a model by provider:id, id or -m name', () => {
    const table = readModelSettings(
      section(
        'models:\n  o3:\n    reasoning_effort: high\n    max_tokens: 4000\n  anthropic:claude-sonnet-4-5:\n    thinking: { type: enabled, budget_tokens: 2048 }\n    temperature: 0.5\n  fast:\n    topP: 0.9\n    price: { input: 1, output: 2 }\n',
      ),
    );
    const o3 = settingsForModel(table, { provider: 'openai', modelId: 'o3' });
    assert.equal(o3?.reasoningEffort, 'high');
    assert.equal(o3?.maxOutputTokens, 4000);
    assert.equal(o3?.line, 2);
    const claude = settingsForModel(table, { provider: 'anthropic', modelId: 'claude-sonnet-4-5' });
    assert.deepEqual(claude?.thinking, { budgetTokens: 2048 });
    assert.equal(settingsForModel(table, { provider: 'openai', modelId: 'x', name: 'fast' })?.topP, 0.9);
    assert.equal(settingsForModel(table, { provider: 'openai', modelId: 'gpt-4o' }), undefined);
  });

  it('maps them onto each provider’s own options', () => {
    assert.deepEqual(callSettings('openai', { reasoningEffort: 'high', maxOutputTokens: 10 }), {
      maxOutputTokens: 10,
      providerOptions: { openai: { reasoningEffort: 'high' } },
    });
    assert.deepEqual(callSettings('anthropic', { thinking: { budgetTokens: 2048 }, temperature: 1 }), {
      temperature: 1,
      providerOptions: { anthropic: { thinking: { type: 'enabled', budgetTokens: 2048 } } },
    });
    assert.deepEqual(callSettings('bedrock', { thinking: { budgetTokens: 1024 } }).providerOptions, {
      bedrock: { reasoningConfig: { type: 'enabled', budgetTokens: 1024 } },
    });
    assert.deepEqual(callSettings('google', { thinking: { budgetTokens: 1024 } }).providerOptions, {
      google: { thinkingConfig: { thinkingBudget: 1024, includeThoughts: true } },
    });
    assert.deepEqual(callSettings('xai', { reasoningEffort: 'minimal' }).providerOptions, {
      xai: { reasoningEffort: 'low' },
    });
    assert.deepEqual(callSettings('openai', undefined), {});
  });

  it('rejects a bad entry naming the file and the line as written', () => {
    assert.throws(
      () => readModelSettings(section('models:\n  o3:\n    temprature: 1\n')),
      (error: unknown) =>
        ConfigError.isInstance(error) &&
        error.message === '/x/config.yaml:3: models.o3: unknown key temprature' &&
        error.hint === 'did you mean temperature? Fix line 3 of /x/config.yaml',
    );
    assert.throws(
      () => readModelSettings(section('models:\n  c:\n    thinking:\n      budget_tokens: 10\n')),
      (error: unknown) => ConfigError.isInstance(error) && /:4: models\.c\.thinking/.test(error.message),
    );
  });
});

describe('prices', () => {
  it('estimates the cost from the longest matching list price; local models cost nothing; unknown ones have no estimate', () => {
    assert.deepEqual(priceOf('openai', 'gpt-4o-mini-2024-07-18'), {
      input: 0.15,
      output: 0.6,
      cachedInput: 0.075,
    });
    assert.equal(priceOf('bedrock', 'us.anthropic.claude-sonnet-4-20250514-v1:0')?.input, 3);
    assert.deepEqual(priceOf('ollama', 'llama3.2'), { input: 0, output: 0 });
    assert.equal(priceOf('openai', 'my-local-model'), undefined);
    const usage = { inputTokens: 3000, outputTokens: 150, totalTokens: 3150 };
    assert.equal(estimateCost(usage, priceOf('openai', 'gpt-4o')), 0.009);
    assert.equal(estimateCost({ ...usage, cachedInputTokens: 2000 }, priceOf('openai', 'gpt-4o')), 0.0065);
    assert.equal(estimateCost(usage, undefined), undefined);
  });
});

describe('the built-in provider names', () => {
  it('are exactly the providers registered in builtin-providers.ts', async () => {
    const { BUILTIN_PROVIDERS } = await import('./builtin-providers.js');
    const { BUILTIN_PROVIDER_NAMES } = await import('./builtin/provider-names.js');
    assert.deepEqual(
      BUILTIN_PROVIDERS.map((provider) => provider.name).sort(),
      [...BUILTIN_PROVIDER_NAMES].sort(),
    );
  });
});
