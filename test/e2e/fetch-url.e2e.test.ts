// FetchUrl through the agent: a page on this machine's loopback (local runtime), and a port only
// a container can reach (its own loopback, served by busybox httpd), fetched from inside it.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import {
  busyboxImageMissingReason,
  ensureBusyboxImage,
  removeContainers,
  startSleepingContainer,
  uniqueContainerName,
} from '../../test-support/docker-images.js';
import { FakeLlmServer, toolResultsOf } from '../../test-support/fake-llm/index.js';
import { integrationSkip } from '../../test-support/integration.js';
import { runCliIsolated } from '../../test-support/run-cli.js';

const busyboxSkip = integrationSkip('docker', busyboxImageMissingReason());
const container = busyboxSkip
  ? undefined
  : await startSleepingContainer({
      image: await ensureBusyboxImage(),
      name: uniqueContainerName('fetch-e2e'),
    });
after(async () => await removeContainers(container ? [container] : []));

describe('FetchUrl through the agent', () => {
  let fake: FakeLlmServer;
  let server: Server;
  let url = '';
  before(async () => {
    fake = await FakeLlmServer.start();
    server = createServer((_request, response) => {
      response.setHeader('content-type', 'text/html');
      response.end(
        '<html><body><h1>upstream ok</h1><table><tr><td>p99</td><td>12ms</td></tr></table></body></html>',
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}/status`;
  });
  after(async () => {
    await fake?.close();
    server?.close();
  });
  const fetchWith = async (target: string, runtimeArgs: string[]) => {
    fake.requests.length = 0;
    fake.enqueue({ toolCalls: [{ name: 'FetchUrl', args: { url: target } }] }, { text: 'fetched' });
    const run = await runCliIsolated({
      args: ['run', 'is it up?', ...runtimeArgs],
      env: { OPENAI_BASE_URL: fake.openAiBaseUrl },
    });
    assert.equal(run.exitCode, 0, run.stderr);
    return { run, result: toolResultsOf(fake.requests.at(-1)!)[0] ?? '' };
  };

  it('runs unasked in the read-only profile and gives the model readable text', async () => {
    const { run, result } = await fetchWith(url, []);
    assert.match(result, /Fetched from: the target \(local runtime\)/);
    assert.match(result, /Status: 200/);
    assert.match(result, /upstream ok\n\np99\s+12ms/);
    assert.match(run.stdout, /FetchUrl GET http:\/\/127\.0\.0\.1:\d+\/status/);
  });

  it('fetches from inside a container what only the container can reach', { skip: busyboxSkip }, async () => {
    execFileSync('docker', [
      'exec',
      container!,
      'sh',
      '-c',
      'mkdir -p /www && echo "<h1>inside</h1>" > /www/index.html && httpd -p 127.0.0.1:18081 -h /www',
    ]);
    const { result } = await fetchWith('http://127.0.0.1:18081/', [
      '--shell-command-runtime',
      'docker',
      '--runtime-docker-container-name',
      container!,
    ]);
    assert.match(result, /Fetched from: the target \(docker runtime\), with wget/);
    assert.match(result, /\ninside\n/);
  });
});
