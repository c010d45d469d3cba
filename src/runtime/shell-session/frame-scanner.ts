const RECORD_SEPARATOR = 0x1e;
const EMPTY = Buffer.alloc(0);

/** A frame the scanner looks for: `start`, then a payload, then `end`. */
export interface FrameSpec {
  /** Name given back in {@link ScanEvent}. */
  name: string;
  /** Bytes that open the frame. Must begin with the record separator 0x1e. */
  start: Buffer;
  /** Bytes that close it; empty for a frame without payload. */
  end: Buffer;
  /** Longest payload accepted. A longer one is dropped (`overflow: true`). */
  maxPayloadBytes: number;
  /**
   * This frame's start is looked for even inside another frame's payload, and wins: the other
   * frame is abandoned and its bytes are passed on as data. For a frame whose token no output can
   * know, so that output that opens a lesser frame and never closes it cannot hide this one.
   */
  interrupts?: boolean;
}

export type ScanEvent =
  { kind: 'data'; data: Buffer } | { kind: 'frame'; name: string; payload: Buffer; overflow: boolean };

/**
 * Finds framed records in one output stream that arrives in chunks, and passes every other byte
 * through. Frames start with 0x1e and a random token, so ordinary output (even output full of
 * 0x1e bytes) is never taken for one; output without 0x1e is passed on without copying, so bulk
 * output costs one `indexOf` per chunk. Bytes that may be the start of a frame split across
 * chunks are held back until the next chunk decides.
 */
export class FrameScanner {
  readonly #frames: FrameSpec[];
  /** The longest start or end of any frame: what an end search must keep from earlier chunks. */
  readonly #longestMarker: number;
  #carry: Buffer = EMPTY;
  /** The frame being read, when a start was seen and its end not yet. */
  #open: { spec: FrameSpec; parts: Buffer[]; bytes: number; overflow: boolean } | undefined;

  constructor(frames: FrameSpec[]) {
    for (const frame of frames) {
      if (frame.start[0] !== RECORD_SEPARATOR)
        throw new TypeError(`frame ${frame.name} must start with 0x1e`);
    }
    this.#frames = frames;
    this.#longestMarker = Math.max(...frames.flatMap((frame) => [frame.start.length, frame.end.length]));
  }

  /** True while a frame has started and not ended. */
  get inFrame(): boolean {
    return this.#open !== undefined;
  }

  feed(chunk: Buffer): ScanEvent[] {
    let data = this.#carry.length > 0 ? Buffer.concat([this.#carry, chunk]) : chunk;
    this.#carry = EMPTY;
    const events: ScanEvent[] = [];
    while (data.length > 0) {
      if (this.#open) {
        data = this.#readPayload(data, events);
        continue;
      }
      let searchFrom = 0;
      let matched = false;
      while (searchFrom < data.length) {
        const index = data.indexOf(RECORD_SEPARATOR, searchFrom);
        if (index < 0) break;
        const match = this.#matchStart(data, index);
        if (match === 'partial') {
          if (index > 0) events.push({ kind: 'data', data: data.subarray(0, index) });
          this.#carry = Buffer.from(data.subarray(index));
          return events;
        }
        if (match) {
          if (index > 0) events.push({ kind: 'data', data: data.subarray(0, index) });
          if (match.end.length === 0) {
            events.push({ kind: 'frame', name: match.name, payload: EMPTY, overflow: false });
          } else this.#open = { spec: match, parts: [], bytes: 0, overflow: false };
          data = data.subarray(index + match.start.length);
          matched = true;
          break;
        }
        searchFrom = index + 1;
      }
      if (!matched) {
        events.push({ kind: 'data', data });
        return events;
      }
    }
    return events;
  }

  /** Releases what was held back; call when the stream ends. An unfinished frame is dropped. */
  flush(): Buffer {
    const carry = this.#carry;
    this.#carry = EMPTY;
    this.#open = undefined;
    return carry;
  }

  #matchStart(data: Buffer, index: number): FrameSpec | 'partial' | undefined {
    const available = data.length - index;
    let partial = false;
    for (const frame of this.#frames) {
      const length = Math.min(available, frame.start.length);
      if (data.compare(frame.start, 0, length, index, index + length) !== 0) continue;
      if (length === frame.start.length) return frame;
      partial = true;
    }
    return partial ? 'partial' : undefined;
  }

  /** Adds to the open frame; returns the bytes after its end (or nothing while it goes on). */
  #readPayload(data: Buffer, events: ScanEvent[]): Buffer {
    const open = this.#open!;
    const end = open.spec.end;
    // A frame that starts again before it ended was not one: the second start wins too.
    const interrupting = this.#frames.filter((frame) => frame.interrupts || frame === open.spec);
    // The end (or an interrupting start) may straddle the previous chunk: search from just before
    // the new bytes.
    const longest = Math.max(end.length, ...interrupting.map((frame) => frame.start.length));
    const overlap = Math.min(longest - 1, open.bytes);
    const previous = overlap > 0 ? this.#takeTail(overlap) : EMPTY;
    const window = previous.length > 0 ? Buffer.concat([previous, data]) : data;
    const index = window.indexOf(end);
    const cut = this.#firstStart(window, interrupting);
    if (cut >= 0 && (index < 0 || cut < index)) {
      // Not a real frame after all: give its bytes back as output, then read the other one.
      const kept = open.overflow ? [] : [open.spec.start, ...open.parts];
      this.#open = undefined;
      const given = Buffer.concat([...kept, window.subarray(0, cut)]);
      if (given.length > 0) events.push({ kind: 'data', data: given });
      return window.subarray(cut);
    }
    if (index < 0) {
      this.#append(window);
      return EMPTY;
    }
    this.#append(window.subarray(0, index));
    const payload = open.overflow ? EMPTY : Buffer.concat(open.parts);
    events.push({ kind: 'frame', name: open.spec.name, payload, overflow: open.overflow });
    this.#open = undefined;
    return window.subarray(index + end.length);
  }

  /** Where the earliest start of one of `frames` is in `data`, or -1. */
  #firstStart(data: Buffer, frames: FrameSpec[]): number {
    let first = -1;
    for (const frame of frames) {
      const at = data.indexOf(frame.start);
      if (at >= 0 && (first < 0 || at < first)) first = at;
    }
    return first;
  }

  #append(bytes: Buffer): void {
    const open = this.#open!;
    open.bytes += bytes.length;
    if (open.overflow) {
      // Keep only what the end search needs.
      open.parts = [Buffer.from(bytes.subarray(Math.max(0, bytes.length - this.#longestMarker)))];
      return;
    }
    if (open.bytes > open.spec.maxPayloadBytes) {
      open.overflow = true;
      open.parts = [Buffer.from(bytes.subarray(Math.max(0, bytes.length - this.#longestMarker)))];
      return;
    }
    if (bytes.length > 0) open.parts.push(Buffer.from(bytes));
  }

  /** Removes and returns the last `count` bytes of the open frame's payload. */
  #takeTail(count: number): Buffer {
    const open = this.#open!;
    const taken: Buffer[] = [];
    let needed = count;
    while (needed > 0 && open.parts.length > 0) {
      const last = open.parts[open.parts.length - 1]!;
      if (last.length <= needed) {
        taken.unshift(last);
        open.parts.pop();
        needed -= last.length;
      } else {
        taken.unshift(last.subarray(last.length - needed));
        open.parts[open.parts.length - 1] = last.subarray(0, last.length - needed);
        needed = 0;
      }
    }
    const tail = Buffer.concat(taken);
    open.bytes -= tail.length;
    return tail;
  }
}
