import { Unavailable, type Db } from '../store/index.ts';
import { Turns, UploadGate, type GateOptions } from './admission.ts';
import { receiveHl7Upload, type Hl7UploadResult } from './hl7-upload.ts';
import { MllpCounters } from './hl7/mllp-counters.ts';
import { startMllpServer, type MllpServer, type MllpServerOptions } from './hl7/mllp-server.ts';
import { SenderRegistry } from './hl7/senders.ts';
import { LandingBatcher, landUnits } from './landing.ts';
import type { LandResult, UnitInput } from './types.ts';
import { drainQueue, IngestWorker, type WorkerOptions } from './worker.ts';

export interface IngestOptions extends WorkerOptions {
  /** Run the standardization worker in this process (the server does; one-shot CLI tools may not). */
  runWorker?: boolean;
  log?: MllpServerOptions['log'];
  /** Upload admission (default UPLOAD_GATE). */
  uploadGate?: GateOptions;
}

/**
 * The ingestion runtime of one server process: a group-committing lander, the HL7 sender registry, the
 * standardization worker, and (when started) the MLLP listener. Built once by `serve` and passed to the HTTP layer.
 */
export interface Ingest {
  readonly db: Db;
  readonly senders: SenderRegistry;
  readonly worker: IngestWorker;
  /** Lands units; resolves once committed. Wakes the worker. */
  land(units: UnitInput[]): Promise<LandResult[]>;
  /** Lands one large batch (a CSV upload's) in its own statement, not grouped with others. Wakes the worker. */
  landBulk(units: UnitInput[]): Promise<LandResult[]>;
  /** Batches a bulk channel may land at once: two on a PostgreSQL pool (COPY of one overlaps the INSERT of the other). */
  readonly bulkConcurrency: number;
  /**
   * HL7 over HTTP: the body's messages from an authenticated institution → one ACK each, read and landed in chunks
   * (hl7-upload.ts) once the upload gate admits it.
   */
  receiveHl7Http(institutionId: string, body: Buffer | AsyncIterable<Buffer>): Promise<Hl7UploadResult>;
  /**
   * Admission of bulk uploads (HL7 files, CSV): a request that cannot be served is refused with `Unavailable`
   * (503 + Retry-After) instead of hanging. CSV routes run their upload through `uploads.run`.
   */
  readonly uploads: UploadGate;
  /** Starts the MLLP listener (`listen`: idle timeout, TLS, frame limits; see MllpServerOptions). */
  startMllp(port: number, host?: string, listen?: Pick<MllpServerOptions, 'idleMs' | 'frameTimeoutMs' | 'maxFrame' | 'tls'>): Promise<MllpServer>;
  /** What the MLLP listener refused (senders that did not authenticate, framing errors, closed connections). */
  readonly mllpCounters: MllpCounters;
  /**
   * Standardizes everything still pending, in this process (after the batches its own worker holds), as many batches
   * at once as the worker runs loops, and returns how many units this call processed.
   */
  drain(): Promise<number>;
  /** The MLLP port when the listener runs (for `replay` to discover through the admin API). */
  readonly mllpPort: number | undefined;
  /**
   * Shutdown, first step (does not wait): refuse new and waiting uploads, stop running ones between their chunks, and
   * let the worker stop after its current batch. `close()` then waits for the worker and closes the MLLP listener.
   */
  beginShutdown(): void;
  close(): Promise<void>;
}

/**
 * Uploads served at once and waiting, and the longest wait: a county's institutions send a handful at a time
 * (replay: 4); chunked landing interleaves those served, the rest wait their turn, and beyond that the answer is 503.
 */
export const UPLOAD_GATE: GateOptions = { slots: 8, queue: 32, maxWaitMs: 30_000 };

export function createIngest(db: Db, options: IngestOptions = {}): Ingest {
  const worker = new IngestWorker(db, options);
  const batcher = new LandingBatcher(db, () => worker.notify());
  const senders = new SenderRegistry(db);
  const mllpCounters = new MllpCounters();
  const land = (units: UnitInput[]) => batcher.land(units);
  const uploads = new UploadGate(options.uploadGate ?? UPLOAD_GATE);
  // Bulk landings of all uploads together: two statements at once on a PostgreSQL pool (of 10 by default), one on the
  // embedded engine; uploads take turns batch by batch.
  const bulkTurns = new Turns(db.engine === 'postgres' ? 2 : 1);
  let mllp: MllpServer | undefined;
  if (options.runWorker ?? true) worker.start();
  return {
    db, senders, worker, land, mllpCounters, uploads,
    landBulk: (units) =>
      bulkTurns.run(async () => {
        // A CSV upload still running at shutdown stops at its next batch (those landed stay landed: a re-send is duplicates).
        if (uploads.closed) throw new Unavailable('the server is shutting down: send the rest of this file again shortly', 10);
        const results = await landUnits(db, units);
        worker.notify();
        return results;
      }),
    bulkConcurrency: db.engine === 'postgres' ? 2 : 1,
    receiveHl7Http: (institutionId, body) =>
      uploads.run(() => receiveHl7Upload({ channel: 'hl7-http', senders, land, institutionId }, Buffer.isBuffer(body) ? [body] : body, () => uploads.closed)),
    async startMllp(port, host, listen) {
      mllp = await startMllpServer({ senders, land }, { ...listen, port, host, log: options.log, counters: mllpCounters });
      return mllp;
    },
    drain: async () => {
      // Until neither this call nor the server's own worker (whose claimed units this call's claims skip) has any left.
      let total = 0;
      for (;;) {
        // As many claims at once as the worker runs loops (PostgreSQL: their batches overlap).
        for (const n of await Promise.all(Array.from({ length: worker.loops }, () => drainQueue(db, options)))) total += n;
        const busy = worker.current;
        if (!busy) return total;
        await busy.catch(() => undefined);
      }
    },
    get mllpPort() {
      return mllp?.port;
    },
    beginShutdown() {
      uploads.close();
      void worker.stop();
    },
    async close() {
      uploads.close();
      await mllp?.close();
      await worker.stop();
    },
  };
}
