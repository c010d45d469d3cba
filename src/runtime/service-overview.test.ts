import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { localRuntime } from '../runtimes/local/local-runtime.js';
import { formatServiceOverview, procNetAddress } from './service-overview.js';

describe('service overview', () => {
  it('reads /proc/net addresses, IPv4 and IPv6', () => {
    assert.equal(procNetAddress('0100007F:1F90'), '127.0.0.1:8080');
    assert.equal(procNetAddress('00000000:0050'), '0.0.0.0:80');
    assert.equal(procNetAddress('00000000000000000000000000000000:01BB'), '[::]:443');
    assert.equal(procNetAddress('00000000000000000000000001000000:0016'), '[::1]:22');
    assert.equal(procNetAddress('0000000000000000FFFF00000100007F:1538'), '[::ffff:127.0.0.1]:5432');
  });

  it('lists sockets by protocol and port, who holds them, and how services start, capped', () => {
    const lines = [
      'S tcp 00000000:0050 12 nginx: master process nginx -g daemon off;',
      'S tcp6 00000000000000000000000000000000:0016 - -',
      'S udp 00000000:0044 3 dhclient eth0',
      'S tcp 0100007F:1538 40 postgres -D /var/lib/postgresql',
      'P /sbin/tini -- /docker-entrypoint.sh nginx',
      'D /etc/init.d nginx procps',
      'F /docker-entrypoint.sh',
    ];
    for (let port = 10_000; port < 10_040; port++)
      lines.push(`S tcp 0100007F:${port.toString(16).toUpperCase()} 99 app`);
    const text = formatServiceOverview(lines.join('\n'));
    assert.match(
      text,
      /^Listening sockets:\n {2}tcp \[::\]:22 \(process not visible to this user\)\n {2}tcp 0\.0\.0\.0:80 nginx: master process nginx -g daemon off; \(pid 12\)\n {2}tcp 127\.0\.0\.1:5432 postgres -D \/var\/lib\/postgresql \(pid 40\)\n/,
    );
    assert.match(text, /\n {2}\.\.\. and 14 more\n/);
    assert.doesNotMatch(text, /udp 0\.0\.0\.0:68/, 'udp sorts after tcp and is past the cap');
    assert.match(text, /\nPID 1: \/sbin\/tini -- \/docker-entrypoint\.sh nginx\n/);
    assert.match(
      text,
      /Service definitions found:\n {2}\/etc\/init\.d: nginx procps\n {2}\/docker-entrypoint\.sh$/,
    );
  });

  describe('on this machine', () => {
    let server: Server;
    let port = 0;
    before(async () => {
      server = createServer();
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
      port = (server.address() as { port: number }).port;
    });
    after(() => server.close());

    it('finds a socket this process listens on, with its command line', async () => {
      const runtime = localRuntime.create(localRuntime.configSchema.parse({}), {
        spillDir: tmpdir(),
        outputLimitBytes: 64 * 1024,
      });
      try {
        const overview = await runtime.services!();
        assert.match(
          overview,
          new RegExp(`tcp 127\\.0\\.0\\.1:${port} \\S*node[^\\n]*\\(pid ${process.pid}\\)`),
        );
        assert.match(overview, /\nPID 1: /);
      } finally {
        await runtime.disconnect();
      }
    });
  });
});
