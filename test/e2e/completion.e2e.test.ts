import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { requireBuilt, runCliIsolated } from '../../test-support/run-cli.js';

requireBuilt();

describe('opsmate completion', () => {
  let dir: string;
  let bashScript: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'opsmate-completion-'));
    const result = await runCliIsolated({ args: ['completion', 'bash'] });
    assert.equal(result.exitCode, 0, result.stderr);
    bashScript = join(dir, 'opsmate.bash');
    writeFileSync(bashScript, result.stdout);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** What bash's completion offers for the words typed so far (the last one is being completed). */
  function complete(...words: string[]): string[] {
    const quoted = words.map((word) => `'${word.replaceAll("'", "'\\''")}'`).join(' ');
    const out = execFileSync(
      'bash',
      [
        '-c',
        `source "$1"; COMP_WORDS=(${quoted}); COMP_CWORD=${words.length - 1}; _opsmate; printf '%s\\n' "\${COMPREPLY[@]}"`,
        'bash',
        bashScript,
      ],
      { cwd: dir, encoding: 'utf8' },
    );
    return out.split('\n').filter(Boolean);
  }

  it('completes commands, subcommands, options and the values of options with a fixed list', () => {
    assert.deepEqual(complete('opsmate', 'ru'), ['run']);
    assert.ok(complete('opsmate', '').includes('list-runtimes'));
    assert.deepEqual(complete('opsmate', 'audit', 'ver'), ['verify']);
    assert.deepEqual(complete('opsmate', 'exec', '--shell-command-r'), ['--shell-command-runtime']);
    assert.deepEqual(complete('opsmate', 'exec', '--shell-command-runtime', 'do'), ['docker']);
    assert.deepEqual(complete('opsmate', 'chat', '--policy-profile', 'ask'), ['ask-destructive']);
    assert.ok(complete('opsmate', 'solve', '--mod').includes('--model'));
    // Options of the runtime chosen, and of the others, as --help-all shows them.
    assert.ok(complete('opsmate', 'exec', '--runtime-ssh-h').includes('--runtime-ssh-host'));
    // An option of one command is not offered for another.
    assert.deepEqual(complete('opsmate', 'list-runtimes', '--policy-prof'), []);
  });

  it('completes file names where no word fits', () => {
    writeFileSync(join(dir, 'question-notes.txt'), 'x');
    assert.deepEqual(complete('opsmate', 'run', 'question-'), ['question-notes.txt']);
  });

  it('prints a zsh script through bashcompinit and a fish script', async () => {
    const zsh = await runCliIsolated({ args: ['completion', 'zsh'] });
    assert.equal(zsh.exitCode, 0, zsh.stderr);
    assert.match(zsh.stdout, /^autoload -U \+X bashcompinit && bashcompinit$/m);
    execFileSync('bash', ['-n'], { input: zsh.stdout });
    const fish = await runCliIsolated({ args: ['completion', 'fish'] });
    assert.equal(fish.exitCode, 0, fish.stderr);
    assert.match(fish.stdout, /^complete -c opsmate -n '__fish_use_subcommand' -a 'solve' -d '.+'$/m);
    assert.match(
      fish.stdout,
      /-n '__fish_seen_subcommand_from exec' -l 'shell-command-runtime' -x -a '[^']*docker/,
    );
    for (const line of fish.stdout.trim().split('\n').slice(1)) assert.match(line, /^complete -c opsmate /);
    if (existsSync('/usr/bin/fish')) execFileSync('fish', ['--no-execute'], { input: fish.stdout });
  });

  it('refuses an unknown shell in two lines', async () => {
    const result = await runCliIsolated({ args: ['completion', 'tcsh'] });
    assert.equal(result.exitCode, 2);
    assert.equal(result.stdout, '');
    assert.match(
      result.stderr,
      /^opsmate: error: completion: unknown shell "tcsh"\nopsmate: hint: use one of bash, zsh, fish\n$/,
    );
  });
});
