import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ingestFor } from './ingest-runtime.ts';
import { standardizationFor } from './standardization-runtime.ts';
import { openTestPlatform } from './testing.ts';

// The FHIR channel loads the standardization services on the platform's database on its first Bundle; the worker
// may begin a batch at that moment. On the embedded engine, which serves one transaction at a time, a batch that
// waited INSIDE its transaction for that load (whose next statement waits for the transaction) hung the server.
test('the worker and a first FHIR Bundle load the standardization services together without hanging', { timeout: 120_000 }, async () => {
  const p = await openTestPlatform();
  try {
    const inst = await p.addInstitution();
    const ingest = ingestFor(p.deps);
    await ingest.land([{
      institutionId: inst.id, channel: 'hl7-http', contentType: 'x-application/hl7-v2+er7', encoding: 'utf-8',
      content: Buffer.from('MSH|^~\\&|APP|FAC|HB|HB|20261122080000||ADT^A04|MSG1|P|2.5\rPID|1||MRN-1^^^FAC^MR||张^三||19800101|M\r'),
    }]);
    const loading = standardizationFor(p.deps).services(p.deps.db); // as the FHIR channel's first Bundle does
    const drained = ingest.drain();
    let timer: NodeJS.Timeout | undefined;
    // A deadlock detector, not a speed check: both finish in well under a second when nothing is stuck.
    const stuck = new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('worker and loader deadlocked')), 60_000)));
    await Promise.race([Promise.all([loading, drained]), stuck]);
    clearTimeout(timer);
    const { rows } = await p.deps.db.query<{ status: string }>(`SELECT status FROM landed_unit WHERE institution_id = $1`, [inst.id]);
    assert.equal(rows.length, 1);
    assert.notEqual(rows[0].status, 'landed', 'the unit was standardized or quarantined');
  } finally {
    await p.close();
  }
});
