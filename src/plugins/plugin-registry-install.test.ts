// `opsmate install` from a registry, end to end: a private npm registry (verdaccio) on loopback,
// packages published to it, and the built CLI with real npm.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { integrationSkip } from '../../test-support/integration.js';
import {
  npmRegistryMissingReason,
  startNpmRegistry,
  type NpmRegistry,
} from '../../test-support/npm-registry.js';
import { shellRuntimeModule, writePluginPackage } from '../../test-support/plugin-fixtures.js';
import { runCli } from '../../test-support/run-cli.js';

const skip = integrationSkip('private npm registry', npmRegistryMissingReason());

describe('opsmate install from an npm registry', { skip }, () => {
  let registry: NpmRegistry;
  let scratch: string;
  let env: Record<string, string>;
  let pluginsDir: string;

  function publish(
    name: string,
    version: string,
    description: string,
    extra: Record<string, unknown> = {},
  ): void {
    const runtime = name.replace(/^opsmate-runtime-/, '');
    const folder = writePluginPackage(join(scratch, 'src', `${name}-${version}`), {
      name,
      version,
      runtime,
      files: { 'index.js': shellRuntimeModule({ name: runtime, description }) },
    });
    if (Object.keys(extra).length > 0) {
      const manifest = JSON.parse(readFileSync(join(folder, 'package.json'), 'utf8')) as Record<
        string,
        unknown
      >;
      writeFileSync(join(folder, 'package.json'), JSON.stringify({ ...manifest, ...extra }));
    }
    registry.publish(folder);
  }

  const installed = (name: string): string =>
    (
      JSON.parse(readFileSync(join(pluginsDir, 'node_modules', name, 'package.json'), 'utf8')) as {
        version: string;
      }
    ).version;

  before(async () => {
    scratch = mkdtempSync(join(tmpdir(), 'opsmate-registry-'));
    registry = await startNpmRegistry(join(scratch, 'registry'));
    pluginsDir = join(scratch, 'plugins');
    // npm's own cache for these runs: --no-cache-dir must leave it alone.
    env = {
      OPSMATE_HOME: join(scratch, 'home'),
      OPSMATE_PLUGINS_DIR: pluginsDir,
      npm_config_cache: join(scratch, 'user-cache'),
    };
  });
  after(async () => {
    await registry?.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('installs by name with --registry, skips it when installed, upgrades with -U, reinstalls with --force-reinstall', async () => {
    publish('opsmate-runtime-reg', '1.0.0', 'Release one.');
    const first = await runCli(['install', '--registry', registry.url, 'opsmate-runtime-reg'], { env });
    assert.equal(first.exitCode, 0, first.stderr);
    assert.match(
      first.stdout,
      /^Installed opsmate-runtime-reg 1\.0\.0: runtime reg \(npm registry, \^1\.0\.0\)$/m,
    );
    const exec = await runCli(['exec', '--shell-command-runtime', 'reg', '--', 'echo from-registry'], {
      env,
    });
    assert.equal(exec.stdout, 'from-registry\n', exec.stderr);

    publish('opsmate-runtime-reg', '1.1.0', 'Release two.');
    const again = await runCli(['install', '--registry', registry.url, 'opsmate-runtime-reg'], { env });
    assert.equal(again.exitCode, 0, again.stderr);
    assert.match(again.stdout, /^opsmate-runtime-reg 1\.0\.0 is already installed/m);
    assert.equal(installed('opsmate-runtime-reg'), '1.0.0');

    const upgrade = await runCli(['install', '-U', '--registry', registry.url, 'opsmate-runtime-reg'], {
      env,
    });
    assert.equal(upgrade.exitCode, 0, upgrade.stderr);
    assert.match(upgrade.stdout, /^Installed opsmate-runtime-reg 1\.1\.0/m);
    assert.match((await runCli(['list-runtimes'], { env })).stdout, /^reg\s+Release two\./m);

    rmSync(join(pluginsDir, 'node_modules', 'opsmate-runtime-reg', 'index.js'));
    const force = await runCli(
      ['install', '--force-reinstall', '--registry', registry.url, 'opsmate-runtime-reg'],
      { env },
    );
    assert.equal(force.exitCode, 0, force.stderr);
    assert.match(force.stdout, /^Installed opsmate-runtime-reg 1\.1\.0/m);
    assert.ok(
      existsSync(join(pluginsDir, 'node_modules', 'opsmate-runtime-reg', 'index.js')),
      'not reinstalled',
    );
  });

  it('bypasses the npm cache with --no-cache-dir', async () => {
    publish('opsmate-runtime-nocache', '1.0.0', 'Not cached.');
    const run = await runCli(
      ['install', '--no-cache-dir', '--registry', registry.url, 'opsmate-runtime-nocache'],
      { env },
    );
    assert.equal(run.exitCode, 0, run.stderr);
    assert.equal(installed('opsmate-runtime-nocache'), '1.0.0');
    const cached = JSON.stringify(readdirSync(join(scratch, 'user-cache'), { recursive: true }));
    const index = existsSync(join(scratch, 'user-cache', '_cacache'))
      ? readdirSync(join(scratch, 'user-cache', '_cacache', 'index-v5'), {
          recursive: true,
          withFileTypes: true,
        })
          .filter((entry) => entry.isFile())
          .map((entry) => readFileSync(join(entry.parentPath, entry.name), 'utf8'))
          .join('\n')
      : '';
    assert.ok(
      index.includes('opsmate-runtime-reg'),
      `the user cache was not used before: ${cached.slice(0, 200)}`,
    );
    assert.ok(!index.includes('opsmate-runtime-nocache'), 'npm wrote the package to the user cache');
  });

  it('honours a registry set in the plugins folder .npmrc, and refuses a plugin for another opsmate', async () => {
    publish('opsmate-runtime-future', '2.0.0', 'Needs opsmate 2.', {
      peerDependencies: { opsmate: '^2.0.0' },
    });
    writeFileSync(join(pluginsDir, '.npmrc'), `registry=${registry.url}\n`);
    const refused = await runCli(['install', 'opsmate-runtime-future'], { env });
    assert.equal(refused.exitCode, 1);
    assert.match(
      refused.stderr,
      /^opsmate: error: opsmate-runtime-future was not installed: it needs opsmate \^2\.0\.0 \(peerDependencies\), and this is opsmate 0\.1\.0$/m,
    );
    assert.doesNotMatch(readFileSync(join(pluginsDir, 'package.json'), 'utf8'), /future/);
    const bad = await runCli(['install', '--registry', 'not a url', 'x'], { env });
    assert.equal(bad.exitCode, 2);
    assert.match(bad.stderr, /^opsmate: error: --registry "not a url" is not an http\(s\) URL$/m);
  });
});
