import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { ConfigError } from '../errors/opsmate-error.js';
import { parseConfigText } from './config-file.js';
import { defineConfigSection } from './config-section-definition.js';
import { parseSection, sectionEntries } from './config-section.js';
import { CONFIG_SECTIONS } from './config-sections.js';
import { didYouMean } from './did-you-mean.js';
import { configFrom, loadConfig, scalarText } from './load-config.js';

const PATH = '/home/me/.opsmate/config.yaml';

const TEXT = `# an Opsmate user's file
OPSMATE_MODEL: claude-3-7-sonnet-20250219
OPSMATE_MAX_OUTPUT_LENGTH: 5000
OPSMATE_TOOLS: [ShellCommand, ReadSpilledOutput]
RUNTIME_LOCAL_ENV:
  A: one
  B: 2
EMPTY:
policy:
  profile: ask-destructive
OPSMATE_MODELS_CONFIG:
  o3:
    reasoning_effort: high
targets:
  db-1:
    runtime: ssh
    host: db-1.internal
    port: 2222
`;

/** A section as issue 14's named targets would register it: one definition, one line in the list. */
const targetsSection = defineConfigSection({
  name: 'targets',
  description: 'named targets',
  read: (section) =>
    sectionEntries(
      section,
      z.object({ runtime: z.string(), host: z.string(), port: z.number().max(65535) }).strict(),
    ),
  settings: { default: 'OPSMATE_TARGET' },
});
// The real `targets:` (src/targets) is registered too; these tests use their own stand-in.
const WITHOUT_TARGETS = CONFIG_SECTIONS.filter((section) => section.name !== 'targets');
const SECTIONS = [...WITHOUT_TARGETS, targetsSection];

function configError(action: () => unknown): ConfigError {
  try {
    action();
  } catch (error) {
    assert.ok(ConfigError.isInstance(error), `not a ConfigError: ${String(error)}`);
    return error;
  }
  assert.fail('no error thrown');
}

describe('the config file', () => {
  it('keeps each top-level value with its line, and the sections apart', () => {
    const file = parseConfigText({ path: PATH, text: TEXT, sections: SECTIONS });
    assert.deepEqual(file.values.get('OPSMATE_MODEL'), {
      key: 'OPSMATE_MODEL',
      value: 'claude-3-7-sonnet-20250219',
      path: PATH,
      line: 2,
    });
    assert.equal(file.values.get('OPSMATE_MAX_OUTPUT_LENGTH')?.value, 5000);
    assert.deepEqual(file.values.get('RUNTIME_LOCAL_ENV')?.value, { A: 'one', B: 2 });
    assert.equal(file.values.get('EMPTY')?.value, null);
    assert.deepEqual([...file.sections.keys()].sort(), ['models', 'policy', 'targets']);
    assert.deepEqual(
      file.keys.map((key) => `${key.key}:${key.line}`),
      [
        'OPSMATE_MODEL:2',
        'OPSMATE_MAX_OUTPUT_LENGTH:3',
        'OPSMATE_TOOLS:4',
        'RUNTIME_LOCAL_ENV:5',
        'EMPTY:8',
        'policy:9',
        'OPSMATE_MODELS_CONFIG:11',
        'targets:14',
      ],
    );
  });

  it('names the line of a value inside a section, or the nearest line that exists', () => {
    const targets = parseConfigText({ path: PATH, text: TEXT, sections: SECTIONS }).sections.get('targets')!;
    assert.equal(targets.lineOf(['db-1']), 15);
    assert.equal(targets.lineOf(['db-1', 'port']), 18);
    assert.equal(targets.lineOf(['db-1', 'user']), 15, 'a missing field is reported at its parent');
    assert.equal(targets.lineOf([]), 14);
  });

  it('reports bad YAML, and a file that is not a mapping, with the line', () => {
    const yaml = configError(() => parseConfigText({ path: PATH, text: 'A: 1\nB: [unclosed\nC: 3\n' }));
    assert.match(yaml.message, /^\/home\/me\/\.opsmate\/config\.yaml:\d: not valid YAML: /);
    assert.match(yaml.hint ?? '', /fix line \d of \/home\/me\/\.opsmate\/config\.yaml/);
    const twice = configError(() => parseConfigText({ path: PATH, text: 'A: 1\nA: 2\n' }));
    assert.match(twice.message, /config\.yaml:2: not valid YAML: Map keys must be unique/);
    const list = configError(() => parseConfigText({ path: PATH, text: '- a\n- b\n' }));
    assert.match(list.message, /config\.yaml:1: the config file must be a mapping/);
    const sameSection = configError(() =>
      parseConfigText({ path: PATH, text: 'models: {}\nOPSMATE_MODELS_CONFIG: {}\n' }),
    );
    assert.match(
      sameSection.message,
      /config\.yaml:2: OPSMATE_MODELS_CONFIG gives the models section a second time/,
    );
  });

  it('puts its values under the environment: a set, non-empty env var wins', () => {
    const file = parseConfigText({ path: PATH, text: TEXT, sections: SECTIONS });
    const config = configFrom({
      path: PATH,
      explicit: false,
      file,
      env: { OPSMATE_MODEL: 'gpt-4o', OPSMATE_TOOLS: '' },
    });
    assert.equal(config.env.OPSMATE_MODEL, 'gpt-4o');
    assert.equal(
      config.env.OPSMATE_TOOLS,
      'ShellCommand,ReadSpilledOutput',
      'an empty env var counts as unset',
    );
    assert.equal(config.env.OPSMATE_MAX_OUTPUT_LENGTH, '5000');
    assert.equal(config.env.RUNTIME_LOCAL_ENV, 'A=one,B=2');
    assert.equal('EMPTY' in config.env, false);
    assert.deepEqual(config.layer.lookup('OPSMATE_POLICY_PROFILE'), {
      name: 'OPSMATE_POLICY_PROFILE',
      value: 'ask-destructive',
      path: PATH,
      line: 10,
      writtenAs: 'policy.profile',
    });
    assert.equal(config.section('models')?.line, 11);
  });

  it('writes lists and maps as an env var holds them, commas escaped', () => {
    assert.equal(scalarText(['a,b', 'c']), 'a\\,b,c');
    assert.equal(scalarText({ K: 'x,y' }), 'K=x\\,y');
    assert.equal(scalarText([{ nested: 1 }]), undefined);
    assert.equal(scalarText(null), undefined);
  });

  it('costs nothing without a file, and insists on one that was named', async () => {
    const home = mkdtempSync(join(tmpdir(), 'wt-cfg-config-'));
    const none = await loadConfig({ home, env: {} });
    assert.equal(none.file, undefined);
    assert.equal(none.path, join(home, 'config.yaml'));
    await assert.rejects(loadConfig({ flag: join(home, 'missing.yaml'), env: {} }), (error: unknown) => {
      assert.ok(ConfigError.isInstance(error));
      assert.match(error.message, /the config file .*missing\.yaml does not exist/);
      assert.match(error.hint ?? '', /--config/);
      return true;
    });
    writeFileSync(join(home, 'other.yaml'), 'OPSMATE_MODEL: x\n');
    const named = await loadConfig({ env: { OPSMATE_CONFIG: join(home, 'other.yaml') } });
    assert.equal(named.explicit, true);
    assert.equal(named.file?.values.get('OPSMATE_MODEL')?.value, 'x');
  });
});

