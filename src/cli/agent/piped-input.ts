import { fstatSync } from 'node:fs';
import { wrapUntrusted } from '../../agent/tools/untrusted-text.js';
import { SecretRedactor } from '../../safety/secret-redactor.js';

/** What of a piped stdin the model is given: its head and its tail, this many bytes each. */
export const PIPED_INPUT_HALF_BYTES = 32 * 1024;

/** Piped stdin, read for the model: its text and how much was left out. */
export interface PipedInput {
  text: string;
  bytes: number;
  lines: number;
  /** Bytes left out of the middle; 0 when all of it is kept. */
  cutBytes: number;
}

/**
 * Whether stdin is a pipe or a file (`journalctl | opsmate solve ...`, `opsmate run ... < log`):
 * then it is context for the instruction. A terminal is not, and neither is a socket or an
 * inherited descriptor nobody writes to (a program that started opsmate), which could block.
 */
export function stdinIsPipedData(fd = 0): boolean {
  try {
    const stat = fstatSync(fd);
    return stat.isFIFO() || stat.isFile();
  } catch {
    return false;
  }
}

/**
 * Reads piped stdin to its end, keeping the first and the last {@link PIPED_INPUT_HALF_BYTES}
 * (a 2 GB log costs no more memory than that). The abort signal ends the wait.
 */
export async function readPipedInput(
  input: NodeJS.ReadableStream,
  signal?: AbortSignal,
): Promise<PipedInput> {
  const head: Buffer[] = [];
  let headBytes = 0;
  let tail = Buffer.alloc(0);
  let bytes = 0;
  let lines = 0;
  let last = 0x0a;
  const reading = (async () => {
    for await (const chunk of input) {
      const data = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
      bytes += data.length;
      for (const byte of data) if (byte === 0x0a) lines++;
      if (data.length > 0) last = data[data.length - 1]!;
      if (headBytes < PIPED_INPUT_HALF_BYTES) {
        const take = data.subarray(0, PIPED_INPUT_HALF_BYTES - headBytes);
        head.push(take);
        headBytes += take.length;
        const rest = data.subarray(take.length);
        if (rest.length > 0) tail = Buffer.concat([tail, rest]).subarray(-PIPED_INPUT_HALF_BYTES);
      } else {
        tail = Buffer.concat([tail, data]).subarray(-PIPED_INPUT_HALF_BYTES);
      }
    }
  })();
  await (signal
    ? Promise.race([
        reading,
        new Promise<never>((_, reject) => {
          if (signal.aborted) reject(signal.reason as Error);
          signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true });
        }),
      ])
    : reading);
  if (last !== 0x0a) lines++;
  const cutBytes = bytes - headBytes - tail.length;
  const headText = Buffer.concat(head).toString('utf8');
  const text =
    cutBytes > 0
      ? `${headText}\n[... ${cutBytes} bytes cut ...]\n${tail.toString('utf8')}`
      : `${headText}${tail.toString('utf8')}`;
  return { text, bytes, lines, cutBytes };
}

/** The instruction with the piped input attached, as the model reads it. */
export function withPipedInput(
  instruction: string,
  input: PipedInput,
  redactor: SecretRedactor = new SecretRedactor(),
): string {
  const size = `${input.lines} line${input.lines === 1 ? '' : 's'}, ${input.bytes} bytes`;
  const cut =
    input.cutBytes > 0
      ? `; cut to its first and last ${PIPED_INPUT_HALF_BYTES / 1024} KiB, ${input.cutBytes} bytes in the middle left out`
      : '';
  // A log is data, not instructions: masked and wrapped as every command's output is.
  const masked = redactor.redactOutput(input.text.replace(/\n$/, '')).text;
  return `${instruction}\n\nInput piped to opsmate (${size}${cut}):\n${wrapUntrusted('piped-input', masked)}`;
}
