import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { escapeControlCharacters } from './visible-text.js';

describe('escapeControlCharacters', () => {
  it('escapes NUL and other controls, collapses runs, keeps tabs, newlines and CR LF', () => {
    const shown = escapeControlCharacters(`a\tb\r\nc\x00d\x1b[31mred\x7f\re${'\x00'.repeat(900)}f`);
    assert.equal(shown.text, `a\tb\r\nc\\x00d\\x1b[31mred\\x7f\\x0de\\x00 ×900f`);
    assert.equal(shown.escaped, 904);
    assert.equal(shown.nul, 901);
  });

  it('leaves ordinary text alone', () => {
    assert.deepEqual(escapeControlCharacters('plain ünïcode\n'), {
      text: 'plain ünïcode\n',
      escaped: 0,
      nul: 0,
    });
  });
});
