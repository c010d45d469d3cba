import { APICallError, RetryError } from 'ai';
import { errorMessage, OpsmateError } from '../../errors/opsmate-error.js';
import { ModelError } from './model-error.js';
import type { ResolvedModel } from './resolve-model.js';
import { ATTEMPTS_HEADER } from './model-fetch.js';

/**
 * Turns whatever the SDK threw while talking to the model into one ModelError whose message says
 * what happened and whose hint says what to do. Already-mapped opsmate errors pass through.
 */
export function modelFailure(error: unknown, model: Omit<ResolvedModel, 'model'>): OpsmateError {
  if (OpsmateError.isInstance(error)) return error;
  let attempts = 1;
  let cause = error;
  if (RetryError.isInstance(error)) {
    attempts = error.errors.length;
    cause = error.lastError;
    if (OpsmateError.isInstance(cause)) return cause;
  }
  if (APICallError.isInstance(cause)) {
    const retried = Number(cause.responseHeaders?.[ATTEMPTS_HEADER]);
    if (Number.isInteger(retried) && retried > attempts) attempts = retried;
  }
  const name = `${model.provider}:${model.modelId}`;
  const after = attempts > 1 ? ` (gave up after ${attempts} attempts)` : '';
  if (APICallError.isInstance(cause)) {
    const status = cause.statusCode;
    const detail = serverMessage(cause);
    const url = cause.url || model.baseUrl;
    if (status === 401 || status === 403) {
      return new ModelError(`${url} refused the API key (HTTP ${status}): ${detail}`, {
        hint: model.apiKeyEnv ? `check ${model.apiKeyEnv}` : 'check the credentials of the server',
      });
    }
    if (status === 404) {
      return new ModelError(`model ${name} was not found at ${url} (HTTP 404): ${detail}`, {
        hint: 'check the model name (see `opsmate list-models`) and that the server serves it',
        cause: MODEL_NOT_FOUND,
      });
    }
    if (status === 429) {
      return new ModelError(`rate limited by ${url} (HTTP 429)${after}: ${detail}`, {
        hint: 'wait a little and try again, or check the quota of your account',
      });
    }
    if (status !== undefined && status >= 500) {
      return new ModelError(`the model server failed (HTTP ${status})${after}: ${detail}`, {
        hint: 'the server at fault is ' + url + '; try again later',
      });
    }
    if (status !== undefined) {
      return new ModelError(`${url} rejected the request (HTTP ${status}): ${detail}`, {
        hint: `the model ${name} may not support tool calls, or the server is not ${model.provider}-compatible`,
      });
    }
    return new ModelError(`cannot reach ${url}${after}: ${detail}`, {
      hint: 'check the network and the base URL env var',
    });
  }
  return new ModelError(`model ${name} failed: ${errorMessage(cause)}`);
}

/** Marks the error of a model the server does not know, for {@link explainModelFailure}. */
const MODEL_NOT_FOUND = Symbol.for('opsmate.model-not-found');

/**
 * For a model the server does not know (HTTP 404), asks a self-hosted server which models it
 * does serve and says so in the hint. Any other error comes back as it is.
 */
export async function explainModelFailure(
  error: OpsmateError,
  model: Pick<ResolvedModel, 'provider' | 'servedModels'>,
): Promise<OpsmateError> {
  if (error.cause !== MODEL_NOT_FOUND || !model.servedModels) return error;
  const served = await model.servedModels().catch(() => undefined);
  if (!served || served.length === 0) return error;
  const list = served.length <= 12 ? served.join(', ') : `${served.slice(0, 12).join(', ')}...`;
  return new ModelError(error.message, {
    hint: `the server serves ${list}: choose one with -m ${model.provider}:${served[0]!}`,
  });
}

/** The server's own error text, kept to one line. */
function serverMessage(error: APICallError): string {
  const text = error.message || error.responseBody || 'no details';
  return text.replace(/\s+/g, ' ').trim().slice(0, 300);
}
