import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { FakeLlmServer } from '../../test-support/fake-llm/index.js';
import { runCliIsolated } from '../../test-support/run-cli.js';

/** Without -m, the model follows what is configured. */
describe('the default model follows the configuration', () => {
  let fake: FakeLlmServer;
  before(async () => {
    fake = await FakeLlmServer.start();
  });
  after(async () => {
    await fake.close();
  });
  beforeEach(() => {
    fake.reset();
    fake.models = ['fake-model'];
  });

  it('only ANTHROPIC_API_KEY set: a Claude model, not a demand for OPENAI_API_KEY', async () => {
    fake.enqueue({ text: 'Claude here.' });
    const run = await runCliIsolated({
      args: ['run', 'hi'],
      env: { ANTHROPIC_API_KEY: 'sk-ant-key-0123456789', ANTHROPIC_BASE_URL: fake.url },
    });
    assert.equal(run.exitCode, 0, run.stderr);
    assert.equal(fake.requests[0]!.path, '/v1/messages');
    assert.equal(fake.requests[0]!.body.model, 'claude-sonnet-4-5');
    const models = await runCliIsolated({
      args: ['list-models'],
      env: { ANTHROPIC_API_KEY: 'sk-ant-key-0123456789' },
    });
    assert.match(models.stdout, /anthropic\s+claude-sonnet-4-5 \*\s+ANTHROPIC_API_KEY set/);
    assert.match(
      models.stdout,
      /^\* default \(without -m\): claude-sonnet-4-5 \(ANTHROPIC_API_KEY is set\)$/m,
    );
  });

  it('only GEMINI_API_KEY set: Gemini', async () => {
    fake.enqueue({ text: 'Gemini here.' });
    const run = await runCliIsolated({
      args: ['run', 'hi'],
      env: { GEMINI_API_KEY: 'gemini-key-0123456789', GOOGLE_GENERATIVE_AI_BASE_URL: `${fake.url}/v1beta` },
    });
    assert.equal(run.exitCode, 0, run.stderr);
    assert.match(fake.requests[0]!.path, /\/models\/gemini-2\.5-flash:streamGenerateContent$/);
  });

  it('a local OpenAI-compatible server that serves one model: that model', async () => {
    fake.enqueue({ text: 'local here.' });
    const run = await runCliIsolated({ args: ['run', 'hi'], env: { OPENAI_BASE_URL: fake.openAiBaseUrl } });
    assert.equal(run.exitCode, 0, run.stderr);
    assert.equal(fake.requests[0]!.body.model, 'fake-model');
    const models = await runCliIsolated({
      args: ['list-models', '--provider', 'openai'],
      env: { OPENAI_BASE_URL: fake.openAiBaseUrl },
    });
    assert.match(models.stdout, /^openai\s+openai:fake-model \*\s+OPENAI_BASE_URL=/m);
    assert.doesNotMatch(models.stdout, /anthropic/, '--provider lists one provider');
  });

  it('OLLAMA_BASE_URL (Python Opsmate, with /v1) is honoured as OLLAMA_HOST is; one pulled model is the default', async () => {
    fake.enqueue({ text: 'ollama here.' });
    fake.models = ['qwen3:8b'];
    const run = await runCliIsolated({ args: ['run', 'hi'], env: { OLLAMA_BASE_URL: `${fake.url}/v1` } });
    assert.equal(run.exitCode, 0, run.stderr);
    assert.equal(fake.requests[0]!.path, '/api/chat');
    assert.equal(fake.requests[0]!.body.model, 'qwen3:8b');
  });

  it('a server that serves several models, none of them the default: says which ones, exit 1', async () => {
    fake.models = ['llama3.2', 'qwen3:8b', 'mistral-nemo'];
    const run = await runCliIsolated({ args: ['run', 'hi'], env: { OPENAI_BASE_URL: fake.openAiBaseUrl } });
    assert.equal(run.exitCode, 1);
    assert.match(
      run.stderr,
      /^opsmate: error: no model chosen, and http:\/\/127\.0\.0\.1:\d+\/v1\/models serves 3 models: llama3\.2, qwen3:8b, mistral-nemo\nopsmate: hint: choose one with -m openai:<model> .*e\.g\. -m openai:llama3\.2\n$/,
    );
    assert.equal(fake.requests.length, 0, 'no model call was made');
  });

  it('a server that does not serve the chosen model: the 404 says which models it serves', async () => {
    fake.models = ['llama3.2', 'qwen3:8b'];
    fake.enqueue({ error: { status: 404, message: 'model "gpt-4.1" not found' } });
    const run = await runCliIsolated({
      args: ['run', '-m', 'openai:gpt-4.1', 'hi'],
      env: { OPENAI_BASE_URL: fake.openAiBaseUrl },
    });
    assert.equal(run.exitCode, 1);
    assert.match(run.stderr, /^opsmate: error: model openai:gpt-4\.1 was not found at .*HTTP 404/);
    assert.match(
      run.stderr,
      /\nopsmate: hint: the server serves llama3\.2, qwen3:8b: choose one with -m openai:llama3\.2\n$/,
    );
  });

  it('list-models -o json marks the default and never shows a key', async () => {
    const run = await runCliIsolated({
      args: ['list-models', '-o', 'json'],
      env: { MISTRAL_API_KEY: 'mistral-secret-0123456789' },
    });
    assert.equal(run.exitCode, 0, run.stderr);
    assert.equal(run.stdout.includes('mistral-secret'), false);
    const listed = JSON.parse(run.stdout) as {
      default: { name: string; reason: string };
      models: Array<{ provider: string; model: string; default: boolean; configured: boolean }>;
    };
    assert.deepEqual(listed.default, { name: 'mistral-large-latest', reason: 'MISTRAL_API_KEY is set' });
    assert.deepEqual(
      listed.models.filter((model) => model.default).map((model) => model.model),
      ['mistral-large-latest'],
    );
    const providers = new Set(listed.models.map((model) => model.provider));
    for (const name of [
      'openai',
      'anthropic',
      'google',
      'vertex',
      'bedrock',
      'azure',
      'groq',
      'mistral',
      'deepseek',
      'fireworks',
      'xai',
      'ollama',
    ]) {
      assert.ok(providers.has(name), `${name} is listed`);
    }
    const unknown = await runCliIsolated({ args: ['list-models', '--provider', 'nope'] });
    assert.equal(unknown.exitCode, 2);
    assert.match(unknown.stderr, /unknown provider "nope"/);
  });
});
