import type { Resource } from '@medplum/fhirtypes';
import { cryptoOf, openResource } from '../fhir/protect.ts';
import type { WriteResult } from '../fhir/write.ts';
import type { Queryable } from '../store/index.ts';

/**
 * The produced Patients whose current stored version has the same content (meta.versionId, lastUpdated and source
 * aside), as the write result that answers for them: one indexed read for all the given Patients.
 */
export async function unchangedPatients(tx: Queryable, resources: Resource[]): Promise<Map<string, WriteResult>> {
  const patients = new Map(resources.filter((r) => r.resourceType === 'Patient').map((r) => [r.id as string, r]));
  const out = new Map<string, WriteResult>();
  if (!patients.size) return out;
  const { rows } = await tx.query<{ id: string; content: Resource }>(
    `SELECT id, content FROM fhir_resource WHERE resource_type = 'Patient' AND id = ANY($1::text[]) AND NOT deleted`,
    [[...patients.keys()]],
  );
  for (const row of rows) {
    // Stored with its identifiers encrypted under a fresh IV: compared on the clear values.
    openResource(cryptoOf(tx), row.content);
    if (canonical(row.content) === canonical(patients.get(row.id)!)) out.set(`Patient/${row.id}`, { resource: row.content, status: 200 });
  }
  return out;
}

/** JSON with sorted keys and without the meta that changes with every write, to compare two versions' content. */
export function canonical(r: Resource): string {
  const { versionId: _v, lastUpdated: _l, source: _s, ...meta } = r.meta ?? {};
  return stable({ ...r, meta });
}

function stable(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stable).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${stable((v as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}
