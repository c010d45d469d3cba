import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  contentFacts,
  countInvalidUtf8,
  inFileConvention,
  lineOfOffset,
  lineStarts,
  occurrences,
  unifiedDiff,
} from './file-content.js';

describe('file content', () => {
  it('tells text from binary, and counts lines, line endings and bytes that are not UTF-8', () => {
    assert.deepEqual(contentFacts(Buffer.from('a\r\nb\r\n')), {
      binary: false,
      invalidUtf8Bytes: 0,
      lineEndings: 'crlf',
      finalNewline: true,
      lines: 2,
    });
    const latin1 = contentFacts(Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0a, 0x78]));
    assert.equal(latin1.binary, false);
    assert.equal(latin1.invalidUtf8Bytes, 1);
    assert.equal(latin1.finalNewline, false);
    assert.equal(latin1.lines, 2);
    assert.equal(contentFacts(Buffer.from('x\0y')).binary, true);
    assert.equal(contentFacts(Buffer.from([0xff, 0xfe, 0x80, 0x81, 0x41])).binary, true);
    assert.equal(contentFacts(Buffer.from('a\nb\r\n')).lineEndings, 'mixed');
  });

  it('counts invalid UTF-8 like a decoder: overlong forms, surrogates, cut sequences', () => {
    assert.equal(countInvalidUtf8(Buffer.from('héllo €𝄞')), 0);
    assert.equal(countInvalidUtf8(Buffer.from([0xc0, 0xaf])), 2);
    assert.equal(countInvalidUtf8(Buffer.from([0xed, 0xa0, 0x80])), 3);
    assert.equal(countInvalidUtf8(Buffer.from([0xe2, 0x82])), 2);
  });

  it('finds occurrences and their lines, and writes text in the file convention', () => {
    const data = Buffer.from('one\ntwo two\nthree\n');
    const starts = lineStarts(data);
    assert.deepEqual(starts, [0, 4, 12]);
    assert.deepEqual(occurrences(data, Buffer.from('two')), [4, 8]);
    assert.equal(lineOfOffset(starts, 8), 2);
    assert.equal(lineOfOffset(starts, 13), 3);
    const crlf = contentFacts(Buffer.from('a\r\nb\r\n'));
    assert.equal(inFileConvention('x\ny\r\nz', crlf).toString(), 'x\r\ny\r\nz');
  });

  it('makes a unified diff, /dev/null for a new file', () => {
    assert.equal(
      unifiedDiff({ path: '/etc/x', before: 'a\nb\n', after: 'a\nc\n' }),
      '--- a/etc/x\n+++ b/etc/x\n@@ -1,2 +1,2 @@\n a\n-b\n+c',
    );
    assert.match(
      unifiedDiff({ path: '/etc/y', before: null, after: 'new\n' }),
      /^--- \/dev\/null\n\+\+\+ b\/etc\/y\n@@ -0,0 \+1,1 @@\n\+new$/,
    );
  });
});
