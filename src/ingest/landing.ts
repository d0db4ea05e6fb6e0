import { createHash, randomUUID } from 'node:crypto';
import type { FieldCrypto } from '../crypto/index.ts';
import type { Db } from '../store/index.ts';
import type { LandResult, UnitInput } from './types.ts';

/** Above this many units a batch goes through COPY into `landing_stage`; below, one multi-row INSERT. */
const STAGE_THRESHOLD = 256;

/**
 * The identity that makes re-sending idempotent, hex: a keyed hash of the verbatim bytes — HMAC-SM3 under the
 * platform's blind-index key of their SHA-256, 128 bits — so that a short unit (one HL7 message naming one resident)
 * cannot be confirmed by hashing guesses without the key (密评: no unkeyed digest of personal data at rest).
 */
export function contentHash(crypto: FieldCrypto, content: Uint8Array): string {
  return crypto.blindIndex('landed-unit', createHash('sha256').update(content).digest('hex')).slice(3);
}

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

/**
 * Lands units verbatim, set-based, in ONE statement (so atomic without a transaction round trip): new content is
 * inserted, content this institution already sent is recognised by (institution, SHA-256) and only counted as
 * received + duplicate, and the per-institution/day counter moves in the same statement. Results come back in input
 * order. The caller acknowledges only after this resolves — the landing write has committed by then (issue 4).
 */
export async function landUnits(db: Db, units: UnitInput[]): Promise<LandResult[]> {
  if (units.length === 0) return [];
  const hashes = units.map((u) => contentHash(db.crypto, u.content));
  // The verbatim bytes are sealed at rest (SM4 + HMAC-SM3, src/crypto): the worker unseals them when it claims a unit.
  const sealed = units.map((u) => hex(db.crypto.seal(u.content)));
  let rows: Array<{ id: number | null; duplicate: boolean }>;
  if (units.length > STAGE_THRESHOLD) {
    const batch = await stage(db, units, hashes, sealed);
    rows = (await db.query<{ id: number | null; duplicate: boolean }>(landSql(STAGED_INPUT, `, del AS (DELETE FROM landing_stage WHERE batch_id = $1)`), [batch])).rows;
  } else {
    rows = (await db.query<{ id: number | null; duplicate: boolean }>(landSql(DIRECT_INPUT, ''), directParams(units, hashes, sealed))).rows;
  }
  return rows.map((r) => ({ id: Number(r.id ?? 0), duplicate: r.duplicate }));
}

// The batch as rows (inst, ch, ct, enc, h bytea, c bytea, m jsonb, q jsonb, ord): from parameters or from the stage.
const DIRECT_INPUT = `SELECT inst, ch, ct, enc, decode(h, 'hex') AS h, decode(c, 'hex') AS c, m::jsonb AS m, q::jsonb AS q, n, ord
    FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::int4[])
         WITH ORDINALITY AS x(inst, ch, ct, enc, h, c, m, q, n, ord)`;
const STAGED_INPUT = `SELECT institution_id AS inst, channel AS ch, content_type AS ct, encoding AS enc, content_hash AS h,
         content AS c, meta AS m, reasons AS q, records AS n, ord
    FROM landing_stage WHERE batch_id = $1`;

/**
 * One statement: insert what is new (ON CONFLICT on the (institution, hash) key skips what was landed before — also
 * by a concurrent sender), add received/duplicates to feed_day, and answer per input row. Within a batch the first
 * copy of a content is the one landed, later copies are duplicates.
 */
