import type { Queryable } from '../../store/index.ts';

export interface Hl7Sender {
  institutionId: string;
  /** MSH-3 sending application (HD namespace id). */
  msh3: string;
  /** MSH-4 sending facility (HD namespace id). */
  msh4: string;
  /** Source addresses allowed to send as this sender; empty = any. */
  allowedAddresses: string[];
}

/** Registers (or re-points) an HL7 sender: MSH-3 + MSH-4 → institution. Idempotent. */
export async function addHl7Sender(db: Queryable, sender: Omit<Hl7Sender, 'allowedAddresses'> & { allowedAddresses?: string[] }): Promise<Hl7Sender> {
  if (!sender.msh3 || !sender.msh4) throw new Error('an HL7 sender needs both MSH-3 (application) and MSH-4 (facility)');
  await db.query(
    `INSERT INTO hl7_sender (msh3, msh4, institution_id, allowed_addresses) VALUES ($1, $2, $3, $4::text[])
     ON CONFLICT (msh3, msh4) DO UPDATE SET institution_id = excluded.institution_id, allowed_addresses = excluded.allowed_addresses`,
    [sender.msh3, sender.msh4, sender.institutionId, sender.allowedAddresses ?? []],
  );
  return { allowedAddresses: [], ...sender };
}

export async function listHl7Senders(db: Queryable, institutionId?: string): Promise<Hl7Sender[]> {
  const { rows } = await db.query<{ msh3: string; msh4: string; institution_id: string; allowed_addresses: string[] }>(
    `SELECT msh3, msh4, institution_id, allowed_addresses FROM hl7_sender WHERE $1::text IS NULL OR institution_id = $1 ORDER BY 1, 2`,
    [institutionId ?? null],
  );
  return rows.map((r) => ({ msh3: r.msh3, msh4: r.msh4, institutionId: r.institution_id, allowedAddresses: r.allowed_addresses ?? [] }));
}

export async function removeHl7Sender(db: Queryable, msh3: string, msh4: string): Promise<boolean> {
  return (await db.query('DELETE FROM hl7_sender WHERE msh3 = $1 AND msh4 = $2', [msh3, msh4])).rowCount > 0;
}

/**
 * The sender table held in memory for the MLLP hot path (thousands of messages a second), reloaded every `ttlMs` and
 * — at most once a second — on a miss; the operator API invalidates it on registration, so a new sender is
 * recognised at once.
 */
export class SenderRegistry {
  readonly #db: Queryable;
  readonly #ttlMs: number;
  #map = new Map<string, Hl7Sender>();
  #loadedAt = 0;
  // Bumped by invalidate(): a load that began before a registration must neither be reused nor count as fresh,
  // or the new sender's first burst of messages is refused as unknown until the next reload.
  #generation = 0;
  #loading?: { generation: number; done: Promise<void> };

  constructor(db: Queryable, ttlMs = 5000) {
    this.#db = db;
    this.#ttlMs = ttlMs;
  }

  async find(msh3: string, msh4: string): Promise<Hl7Sender | undefined> {
    const key = msh3 + '\u0000' + msh4;
    const age = Date.now() - this.#loadedAt;
    if (age > this.#ttlMs || (!this.#map.has(key) && age > 1000)) await this.#reload();
    return this.#map.get(key);
  }

  /** Forget the cached table (after a registration through the operator API), so the next message reloads it. */
  invalidate(): void {
    this.#generation++;
    this.#loadedAt = 0;
  }

  #reload(): Promise<void> {
    const generation = this.#generation;
    if (this.#loading?.generation === generation) return this.#loading.done;
    const startedAt = Date.now();
    const done = listHl7Senders(this.#db).then((all) => {
      if (generation < this.#generation) return this.#reload(); // invalidated while loading: this table may be stale
      this.#map = new Map(all.map((s) => [s.msh3 + '\u0000' + s.msh4, s]));
      this.#loadedAt = startedAt;
    });
    const loading = { generation, done: done.finally(() => this.#loading === loading && (this.#loading = undefined)) };
    this.#loading = loading;
    return loading.done;
  }
}