describe('registered sections', () => {
  it('a section not registered is a plain value; registered, it is read by its definition', () => {
    const plain = parseConfigText({ path: PATH, text: TEXT, sections: WITHOUT_TARGETS });
    assert.equal(plain.sections.has('targets'), false);
    assert.deepEqual(plain.values.get('targets')?.line, 14);
    const file = parseConfigText({
      path: PATH,
      text: `${TEXT}  web:\n    runtime: ssh\n    host: web\n    port: 22\n`,
      sections: SECTIONS,
    });
    const config = configFrom({ path: PATH, explicit: false, file, env: {} });
    const entries = config.read(targetsSection);
    assert.deepEqual(
      entries?.map((entry) => `${entry.name}:${entry.line}:${entry.value.host}`),
      ['db-1:15:db-1.internal', 'web:19:web'],
    );
    assert.equal(config.read(targetsSection), entries, 'read once, then kept');
  });

  it('a setting declared by a section may be written inside it', () => {
    const file = parseConfigText({
      path: PATH,
      text: 'targets:\n  default: db-1\n',
      sections: SECTIONS,
    });
    const config = configFrom({ path: PATH, explicit: false, file, env: {} });
    assert.deepEqual(config.layer.lookup('OPSMATE_TARGET'), {
      name: 'OPSMATE_TARGET',
      value: 'db-1',
      path: PATH,
      line: 2,
      writtenAs: 'targets.default',
    });
  });

  it('an unknown key inside a strict section is named with its line and the closest known key', () => {
    const file = parseConfigText({
      path: PATH,
      text: 'policy:\n  profile: read-only\n  flie: /etc/p.yaml\n',
    });
    const config = configFrom({ path: PATH, explicit: false, file, env: {} });
    const error = configError(() =>
      config.read(CONFIG_SECTIONS.find((section) => section.name === 'policy')!),
    );
    assert.equal(error.message, `${PATH}:3: policy: unknown key flie`);
    assert.equal(error.hint, `did you mean file? Fix line 3 of ${PATH}`);
    const far = configError(() =>
      sectionEntries(
        parseConfigText({ path: PATH, text: TEXT, sections: SECTIONS }).sections.get('targets')!,
        z.object({ runtime: z.string(), host: z.string(), prt: z.number() }).strict(),
      ),
    );
    assert.equal(far.message, `${PATH}:18: targets.db-1: unknown key port`);
    assert.equal(far.hint, `did you mean prt? Fix line 18 of ${PATH}`);
  });
});

describe('sections validated by their owners', () => {
  const file = parseConfigText({ path: PATH, text: TEXT, sections: SECTIONS });
  const targets = file.sections.get('targets')!;
  const target = z.object({ runtime: z.string(), host: z.string(), port: z.number().max(1000) }).strict();

  it('names the file, line and path of the first bad value', () => {
    const error = configError(() => sectionEntries(targets, target));
    assert.equal(error.message, `${PATH}:18: targets.db-1.port: Too big: expected number to be <=1000`);
    assert.match(error.hint ?? '', /fix line 18/);
    const whole = configError(() =>
      parseSection(targets, z.record(z.string(), z.object({ host: z.number() }))),
    );
    assert.match(whole.message, /:17: targets\.db-1\.host: /);
  });

  it('gives each entry with its line when all are good', () => {
    const entries = sectionEntries(targets, target.extend({ port: z.number() }));
    assert.deepEqual(entries, [
      { name: 'db-1', value: { runtime: 'ssh', host: 'db-1.internal', port: 2222 }, path: PATH, line: 15 },
    ]);
  });
});

describe('didYouMean', () => {
  it('finds the known name a typo meant, and nothing for a stranger', () => {
    const names = ['OPSMATE_MODEL', 'RUNTIME_SSH_HOST', 'OPSMATE_CONTEXT'];
    assert.equal(didYouMean('OPSMATE_MODLE', names), 'OPSMATE_MODEL');
    assert.equal(didYouMean('runtime_ssh_hots', names), 'RUNTIME_SSH_HOST');
    assert.equal(didYouMean('KUBECONFIG', names), undefined);
  });
});
