/**
 * The port helper every test server goes through: a port taken between probing and binding is
 * retried on another port, and any other failure is not.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { describe, it } from 'node:test';
import { freePort, onFreePort } from '../../test-support/free-port.js';

const listen = (server: Server, port: number) =>
  new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });

describe('test ports', () => {
  it('never hands out the same port twice in one process', async () => {
    const ports = await Promise.all(Array.from({ length: 30 }, () => freePort()));
    assert.equal(new Set(ports).size, ports.length);
  });

  it('tries another port when someone takes the first between the probe and the bind', async () => {
    const thief = createServer();
    const tried: number[] = [];
    const ours = createServer();
    try {
      const port = await onFreePort(async (candidate) => {
        tried.push(candidate);
        if (tried.length === 1) await listen(thief, candidate);
        await listen(ours, candidate);
        return candidate;
      });
      assert.equal(tried.length, 2);
      assert.notEqual(port, tried[0]);
      assert.equal((ours.address() as { port: number }).port, port);
    } finally {
      ours.close();
      thief.close();
    }
  });

  it('gives up on any other failure at once, and after the last attempt on a taken port', async () => {
    let calls = 0;
    await assert.rejects(
      onFreePort(async () => {
        calls += 1;
        throw new Error('config file not found');
      }),
      /config file not found/,
    );
    assert.equal(calls, 1);
    calls = 0;
    await assert.rejects(
      onFreePort(
        async () => {
          calls += 1;
          throw new Error('listen tcp 127.0.0.1:1: bind: address already in use');
        },
        { attempts: 3 },
      ),
      /address already in use/,
    );
    assert.equal(calls, 3);
  });
});
