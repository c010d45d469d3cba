import assert from 'node:assert/strict';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ModelError } from './model-error.js';
import { modelFetch, type ModelRetry } from './model-fetch.js';

/** A real HTTP server on loopback whose answers each test scripts, one per request. */
describe('modelFetch', () => {
  let server: Server;
  let url = '';
  const answers: Array<(response: ServerResponse) => void> = [];
  before(async () => {
    server = createServer((request, response) => {
      request.resume();
      const answer = answers.shift();
      if (answer) answer(response);
      else response.writeHead(500).end('no answer scripted');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/chat`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('retries a 500 and a 429, saying so before each wait, with the server retry-after', async () => {
    answers.push(
      (response) => response.writeHead(500, { 'retry-after-ms': '5' }).end('boom'),
      (response) => response.writeHead(429, { 'retry-after': '0' }).end('slow down'),
      (response) => response.writeHead(200).end('ok'),
    );
    const retries: ModelRetry[] = [];
    const fetch = modelFetch({ timeoutMs: 10_000, events: { onRetry: (retry) => retries.push(retry) } });
    const response = await fetch(url, { method: 'POST', body: '{}' });
    assert.equal(await response.text(), 'ok');
    assert.deepEqual(
      retries.map((retry) => `${retry.reason} ${retry.attempt}/${retry.retries} ${retry.delayMs}`),
      ['HTTP 500 1/2 5', 'HTTP 429 2/2 0'],
    );
  });

  it('gives the last failure back to the SDK once the retries are spent', async () => {
    for (let index = 0; index < 3; index++) {
      answers.push((response) => response.writeHead(503, { 'retry-after-ms': '1' }).end(`down ${index}`));
    }
    const response = await modelFetch({ timeoutMs: 10_000 })(url, { method: 'POST', body: '{}' });
    assert.equal(response.status, 503);
    assert.equal(await response.text(), 'down 2');
  });

  it('ends a hung request, and a stream that goes quiet, with an error naming the server', async () => {
    answers.push(() => {}); // never answers
    await assert.rejects(modelFetch({ timeoutMs: 200 })(url, { method: 'POST' }), (error: unknown) => {
      assert.ok(ModelError.isInstance(error));
      assert.match(error.message, new RegExp(`^no answer from ${url} in 0.2s: the model server hung$`));
      assert.match(error.hint ?? '', /--model-timeout/);
      return true;
    });
    answers.push((response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.write('data: first\n\n'); // then nothing more
    });
    const response = await modelFetch({ timeoutMs: 200 })(url, { method: 'POST' });
    const reader = response.body!.getReader();
    assert.equal(new TextDecoder().decode((await reader.read()).value), 'data: first\n\n');
    await assert.rejects(reader.read(), (error: unknown) => ModelError.isInstance(error));
  });

  it('fails at once, naming the URL, when nothing listens', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const retries: ModelRetry[] = [];
    await assert.rejects(
      modelFetch({ timeoutMs: 10_000, events: { onRetry: (retry) => retries.push(retry) } })(
        `http://127.0.0.1:${port}/v1`,
      ),
      /cannot connect to http:\/\/127\.0\.0\.1:\d+\/v1: connection refused/,
    );
    assert.equal(retries.length, 0);
  });

  it('stops waiting to retry when the caller aborts', async () => {
    answers.push((response) => response.writeHead(500).end('boom'));
    const abort = new AbortController();
    const fetch = modelFetch({
      timeoutMs: 10_000,
      events: { onRetry: () => abort.abort(new Error('stop')) },
    });
    await assert.rejects(fetch(url, { method: 'POST', signal: abort.signal }), /stop/);
  });
});
