import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ModelError } from './model-error.js';
import { resolveModel } from './resolve-model.js';

describe('resolveModel', () => {
  it('builds each provider from its env, without network access', async () => {
    const openai = await resolveModel('gpt-4o', { OPENAI_API_KEY: 'k' });
    assert.equal(openai.baseUrl, 'https://api.openai.com/v1');
    assert.equal(typeof openai.model, 'object');
    assert.equal((openai.model as { provider: string }).provider, 'openai.chat');

    const ollama = await resolveModel('ollama:llama3.2', { OLLAMA_HOST: '0.0.0.0' });
    assert.equal(ollama.baseUrl, 'http://127.0.0.1:11434/api');
    assert.equal((ollama.model as { modelId: string }).modelId, 'llama3.2');

    const xai = await resolveModel('grok-3', { XAI_API_KEY: 'k' });
    assert.equal(xai.provider, 'xai');
    assert.equal(xai.baseUrl, 'https://api.x.ai/v1');

    const anthropic = await resolveModel('claude-sonnet-4-5', {
      ANTHROPIC_API_KEY: 'k',
      ANTHROPIC_BASE_URL: 'http://proxy.local',
    });
    assert.equal(anthropic.baseUrl, 'http://proxy.local/v1');
  });

  it('needs no key for a local OpenAI-compatible server', async () => {
    const local = await resolveModel('openai:qwen', { OPENAI_BASE_URL: 'http://127.0.0.1:8000/v1/' });
    assert.equal(local.baseUrl, 'http://127.0.0.1:8000/v1');
  });

  it('rejects a base URL that is not http(s)', async () => {
    await assert.rejects(
      resolveModel('gpt-4o', { OPENAI_BASE_URL: '/v1' }),
      /OPENAI_BASE_URL "\/v1" is not an http\(s\) URL/,
    );
  });

  it('names the missing key and the local alternatives', async () => {
    await assert.rejects(resolveModel('grok-3', {}), (error: unknown) => {
      assert.ok(ModelError.isInstance(error));
      assert.match(error.message, /XAI_API_KEY is not set/);
      assert.match(error.hint ?? '', /OPENAI_BASE_URL=.*OLLAMA_HOST=/);
      return true;
    });
  });
});
