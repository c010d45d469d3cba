const EMPTY = Buffer.alloc(0);

export type ScanResult = { output: Buffer; found: false } | { output: Buffer; found: true; rest: Buffer };

/**
 * Finds a byte marker in a stream that arrives in chunks. Bytes that may be the start of a marker
 * split across chunks are held back until the next chunk decides; everything else is released
 * at once, so a huge output costs no more than one copy per chunk.
 */
export class MarkerScanner {
  readonly #marker: Buffer;
  #carry: Buffer = EMPTY;

  constructor(marker: Buffer) {
    if (marker.length === 0) throw new TypeError('empty marker');
    this.#marker = marker;
  }

  feed(chunk: Buffer): ScanResult {
    const data = this.#carry.length > 0 ? Buffer.concat([this.#carry, chunk]) : chunk;
    this.#carry = EMPTY;
    const index = data.indexOf(this.#marker);
    if (index >= 0) {
      return {
        output: data.subarray(0, index),
        found: true,
        rest: data.subarray(index + this.#marker.length),
      };
    }
    const keepFrom = this.#partialMatchStart(data);
    if (keepFrom < data.length) this.#carry = Buffer.from(data.subarray(keepFrom));
    return { output: data.subarray(0, keepFrom), found: false };
  }

  /** Releases what was held back; call when the stream ends without the marker. */
  flush(): Buffer {
    const carry = this.#carry;
    this.#carry = EMPTY;
    return carry;
  }

  /** Index of the earliest suffix of `data` that is a proper prefix of the marker, else length. */
  #partialMatchStart(data: Buffer): number {
    const first = this.#marker[0]!;
    for (let start = Math.max(0, data.length - this.#marker.length + 1); start < data.length; start++) {
      if (data[start] !== first) continue;
      if (this.#marker.subarray(0, data.length - start).equals(data.subarray(start))) return start;
    }
    return data.length;
  }
}
