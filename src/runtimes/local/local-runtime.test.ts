import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runtimeConformanceSuite } from '../../testing/conformance-suite.js';
import { localRuntime } from './local-runtime.js';

runtimeConformanceSuite({
  name: 'local (bash)',
  create: (context) => localRuntime.create({ shell: '/bin/bash', env: {} }, context),
});

runtimeConformanceSuite({
  name: 'local (dash)',
  skip: existsSync('/bin/dash') ? false : 'dash is not installed (apt-get install dash)',
  create: (context) => localRuntime.create({ shell: '/bin/dash', env: {} }, context),
});

// busybox runs as ash when it is called by that name.
const busybox = ['/bin/busybox', '/usr/bin/busybox'].find((path) => existsSync(path));
const ashDir = mkdtempSync(join(tmpdir(), 'opsmate-ash-'));
if (busybox) symlinkSync(busybox, join(ashDir, 'ash'));
runtimeConformanceSuite({
  name: 'local (busybox ash)',
  skip: busybox ? false : 'busybox is not installed (apt-get install busybox-static)',
  create: (context) => localRuntime.create({ shell: join(ashDir, 'ash'), env: {} }, context),
});

describe('local runtime with a huge output', () => {
  it('streams 1 GB through with bounded memory, keeping head, tail and a full spill', async () => {
    const spillDir = mkdtempSync(join(tmpdir(), 'opsmate-gigabyte-'));
    const runtime = localRuntime.create(
      { shell: '/bin/sh', env: {} },
      { spillDir, outputLimitBytes: 64 * 1024 },
    );
    let peakRss = 0;
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 25);
    try {
      const bytes = 1_000_000_000;
      const result = await runtime.run(`head -c ${bytes} /dev/zero; echo tail-marker`, {
        timeoutMs: 600_000,
      });
      assert.equal(result.exitCode, 0);
      assert.equal(result.stdoutBytes, bytes + 'tail-marker\n'.length);
      assert.equal(result.truncated, true);
      assert.match(result.stdout, /tail-marker\n$/);
      assert.ok(result.stdout.length < 70 * 1024);
      assert.equal(statSync(result.spillFiles.stdout!).size, result.stdoutBytes);
      assert.equal((await runtime.run('echo still-in-sync')).stdout, 'still-in-sync\n');
      // Generous bound: the process would need over 1 GB if it kept the output.
      assert.ok(peakRss < 400 * 1024 * 1024, `peak RSS ${Math.round(peakRss / 1048576)} MiB`);
    } finally {
      clearInterval(sampler);
      await runtime.disconnect();
      rmSync(spillDir, { recursive: true, force: true });
    }
  });
});
