import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { shellJoin, shellQuote } from './shell-quote.js';

describe('shellQuote', () => {
  it('round-trips hostile words through a real shell unchanged', () => {
    const words = [
      "it's",
      'a b',
      '$(touch /tmp/opsmate-pwned)',
      '`id`',
      '"; rm -rf /"',
      '\n',
      '',
      '*',
      '\\',
      "'''",
    ];
    const result = spawnSync('/bin/sh', ['-c', `printf '%s\\0' ${shellJoin(words)}`], { encoding: 'utf8' });
    assert.deepEqual(result.stdout.split('\0').slice(0, -1), words);
  });

  it('leaves plain words bare and refuses NUL', () => {
    assert.equal(shellQuote('/usr/bin/env'), '/usr/bin/env');
    assert.throws(() => shellQuote('a\0b'), /NUL/);
  });
});
