import type { LandedUnit, StandardizeResult, Standardizer } from '../ingest/index.ts';
import type { Db, Queryable } from '../store/index.ts';
import { CodeMapper, holdKey, holdUnit, Terminology } from '../terminology/index.ts';
import { UnitContext, type PatientRef, type StandardizeServices } from './context.ts';
import { standardizeCsv } from './csv.ts';
import { standardizeFhir } from './fhir-bundle.ts';
import { standardizeHl7 } from './hl7.ts';
import type { StdReason } from './reasons.ts';

/**
 * The standardizer of issue 4 (the `Standardizer` seam of src/ingest): one landed unit → canonical FHIR R4 resources
 * with standard codes and units and `meta.source` lineage, or quarantine with machine-readable reasons
 * (reasons.ts). It runs inside the worker's transaction and writes only what survives either outcome (the unmapped
 * work list, automatic map entries, report membership once the row's Observation is built); the patient register
 * and the release of records held for a patient are written only when the unit standardizes, and the EMPI is called
 * only for Patients of units that standardize. Round trips per unit are what bound its rate: a CSV lab row costs one
 * (report membership) when its patient is already known in the transaction.
 */
export function createStandardizer(services: StandardizeServices): Standardizer {
  const caches = new WeakMap<Queryable, Map<string, PatientRef>>();
  return async (unit: LandedUnit, tx: Queryable): Promise<StandardizeResult> => {
    let cache = caches.get(tx);
    if (!cache) caches.set(tx, (cache = new Map()));
    const ctx = new UnitContext(tx, unit, services, cache);
    switch (unit.channel) {
      case 'csv':
        await standardizeCsv(ctx);
        break;
      case 'hl7-mllp':
      case 'hl7-http':
        await standardizeHl7(ctx);
        break;
      case 'fhir':
        await standardizeFhir(ctx);
        break;
      default:
        ctx.fail('unparseable', `unknown channel ${String(unit.channel)}`);
    }
    if (ctx.reasons.length) {
      // What the unit waits for, so the patient's arrival or the code's confirmation releases exactly it.
      for (const r of ctx.reasons) {
        if (r.code === 'unknown-patient' && r.patient) await holdUnit(tx, unit.institutionId, holdKey(r.patient), unit.id);
        if (r.code === 'unmapped-code' && r.local) await holdUnit(tx, unit.institutionId, holdKey(r.local), unit.id);
      }
      return { quarantine: dedupe(ctx.reasons) };
    }
    await ctx.commitRegistrations();
    for (const p of ctx.patientsToMatch) await services.matchPatient?.(tx, p, unit);
    return { resources: ctx.resources };
  };
}

/** Opens the standardization services on a database (CLI tools, tests). */
export async function openStandardization(db: Db | Queryable, hooks: Pick<StandardizeServices, 'matchPatient' | 'mergePatients' | 'now'> = {}): Promise<StandardizeServices> {
  const terminology = await Terminology.open(db);
  return { terminology, mapper: await CodeMapper.open(db, terminology), ...hooks };
}

function dedupe(reasons: StdReason[]): StdReason[] {
  const seen = new Set<string>();
  return reasons.filter((r) => {
    const k = JSON.stringify(r);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
