import type { Db } from '../store/index.ts';
import { acceptHl7, type Hl7Reply } from './hl7/accept.ts';
import { splitMessages } from './hl7/frames.ts';
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
  /** HL7 over HTTP: the body's messages from an authenticated institution → one ACK each. */
  receiveHl7Http(institutionId: string, body: Buffer): Promise<Hl7Reply[]>;
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
  close(): Promise<void>;
}

export function createIngest(db: Db, options: IngestOptions = {}): Ingest {
  const worker = new IngestWorker(db, options);
  const batcher = new LandingBatcher(db, () => worker.notify());
  const senders = new SenderRegistry(db);
  const mllpCounters = new MllpCounters();
  const land = (units: UnitInput[]) => batcher.land(units);
  let mllp: MllpServer | undefined;
  if (options.runWorker ?? true) worker.start();
  return {
    db, senders, worker, land, mllpCounters,
    landBulk: async (units) => {
      const results = await landUnits(db, units);
      worker.notify();
      return results;
    },
    bulkConcurrency: db.engine === 'postgres' ? 2 : 1,
    receiveHl7Http: (institutionId, body) =>
      acceptHl7({ channel: 'hl7-http', senders, land, institutionId }, splitMessages(body)),
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
    async close() {
      await mllp?.close();
      await worker.stop();
    },
  };
}