function landSql(input: string, extra: string): string {
  return `WITH input AS (${input}),
  ins AS (
    INSERT INTO landed_unit (institution_id, channel, content_type, encoding, content_hash, content, meta, status, reasons, records)
    SELECT inst, ch, ct, enc, h, c, coalesce(m, '{}'::jsonb), CASE WHEN q IS NULL THEN 'landed' ELSE 'quarantined' END, q, n
      FROM input ORDER BY ord
    ON CONFLICT ON CONSTRAINT landed_unit_once DO NOTHING
    RETURNING id, institution_id, content_hash, records),
  per AS (SELECT inst, sum(n) AS received FROM input GROUP BY inst),
  landed AS (SELECT institution_id AS inst, sum(records) AS n FROM ins GROUP BY 1),
  counted AS (
    INSERT INTO feed_day (institution_id, day, received, duplicates, last_received_at)
    SELECT per.inst, ingest_day(now()), per.received, per.received - coalesce(landed.n, 0), now()
      FROM per LEFT JOIN landed ON landed.inst = per.inst
     ORDER BY per.inst -- a fixed lock order: concurrent batches never deadlock on feed_day
    ON CONFLICT (institution_id, day) DO UPDATE
      SET received = feed_day.received + excluded.received,
          duplicates = feed_day.duplicates + excluded.duplicates,
          last_received_at = excluded.last_received_at)${extra}
  SELECT coalesce(ins.id, u.id) AS id,
         (ins.id IS NULL OR row_number() OVER (PARTITION BY i.inst, i.h ORDER BY i.ord) > 1) AS duplicate
    FROM input i
    LEFT JOIN ins ON ins.institution_id = i.inst AND ins.content_hash = i.h
    LEFT JOIN landed_unit u ON ins.id IS NULL AND u.institution_id = i.inst AND u.content_hash = i.h
   ORDER BY i.ord`;
}

function directParams(units: UnitInput[], hashes: string[], sealed: string[]): unknown[] {
  return [
    units.map((u) => u.institutionId),
    units.map((u) => u.channel),
    units.map((u) => u.contentType),
    units.map((u) => u.encoding),
    hashes,
    sealed,
    units.map((u) => JSON.stringify(u.meta ?? {})),
    units.map((u) => (u.quarantine ? JSON.stringify(u.quarantine) : null)),
    units.map((u) => u.records ?? 1),
  ];
}

/** COPY the batch into the staging table first (a crash leaves only unacknowledged staging rows, swept on start). */
async function stage(db: Db, units: UnitInput[], hashes: string[], sealed: string[]): Promise<string> {
  const batch = randomUUID();
  await db.copyFrom(
    'landing_stage',
    ['batch_id', 'ord', 'institution_id', 'channel', 'content_type', 'encoding', 'content_hash', 'content', 'meta', 'status', 'reasons', 'records'],
    (function* () {
      for (let i = 0; i < units.length; i++) {
        const u = units[i];
        yield [
          batch, i + 1, u.institutionId, u.channel, u.contentType, u.encoding, '\\x' + hashes[i], '\\x' + sealed[i],
          u.meta ?? {}, u.quarantine ? 'quarantined' : 'landed', u.quarantine ?? null, u.records ?? 1,
        ];
      }
    })(),
  );
  return batch;
}

/**
 * Group commit for channels that land one message at a time (MLLP connections, HTTP posts): requests that arrive
 * while a landing transaction is running are landed together in the next one, so many concurrent senders share
 * commits. Each caller still gets its own results only after the transaction holding its units has committed.
 */
type Pending = { units: UnitInput[]; resolve: (r: LandResult[]) => void; reject: (e: unknown) => void };

export class LandingBatcher {
  readonly #db: Db;
  readonly #onLanded?: () => void;
  /** Landing statements allowed at once. One is best on both engines: measured with 16 senders on PostgreSQL, two or
   * three concurrent statements made smaller groups and lower throughput (they also meet on the feed_day row). */
  readonly #maxInFlight: number;
  #queue: Pending[] = [];
  #inFlight = 0;

  constructor(db: Db, onLanded?: () => void, maxInFlight = 1) {
    this.#db = db;
    this.#onLanded = onLanded;
    this.#maxInFlight = maxInFlight;
  }

  land(units: UnitInput[]): Promise<LandResult[]> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ units, resolve, reject });
      this.#pump();
    });
  }

  #pump(): void {
    while (this.#queue.length && this.#inFlight < this.#maxInFlight) {
      const batch = this.#queue;
      this.#queue = [];
      this.#inFlight++;
      void this.#flush(batch).finally(() => {
        this.#inFlight--;
        this.#pump();
      });
    }
  }

  async #flush(batch: Pending[]): Promise<void> {
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
}
