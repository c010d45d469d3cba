import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { Command } from 'commander';
import { loadConfig } from '../config/load-config.js';
import { ConfigError } from '../errors/opsmate-error.js';
import { addRuntimeOptions, resolveRuntimeConfig } from '../cli/field-options.js';
import { defineRuntime, type DiscoveredTarget } from '../runtime/contract.js';
import { builtinRegistry } from '../runtimes/builtin-runtimes.js';
import { discoverTargets, selectTargets, targetCatalog } from './resolve-targets.js';

/** A runtime whose discovery answers from a table and records every lookup it was asked for. */
function registryWith(answers: Record<string, DiscoveredTarget[] | Error>) {
  const lookups: Array<{ selector: string; fields: Readonly<Record<string, string>> }> = [];
  const registry = builtinRegistry();
  registry.register(
    defineRuntime({
      name: 'fakebox',
      description: 'a runtime for these tests',
      configSchema: z.object({ box: z.string().default(''), zone: z.string().default('z0') }),
      discover: {
        usage: 'box tags',
        find: ({ selector, fields }) => {
          lookups.push({ selector, fields });
          const answer = answers[selector];
          if (answer instanceof Error) return Promise.reject(answer);
          return Promise.resolve(answer ?? []);
        },
      },
      create: () => {
        throw new Error('not used');
      },
    }),
  );
  return { registry, lookups };
}

async function configOf(text: string): Promise<Awaited<ReturnType<typeof loadConfig>>> {
  const dir = mkdtempSync(join(tmpdir(), 'wt-fleet-selector-'));
  const file = join(dir, 'config.yaml');
  writeFileSync(file, text, { mode: 0o600 });
  return loadConfig({ flag: file, env: {} });
}

const CONFIG = [
  'targets:',
  '  db-1: { runtime: local, cwd: /var }',
  '  web: { runtime: fakebox, selector: role=web, zone: z1 }',
  '  front: { runtime: fakebox, selector: tier=front, zone: z1 }',
  '  batch: { runtime: fakebox, selector: role=batch }',
  '  prod: { targets: [web, db-1] }',
  '',
].join('\n');

const ANSWERS = {
  'role=web': [
    { name: 'box-a', fields: { box: 'a' } },
    { name: 'box-b', fields: { box: 'b' } },
  ],
  'tier=front': [
    { name: 'box-b', fields: { box: 'b' } },
    // Same name as a configured target, other fields: it is qualified, not merged.
    { name: 'db-1', fields: { box: 'db' } },
  ],
  'role=batch': [{ name: 'box-c', fields: { box: 'c' } }],
};

