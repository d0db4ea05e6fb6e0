import { createHash, randomUUID } from 'node:crypto';
import type { Db, Queryable } from '../store/index.ts';
import type { LandResult, UnitInput } from './types.ts';

/** Above this many units a batch goes through COPY into `landing_stage`; below, one multi-row INSERT. */
const STAGE_THRESHOLD = 256;

/** SHA-256 of the verbatim bytes, hex: the identity that makes re-sending idempotent. */
export function contentHash(content: Uint8Array): string {
  return createHash('sha256').update(content).digest('hex');
}

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

/**
 * Lands units verbatim, set-based, in one transaction: new content is inserted, content this institution already sent
 * is recognised by (institution, SHA-256) and only counted as received + duplicate. Results come back in input order.
 * The caller acknowledges only after this resolves — the landing write has committed by then (issue 4).
 */
export async function landUnits(db: Db, units: UnitInput[]): Promise<LandResult[]> {
  if (units.length === 0) return [];
  const hashes = units.map((u) => contentHash(u.content));
  const staged = units.length > STAGE_THRESHOLD ? await stage(db, units, hashes) : undefined;
  return db.transaction(async (tx) => {
    const inserted = staged ? await insertFromStage(tx, staged) : await insertDirect(tx, units, hashes);
    const results: LandResult[] = new Array(units.length);
    const fresh = new Map(inserted.map((r) => [r.institution_id + ' ' + r.h, Number(r.id)]));
    const missing: number[] = [];
    for (let i = 0; i < units.length; i++) {
      const key = units[i].institutionId + ' ' + hashes[i];
      const id = fresh.get(key);
      if (id !== undefined) {
        results[i] = { id, duplicate: false };
        fresh.delete(key); // a second copy in the same batch is a duplicate of the first
      } else missing.push(i);
    }
    if (missing.length) {
      const { rows } = await tx.query<{ institution_id: string; h: string; id: number }>(
        `SELECT u.institution_id, encode(u.content_hash, 'hex') AS h, u.id
           FROM unnest($1::text[], $2::text[]) AS k(inst, h)
           JOIN landed_unit u ON u.institution_id = k.inst AND u.content_hash = decode(k.h, 'hex')`,
        [missing.map((i) => units[i].institutionId), missing.map((i) => hashes[i])],
      );
      const existing = new Map(rows.map((r) => [r.institution_id + ' ' + r.h, Number(r.id)]));
      for (const i of missing) {
        results[i] = { id: existing.get(units[i].institutionId + ' ' + hashes[i]) ?? 0, duplicate: true };
      }
    }
    await countReceipts(tx, units, results);
    if (staged) await tx.query('DELETE FROM landing_stage WHERE batch_id = $1', [staged]);
    return results;
  });
}

interface Inserted {
  id: number;
  institution_id: string;
  h: string;
}

async function insertDirect(tx: Queryable, units: UnitInput[], hashes: string[]): Promise<Inserted[]> {
  const { rows } = await tx.query<Inserted>(
    `INSERT INTO landed_unit (institution_id, channel, content_type, encoding, content_hash, content, meta, status, reasons)
     SELECT inst, ch, ct, enc, decode(h, 'hex'), decode(c, 'hex'), m::jsonb,
            CASE WHEN q IS NULL THEN 'landed' ELSE 'quarantined' END, q::jsonb
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[])
            WITH ORDINALITY AS x(inst, ch, ct, enc, h, c, m, q, ord)
      ORDER BY ord
     ON CONFLICT ON CONSTRAINT landed_unit_once DO NOTHING
     RETURNING id, institution_id, encode(content_hash, 'hex') AS h`,
    [
      units.map((u) => u.institutionId),
      units.map((u) => u.channel),
      units.map((u) => u.contentType),
      units.map((u) => u.encoding),
      hashes,
      units.map((u) => hex(u.content)),
      units.map((u) => JSON.stringify(u.meta ?? {})),
      units.map((u) => (u.quarantine ? JSON.stringify(u.quarantine) : null)),
    ],
  );
  return rows;
}

