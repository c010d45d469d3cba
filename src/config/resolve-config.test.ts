import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { ConfigError } from '../errors/opsmate-error.js';
import { resolveConfig } from './resolve-config.js';
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
