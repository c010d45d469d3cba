import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { after, before, describe, it } from 'node:test';
import {
  busyboxImageMissingReason,
  debianImageMissingReason,
  ensureBusyboxImage,
  ensureDebianImage,
  removeContainers,
  startSleepingContainer,
  uniqueContainerName,
} from '../../../../test-support/docker-images.js';
import {
  guardedToolSession,
  type GuardedToolSession,
} from '../../../../test-support/guarded-tool-session.js';
import { integrationSkip } from '../../../../test-support/integration.js';
import type { RuntimeContext } from '../../../runtime/contract.js';
import { dockerRuntime } from '../../../runtimes/docker/docker-runtime.js';
import { localRuntime } from '../../../runtimes/local/local-runtime.js';
import type { ToolDefinition } from '../tool-contract.js';
import { fetchUrlTool } from './fetch-url-tool.js';

const tool = fetchUrlTool as unknown as ToolDefinition;
const runtimeContext: RuntimeContext = { spillDir: tmpdir(), outputLimitBytes: 10_000 };
const hasCurl = (() => {
  try {
    execFileSync('sh', ['-c', 'command -v curl'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/** A server on this machine's loopback: a page, JSON with a secret, a redirect, a big body. */
async function startServer(): Promise<{ server: Server; url: string }> {
  const server = createServer((request, response) => {
    if (request.method !== 'GET') {
      response.statusCode = 405;
      response.end();
      return;
    }
    if (request.url === '/status') {
      response.setHeader('content-type', 'application/json');
      response.setHeader('set-cookie', 'session=abc123');
      response.end('{"status":"degraded","token":"ghp_abcdefghijklmnopqrstuvwxyz0123456789"}');
    } else if (request.url === '/old') {
      response.statusCode = 301;
      response.setHeader('location', '/status');
      response.end();
    } else if (request.url === '/big') {
      response.setHeader('content-type', 'text/plain');
      response.end('y\n'.repeat(1_500_000));
    } else if (request.url === '/missing') {
      response.statusCode = 404;
      response.setHeader('content-type', 'text/html');
      response.end('<html><body><h1>Not here</h1></body></html>');
    } else {
      response.setHeader('content-type', 'text/html');
      response.end(
        '<html><head><script>alert(1)</script></head><body><h1>Healthy</h1><p>3 workers</p></body></html>',
      );
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return { server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}` };
}

describe('FetchUrl', () => {
  let server: Server;
  let base: string;
  const sessions: GuardedToolSession[] = [];
  before(async () => ({ server, url: base } = await startServer()));
  after(async () => {
    for (const session of sessions) await session.close();
    server.close();
  });
  const local = () => {
    const session = guardedToolSession({
      runtime: localRuntime.create(localRuntime.configSchema.parse({}), runtimeContext),
      maxOutputLength: 3000,
    });
    sessions.push(session);
    return session;
  };

  it('fetches a page on loopback from the target (here: curl on this machine), as text, read-only unasked', async () => {
    const session = local();
    const page = await session.call(tool, { url: `${base}/` });
    assert.equal(page.isError, false, page.llmContent);
    assert.match(
      page.llmContent,
      hasCurl ? /Fetched from: the target \(local runtime\), with curl/ : /Fetched from: the opsmate machine/,
    );
    assert.match(page.llmContent, /Status: 200/);
    assert.match(
      page.llmContent,
      /Body: \d+ bytes, HTML converted to text:\n<untrusted-data id="\w+" source="http-body">\nHealthy\n\n3 workers\n</,
    );
    assert.doesNotMatch(page.llmContent, /alert/);
    assert.equal(session.reviewer.asked.length, 0, 'a GET is read-only');
    const [record] = session.audit();
    assert.equal(record?.tool, 'FetchUrl');
    assert.equal(record?.rule, 'read-only:curl');
  });

  it('follows redirects, pretty-prints JSON, masks secrets, hides cookies, cuts big bodies, reports errors', async () => {
    const session = local();
    const json = await session.call(tool, { url: `${base}/old` });
    assert.match(
      json.llmContent,
      /Redirected 1 time\(s\); the last Location:\n<untrusted-data[^>]*>\n\/status\n/,
    );
    assert.match(json.llmContent, /"status": "degraded",\n {2}"token": "\[REDACTED:[\w-]+\]"/);
    assert.doesNotMatch(json.llmContent, /ghp_|abc123|set-cookie/);
    const big = await session.call(tool, { url: `${base}/big`, from: 'opsmate' });
    assert.match(big.llmContent, /Body: 2097152 bytes \(cut at 2097152; the rest was not fetched\)/);
    assert.ok(big.llmContent.length < 6000, `the model got ${big.llmContent.length} characters`);
    const missing = await session.call(tool, { url: `${base}/missing`, from: 'opsmate' });
    assert.match(missing.llmContent, /Status: 404 Not Found[\s\S]*Not here/);
    const refused = await session.call(tool, { url: 'http://127.0.0.1:1/' });
    assert.equal(refused.isError, true);
    assert.match(
      refused.llmContent,
      /GET http:\/\/127\.0\.0\.1:1\/ from the (target|opsmate machine)[^\n]* failed/,
    );
    assert.throws(() => {
      const built = (tool.inputSchema as typeof fetchUrlTool.inputSchema).safeParse({
        url: 'file:///etc/passwd',
      });
      if (!built.success) throw new Error(built.error.issues[0]!.message);
    }, /must be an http:\/\/ or https:\/\/ URL/);
  });

  it('is denied by a rule that denies curl, like the shell, and fetches nothing', async () => {
    let requests = 0;
    const counted = createServer((_request, response) => {
      requests++;
      response.end('x');
    });
    await new Promise<void>((resolve) => counted.listen(0, '127.0.0.1', () => resolve()));
    const session = guardedToolSession({
      runtime: localRuntime.create(localRuntime.configSchema.parse({}), runtimeContext),
      rules: [{ action: 'deny', commands: ['curl'], reason: 'no HTTP from here' }],
    });
    sessions.push(session);
    try {
      const denied = await session.call(tool, {
        url: `http://127.0.0.1:${(counted.address() as { port: number }).port}/`,
      });
      assert.match(
        denied.llmContent,
        /^The FetchUrl call was NOT run: denied by policy rule [^:]+: no HTTP from here/,
      );
      assert.equal(requests, 0);
      assert.equal(session.audit()[0]?.outcome, 'denied');
    } finally {
      counted.close();
    }
  });
});

// From inside containers: busybox has wget (and httpd, to serve on its own loopback); the Debian
// image has neither curl nor wget, so the fetch is made from the opsmate machine and says so.
const busyboxSkip = integrationSkip('docker', busyboxImageMissingReason());
const debianSkip = integrationSkip('docker', debianImageMissingReason());
const busybox = busyboxSkip
  ? undefined
  : await startSleepingContainer({ image: await ensureBusyboxImage(), name: uniqueContainerName('fetch') });
const debian = debianSkip
  ? undefined
  : await startSleepingContainer({
      image: await ensureDebianImage(),
      name: uniqueContainerName('fetch-deb'),
    });
after(async () => await removeContainers([busybox, debian].filter((name) => name !== undefined)));

describe('FetchUrl from inside a container', () => {
  let server: Server;
  let base: string;
  const sessions: GuardedToolSession[] = [];
  before(async () => ({ server, url: base } = await startServer()));
  after(async () => {
    for (const session of sessions) await session.close();
    server.close();
  });
  const inside = (container: string) => {
    const session = guardedToolSession({
      runtime: dockerRuntime.create(
        dockerRuntime.configSchema.parse({ containerName: container }),
        runtimeContext,
      ),
    });
    sessions.push(session);
    return session;
  };

  it('reaches a port only the container can reach, with its wget', { skip: busyboxSkip }, async () => {
    execFileSync('docker', [
      'exec',
      busybox!,
      'sh',
      '-c',
      'mkdir -p /www && printf \'{"ready":true}\' > /www/health.json && httpd -p 127.0.0.1:18080 -h /www',
    ]);
    const session = inside(busybox!);
    const health = await session.call(tool, { url: 'http://127.0.0.1:18080/health.json' });
    assert.equal(health.isError, false, health.llmContent);
    assert.match(health.llmContent, /Fetched from: the target \(docker runtime\), with wget/);
    assert.match(health.llmContent, /JSON pretty-printed:\n<untrusted-data[^>]*>\n\{\n {2}"ready": true\n\}/);
    const forced = await session.call(tool, { url: 'http://127.0.0.1:18080/health.json', from: 'opsmate' });
    assert.match(forced.llmContent, /Fetched from: the opsmate machine|from the opsmate machine failed/);
  });

  it(
    'fetches from the opsmate machine when the container has no client, and says why',
    { skip: debianSkip },
    async () => {
      const session = inside(debian!);
      const loopback = await session.call(tool, { url: `${base}/` });
      assert.equal(loopback.isError, true);
      assert.match(
        loopback.llmContent,
        /not fetched: the target has neither curl nor wget, and 127\.0\.0\.1 on the opsmate machine is not the target/,
      );
      const here = await session.call(tool, { url: `${base}/`, from: 'opsmate' });
      assert.match(here.llmContent, /Fetched from: the opsmate machine\n/);
      assert.match(here.llmContent, /Healthy/);
      const target = await session.call(tool, { url: `${base}/`, from: 'target' });
      assert.match(target.llmContent, /not possible, the target has neither curl nor wget/);
    },
  );
});
