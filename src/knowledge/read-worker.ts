/**
 * The reader thread of a full-text ingest (ingest.ts, `readInWorker`): reads, hashes, masks and
 * chunks the files it is given, in batches, while the ingest's thread writes the previous batch
 * to the store. It runs ahead by as many batches as it has been granted (credit), so it holds a
 * few batches at most, whatever the size of the source. An error ends the thread; the ingest
 * then fails and stores nothing (its write is one transaction).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { errorMessage, OpsmateError } from '../errors/opsmate-error.js';
import {
  documentBatches,
  documentReader,
  noCounts,
  takeCounts,
  type ReadCounts,
  type ReadDocument,
} from './read-documents.js';
import type { SecretRedactorOptions } from '../safety/secret-redactor.js';

/** What the ingest gives the thread. */
export interface ReadWorkerData {
  root: string;
  files: string[];
  stored: Array<[string, string]>;
  masking: SecretRedactorOptions;
  /** A batch ends at this many chunks or this many documents, whichever comes first. */
  batchChunks: number;
  batchFiles: number;
  /** Batches the thread may send before it is granted more. */
  credit: number;
}

/** What the thread sends: a batch of documents, or the end; each with what it counted since the last. */
export type ReadWorkerMessage =
  | { kind: 'batch'; documents: ReadDocument[]; counts: ReadCounts; done: number }
  | { kind: 'end'; counts: ReadCounts; done: number }
  /** What stopped the thread, as the ingest reports it (an OpsmateError's message and hint). */
  | { kind: 'error'; message: string; hint?: string };

const port = parentPort;
if (port) {
  const data = workerData as ReadWorkerData;
  let credit = data.credit;
  let granted: (() => void) | undefined;
  port.on('message', (message: { credit: number }) => {
    credit += message.credit;
    granted?.();
  });

  const readAll = async () => {
    const read = documentReader({ root: data.root, stored: new Map(data.stored), masking: data.masking });
    const counts = noCounts();
    const { batchChunks, batchFiles } = data;
    for (const batch of documentBatches({ read, files: data.files, counts, batchChunks, batchFiles })) {
      while (credit === 0) await new Promise<void>((resolve) => (granted = resolve));
      granted = undefined;
      credit--;
      port.postMessage({
        kind: 'batch',
        documents: batch.documents,
        counts: takeCounts(counts),
        done: batch.done,
      } satisfies ReadWorkerMessage);
    }
    // The ingest ends the thread when it has this.
    port.postMessage({ kind: 'end', counts, done: data.files.length } satisfies ReadWorkerMessage);
  };
  // An error crosses to the ingest as a message: an Error thrown here would lose its class and hint.
  readAll().catch((error: unknown) => {
    port.postMessage({
      kind: 'error',
      message: errorMessage(error),
      ...(OpsmateError.isInstance(error) && error.hint !== undefined ? { hint: error.hint } : {}),
    } satisfies ReadWorkerMessage);
  });
}
