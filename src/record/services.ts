/**
 * The record module's deps for one platform, shared by the FHIR extension (access rule, $everything) and the HTTP
 * routes: the database, its audit log, the clock, the terminology (loaded on first use) and institution names.
 * Keyed by the Db object, like the audit log: one per platform, not a module singleton of the database.
 */
import { auditLogFor } from '../audit/index.ts';
import type { FhirServices } from '../fhir/index.ts';
import type { Db } from '../store/index.ts';
import { Terminology } from '../terminology/index.ts';
import { everythingOperation } from './everything.ts';
import { recordAccessRule } from './fhir-access.ts';
import type { RecordDeps } from './summary.ts';

const all = new WeakMap<Db, RecordDeps>();

/** The record deps of this database handle, created on first use with `now` as clock. */
export function recordDepsFor(db: Db, now: () => Date = () => new Date()): RecordDeps {
  let deps = all.get(db);
  if (!deps) {
    let terminology: Promise<Terminology | undefined> | undefined;
    const names = new Map<string, string>();
    deps = {
      db,
      audit: auditLogFor(db),
      now,
      terminology: () => (terminology ??= Terminology.open(db).catch(() => (terminology = undefined))),
      async institutionName(id) {
        if (!names.has(id)) {
          const { rows } = await db.query<{ name: string }>('SELECT name FROM institution WHERE id = $1', [id]);
          if (rows[0]) names.set(id, rows[0].name);
        }
        return names.get(id);
      },
    };
    all.set(db, deps);
  }
  return deps;
}

/**
 * The record module's FHIR extension (src/api/fhir-extensions.ts): `Patient/[id]/$everything` for the person the
 * Patient belongs to, and the access rule that decides and audits every user read of Patient-compartment data.
 */
export function recordFhirExtension(services: FhirServices, db: Db): void {
  const deps = recordDepsFor(db, services.repo.clock);
  services.registerOperation('Patient', 'everything', everythingOperation(deps), {
    access: 'read', instance: true, definition: 'http://hl7.org/fhir/OperationDefinition/Patient-everything',
  });
  services.accessRules.push(recordAccessRule(deps));
}