/** COPY the batch into the staging table (outside the transaction: a crash leaves only unacknowledged staging rows). */
async function stage(db: Db, units: UnitInput[], hashes: string[]): Promise<string> {
  const batch = randomUUID();
  await db.copyFrom(
    'landing_stage',
    ['batch_id', 'ord', 'institution_id', 'channel', 'content_type', 'encoding', 'content_hash', 'content', 'meta', 'status', 'reasons'],
    (function* () {
      for (let i = 0; i < units.length; i++) {
        const u = units[i];
        yield [
          batch, i, u.institutionId, u.channel, u.contentType, u.encoding, '\\x' + hashes[i], '\\x' + hex(u.content),
          u.meta ?? {}, u.quarantine ? 'quarantined' : 'landed', u.quarantine ?? null,
        ];
      }
    })(),
  );
  return batch;
}

async function insertFromStage(tx: Queryable, batch: string): Promise<Inserted[]> {
  const { rows } = await tx.query<Inserted>(
    `INSERT INTO landed_unit (institution_id, channel, content_type, encoding, content_hash, content, meta, status, reasons)
     SELECT institution_id, channel, content_type, encoding, content_hash, content, meta, status, reasons
       FROM landing_stage WHERE batch_id = $1 ORDER BY ord
     ON CONFLICT ON CONSTRAINT landed_unit_once DO NOTHING
     RETURNING id, institution_id, encode(content_hash, 'hex') AS h`,
    [batch],
  );
  return rows;
}

/** Adds this batch's receipts to the per-institution/day counter, in the landing transaction. */
async function countReceipts(tx: Queryable, units: UnitInput[], results: LandResult[]): Promise<void> {
  const per = new Map<string, { received: number; duplicates: number }>();
  units.forEach((u, i) => {
    const c = per.get(u.institutionId) ?? { received: 0, duplicates: 0 };
    c.received++;
    if (results[i].duplicate) c.duplicates++;
    per.set(u.institutionId, c);
  });
  const insts = [...per.keys()].sort(); // a fixed lock order: concurrent batches never deadlock on feed_day
  await tx.query(
    `INSERT INTO feed_day (institution_id, day, received, duplicates, last_received_at)
     SELECT inst, ingest_day(now()), r, d, now() FROM unnest($1::text[], $2::int8[], $3::int8[]) AS x(inst, r, d)
     ON CONFLICT (institution_id, day) DO UPDATE
       SET received = feed_day.received + excluded.received,
           duplicates = feed_day.duplicates + excluded.duplicates,
           last_received_at = excluded.last_received_at`,
    [insts, insts.map((i) => per.get(i)!.received), insts.map((i) => per.get(i)!.duplicates)],
  );
}

/**
 * Group commit for channels that land one message at a time (MLLP connections, HTTP posts): requests that arrive
 * while a landing transaction is running are landed together in the next one, so many concurrent senders share
 * commits. Each caller still gets its own results only after the transaction holding its units has committed.
 */
export class LandingBatcher {
  readonly #db: Db;
  readonly #onLanded?: () => void;
  #queue: Array<{ units: UnitInput[]; resolve: (r: LandResult[]) => void; reject: (e: unknown) => void }> = [];
  #running = false;

  constructor(db: Db, onLanded?: () => void) {
    this.#db = db;
    this.#onLanded = onLanded;
  }

  land(units: UnitInput[]): Promise<LandResult[]> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ units, resolve, reject });
      if (!this.#running) void this.#drain();
    });
  }

  async #drain(): Promise<void> {
    this.#running = true;
    while (this.#queue.length) {
      const batch = this.#queue;
      this.#queue = [];
      try {
        const all = await landUnits(this.#db, batch.flatMap((b) => b.units));
        let at = 0;
        for (const b of batch) {
          b.resolve(all.slice(at, at + b.units.length));
          at += b.units.length;
        }
        this.#onLanded?.();
      } catch (err) {
        for (const b of batch) b.reject(err);
      }
    }
    this.#running = false;
  }
}
