import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { openTestDb } from '../../../test/support/db.ts';
import type { Db } from '../../store/index.ts';
import { addHl7Sender, SenderRegistry } from './senders.ts';

describe('the in-memory HL7 sender table', () => {
  let db: Db;
  before(async () => {
    db = await openTestDb();
  });
  after(async () => {
    await db.close();
  });

  it('recognises a sender registered while a reload was under way (its first burst is not refused as unknown)', async () => {
    // The real database, but the first read of the sender table is held back until the registration has committed,
    // as when a busy listener's reload overlaps an operator's registration.
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let reads = 0;
    const slowFirstRead = {
      query: (async (sql: string, params?: unknown[]) => {
        const result = await db.query(sql, params);
        if (reads++ === 0) await held;
        return result;
      }) as Db['query'],
    } as Db;
    const registry = new SenderRegistry(slowFirstRead);
    const inFlight = registry.find('OTHER', 'OTHER');
    await addHl7Sender(db, { institutionId: 'new-inst', msh3: 'NEWLIS', msh4: 'NEW' });
    registry.invalidate();
    release();
    await inFlight;
    // The new sender's messages follow at once, well inside the one-second miss back-off.
    assert.equal((await registry.find('NEWLIS', 'NEW'))?.institutionId, 'new-inst');
  });

  it('sees a registration at once after invalidate, though the table was loaded a moment ago', async () => {
    const registry = new SenderRegistry(db);
    assert.equal(await registry.find('LATE', 'LATE'), undefined);
    await addHl7Sender(db, { institutionId: 'late-inst', msh3: 'LATE', msh4: 'LATE' });
    registry.invalidate();
    assert.equal((await registry.find('LATE', 'LATE'))?.institutionId, 'late-inst');
  });
});
