import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../errors/opsmate-error.js';
import { expandHostRange, parseInventory } from './ansible-inventory.js';
import { selectHosts } from './host-pattern.js';

const INI = `
# a comment
bastion ansible_host=10.0.0.1

[webservers]
web[01:03] ansible_user=deploy
web-canary ansible_host=10.0.9.9 ansible_port=2222

[dbservers]
db-[a:b] ansible_host=10.0.1.1

[prod:children]
webservers
dbservers

[prod:vars]
ansible_user=ops
ansible_port=22

[staging]
web03
`;

const YAML = `
all:
  hosts:
    bastion: { ansible_host: 10.0.0.1 }
  children:
    prod:
      vars: { ansible_user: ops, ansible_port: 22 }
      children:
        webservers:
          hosts:
            web[01:03]: { ansible_user: deploy }
            web-canary: { ansible_host: 10.0.9.9, ansible_port: 2222 }
        dbservers:
          hosts:
            db-[a:b]: { ansible_host: 10.0.1.1 }
    staging:
      hosts:
        web03:
`;

for (const [format, text, path] of [
  ['INI', INI, '/inv/hosts'],
  ['YAML', YAML, '/inv/hosts.yml'],
] as const) {
  describe(`Ansible inventory (${format})`, () => {
    const inventory = parseInventory(text, path);
    const universe = { hosts: [...inventory.hosts.keys()], groups: inventory.groups };

    it('reads hosts, ranges, groups and children', () => {
      assert.deepEqual([...inventory.hosts.keys()].sort(), [
        'bastion',
        'db-a',
        'db-b',
        'web-canary',
        'web01',
        'web02',
        'web03',
      ]);
      assert.deepEqual([...(inventory.groups.get('webservers') ?? [])].sort(), [
        'web-canary',
        'web01',
        'web02',
        'web03',
      ]);
      assert.deepEqual([...(inventory.groups.get('prod') ?? [])].sort(), [
        'db-a',
        'db-b',
        'web-canary',
        'web01',
        'web02',
        'web03',
      ]);
      assert.deepEqual(inventory.groups.get('staging'), ['web03']);
      assert.deepEqual(inventory.groups.get('ungrouped'), ['bastion']);
    });

    it('merges variables: a child group over its parent, a host over its groups', () => {
      assert.equal(inventory.hosts.get('web01')?.vars.ansible_user, 'deploy');
      assert.equal(inventory.hosts.get('web-canary')?.vars.ansible_user, 'ops');
      assert.equal(inventory.hosts.get('web-canary')?.vars.ansible_port, '2222');
      assert.equal(inventory.hosts.get('db-a')?.vars.ansible_port, '22');
      assert.equal(inventory.hosts.get('bastion')?.vars.ansible_user, undefined);
    });

    it("selects with Ansible's patterns: union, intersection, exclusion, globs", () => {
      const pick = (pattern: string): string[] => selectHosts(pattern, universe).sort();
      assert.deepEqual(pick('dbservers:staging'), ['db-a', 'db-b', 'web03']);
      assert.deepEqual(pick('webservers:&staging'), ['web03']);
      assert.deepEqual(pick('prod:!webservers'), ['db-a', 'db-b']);
      assert.deepEqual(pick('webservers:!web0*'), ['web-canary']);
      assert.deepEqual(pick('all:!prod'), ['bastion']);
      // Exclusions apply after every union, whatever the order written.
      assert.deepEqual(pick('!staging:webservers'), ['web-canary', 'web01', 'web02']);
      assert.deepEqual(pick('web01,db-b'), ['db-b', 'web01']);
      assert.deepEqual(pick('~^db-'), ['db-a', 'db-b']);
    });

    it('a term that matches nothing is an error with the closest name', () => {
      assert.throws(
        () => selectHosts('webserver:&prod', universe),
        (error: unknown) =>
          ConfigError.isInstance(error) &&
          /webserver matches no target or group/.test(error.message) &&
          /did you mean webservers/.test(error.hint ?? ''),
      );
    });
  });
}

describe('host ranges', () => {
  it('keeps leading zeros, takes letters and strides, and several ranges', () => {
    assert.deepEqual(expandHostRange('web[08:11]'), ['web08', 'web09', 'web10', 'web11']);
    assert.deepEqual(expandHostRange('db-[a:c].x'), ['db-a.x', 'db-b.x', 'db-c.x']);
    assert.deepEqual(expandHostRange('n[1:7:3]'), ['n1', 'n4', 'n7']);
    assert.deepEqual(expandHostRange('r[1:2]-[a:b]'), ['r1-a', 'r1-b', 'r2-a', 'r2-b']);
    assert.throws(() => expandHostRange('web[5:1]'), /goes nowhere/);
  });

  it('a bad INI line names the file and line', () => {
    assert.throws(
      () => parseInventory('[web]\nweb1 ansible_port\n', '/inv/hosts'),
      (error: unknown) =>
        ConfigError.isInstance(error) && error.message.startsWith('inventory /inv/hosts:2:'),
    );
  });
});
