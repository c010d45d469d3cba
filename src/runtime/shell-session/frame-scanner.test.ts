import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FrameScanner, type FrameSpec, type ScanEvent } from './frame-scanner.js';

const exit: FrameSpec = {
  name: 'exit',
  start: Buffer.from('\x1eTOKEN>'),
  end: Buffer.from('\x1e\n'),
  maxPayloadBytes: 16,
};
const state: FrameSpec = {
  name: 'state',
  start: Buffer.from('\x1eST S'),
  end: Buffer.from('\x1eST E\n'),
  maxPayloadBytes: 64,
};
const bare: FrameSpec = {
  name: 'end',
  start: Buffer.from('\x1eTOKEN<\x1e\n'),
  end: Buffer.alloc(0),
  maxPayloadBytes: 0,
};

/** Feeds `input` in chunks of every size from 1 byte up, and checks each split gives the same. */
function scanAllSplits(input: string, frames: FrameSpec[]): { data: string; frames: string[] } {
  let reference: { data: string; frames: string[] } | undefined;
  for (let size = 1; size <= input.length; size++) {
    const scanner = new FrameScanner(frames);
    const events: ScanEvent[] = [];
    const bytes = Buffer.from(input, 'latin1');
    for (let offset = 0; offset < bytes.length; offset += size) {
      events.push(...scanner.feed(bytes.subarray(offset, offset + size)));
    }
    const data = Buffer.concat([
      ...events.filter((event) => event.kind === 'data').map((event) => event.data),
      scanner.flush(),
    ]).toString('latin1');
    const found = events.flatMap((event) =>
      event.kind === 'frame'
        ? [`${event.name}:${event.payload.toString('latin1')}${event.overflow ? '!' : ''}`]
        : [],
    );
    const result = { data, frames: found };
    if (reference) assert.deepEqual(result, reference, `chunk size ${size} differs`);
    reference = result;
  }
  return reference!;
}

describe('FrameScanner', () => {
  it('passes output through and finds frames, whatever the chunk boundaries', () => {
    const result = scanAllSplits('hello\x1eST Svars\nhere\x1eST E\nworld\x1eTOKEN>42\x1e\nafter', [
      exit,
      state,
    ]);
    assert.deepEqual(result, { data: 'helloworldafter', frames: ['state:vars\nhere', 'exit:42'] });
  });

  it('leaves lookalikes in the output: other tokens, lone separators, partial starts at the end', () => {
    const input = '\x1e\x1eTOKEX>1\x1e\n\x1eTOKEN\x1eST\x1eTOK';
    const result = scanAllSplits(input, [exit, state]);
    assert.deepEqual(result, { data: input, frames: [] });
  });

  it('finds frames without payload', () => {
    assert.deepEqual(scanAllSplits('err\x1eTOKEN<\x1e\nlate', [bare]), { data: 'errlate', frames: ['end:'] });
  });

  it('drops a payload over its cap and says so, then carries on', () => {
    const big = 'x'.repeat(200);
    const result = scanAllSplits(`a\x1eST S${big}\x1eST E\nb\x1eTOKEN>7\x1e\n`, [exit, state]);
    assert.deepEqual(result, { data: 'ab', frames: ['state:!', 'exit:7'] });
  });

  it('keeps separators inside a payload', () => {
    const result = scanAllSplits('\x1eST Sa\x1eb\x1eST\x1eST E\n', [state]);
    assert.deepEqual(result.frames, ['state:a\x1eb\x1eST']);
  });

  it('lets a frame that interrupts end an unclosed frame, giving its bytes back as data', () => {
    const strong = { ...exit, interrupts: true };
    const result = scanAllSplits('a\x1eST Sswallowed?\x1eTOKEN>3\x1e\nafter', [strong, state]);
    assert.deepEqual(result, { data: 'a\x1eST Sswallowed?after', frames: ['exit:3'] });
    // A closed frame stays a frame.
    const closed = scanAllSplits('\x1eST Sv\x1eST E\n\x1eTOKEN>0\x1e\n', [strong, state]);
    assert.deepEqual(closed.frames, ['state:v', 'exit:0']);
  });

  it('takes a second start of the same frame as the real one, the bytes before as data', () => {
    const result = scanAllSplits('\x1eST Sforged\x1eST Sreal\x1eST E\n', [state]);
    assert.deepEqual(result, { data: '\x1eST Sforged', frames: ['state:real'] });
  });

  it('rejects a frame that does not start with the record separator', () => {
    assert.throws(() => new FrameScanner([{ ...exit, start: Buffer.from('TOKEN') }]), /0x1e/);
  });
});
