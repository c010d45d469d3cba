/**
 * Loopback ports for the servers tests start. A port found free can be taken by another test
 * file before our server binds it (the suite runs files concurrently), so a server started by
 * port number goes through `onFreePort`, which tries again on a new port when the bind fails.
 * A Node server the test owns needs none of this: it listens on port 0.
 */
import { createServer } from 'node:net';

const handedOut = new Set<number>();

/** A port the kernel says is free on `host` now, never the same one twice in this process. */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt += 1) {
    const port = await new Promise<number>((resolve, reject) => {
      const probe = createServer();
      probe.once('error', reject);
      probe.listen(0, host, () => {
        const address = probe.address();
        const found = typeof address === 'object' && address ? address.port : 0;
        probe.close(() => resolve(found));
      });
    });
    if (port > 0 && !handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`no free port on ${host}`);
}

/** What a server says when its port is taken: Go's, Node's and OpenSSH's wordings. */
export function saysAddressInUse(text: string): boolean {
  return /address already in use|EADDRINUSE/i.test(text);
}

/**
 * Starts a server on a free port with `start`, and tries again on a new port (up to `attempts`
 * times) while it fails because the port was taken in between. Any other failure is thrown at once.
 */
export async function onFreePort<T>(
  start: (port: number) => Promise<T>,
  options: { host?: string; attempts?: number } = {},
): Promise<T> {
  const attempts = options.attempts ?? 5;
  for (let attempt = 1; ; attempt += 1) {
    const port = await freePort(options.host);
    try {
      return await start(port);
    } catch (error) {
      const text = error instanceof Error ? error.message : String(error);
      if (attempt >= attempts || !saysAddressInUse(text)) throw error;
    }
  }
}
