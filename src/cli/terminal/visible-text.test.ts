import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hasHidingCharacters, visibleText } from './visible-text.js';

describe('visibleText', () => {
  it('shows the characters that can hide or rewrite what a terminal displays', () => {
    const disguised = 'rm -rf /srv/data #\r\x1b[2K$ ls -la /var/log';
    assert.equal(visibleText(disguised), 'rm -rf /srv/data #\\r\\x1b[2K$ ls -la /var/log');
    assert.equal(visibleText('safe\u202eexe.txt'), 'safe\\u202eexe.txt');
    assert.equal(visibleText('a\u200bb\x08c\x7f\x9b'), 'a\\u200bb\\x08c\\x7f\\x9b');
    assert.ok(hasHidingCharacters(disguised));
  });

  it('leaves ordinary text, tabs, line feeds and non-Latin letters alone', () => {
    const text = 'for f in *; do\n\techo "$f" # проверка 日本\ndone';
    assert.equal(visibleText(text), text);
    assert.equal(hasHidingCharacters(text), false);
  });
});
