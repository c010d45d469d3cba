// `opsmate install`, `uninstall` and `list-plugins` with the built CLI and real npm, offline:
// every package comes from a local folder or a tarball made with `npm pack`.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  packPlugin,
  placeInstalledPlugin,
  shellRuntimeModule,
  writePluginPackage,
} from '../../test-support/plugin-fixtures.js';
import { runCli, type CliResult } from '../../test-support/run-cli.js';

const scratch = mkdtempSync(join(tmpdir(), 'opsmate-install-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
let counter = 0;

/** A fresh plugins folder and the env that points the CLI at it. */
function freshSetup() {
  const root = join(scratch, `case-${++counter}`);
  const pluginsDir = join(root, 'plugins');
  return { root, pluginsDir, env: { OPSMATE_HOME: join(root, 'home'), OPSMATE_PLUGINS_DIR: pluginsDir } };
}

function assertOneLineError(result: CliResult, pattern: RegExp): void {
  assert.notEqual(result.exitCode, 0, 'expected a failure');
  assert.doesNotMatch(result.stderr, /^\s+at /m, 'a stack trace was printed');
  const errors = result.stderr.split('\n').filter((line) => line.startsWith('opsmate: error: '));
  assert.equal(errors.length, 1, result.stderr);
  assert.match(errors[0]!, pattern);
}

function readState(pluginsDir: string) {
  const read = (file: string) =>
    existsSync(join(pluginsDir, file)) ? readFileSync(join(pluginsDir, file), 'utf8') : undefined;
  return { packageJson: read('package.json'), lock: read('package-lock.json') };
}

describe('opsmate install / uninstall / list-plugins', () => {
  it('rolls back a plugin that takes a built-in runtime name, and says why in one line', async () => {
    const { root, env, pluginsDir } = freshSetup();
    const folder = writePluginPackage(join(root, 'clash'), {
      name: 'opsmate-runtime-clash',
      runtime: 'local',
      files: { 'index.js': shellRuntimeModule({ name: 'local' }) },
    });
    const result = await runCli(['install', packPlugin(folder, root)], { env });
    assertOneLineError(
      result,
      /^opsmate: error: opsmate-runtime-clash was not installed: runtime "local": runtime name "local" is already taken by a built-in runtime$/,
    );
    assert.match(result.stderr, /opsmate: hint: the plugins folder is as it was before/);
    assert.equal(result.exitCode, 1);
    assert.ok(
      !existsSync(join(pluginsDir, 'node_modules', 'opsmate-runtime-clash')),
      'the package was left installed',
    );
    assert.doesNotMatch(readState(pluginsDir).packageJson ?? '', /clash/);
    const runtimes = await runCli(['list-runtimes'], { env });
    assert.equal(runtimes.stderr, '');
  });

  it('rolls back a broken upgrade to the working version, package.json and lockfile included', async () => {
    const { root, env, pluginsDir } = freshSetup();
    const good = writePluginPackage(join(root, 'v1'), {
      name: 'opsmate-runtime-demo',
      version: '1.0.0',
      files: { 'index.js': shellRuntimeModule({ name: 'demo', description: 'Version one.' }) },
    });
    const broken = writePluginPackage(join(root, 'v2'), {
      name: 'opsmate-runtime-demo',
      version: '2.0.0',
      files: { 'index.js': "import './missing-helper.js';\n" },
    });
    const v1 = await runCli(['install', packPlugin(good, join(root, 'packed'))], { env });
    assert.equal(v1.exitCode, 0, v1.stderr);
    assert.match(
      v1.stdout,
      /^Installed opsmate-runtime-demo 1\.0\.0: runtime demo \(from a tarball or folder\)$/m,
    );
    const before = readState(pluginsDir);

    const v2 = await runCli(['install', packPlugin(broken, join(root, 'packed'))], { env });
    assertOneLineError(
      v2,
      /^opsmate: error: opsmate-runtime-demo was not installed: runtime "demo": cannot import \.\/index\.js: Cannot find module .*missing-helper\.js/,
    );
    assert.deepEqual(readState(pluginsDir), before);
    const installed = JSON.parse(
      readFileSync(join(pluginsDir, 'node_modules', 'opsmate-runtime-demo', 'package.json'), 'utf8'),
    ) as { version: string };
    assert.equal(installed.version, '1.0.0');
    const run = await runCli(['exec', '--shell-command-runtime', 'demo', '--', 'echo still v1; exit 5'], {
      env,
    });
    assert.equal(run.exitCode, 5, run.stderr);
    assert.equal(run.stdout, 'still v1\n');
  });

  it('rolls back when npm fails, and for a package that is not an opsmate plugin', async () => {
    const { root, env, pluginsDir } = freshSetup();
    const garbage = join(root, 'garbage.tgz');
    writePluginPackage(join(root, 'plain'), {
      name: 'not-a-plugin',
      opsmate: null,
      files: { 'index.js': '' },
    });
    writeFileSync(garbage, 'this is not a tarball');
    const npmFailure = await runCli(['install', garbage], { env });
    assertOneLineError(npmFailure, /^opsmate: error: nothing was installed: npm failed: /);
    const plain = await runCli(['install', join(root, 'plain')], { env });
    assertOneLineError(
      plain,
      /^opsmate: error: not-a-plugin was not installed: not an opsmate plugin: its package.json has no "opsmate" field/,
    );
    assert.doesNotMatch(readState(pluginsDir).packageJson ?? '', /not-a-plugin/);
  });

  it('links an editable plugin: edits show at once, uninstall keeps the folder', async () => {
    const { root, env, pluginsDir } = freshSetup();
    const folder = writePluginPackage(join(root, 'editable'), {
      name: 'opsmate-runtime-live',
      runtime: 'live',
      files: { 'index.js': shellRuntimeModule({ name: 'live', description: 'First words.' }) },
    });
    const install = await runCli(['install', '-e', '.'], { env, cwd: folder });
    assert.equal(install.exitCode, 0, install.stderr);
    assert.match(install.stdout, /runtime live \(editable, linked to .*editable\)/);
    assert.match((await runCli(['list-runtimes'], { env })).stdout, /^live\s+First words\./m);
    writeFileSync(
      join(folder, 'index.js'),
      shellRuntimeModule({ name: 'live', description: 'Edited words.' }),
    );
    assert.match((await runCli(['list-runtimes'], { env })).stdout, /^live\s+Edited words\./m);

    const plugins = await runCli(['list-plugins'], { env });
    assert.match(
      plugins.stdout,
      /^opsmate-runtime-live\s+1\.0\.0\s+runtime live\s+ok\s+editable, linked to /m,
    );

    const uninstall = await runCli(['uninstall', '-y', 'opsmate-runtime-live', 'opsmate-runtime-never'], {
      env,
    });
    assert.equal(uninstall.exitCode, 0, uninstall.stderr);
    assert.match(uninstall.stderr, /skipping opsmate-runtime-never: it is not installed/);
    assert.ok(existsSync(join(folder, 'index.js')), 'uninstall deleted the linked folder');
    assert.doesNotMatch((await runCli(['list-runtimes'], { env })).stdout, /^live\s/m);
    assert.match((await runCli(['list-plugins'], { env })).stdout, /^No plugins installed in /);
    assert.ok(existsSync(join(pluginsDir, 'package.json')));
  });

  it('copies a plugin folder, and leaves an installed registry package alone without -U', async () => {
    const { root, env } = freshSetup();
    const folder = writePluginPackage(join(root, 'copied'), {
      name: 'opsmate-runtime-copied',
      runtime: 'copied',
      files: { 'index.js': shellRuntimeModule({ name: 'copied', description: 'As installed.' }) },
    });
    assert.equal((await runCli(['install', folder], { env })).exitCode, 0);
    writeFileSync(
      join(folder, 'index.js'),
      shellRuntimeModule({ name: 'copied', description: 'Changed later.' }),
    );
    assert.match((await runCli(['list-runtimes'], { env })).stdout, /^copied\s+As installed\./m);

    // Named like a registry package: already installed, so npm is not even asked.
    const again = await runCli(['install', 'opsmate-runtime-copied'], { env });
    assert.equal(again.exitCode, 0, again.stderr);
    assert.match(again.stdout, /^opsmate-runtime-copied 1\.0\.0 is already installed \(-U upgrades it/m);
  });

  it('reports a broken plugin in one warning line while every command keeps working', async () => {
    const { root, env, pluginsDir } = freshSetup();
    const broken = writePluginPackage(join(root, 'broken'), {
      name: 'opsmate-runtime-broken',
      runtime: 'broken',
      files: { 'index.js': "throw new Error('cannot work here');\n" },
    });
    placeInstalledPlugin(pluginsDir, broken);
    // exec on a built-in runtime does not even import the plugin, so it cannot be hurt by it.
    const exec = await runCli(['exec', '--', 'echo fine'], { env });
    assert.equal(exec.exitCode, 0);
    assert.equal(exec.stdout, 'fine\n');
    assert.equal(exec.stderr, '');
    const chosen = await runCli(['exec', '--shell-command-runtime', 'broken', '--', 'true'], { env });
    assert.equal(chosen.exitCode, 2);
    assert.match(
      chosen.stderr,
      /^opsmate: error: runtime "broken" comes from a broken plugin: .*cannot work here$/m,
    );
    const runtimes = await runCli(['list-runtimes'], { env });
    assert.equal(runtimes.exitCode, 0);
    assert.match(
      runtimes.stdout,
      /^broken\s+BROKEN: cannot import \.\/index\.js: cannot work here\s+plugin opsmate-runtime-broken$/m,
    );
    const plugins = await runCli(['list-plugins'], { env });
    assert.match(plugins.stdout, /^opsmate-runtime-broken\s+1\.0\.0\s+runtime broken\s+broken\s/m);
    assert.match(plugins.stdout, /^broken: opsmate-runtime-broken: runtime "broken": cannot import/m);
    const uninstall = await runCli(['uninstall', '-y', 'opsmate-runtime-broken'], { env });
    assert.equal(uninstall.exitCode, 0, uninstall.stderr);
  });

  it('turns bad input into one line and a usage exit status', async () => {
    const { root, env } = freshSetup();
    assertOneLineError(await runCli(['install'], { env }), /nothing to install/);
    assertOneLineError(
      await runCli(['install', '-e', join(root, 'nowhere')], { env }),
      /-e needs a plugin folder/,
    );
    assertOneLineError(
      await runCli(['install', './no-such.tgz'], { env, cwd: tmpdir() }),
      /no such file or folder/,
    );
    const noTerminal = await runCli(['uninstall', 'anything-installed'], { env });
    assert.equal(noTerminal.exitCode, 0, 'a name that is not installed is skipped before asking');
    assert.equal((await runCli(['install'], { env })).exitCode, 2);
  });

  it('refuses a plugin whose opsmate range excludes this version, and one with a bad field key', async () => {
    const { root, env, pluginsDir } = freshSetup();
    const future = writePluginPackage(join(root, 'future'), {
      name: 'opsmate-runtime-future',
      runtime: 'future',
      files: { 'index.js': shellRuntimeModule({ name: 'future' }) },
    });
    const manifest = JSON.parse(readFileSync(join(future, 'package.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    writeFileSync(
      join(future, 'package.json'),
      JSON.stringify({ ...manifest, peerDependencies: { opsmate: '^2.0.0' } }),
    );
    assertOneLineError(
      await runCli(['install', future], { env }),
      /^opsmate: error: opsmate-runtime-future was not installed: it needs opsmate \^2\.0\.0 \(peerDependencies\), and this is opsmate 0\.1\.0$/,
    );
    const badKey = writePluginPackage(join(root, 'badkey'), {
      name: 'opsmate-runtime-badkey',
      runtime: 'badkey',
      files: {
        'index.js': shellRuntimeModule({ name: 'badkey' }).replace(
          'greeting: z.string()',
          '__private: z.string()',
        ),
      },
    });
    assertOneLineError(
      await runCli(['install', badKey], { env }),
      /^opsmate: error: opsmate-runtime-badkey was not installed: runtime "badkey": config field key "__private" cannot become an option/,
    );
    assert.doesNotMatch(readState(pluginsDir).packageJson ?? '', /future|badkey/);
    assert.equal((await runCli(['--version'], { env })).exitCode, 0);
  });

  it('says when install scripts ran, and skips them with --ignore-scripts', async () => {
    const { root, env } = freshSetup();
    const marker = join(root, 'postinstall-ran');
    const folder = writePluginPackage(join(root, 'scripted'), {
      name: 'opsmate-runtime-scripted',
      runtime: 'scripted',
      files: {
        'index.js': shellRuntimeModule({ name: 'scripted' }),
        'setup.js': `require('node:fs').writeFileSync(${JSON.stringify(marker)}, 'ran');\n`.replace(
          "require('node:fs')",
          "(await import('node:fs'))",
        ),
      },
    });
    const manifest = JSON.parse(readFileSync(join(folder, 'package.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    writeFileSync(
      join(folder, 'package.json'),
      JSON.stringify({ ...manifest, scripts: { postinstall: 'node setup.js' } }),
    );
    const skipped = await runCli(['install', '--ignore-scripts', folder], { env });
    assert.equal(skipped.exitCode, 0, skipped.stderr);
    assert.match(
      skipped.stderr,
      /^opsmate: warn: did not run the install scripts of opsmate-runtime-scripted@1\.0\.0 \(--ignore-scripts\)/m,
    );
    assert.equal(existsSync(marker), false, 'the postinstall script ran despite --ignore-scripts');
    const ran = await runCli(['install', '--force-reinstall', folder], { env });
    assert.equal(ran.exitCode, 0, ran.stderr);
    assert.match(
      ran.stderr,
      /^opsmate: warn: ran the install scripts of opsmate-runtime-scripted@1\.0\.0, with your rights/m,
    );
    assert.equal(readFileSync(marker, 'utf8'), 'ran');
    const plugins = await runCli(['list-plugins'], { env });
    assert.match(
      plugins.stdout,
      /^scripts: opsmate-runtime-scripted has install scripts: postinstall: node setup\.js$/m,
    );
  });
});
