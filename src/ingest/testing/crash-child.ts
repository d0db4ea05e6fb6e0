// Test helper (not a test): a worker process that dies in the middle of a standardization batch, after its
// standardizer wrote output inside the batch's transaction and before that transaction commits — like `kill -9`.
// Usage: node crash-child.ts <dataDir> [schema]   (DATABASE_URL selects PostgreSQL; the data dir holds the key ring)
import type { Resource } from '@medplum/fhirtypes';
import { openDb } from '../../store/index.ts';
import { landingSource } from '../types.ts';
import { standardizeBatch } from '../worker.ts';

const [dataDir, schema] = process.argv.slice(2);
const db = await openDb(process.env.DATABASE_URL ? { databaseUrl: process.env.DATABASE_URL, schema, dataDir } : { dataDir });
let seen = 0;
await standardizeBatch(db, {
  batchSize: 100,
  standardize: async (unit, tx) => {
    await tx.query('INSERT INTO test_out (source, body) VALUES ($1, $2)', [landingSource(unit.id), { id: unit.id }]);
    if (++seen === 2) process.exit(137); // dies holding an open transaction
    return { resources: [{ resourceType: 'Basic', code: { text: 'x' } } as Resource] };
  },
  writeResources: async () => undefined,
});
process.exit(0); // not reached when the batch held two units or more
