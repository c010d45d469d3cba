import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { sshConfigAliases, sshPatternList } from './ssh-config-hosts.js';
import { sshDiscovery } from './ssh-discovery.js';

function sshDir(files: Record<string, string>): string {
  const home = mkdtempSync(join(tmpdir(), 'wt-fleet-sshcfg-'));
  const dir = join(home, '.ssh');
  mkdirSync(join(dir, 'conf.d'), { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

const CONFIG = [
  'Include conf.d/*.conf',
  'Host web-1 web-2',
  '  HostName 10.0.0.1',
  'Host web-*',
  '  User ops',
  'Host=db-1',
  '  Port 2222',
  'Host "web-test" !web-x',
  'Match host web-3',
  '  User other',
  'Host bastion',
  '  Include extra/*.conf',
  '',
].join('\n');

describe('~/.ssh/config Host aliases', () => {
  it('lists aliases in file order, once each, through Include (top level and inside a Host), without patterns', () => {
    const dir = sshDir({
      config: CONFIG,
      'conf.d/10-a.conf': 'Host web-3\n  HostName 10.0.0.3\n',
      'conf.d/20-b.conf': 'Host web-1 cache-1\n',
      'conf.d/ignored.txt': 'Host not-included\n',
    });
    mkdirSync(join(dir, 'extra'));
    writeFileSync(join(dir, 'extra', 'x.conf'), 'Host jump-1\n');
    assert.deepEqual(sshConfigAliases({ file: join(dir, 'config'), sshDir: dir }), [
      'web-3',
      'web-1',
      'cache-1',
      'web-2',
      'db-1',
      'web-test',
      'bastion',
      'jump-1',
    ]);
  });

  it('an Include loop is bounded, an Include that matches nothing is skipped, a missing config is an error', () => {
    const dir = sshDir({ config: 'Include config\nHost a\n' });
    assert.throws(() => sshConfigAliases({ file: join(dir, 'config'), sshDir: dir }), /more than 256 files/);
    const quiet = sshDir({ config: 'Include nowhere/*\nInclude absent.conf\nHost a\n' });
    assert.deepEqual(sshConfigAliases({ file: join(quiet, 'config'), sshDir: quiet }), ['a']);
    assert.throws(
      () => sshConfigAliases({ file: join(quiet, 'missing'), sshDir: quiet }),
      /cannot read .*missing/,
    );
  });

  it('selectors are ssh pattern lists: globs, negation, commas or spaces; only-negative is refused', async () => {
    const dir = sshDir({
      config: CONFIG,
      'conf.d/10-a.conf': 'Host web-3\n',
    });
    // A group's configFile is read instead of ~/.ssh/config; its relative Include would be from
    // ~/.ssh as ssh reads it, so this one includes by absolute path.
    const configFile = join(dir, 'group-config');
    writeFileSync(
      configFile,
      `Include ${join(dir, 'conf.d')}/*.conf\n${CONFIG.split('\n').slice(1).join('\n')}`,
    );
    const found = async (selector: string) =>
      (
        await sshDiscovery.find({ selector, fields: { configFile }, signal: new AbortController().signal })
      ).map((target) => target.name);
    assert.deepEqual(await found('web-* !web-test'), ['web-3', 'web-1', 'web-2']);
    assert.deepEqual(await found('db-?,bastion'), ['db-1', 'bastion']);
    const [first] = await sshDiscovery.find({
      selector: 'db-1',
      fields: { configFile },
      signal: new AbortController().signal,
    });
    assert.deepEqual(
      first,
      { name: 'db-1', fields: { host: 'db-1' } },
      'ssh applies the Host block to the alias',
    );
    assert.throws(() => sshPatternList('!web-1'), /only excludes/);
    assert.throws(() => sshPatternList('  '), /no Host pattern/);
  });
});
