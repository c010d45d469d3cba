import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { expandMultiLetterFlags, parseMaxIter } from './agent-flags.js';

describe('expandMultiLetterFlags', () => {
  it('rewrites -nt and -no, but not after --', () => {
    assert.deepEqual(expandMultiLetterFlags(['run', '-nt', 'x', '-no']), [
      'run',
      '--no-tool-output',
      'x',
      '--no-observation',
    ]);
    assert.deepEqual(expandMultiLetterFlags(['exec', '--', 'ls', '-no']), ['exec', '--', 'ls', '-no']);
  });
});

describe('parseMaxIter', () => {
  it('accepts whole numbers from 1 and rejects the rest', () => {
    assert.equal(parseMaxIter(undefined), 10);
    assert.equal(parseMaxIter('3'), 3);
    assert.throws(() => parseMaxIter('0'), /--max-iter "0" is not valid/);
    assert.throws(() => parseMaxIter('2.5'), /not valid/);
  });
});
