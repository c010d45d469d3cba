import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { ConfigError } from '../errors/opsmate-error.js';
import { parseConfigText } from './config-file.js';
import { configFrom, type ConfigFileLayer } from './load-config.js';
import { describeSource, resolveConfig, resolveConfigSources } from './resolve-config.js';
import { describeSchema, stringList, stringMap } from './schema-fields.js';

const schema = z.object({
  host: z.string().describe('Host to reach'),
  port: z.int().min(1).max(65535).default(22),
  useIap: z.boolean().default(true),
  extraFlags: stringList(),
  env: stringMap(),
  policy: z.enum(['accept-new', 'strict', 'off']).default('accept-new'),
  password: z.string().optional().meta({ secret: true }),
});
const naming = { flagPrefix: 'runtime-demo-', envPrefix: 'RUNTIME_DEMO_' };

function resolve(flags: Record<string, string>, env: Record<string, string> = {}) {
  return resolveConfig<z.output<typeof schema>>({ schema, naming, flags, env });
}

function configError(action: () => unknown): ConfigError {
  try {
    action();
  } catch (error) {
    assert.ok(ConfigError.isInstance(error), `not a ConfigError: ${String(error)}`);
    return error;
  }
  assert.fail('no error thrown');
}

describe('resolveConfig', () => {
  it('applies flag > env > default for every type', () => {
    const config = resolve(
      { host: 'flag-host', port: '2222' },
      {
        RUNTIME_DEMO_HOST: 'env-host',
        RUNTIME_DEMO_USE_IAP: 'no',
        RUNTIME_DEMO_EXTRA_FLAGS: 'a, b,,c',
        RUNTIME_DEMO_ENV: 'A=1,B=x=y',
      },
    );
    assert.deepEqual(config, {
      host: 'flag-host',
      port: 2222,
      useIap: false,
      extraFlags: ['a', 'b', 'c'],
      env: { A: '1', B: 'x=y' },
      policy: 'accept-new',
    });
  });

  it('accepts true/false/1/0/yes/no for booleans from flags and env', () => {
    for (const [text, value] of [
      ['true', true],
      ['0', false],
      ['YES', true],
      ['off', false],
    ] as const) {
      assert.equal(resolve({ host: 'h', useIap: text }).useIap, value);
      assert.equal(resolve({ host: 'h' }, { RUNTIME_DEMO_USE_IAP: text }).useIap, value);
    }
  });

  it('names the flag and the env var of a bad value', () => {
    const error = configError(() => resolve({ host: 'h' }, { RUNTIME_DEMO_PORT: 'twenty' }));
    assert.match(error.message, /RUNTIME_DEMO_PORT "twenty" is not valid: expected a whole number/);
    assert.match(error.hint ?? '', /--runtime-demo-port.*RUNTIME_DEMO_PORT/);
    const range = configError(() => resolve({ host: 'h', port: '70000' }));
    assert.match(range.message, /--runtime-demo-port/);
    const choice = configError(() => resolve({ host: 'h', policy: 'maybe' }));
    assert.match(choice.message, /expected one of accept-new, strict, off/);
  });

  it('says which required field is missing', () => {
    const error = configError(() => resolve({}));
    assert.match(error.message, /--runtime-demo-host is required/);
    assert.match(error.hint ?? '', /RUNTIME_DEMO_HOST/);
  });

  it('never echoes a secret value', () => {
    const error = configError(() => resolve({ host: 'h', map: 'x' }, { RUNTIME_DEMO_ENV: 'novalue' }));
    assert.match(error.message, /k=v pairs/);
    const spec = describeSchema(schema).find((field) => field.key === 'password');
    assert.equal(spec?.secret, true);
  });
});

describe('resolveConfig with a config file', () => {
  const FILE = '/etc/opsmate/config.yaml';
  function layer(text: string): ConfigFileLayer {
    return configFrom({ path: FILE, explicit: true, file: parseConfigText({ path: FILE, text }), env: {} })
      .layer;
  }
  const fileText = [
    'RUNTIME_DEMO_HOST: file-host',
    'RUNTIME_DEMO_PORT: 2200',
    'RUNTIME_DEMO_USE_IAP: false',
    'RUNTIME_DEMO_EXTRA_FLAGS: [-v, "-o x,y"]',
    'RUNTIME_DEMO_ENV: { A: 1, B: two }',
    'RUNTIME_DEMO_POLICY: strict',
  ].join('\n');

  it('takes typed YAML values, below flags and env vars, and says where each came from', () => {
    const { config, sources } = resolveConfigSources<z.output<typeof schema>>({
      schema,
      naming,
      flags: { port: '22' },
      env: { RUNTIME_DEMO_POLICY: 'off', RUNTIME_DEMO_USE_IAP: '' },
      file: layer(fileText),
    });
    assert.deepEqual(config, {
      host: 'file-host',
      port: 22,
      useIap: false,
      extraFlags: ['-v', '-o x,y'],
      env: { A: '1', B: 'two' },
      policy: 'off',
    });
    assert.deepEqual(sources.host, { kind: 'file', path: FILE, line: 1 });
    assert.deepEqual(sources.port, { kind: 'flag', flag: 'runtime-demo-port' });
    assert.deepEqual(sources.policy, { kind: 'env', name: 'RUNTIME_DEMO_POLICY' });
    // An empty env var of a boolean is "not set": the file's value applies.
    assert.deepEqual(sources.useIap, { kind: 'file', path: FILE, line: 3 });
    assert.deepEqual(sources.password, { kind: 'default' });
    assert.equal(describeSource(sources.host!), '/etc/opsmate/config.yaml:1');
  });

  it('names the file and line of a bad value, and how to override it', () => {
    const resolveWith = (text: string) =>
      resolveConfig({ schema, naming, flags: {}, env: {}, file: layer(`RUNTIME_DEMO_HOST: h\n${text}`) });
    const text = configError(() => resolveWith('RUNTIME_DEMO_PORT: twenty'));
    assert.equal(text.message, `${FILE}:2: RUNTIME_DEMO_PORT "twenty" is not valid: expected a whole number`);
    assert.equal(
      text.hint,
      `fix line 2 of ${FILE}, or override it with --runtime-demo-port or the env var RUNTIME_DEMO_PORT`,
    );
    const range = configError(() => resolveWith('RUNTIME_DEMO_PORT: 70000'));
    assert.match(range.message, /^\/etc\/opsmate\/config\.yaml:2: RUNTIME_DEMO_PORT: Too big/);
    const fraction = configError(() => resolveWith('RUNTIME_DEMO_PORT: 22.5'));
    assert.match(fraction.message, /expected a whole number/);
    const list = configError(() => resolveWith('RUNTIME_DEMO_PORT: [1, 2]'));
    assert.match(list.message, /expected a whole number, not a list/);
    const secret = configError(() => resolveWith('RUNTIME_DEMO_PASSWORD: [hunter2]'));
    assert.match(secret.message, /RUNTIME_DEMO_PASSWORD \(value hidden\) is not valid/);
    assert.doesNotMatch(secret.message, /hunter2/);
  });

  it('counts NAME: with no value as not set', () => {
    const config = resolveConfig<z.output<typeof schema>>({
      schema,
      naming,
      flags: {},
      env: {},
      file: layer('RUNTIME_DEMO_HOST: h\nRUNTIME_DEMO_PORT:\n'),
    });
    assert.equal(config.port, 22);
  });
});