describe('selector groups: found when used, only those -t reaches', () => {
  it('looks up only the groups a value reaches, directly or through a targets: group', async () => {
    const { registry, lookups } = registryWith(ANSWERS);
    const config = await configOf(CONFIG);
    const catalog = await discoverTargets({ config, registry, values: ['prod'] });
    assert.deepEqual(
      lookups.map((lookup) => lookup.selector),
      ['role=web'],
      'batch and front are not asked',
    );
    assert.deepEqual(lookups[0]!.fields, { zone: 'z1' }, "the group's own fields reach the runtime");
    assert.deepEqual(
      selectTargets(['prod'], catalog, registry).map((target) => target.name),
      ['db-1', 'box-a', 'box-b'],
      'in catalog order, as Ansible patterns are',
    );
  });

  it('all, globs and regexes reach every group they match', async () => {
    const { registry, lookups } = registryWith(ANSWERS);
    const config = await configOf(CONFIG);
    await discoverTargets({ config, registry, values: ['all:!db-1'] });
    assert.equal(lookups.length, 3);
    const glob = registryWith(ANSWERS);
    await discoverTargets({ config, registry: glob.registry, values: ['fr*'] });
    assert.deepEqual(
      glob.lookups.map((lookup) => lookup.selector),
      ['tier=front'],
    );
    const regex = registryWith(ANSWERS);
    await discoverTargets({ config, registry: regex.registry, values: ['~^(web|batch)$'] });
    assert.deepEqual(regex.lookups.map((lookup) => lookup.selector).sort(), ['role=batch', 'role=web']);
    const none = registryWith(ANSWERS);
    await discoverTargets({ config, registry: none.registry, values: ['db-1', 'local://'] });
    assert.equal(none.lookups.length, 0, 'a plain target and a URI look nothing up');
  });

  it('one box found by two selectors is one target, so intersections work; a clash is qualified', async () => {
    const { registry } = registryWith(ANSWERS);
    const config = await configOf(CONFIG);
    const catalog = await discoverTargets({ config, registry, values: ['web:&front'] });
    assert.deepEqual(
      selectTargets(['web:&front'], catalog, registry).map((target) => target.name),
      ['box-b'],
    );
    assert.deepEqual(catalog.groups.get('front'), ['box-b', 'front/db-1']);
    assert.equal(catalog.targets.get('db-1')?.runtime, 'local', 'the configured db-1 is untouched');
  });

  it("a found target's fields are the runtime's own, validated like flags, group fields included", async () => {
    const { registry } = registryWith(ANSWERS);
    const config = await configOf(CONFIG);
    const catalog = await discoverTargets({ config, registry, values: ['web'] });
    const [target] = selectTargets(['box-a'], catalog, registry);
    const command = addRuntimeOptions(new Command('exec').exitOverride(), registry);
    command.parse([], { from: 'user' });
    const resolved = resolveRuntimeConfig({
      command,
      registry,
      runtimeName: 'local',
      env: {},
      config,
      target: target!,
    });
    assert.equal(resolved.definition.name, 'fakebox');
    assert.deepEqual(resolved.config, { box: 'a', zone: 'z1' });
  });

  it('a failed lookup is one ConfigError naming the group and line; an empty one selects nothing and says so', async () => {
    const { registry } = registryWith({ ...ANSWERS, 'role=web': new Error('the daemon is down') });
    const config = await configOf(CONFIG);
    await assert.rejects(
      discoverTargets({ config, registry, values: ['prod'] }),
      (error: unknown) =>
        ConfigError.isInstance(error) &&
        /config\.yaml:3: targets\.web: cannot find the targets of fakebox selector "role=web": the daemon is down/.test(
          error.message,
        ) &&
        /box tags/.test(error.hint ?? ''),
    );
    const empty = registryWith({});
    const catalog = await discoverTargets({ config, registry: empty.registry, values: ['batch'] });
    assert.throws(
      () => selectTargets(['batch'], catalog, empty.registry),
      (error: unknown) =>
        ConfigError.isInstance(error) && /selects no target \(batch found none\)/.test(error.message),
    );
  });

  it('an empty selection of plain targets is refused too, never an empty fleet or the default runtime', async () => {
    const { registry } = registryWith(ANSWERS);
    const config = await configOf(CONFIG);
    const catalog = targetCatalog({ config, registry });
    assert.throws(() => selectTargets(['db-1:!db-1'], catalog, registry), /selects no target/);
  });

  it('selecting a group that was not looked up is a programming error, not an empty fleet', async () => {
    const { registry } = registryWith(ANSWERS);
    const config = await configOf(CONFIG);
    assert.throws(
      () => selectTargets(['web'], targetCatalog({ config, registry }), registry),
      /were not looked up/,
    );
  });

  it('config errors: a selector without a runtime, a runtime that cannot discover, an unknown field', async () => {
    const { registry } = registryWith(ANSWERS);
    const cases: Array<[string, RegExp]> = [
      ['targets:\n  web: { selector: app=web }\n', /a selector group needs runtime:/],
      [
        'targets:\n  web: { runtime: local, selector: app=web }\n',
        /runtime local cannot find targets by a selector/,
      ],
      [
        'targets:\n  web: { runtime: fakebox, selector: app=web, zoen: z }\n',
        /unknown field zoen of runtime fakebox/,
      ],
      ['targets:\n  web: { runtime: fakebox, selector: "" }\n', /a selector cannot be empty/],
    ];
    for (const [text, pattern] of cases) {
      await assert.rejects(
        (async () => targetCatalog({ config: await configOf(text), registry }))(),
        (error: unknown) =>
          ConfigError.isInstance(error) && pattern.test(`${error.message} ${error.hint ?? ''}`),
        text,
      );
    }
  });

  it('a plugin discovery that finds a name unfit for a target is refused, naming it', async () => {
    const { registry } = registryWith({ 'role=web': [{ name: 'a b;c', fields: { box: 'x' } }] });
    const config = await configOf(CONFIG);
    await assert.rejects(
      discoverTargets({ config, registry, values: ['web'] }),
      /found a target named "a b;c", which cannot be a target name/,
    );
  });
});

describe('discover in a runtime definition from a plugin', () => {
  it('is checked at registration: find must be a function and usage a line', async () => {
    const { validateDefinition } = await import('../runtime/runtime-registry.js');
    const base = {
      name: 'odd',
      description: 'x',
      configSchema: z.object({}),
      create: () => {
        throw new Error('not used');
      },
    };
    assert.match(
      validateDefinition(defineRuntime({ ...base, discover: { usage: 'u' } as never })) ?? '',
      /discover needs find\(options\)/,
    );
    assert.match(
      validateDefinition(
        defineRuntime({ ...base, discover: { usage: ' ', find: () => Promise.resolve([]) } }),
      ) ?? '',
      /discover needs usage/,
    );
    assert.equal(
      validateDefinition(
        defineRuntime({ ...base, discover: { usage: 'u', find: () => Promise.resolve([]) } }),
      ),
      undefined,
    );
  });
});
