// The CLI bundle (scripts/bundle-cli.mjs) is what a cold start runs, and never where plugin code
// runs: every module each process of a command loads is logged, ES modules through a loader hook
// (--import) and CommonJS ones through a wrapped Module._load (--require); the plugin supervisor
// passes both flags on to its child.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { readAuditCommands } from '../../src/safety/verify-audit-log.js';
import {
  placeInstalledPlugin,
  shellRuntimeModule,
  writePluginPackage,
} from '../../test-support/plugin-fixtures.js';
import { CLI_PATH, requireBuilt } from '../../test-support/run-cli.js';

const DIST = fileURLToPath(new URL('../../dist/', import.meta.url));

interface Run {
  exitCode: number | null;
  stdout: string;
  stderr: string;
  /** Module URLs loaded, by the pid of the process that loaded them. */
  modules: Map<number, string[]>;
}

describe('the CLI bundle', () => {
  let scratch: string;
  let hooks: string;
  let cjsHook: string;

  before(() => {
    requireBuilt('cli-bundle/main.js');
    scratch = mkdtempSync(join(tmpdir(), 'opsmate-cli-bundle-'));
    writeFileSync(
      join(scratch, 'log-hooks.mjs'),
      `import { appendFileSync } from 'node:fs';
export async function load(url, context, next) {
  appendFileSync(process.env.MODULE_LOG, process.pid + ' ' + url + '\\n');
  return next(url, context);
}
`,
    );
    cjsHook = join(scratch, 'log-require.cjs');
    writeFileSync(
      cjsHook,
      `const Module = require('node:module');
const { appendFileSync } = require('node:fs');
const load = Module._load;
Module._load = function (request, parent, isMain) {
  const exports = load.apply(this, arguments);
  try {
    appendFileSync(process.env.MODULE_LOG, process.pid + ' ' + Module._resolveFilename(request, parent, isMain) + '\\n');
  } catch {}
  return exports;
};
`,
    );
    hooks = join(scratch, 'register.mjs');
    writeFileSync(
      hooks,
      `import { register } from 'node:module';
register(${JSON.stringify(new URL(`file://${join(scratch, 'log-hooks.mjs')}`).href)});
`,
    );
  });
  after(() => rmSync(scratch, { recursive: true, force: true }));

  async function run(home: string, args: string[]): Promise<Run> {
    const log = join(home, 'modules.log');
    rmSync(log, { force: true });
    const child = spawn(process.execPath, ['--require', cjsHook, '--import', hooks, CLI_PATH, ...args], {
      env: { PATH: process.env.PATH, HOME: home, OPSMATE_HOME: home, NO_COLOR: '1', MODULE_LOG: log },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
    child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    const exitCode = await new Promise<number | null>((resolve) => child.on('close', resolve));
    const modules = new Map<number, string[]>();
    for (const line of existsSync(log) ? readFileSync(log, 'utf8').split('\n') : []) {
      const [pid, url] = line.split(' ');
      if (!pid || !url) continue;
      modules.set(Number(pid), [...(modules.get(Number(pid)) ?? []), url]);
    }
    return { exitCode, stdout, stderr, modules };
  }

  const loaded = (urls: readonly string[], path: string) => urls.some((url) => url.endsWith(path));

  it('runs exec from the bundle, with no plugin loader, no yaml and no zod locale, and audits the command', async () => {
    const home = mkdtempSync(join(scratch, 'home-'));
    const result = await run(home, ['exec', '--', 'echo bundled']);
    assert.equal(result.exitCode, 0, result.stderr);
    assert.equal(result.stdout, 'bundled\n');
    assert.equal(result.modules.size, 1, 'one process');
    const [urls] = [...result.modules.values()];
    assert.ok(loaded(urls!, '/dist/cli-bundle/main.js'), 'the bundle ran');
    assert.ok(!loaded(urls!, '/dist/cli/main.js'), 'not the plain modules');
    assert.ok(!urls!.some((url) => url.includes('/dist/plugins/plugin-loader')), 'no plugin loader');
    assert.ok(!urls!.some((url) => url.includes('/node_modules/yaml/')), 'no yaml without a YAML file');
    assert.ok(!urls!.some((url) => url.includes('/node_modules/zod/')), 'zod is inside the bundle');
    const audit = readAuditCommands(join(home, 'audit.jsonl'));
    assert.deepEqual(
      audit.map((entry) => [entry.command, entry.outcome, entry.exitCode]),
      [['echo bundled', 'approved', 0]],
    );
  });

  it('prints its version without loading the CLI, as commander prints it with other options', async () => {
    const home = mkdtempSync(join(scratch, 'home-'));
    const version = (
      JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
    ).version;
    for (const flag of ['--version', '-v']) {
      const result = await run(home, [flag]);
      assert.equal(result.exitCode, 0, result.stderr);
      assert.equal(result.stdout, `${version}\n`);
      const [urls] = [...result.modules.values()];
      assert.ok(!urls!.some((url) => url.includes('/dist/cli-bundle/')), `${flag}: no bundle`);
    }
    // The same answer from commander, when another option comes with it.
    const withLogLevel = await run(home, ['--loglevel', 'error', '--version']);
    assert.equal(withLogLevel.stdout, `${version}\n`);
    assert.ok([...withLogLevel.modules.values()][0]!.some((url) => url.endsWith('/dist/cli-bundle/main.js')));
  });

  it('loads yaml when a policy file exists, and its deny rule still stops the command', async () => {
    const home = mkdtempSync(join(scratch, 'home-'));
    writeFileSync(
      join(home, 'policy.yaml'),
      'rules:\n  - action: deny\n    prefix: echo\n    reason: no echo here\n',
    );
    const result = await run(home, ['exec', '--', 'echo never']);
    assert.equal(result.exitCode, 126, result.stderr);
    assert.equal(result.stdout, '');
    assert.match(result.stderr, /no echo here/);
    const [urls] = [...result.modules.values()];
    assert.ok(
      urls!.some((url) => url.includes('/node_modules/yaml/')),
      'yaml was loaded for the file',
    );
    assert.deepEqual(
      readAuditCommands(join(home, 'audit.jsonl')).map((entry) => [entry.command, entry.outcome]),
      [['echo never', 'denied']],
    );
  });

  it('runs a command that imports plugin code in the supervised child, with the plain modules only', async () => {
    const home = mkdtempSync(join(scratch, 'home-'));
    const folder = writePluginPackage(join(scratch, 'plugin-src'), {
      name: 'opsmate-runtime-bundled',
      runtime: 'bundled',
      files: { 'index.js': shellRuntimeModule({ name: 'bundled' }) },
    });
    placeInstalledPlugin(join(home, 'plugins'), folder);
    const result = await run(home, ['exec', '--shell-command-runtime', 'bundled', '--', 'echo from-plugin']);
    assert.equal(result.exitCode, 0, result.stderr);
    assert.equal(result.stdout, 'from-plugin\n');
    const withPlugin = [...result.modules].filter(([, urls]) =>
      urls.some((url) => url.includes('/opsmate-runtime-bundled/index.js')),
    );
    assert.equal(withPlugin.length, 1, 'one process imported the plugin');
    const [pid, urls] = withPlugin[0]!;
    assert.ok(loaded(urls, '/dist/cli/main.js'), 'the plugin ran with the plain CLI modules');
    assert.ok(loaded(urls, '/dist/index.js'), "the plugin's `opsmate` is the package's dist/index.js");
    assert.ok(!urls.some((url) => url.includes('/dist/cli-bundle/')), 'no bundle where the plugin runs');
    const parent = [...result.modules].find(([other]) => other !== pid);
    assert.ok(parent, 'the supervisor is another process');
    assert.ok(
      !parent[1].some((url) => url.includes('/dist/cli-bundle/')),
      'the supervisor decided before the bundle',
    );
    assert.ok(urls.every((url) => !url.startsWith(`file://${DIST}cli-bundle`)));
  });
});
