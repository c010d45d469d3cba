import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { APICallError, RetryError } from 'ai';
import { ModelError } from './model-error.js';
import { modelFailure } from './model-failure.js';

const MODEL = {
  provider: 'openai' as const,
  modelId: 'gpt-4o',
  baseUrl: 'http://127.0.0.1:1/v1',
  apiKeyEnv: 'OPENAI_API_KEY',
};

function apiError(statusCode: number, message = 'nope'): APICallError {
  return new APICallError({
    message,
    url: `${MODEL.baseUrl}/chat/completions`,
    requestBodyValues: {},
    statusCode,
  });
}

describe('modelFailure', () => {
  it('names the key env var for 401 and 403', () => {
    for (const status of [401, 403]) {
      const error = modelFailure(apiError(status, 'Incorrect API key'), MODEL);
      assert.ok(ModelError.isInstance(error));
      assert.match(error.message, new RegExp(`refused the API key \\(HTTP ${status}\\): Incorrect API key`));
      assert.equal(error.hint, 'check OPENAI_API_KEY');
    }
  });

  it('counts the attempts behind a retried 429', () => {
    const errors = [apiError(429), apiError(429), apiError(429, 'Rate limit reached')];
    const retry = new RetryError({ message: 'failed', reason: 'maxRetriesExceeded', errors });
    const error = modelFailure(retry, MODEL);
    assert.match(
      error.message,
      /rate limited .* \(HTTP 429\) \(gave up after 3 attempts\): Rate limit reached/,
    );
  });

  it('says a 404 means the model is unknown to the server', () => {
    assert.match(modelFailure(apiError(404), MODEL).message, /model openai:gpt-4o was not found/);
  });

  it('passes opsmate errors through', () => {
    const original = new ModelError('cannot connect');
    assert.equal(modelFailure(original, MODEL), original);
  });
});
