import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MarkerScanner } from './marker-scanner.js';

function scanAll(marker: string, chunks: string[]): { output: string; found: boolean; rest: string } {
  const scanner = new MarkerScanner(Buffer.from(marker));
  let output = '';
  for (const [index, chunk] of chunks.entries()) {
    const result = scanner.feed(Buffer.from(chunk));
    output += result.output.toString();
    if (result.found)
      return { output, found: true, rest: result.rest.toString() + chunks.slice(index + 1).join('') };
  }
  return { output: output + scanner.flush().toString(), found: false, rest: '' };
}

describe('MarkerScanner', () => {
  it('finds a marker inside one chunk', () => {
    assert.deepEqual(scanAll('\x1eTOK>', ['before\x1eTOK>after']), {
      output: 'before',
      found: true,
      rest: 'after',
    });
  });

  it('finds a marker split across every possible chunk boundary', () => {
    const text = 'some output\x1eTOK>trailer';
    for (let cut = 1; cut < text.length; cut++) {
      const result = scanAll('\x1eTOK>', [text.slice(0, cut), text.slice(cut)]);
      assert.deepEqual(result, { output: 'some output', found: true, rest: 'trailer' }, `cut at ${cut}`);
    }
  });

  it('finds a marker delivered one byte at a time', () => {
    const text = 'ab\x1e\x1eTOK>z';
    assert.deepEqual(scanAll('\x1eTOK>', [...text]), { output: 'ab\x1e', found: true, rest: 'z' });
  });

  it('releases a partial marker that turns out to be output', () => {
    const result = scanAll('\x1eTOK>', ['x\x1eTO', 'Kx more']);
    assert.deepEqual(result, { output: 'x\x1eTOKx more', found: false, rest: '' });
  });

  it('returns held-back bytes on flush', () => {
    assert.deepEqual(scanAll('\x1eTOK>', ['end\x1eTO']), { output: 'end\x1eTO', found: false, rest: '' });
  });
});
