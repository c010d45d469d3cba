import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { FakeRuntime } from '../../test-support/fake-runtime.js';
import { placeInstalledPlugin, writePluginPackage } from '../../test-support/plugin-fixtures.js';
import { runCliIsolated, startCliIsolated } from '../../test-support/run-cli.js';
import { RuntimeError } from '../errors/opsmate-error.js';
import { BoundedRuntime } from './bounded-runtime.js';

const scratch = mkdtempSync(join(tmpdir(), 'opsmate-wt-audit-bounded-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** A runtime whose connect and disconnect can be made to hang or fail. */
class StuckRuntime extends FakeRuntime {
  connectCalls: Array<AbortSignal | undefined> = [];
  connectBehaviour: 'hang' | 'ok' = 'hang';
  disconnectBehaviour: 'hang' | 'reject' | 'ok' = 'ok';

  override connect(options?: { signal?: AbortSignal }): Promise<void> {
    this.connectCalls.push(options?.signal);
    return this.connectBehaviour === 'hang' ? new Promise(() => {}) : Promise.resolve();
  }
  override disconnect(): Promise<void> {
    if (this.disconnectBehaviour === 'hang') return new Promise(() => {});
    if (this.disconnectBehaviour === 'reject') return Promise.reject(new Error('socket already closed'));
    return Promise.resolve();
  }
}

describe('BoundedRuntime', () => {
  it('gives up a connect that never settles, and aborts the signal the runtime was given', async () => {
    const inner = new StuckRuntime();
    const bounded = new BoundedRuntime({ runtime: inner, connectTimeoutMs: 50 });
    await assert.rejects(
      bounded.connect(),
      (error: unknown) =>
        RuntimeError.isInstance(error) &&
        error.message === 'fake runtime: did not connect within 0.05 s' &&
        /--connect-timeout \(env OPSMATE_CONNECT_TIMEOUT\)/.test(error.hint ?? ''),
    );
    assert.equal(inner.connectCalls[0]?.aborted, true);
  });

  it('stops waiting at once when its own signal aborts, whatever the runtime does', async () => {
    const bounded = new BoundedRuntime({ runtime: new StuckRuntime(), connectTimeoutMs: 60_000 });
    const abort = new AbortController();
    const connecting = bounded.connect({ signal: abort.signal });
    abort.abort();
    await assert.rejects(connecting, /fake runtime: connect cancelled/);
  });

  it('lets a disconnect that hangs or rejects go after a grace, and says so', async () => {
    const warnings: string[] = [];
    const inner = new StuckRuntime();
    inner.connectBehaviour = 'ok';
    const bounded = new BoundedRuntime({
      runtime: inner,
      disconnectGraceMs: 50,
      onWarning: (message) => warnings.push(message),
    });
    await bounded.connect();
    inner.disconnectBehaviour = 'hang';
    await bounded.disconnect();
    inner.disconnectBehaviour = 'reject';
    await bounded.disconnect();
    assert.deepEqual(warnings, [
      'fake runtime: disconnect did not finish within 0.05 s; opsmate went on without it',
      'fake runtime: disconnect failed: socket already closed',
    ]);
  });
});

/** A plugin runtime that misbehaves as `--runtime-broken-mode` says. */
const BROKEN_RUNTIME = `import { writeFileSync } from 'node:fs';
import { defineRuntime, z } from 'opsmate';

class BrokenRuntime {
  name = 'broken';
  constructor(config) {
    this.config = config;
  }
  connect() {
    if (this.config.marker) writeFileSync(this.config.marker, 'connecting\\n');
    if (this.config.mode === 'connect') return new Promise(() => {});
    // Hangs while keeping the event loop busy, as a stuck socket would.
    if (this.config.mode === 'connect-busy') return new Promise(() => setInterval(() => {}, 1000));
    return Promise.resolve();
  }
  disconnect() {
    if (this.config.mode === 'disconnect') return new Promise(() => setInterval(() => {}, 1000));
    if (this.config.mode === 'disconnect-throws') return Promise.reject(new Error('it broke on the way out'));
    return Promise.resolve();
  }
  async run(command, options) {
    await options?.onOutput?.({ stream: 'stdout', data: Buffer.from('ran\\n') });
    return { command, exitCode: 7, stdout: 'ran\\n', stderr: '', stdoutBytes: 4, stderrBytes: 0,
      truncated: false, spillFiles: {}, timedOut: false, cancelled: false, shellExited: false, durationMs: 1 };
  }
  async osInfo() { return 'BrokenOS'; }
  async whoami() { return 'nobody'; }
  async hasSystemd() { return false; }
  async runtimeInfo() { return 'Runtime: broken.'; }
  target() { return { host: 'nowhere' }; }
}

export default defineRuntime({
  name: 'broken',
  description: 'A runtime that hangs or fails where it is told to.',
  configSchema: z.object({
    mode: z.string().default('fine').describe('Where to misbehave'),
    marker: z.string().optional().describe('File written when connect starts'),
  }),
  create: (config) => new BrokenRuntime(config),
});
`;

describe('a plugin runtime whose connect or disconnect misbehaves, through the CLI', () => {
  const pluginsDir = join(scratch, 'plugins');
  placeInstalledPlugin(
    pluginsDir,
    writePluginPackage(join(scratch, 'broken-plugin'), {
      name: 'opsmate-runtime-broken',
      runtime: 'broken',
      files: { 'index.js': BROKEN_RUNTIME },
    }),
  );
  const exec = (mode: string, extra: string[] = []) =>
    runCliIsolated({
      args: [
        'exec',
        '--shell-command-runtime',
        'broken',
        '--runtime-broken-mode',
        mode,
        ...extra,
        '--',
        'true',
      ],
      env: { OPSMATE_PLUGINS_DIR: pluginsDir },
    });

  for (const mode of ['connect', 'connect-busy']) {
    it(`stops a connect that never settles (${mode}) at the connect timeout, with one error and a hint`, async () => {
      const result = await exec(mode, ['--connect-timeout', '0.5']);
      assert.equal(result.exitCode, 1, result.stderr);
      assert.equal(
        result.stderr,
        'opsmate: error: broken runtime: did not connect within 0.5 s\n' +
          "opsmate: hint: check that the target is reachable and the runtime's options are right, or allow more time with --connect-timeout (env OPSMATE_CONNECT_TIMEOUT)\n",
      );
      assert.equal(result.stdout, '');
    });
  }

  it('takes the connect timeout from OPSMATE_CONNECT_TIMEOUT', async () => {
    const result = await runCliIsolated({
      args: ['exec', '--shell-command-runtime', 'broken', '--runtime-broken-mode', 'connect', '--', 'true'],
      env: { OPSMATE_PLUGINS_DIR: pluginsDir, OPSMATE_CONNECT_TIMEOUT: '0.3' },
    });
    assert.equal(result.exitCode, 1);
    assert.match(result.stderr, /did not connect within 0\.3 s/);
  });

  it('gives up the connect at once on SIGTERM', async () => {
    const marker = join(scratch, 'connecting');
    const cli = startCliIsolated({
      args: [
        'exec',
        '--shell-command-runtime',
        'broken',
        '--runtime-broken-mode',
        'connect-busy',
        '--runtime-broken-marker',
        marker,
        '--',
        'true',
      ],
      env: { OPSMATE_PLUGINS_DIR: pluginsDir },
    });
    for (let attempt = 0; attempt < 400 && !existsSync(marker); attempt++) await sleep(25);
    assert.ok(existsSync(marker), 'connect never started');
    cli.kill('SIGTERM');
    const result = await cli.done;
    assert.equal(result.exitCode, 143, result.stderr);
    assert.equal(result.stderr, 'opsmate: interrupted\n');
  });

  it("keeps the command's exit code when disconnect hangs or throws, and says so", async () => {
    const hung = await exec('disconnect');
    assert.equal(hung.exitCode, 7, hung.stderr);
    assert.equal(hung.stdout, 'ran\n');
    assert.match(
      hung.stderr,
      /^opsmate: warn: broken runtime: disconnect did not finish within 3 s; opsmate went on without it\n$/,
    );
    const threw = await exec('disconnect-throws');
    assert.equal(threw.exitCode, 7, threw.stderr);
    assert.match(
      threw.stderr,
      /^opsmate: warn: broken runtime: disconnect failed: runtime "broken" disconnect\(\) \(plugin opsmate-runtime-broken\) failed: it broke on the way out\n$/,
    );
  });
});
