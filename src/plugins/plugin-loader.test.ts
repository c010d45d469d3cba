import assert from 'node:assert/strict';
import { lstatSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, describe, it } from 'node:test';
import {
  copyZodInto,
  placeInstalledPlugin,
  shellRuntimeModule,
  writePluginPackage,
} from '../../test-support/plugin-fixtures.js';
import { resolveConfig } from '../config/resolve-config.js';
import { describeSchema } from '../config/schema-fields.js';
import { ConfigError } from '../errors/opsmate-error.js';
import { builtinRegistry } from '../runtimes/builtin-runtimes.js';
import { hostLinkPath } from './host-resolution.js';
import { loadPlugins, pluginProblemLines, pluginWorks } from './plugin-loader.js';

const scratch = mkdtempSync(join(tmpdir(), 'opsmate-loader-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
let counter = 0;

/** A fresh plugins folder with the given packages installed (copied), and a registry loaded from it. */
async function load(
  packages: Array<
    Parameters<typeof writePluginPackage>[1] & { link?: boolean; setup?: (folder: string) => void }
  >,
  options: { importTimeoutMs?: number } = {},
) {
  const root = join(scratch, `case-${++counter}`);
  const pluginsDir = join(root, 'plugins');
  for (const fixture of packages) {
    const folder = writePluginPackage(join(root, 'src', fixture.name), fixture);
    fixture.setup?.(folder);
    placeInstalledPlugin(pluginsDir, folder, { link: fixture.link ?? false });
  }
  const registry = builtinRegistry();
  const plugins = await loadPlugins({ pluginsDir, registry, ...options });
  return { plugins, registry, pluginsDir, problems: pluginProblemLines(plugins) };
}

const BUILTIN_NAMES = builtinRegistry().names();
const THROWS_ON_IMPORT = "throw new Error('boom: the plugin failed at import');\n";

describe('plugin loader', () => {
  it('registers a plugin runtime that runs commands, through the running opsmate', async () => {
    const { plugins, registry, problems, pluginsDir } = await load([
      { name: 'opsmate-runtime-demo', files: { 'index.js': shellRuntimeModule({ name: 'demo' }) } },
    ]);
    assert.deepEqual(problems, []);
    assert.equal(plugins[0]?.version, '1.0.0');
    assert.deepEqual(plugins[0]?.provides, [
      { kind: 'runtimes', name: 'demo', declared: './index.js', loaded: true },
    ]);
    const registered = registry.require('demo');
    assert.deepEqual(registered.source, { kind: 'plugin', packageName: 'opsmate-runtime-demo' });
    const runtime = registered.definition.create({ greeting: 'hi' } as never, {
      spillDir: scratch,
      outputLimitBytes: 4096,
    });
    try {
      const result = await runtime.run('echo "from plugin"; exit 3');
      assert.equal(result.exitCode, 3);
      assert.equal(result.stdout, 'from plugin\n');
    } finally {
      await runtime.disconnect();
    }
    assert.ok(lstatSync(hostLinkPath(pluginsDir)).isSymbolicLink(), 'no opsmate link in the plugins folder');
  });

  it('reports a plugin that fails to import by name, and loads the others', async () => {
    const { plugins, registry, problems } = await load([
      { name: 'opsmate-runtime-bad', runtime: 'bad', files: { 'index.js': THROWS_ON_IMPORT } },
      {
        name: 'opsmate-runtime-good',
        runtime: 'good',
        files: { 'index.js': shellRuntimeModule({ name: 'good' }) },
      },
      { name: 'opsmate-runtime-missing', runtime: 'missing', files: {} },
    ]);
    assert.equal(problems.length, 2);
    assert.match(
      problems[0]!,
      /^opsmate-runtime-bad: runtime "bad": cannot import \.\/index\.js: boom: the plugin failed at import$/,
    );
    assert.match(problems[1]!, /^opsmate-runtime-missing: runtime "missing": cannot import \.\/index\.js: /);
    assert.ok(problems.every((line) => !line.includes('\n')));
    assert.deepEqual(
      plugins.map((plugin) => [plugin.packageName, pluginWorks(plugin)]),
      [
        ['opsmate-runtime-bad', false],
        ['opsmate-runtime-good', true],
        ['opsmate-runtime-missing', false],
      ],
    );
    assert.deepEqual(registry.names().sort(), [...BUILTIN_NAMES, 'good'].sort());
  });

  it('rejects definitions of the wrong shape, with what to fix', async () => {
    const { problems, registry } = await load([
      {
        name: 'opsmate-runtime-shape',
        runtime: 'shape',
        files: { 'index.js': "export default { name: 'shape', description: 'no contract' };\n" },
      },
      {
        name: 'opsmate-runtime-noschema',
        runtime: 'noschema',
        files: {
          'index.js':
            "export default { specificationVersion: 'opsmate.runtime.v1', name: 'noschema', description: 'x', create() {} };\n",
        },
      },
      {
        name: 'opsmate-runtime-other',
        runtime: 'gce',
        files: { 'index.js': shellRuntimeModule({ name: 'gcp' }) },
      },
      {
        name: 'opsmate-runtime-nothing',
        runtime: 'nothing',
        files: { 'index.js': 'export const answer = 42;\n' },
      },
    ]);
    assert.deepEqual(registry.names(), BUILTIN_NAMES);
    assert.match(
      problems[0]!,
      /^opsmate-runtime-shape: runtime "shape": .*specificationVersion.*defineRuntime\(\)/,
    );
    assert.match(problems[1]!, /^opsmate-runtime-noschema: runtime "noschema": .*no configSchema/);
    assert.match(
      problems[2]!,
      /^opsmate-runtime-other: runtime "gce": package.json declares runtime "gce" but \.\/index\.js defines runtime "gcp"/,
    );
    assert.match(
      problems[3]!,
      /^opsmate-runtime-nothing: runtime "nothing": \.\/index\.js exports no runtime definition/,
    );
  });

  it('does not let a plugin take the name of a built-in runtime or of another plugin', async () => {
    const { problems, registry } = await load([
      {
        name: 'opsmate-runtime-first',
        runtime: 'twin',
        files: { 'index.js': shellRuntimeModule({ name: 'twin' }) },
      },
      {
        name: 'opsmate-runtime-evil',
        runtime: 'local',
        files: { 'index.js': shellRuntimeModule({ name: 'local' }) },
      },
      {
        name: 'opsmate-runtime-second',
        runtime: 'twin',
        files: { 'index.js': shellRuntimeModule({ name: 'twin' }) },
      },
    ]);
    assert.deepEqual(problems, [
      'opsmate-runtime-evil: runtime "local": runtime name "local" is already taken by a built-in runtime',
      'opsmate-runtime-second: runtime "twin": runtime name "twin" is already taken by plugin opsmate-runtime-first',
    ]);
    assert.equal(registry.require('local').source.kind, 'builtin');
    assert.equal(registry.require('twin').source.packageName, 'opsmate-runtime-first');
  });

  it('reports a config schema that cannot become options', async () => {
    const source = shellRuntimeModule({ name: 'nested' }).replace(
      "greeting: z.string().default('hello').describe('What to say'),",
      'nested: z.object({ deep: z.string() }),',
    );
    const { problems } = await load([
      { name: 'opsmate-runtime-nested', runtime: 'nested', files: { 'index.js': source } },
    ]);
    assert.match(
      problems[0]!,
      /configSchema cannot become command-line options: config field nested has type object/,
    );
  });

  it('loads a plugin with its own copies of opsmate and zod, checking by shape', async () => {
    const { registry, problems, pluginsDir } = await load([
      {
        name: 'opsmate-runtime-bundled',
        runtime: 'bundled',
        files: {
          'index.js': `import { defineRuntime, isOwnCopy } from 'opsmate';
import { z } from 'zod';
export const zodLocation = import.meta.resolve('zod');
export const ownOpsmate = isOwnCopy;
export default defineRuntime({
  name: 'bundled',
  description: 'Brings its own opsmate and zod.',
  configSchema: z.object({
    port: z.int().min(1).default(22).describe('Port'),
    verbose: z.boolean().default(false).describe('Talk more'),
  }),
  create() { throw new Error('not needed'); },
});
`,
          // An opsmate copy of the plugin's own, as npm would nest one: only what the plugin uses.
          'node_modules/opsmate/package.json': JSON.stringify({
            name: 'opsmate',
            version: '0.0.1',
            type: 'module',
            main: 'index.js',
          }),
          'node_modules/opsmate/index.js':
            "export const isOwnCopy = true;\nexport function defineRuntime(definition) { return { ...definition, specificationVersion: 'opsmate.runtime.v1' }; }\n",
        },
        setup: copyZodInto,
      },
    ]);
    assert.deepEqual(problems, []);
    const module = (await import(
      pathToFileURL(join(pluginsDir, 'node_modules', 'opsmate-runtime-bundled', 'index.js')).href
    )) as { zodLocation: string; ownOpsmate: boolean };
    assert.equal(module.ownOpsmate, true, 'the nested opsmate copy was not the one imported');
    assert.match(module.zodLocation, /opsmate-runtime-bundled\/node_modules\/zod\//);
    const { definition } = registry.require('bundled');
    const fields = describeSchema(definition.configSchema);
    assert.deepEqual(
      fields.map((field) => [field.key, field.kind, field.defaultValue, field.description]),
      [
        ['port', 'integer', 22, 'Port'],
        ['verbose', 'boolean', false, 'Talk more'],
      ],
    );
    const naming = { flagPrefix: 'runtime-bundled-', envPrefix: 'RUNTIME_BUNDLED_' };
    const config = resolveConfig<{ port: number; verbose: boolean }>({
      schema: definition.configSchema,
      naming,
      flags: { port: '2222' },
      env: { RUNTIME_BUNDLED_VERBOSE: 'yes' },
    });
    assert.deepEqual(config, { port: 2222, verbose: true });
    assert.throws(
      () => resolveConfig({ schema: definition.configSchema, naming, flags: { port: '0' }, env: {} }),
      (error: unknown) =>
        ConfigError.isInstance(error) && error.message.startsWith('--runtime-bundled-port:'),
    );
  });

  it('loads an editable TypeScript plugin from outside the plugins folder, without a build', async () => {
    const source = `import { defineRuntime, ShellRuntime, z, type RuntimeContext } from 'opsmate';

class TypedRuntime extends ShellRuntime {
  constructor(private readonly word: string, context: RuntimeContext) {
    super({ name: 'typed', context, env: { TYPED_WORD: word } });
  }
  protected transport(): { argv: string[] } {
    return { argv: ['/bin/sh'] };
  }
  async runtimeInfo(): Promise<string> {
    return \`typed runtime saying \${this.word}\`;
  }
  target(): Record<string, string> {
    return {};
  }
}

export const typedRuntime = defineRuntime({
  name: 'typed',
  description: 'Written in TypeScript, loaded without a build.',
  configSchema: z.object({ word: z.string().default('typed-hello').describe('Exported as TYPED_WORD') }),
  create: (config, context) => new TypedRuntime(config.word, context),
});
`;
    const { registry, problems } = await load([
      {
        name: 'opsmate-runtime-typed',
        opsmate: { runtimes: { typed: './src/typed.ts#typedRuntime' } },
        files: { 'src/typed.ts': source },
        link: true,
      },
    ]);
    assert.deepEqual(problems, []);
    const runtime = registry.require('typed').definition.create({ word: 'typed-hello' } as never, {
      spillDir: scratch,
      outputLimitBytes: 4096,
    });
    try {
      assert.equal((await runtime.run('echo "$TYPED_WORD"')).stdout, 'typed-hello\n');
    } finally {
      await runtime.disconnect();
    }
  });

  it('gives up on a module that never finishes loading', async () => {
    const { problems } = await load(
      [
        {
          name: 'opsmate-runtime-hang',
          runtime: 'hang',
          files: { 'index.js': 'await new Promise(() => {});\n' },
        },
      ],
      { importTimeoutMs: 300 },
    );
    assert.deepEqual(problems, [
      'opsmate-runtime-hang: runtime "hang": cannot import ./index.js: it did not finish loading within 0.3 s',
    ]);
  });

  it('reports packages that are missing or are not plugins, and notes kinds it does not load', async () => {
    const { plugins, problems, pluginsDir } = await load([
      { name: 'left-pad-like', opsmate: null, files: { 'index.js': 'export default 1;\n' } },
      {
        name: 'opsmate-runtime-future',
        opsmate: { runtimes: { future: './index.js' }, widgets: {} },
        files: { 'index.js': shellRuntimeModule({ name: 'future' }) },
      },
      {
        name: 'opsmate-runtime-escape',
        opsmate: { runtimes: { escape: '../../etc/passwd' } },
        files: {},
      },
    ]);
    assert.match(
      problems[0]!,
      /^left-pad-like: not an opsmate plugin: its package.json has no "opsmate" field/,
    );
    assert.match(
      problems[1]!,
      /^opsmate-runtime-escape: runtime "escape": module path "..\/..\/etc\/passwd" points outside/,
    );
    assert.equal(problems.length, 2);
    const future = plugins.find((plugin) => plugin.packageName === 'opsmate-runtime-future')!;
    assert.ok(pluginWorks(future));
    assert.deepEqual(future.unsupported, ['widgets (unknown to this version of opsmate)']);

    rmSync(join(pluginsDir, 'node_modules', 'left-pad-like'), { recursive: true });
    const again = pluginProblemLines(await loadPlugins({ pluginsDir, registry: builtinRegistry() }));
    assert.match(
      again[0]!,
      /^left-pad-like: listed in the plugins folder but missing from .* \(run: opsmate install --force-reinstall left-pad-like\)$/,
    );
  });

  it('loads nothing, quickly, when there is no plugins folder; a corrupt one is a ConfigError', async () => {
    const missing = join(scratch, 'no-such-folder');
    assert.deepEqual(await loadPlugins({ pluginsDir: missing, registry: builtinRegistry() }), []);
    const corrupt = join(scratch, 'corrupt');
    mkdirSync(corrupt);
    writeFileSync(join(corrupt, 'package.json'), '{ not json');
    await assert.rejects(
      loadPlugins({ pluginsDir: corrupt, registry: builtinRegistry() }),
      (error: unknown) =>
        ConfigError.isInstance(error) && /package.json is not valid JSON/.test(error.message),
    );
  });
});
