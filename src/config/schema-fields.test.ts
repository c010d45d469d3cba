import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { checkFieldOptions, runtimeNaming } from './option-names.js';
import {
  describeSchema,
  fieldKeyProblem,
  formatDefault,
  parseFieldText,
  splitOnCommas,
  stringList,
  stringMap,
} from './schema-fields.js';

describe('schema fields', () => {
  it("shows the author's own default of stringList() and stringMap()", () => {
    const [list, map, plain] = describeSchema(
      z.object({
        tags: stringList().default(['a', 'b,c']),
        env: stringMap().default({ K: 'v,w' }),
        none: stringList(),
      }),
    );
    assert.equal(formatDefault(list!), 'a,b\\,c');
    assert.equal(formatDefault(map!), 'K=v\\,w');
    assert.equal(formatDefault(plain!), '""');
  });

  it('reads \\, as a comma and \\\\ as a backslash in lists and maps', () => {
    const [list, map] = describeSchema(z.object({ tags: stringList(), env: stringMap() }));
    assert.deepEqual(parseFieldText(map!, 'A=x\\,y,B=2,C=back\\\\slash'), {
      A: 'x,y',
      B: '2',
      C: 'back\\slash',
    });
    assert.deepEqual(parseFieldText(list!, 'one\\,two, three'), ['one,two', 'three']);
    assert.deepEqual(splitOnCommas('a\\b,c'), ['a\\b', 'c']);
    assert.throws(
      () => parseFieldText(map!, 'novalue'),
      /k=v pairs separated by commas \(\\, for a comma in a value\)/,
    );
  });

  it('accepts camelCase and snake_case keys and refuses the rest', () => {
    for (const key of ['host', 'keyFile', 'key_file', 'useIAP', 'port2'])
      assert.equal(fieldKeyProblem(key), undefined, key);
    for (const key of ['_x', '__private', 'b_', 'a__b', 'a b', 'a.b', 'a-b', 'Host', '2fa', '']) {
      assert.match(fieldKeyProblem(key) ?? '', /cannot become an option/, key);
    }
  });

  it('finds fields that would share a flag, an attribute or an env var', () => {
    const naming = runtimeNaming('demo');
    const problem = (shape: Record<string, z.ZodType>) => {
      const checked = checkFieldOptions(z.object(shape), naming);
      return 'problem' in checked ? checked.problem : undefined;
    };
    assert.match(
      problem({ useIap: z.boolean(), useIAP: z.boolean() }) ?? '',
      /useIap and useIAP both become --runtime-demo-use-iap/,
    );
    assert.match(
      problem({ a_1: z.string(), a1: z.string() }) ?? '',
      /a_1 and a1 both become --runtime-demo-a1/,
    );
    assert.match(
      problem({ a: z.string(), b: z.string().meta({ env: 'RUNTIME_DEMO_A' }) }) ?? '',
      /a and b both use the env var RUNTIME_DEMO_A/,
    );
    assert.match(
      problem({ a: z.string().meta({ short: 'x' }) }) ?? '',
      /short flag -x; runtime options have long flags only/,
    );
    assert.equal(problem({ host: z.string(), port: z.int() }), undefined);
  });

  it('says zod 4 is required for a zod 3 schema instead of failing on its internals', () => {
    const zod3Like = {
      _def: { typeName: 'ZodObject' },
      shape: { host: { _def: { typeName: 'ZodString' } } },
    };
    assert.throws(() => describeSchema(zod3Like), /zod 3, and zod 4 is required/);
    assert.throws(
      () => describeSchema({ shape: { host: { _def: {} } } }),
      /config field host: it was built with zod 3/,
    );
  });
});
