import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  commandShellAssignments,
  parseStateDump,
  type ShellFlavor,
  type ShellVariables,
} from './shell-state.js';

const TRICKY = `a'b"c$d\\e\`f\nline2\ttab \x01\x1e\x1f\x7f é end`;
const DUMP: Record<ShellFlavor, string> = { bash: 'declare -p', posix: "export -p; printf '\\037'; set" };

/** Shells on this machine, with the flavor of dump each writes. */
const SHELLS: Array<[string, ShellFlavor, string]> = (
  [
    ['/bin/bash', 'bash', 'bash'],
    ['/bin/dash', 'posix', 'dash'],
    ['/bin/busybox', 'posix', 'busybox ash'],
  ] as Array<[string, ShellFlavor, string]>
).filter(([path]) => existsSync(path));

/** Runs a script read from stdin; `latin1` scripts are byte strings, as the session sends them. */
function runShell(path: string, script: string, encoding: 'utf8' | 'latin1' = 'utf8'): string {
  const args = path.endsWith('busybox') ? ['sh', '-s'] : ['-s'];
  const result = spawnSync(path, args, {
    env: { PATH: '/usr/bin:/bin', TRICKY_ENV: TRICKY },
    input: Buffer.from(script, encoding),
  });
  assert.equal(result.status, 0, result.stderr.toString());
  return result.stdout.toString('latin1');
}

const latin1 = (text: string): string => Buffer.from(text, 'utf8').toString('latin1');

describe('state dumps of real shells', () => {
  for (const [path, flavor, label] of SHELLS) {
    it(`${label}: parses every kind of value, exported or not, and the cwd`, () => {
      const dump = runShell(
        path,
        `cd /tmp; plain="$TRICKY_ENV"; export EXPORTED="$TRICKY_ENV"; empty=; export NOVALUE; unset TRICKY_ENV; ${DUMP[flavor]}`,
      );
      const parsed = parseStateDump(dump, flavor);
      assert.ok(parsed, 'the dump did not parse');
      assert.equal(parsed.cwd, '/tmp');
      assert.deepEqual(parsed.variables.get('plain'), { value: latin1(TRICKY), exported: false });
      assert.deepEqual(parsed.variables.get('EXPORTED'), { value: latin1(TRICKY), exported: true });
      assert.deepEqual(parsed.variables.get('empty'), { value: '', exported: false });
      assert.equal(parsed.variables.get('NOVALUE')?.exported, true);
      assert.equal(parsed.variables.has('TRICKY_ENV'), false);
      for (const managed of ['PWD', 'PPID', 'IFS', 'SHLVL', '_', 'OPTIND']) {
        assert.equal(parsed.variables.has(managed), false, `${managed} is carried`);
      }
    });

    it(`${label}: assignments recreate the state in a fresh shell, byte for byte`, () => {
      const before = parseStateDump(runShell(path, DUMP[flavor]), flavor)!;
      const wanted = parseStateDump(
        runShell(
          path,
          `plain="$TRICKY_ENV"; export EXPORTED="$TRICKY_ENV"; export PATH="/bin:/usr/bin"; unset HOME; ${DUMP[flavor]}`,
        ),
        flavor,
      )!;
      const script = commandShellAssignments({ inherited: before.variables, wanted: wanted.variables });
      const rebuilt = parseStateDump(runShell(path, `${script}; ${DUMP[flavor]}`, 'latin1'), flavor)!;
      const pick = (variables: ShellVariables): object =>
        Object.fromEntries([...variables].filter(([name]) => !name.startsWith('TRICKY')));
      assert.deepEqual(pick(rebuilt.variables), pick(wanted.variables));
    });
  }

  it('refuses dumps that are not in the shape a shell writes', () => {
    for (const dump of [
      "declare -x A='unterminated",
      'export A=1\x1fnot a variable line',
      'rm -rf /',
      'declare -- A=x; rm -rf /',
    ]) {
      assert.equal(parseStateDump(dump, dump.startsWith('declare') ? 'bash' : 'posix'), undefined, dump);
    }
  });

  it('quotes every value it writes: no dump can inject a command', () => {
    const evil: ShellVariables = new Map([
      ['A', { value: "'; touch /tmp/pwned; '", exported: true }],
      ['B', { value: '$(touch /tmp/pwned)`touch /tmp/pwned`', exported: false }],
    ]);
    const script = commandShellAssignments({ inherited: new Map(), wanted: evil });
    const output = runShell('/bin/sh', `${script}; printf '%s|%s' "$A" "$B"`);
    assert.equal(output, `'; touch /tmp/pwned; '|$(touch /tmp/pwned)\`touch /tmp/pwned\``);
  });
});
