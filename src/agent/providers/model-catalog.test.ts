import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../errors/opsmate-error.js';
import { parseModelName } from './model-catalog.js';
import { anthropicBaseUrl, ollamaHostUrl } from './provider-urls.js';

describe('parseModelName', () => {
  it('routes Opsmate-style bare names to their provider', () => {
    assert.deepEqual(parseModelName('gpt-4o', {}), { provider: 'openai', modelId: 'gpt-4o' });
    assert.deepEqual(parseModelName('o4-mini', {}), { provider: 'openai', modelId: 'o4-mini' });
    assert.deepEqual(parseModelName('claude-3-7-sonnet-20250219', {}), {
      provider: 'anthropic',
      modelId: 'claude-3-7-sonnet-20250219',
    });
    assert.deepEqual(parseModelName('grok-3', {}), { provider: 'xai', modelId: 'grok-3' });
  });

  it('takes provider:model, keeping colons of Ollama tags in the id', () => {
    assert.deepEqual(parseModelName('ollama:llama3.1:8b', {}), {
      provider: 'ollama',
      modelId: 'llama3.1:8b',
    });
    assert.deepEqual(parseModelName('openai:my-vllm-model', {}), {
      provider: 'openai',
      modelId: 'my-vllm-model',
    });
    assert.deepEqual(parseModelName('Anthropic:claude-x', {}), {
      provider: 'anthropic',
      modelId: 'claude-x',
    });
  });

  it('sends an unclaimed bare name to the local server that is configured', () => {
    assert.deepEqual(parseModelName('llama3.2', { OPENAI_BASE_URL: 'http://127.0.0.1:8000/v1' }), {
      provider: 'openai',
      modelId: 'llama3.2',
    });
    assert.deepEqual(parseModelName('qwen2:7b', { OLLAMA_HOST: '127.0.0.1' }), {
      provider: 'ollama',
      modelId: 'qwen2:7b',
    });
  });

  it('rejects an unknown bare name or provider with a hint', () => {
    assert.throws(
      () => parseModelName('mystery', {}),
      (error: unknown) => ConfigError.isInstance(error) && /unknown model "mystery"/.test(error.message),
    );
    assert.throws(
      () => parseModelName('acme:thing', {}),
      (error: unknown) =>
        ConfigError.isInstance(error) && /unknown model provider "acme"/.test(error.message),
    );
  });
});

describe('provider URLs', () => {
  it('adds /v1 to an Anthropic base URL only when missing', () => {
    assert.equal(anthropicBaseUrl('https://proxy.example/'), 'https://proxy.example/v1');
    assert.equal(anthropicBaseUrl('https://proxy.example/v1/'), 'https://proxy.example/v1');
  });

  it('reads OLLAMA_HOST as Ollama does', () => {
    assert.equal(ollamaHostUrl('127.0.0.1'), 'http://127.0.0.1:11434');
    assert.equal(ollamaHostUrl('0.0.0.0:9999'), 'http://127.0.0.1:9999');
    assert.equal(ollamaHostUrl('https://ollama.internal'), 'https://ollama.internal:11434');
    assert.equal(ollamaHostUrl('http://localhost:11434/'), 'http://localhost:11434');
  });
});
