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

describe('resolveModel: every built-in provider', () => {
  it('builds each from its env (or config file) settings, naming where requests go', async () => {
    const cases: Array<[string, NodeJS.ProcessEnv, string, string]> = [
      [
        'gemini-2.5-pro',
        { GEMINI_API_KEY: 'k' },
        'google',
        'https://generativelanguage.googleapis.com/v1beta',
      ],
      [
        'vertex:gemini-2.5-pro',
        { GOOGLE_VERTEX_API_KEY: 'k' },
        'vertex',
        'https://aiplatform.googleapis.com',
      ],
      [
        'vertex:gemini-2.5-pro',
        { GOOGLE_VERTEX_PROJECT: 'p', GOOGLE_VERTEX_LOCATION: 'europe-west4' },
        'vertex',
        'https://europe-west4-aiplatform.googleapis.com',
      ],
      [
        'anthropic.claude-3-5-sonnet-20241022-v2:0',
        { AWS_REGION: 'eu-west-1', AWS_ACCESS_KEY_ID: 'a', AWS_SECRET_ACCESS_KEY: 's' },
        'bedrock',
        'https://bedrock-runtime.eu-west-1.amazonaws.com',
      ],
      [
        'azure:dep',
        { AZURE_API_KEY: 'k', AZURE_RESOURCE_NAME: 'acme' },
        'azure',
        'https://acme.openai.azure.com/openai',
      ],
      ['groq:llama-3.3-70b-versatile', { GROQ_API_KEY: 'k' }, 'groq', 'https://api.groq.com/openai/v1'],
      ['mistral-large-latest', { MISTRAL_API_KEY: 'k' }, 'mistral', 'https://api.mistral.ai/v1'],
      ['deepseek-chat', { DEEPSEEK_API_KEY: 'k' }, 'deepseek', 'https://api.deepseek.com'],
      [
        'fireworks:accounts/fireworks/models/x',
        { FIREWORKS_API_KEY: 'k' },
        'fireworks',
        'https://api.fireworks.ai/inference/v1',
      ],
      [
        'ollama:qwen3:8b',
        { OLLAMA_BASE_URL: 'http://gpu-box:11434/v1' },
        'ollama',
        'http://gpu-box:11434/api',
      ],
    ];
    for (const [name, env, provider, baseUrl] of cases) {
      const resolved = await resolveModel(name, env);
      assert.equal(resolved.provider, provider, name);
      assert.equal(resolved.baseUrl, baseUrl, name);
      assert.equal(typeof resolved.model, 'object');
    }
  });

  it('sends a bare Gemini name to Vertex when only Vertex is configured', async () => {
    const resolved = await resolveModel('gemini-2.5-pro', { GOOGLE_VERTEX_API_KEY: 'k' });
    assert.equal(resolved.provider, 'vertex');
  });

  it('OLLAMA_HOST wins over OLLAMA_BASE_URL', async () => {
    const resolved = await resolveModel('ollama:x', {
      OLLAMA_HOST: '10.0.0.1',
      OLLAMA_BASE_URL: 'http://other:1/v1',
    });
    assert.equal(resolved.baseUrl, 'http://10.0.0.1:11434/api');
  });
});
