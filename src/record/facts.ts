/**
 * The set-based read behind the record summary: every clinical row of every institution-level Patient of the person
 * (`patient_key = ANY($keys)`, the keys resolved through the EMPI at query time) in ONE statement, each row projected
 * in SQL to the few elements the summary shows (an Observation is ~150 bytes instead of its ~1 kB resource), with its
 * institution's name joined in. The co-located btree (patient_key, resource_type, id) serves it on one node and,
 * on Citus, routes each key to its shard.
 */
import { openGolden } from '../empi/index.ts';
import type { Queryable } from '../store/index.ts';

export const SUMMARY_TYPES = ['Patient', 'Encounter', 'Condition', 'Observation', 'DiagnosticReport', 'MedicationRequest', 'Immunization', 'AllergyIntolerance'];

export interface FactRow {
  t: string;
  id: string;
  inst: string | null;
  inst_name: string | null;
  /** last_updated as JSON renders a timestamptz: ISO 8601 with offset. */
  updated: string;
  /** Projected elements (Observation, DiagnosticReport, Patient) or the resource without meta/text. */
  f: Record<string, unknown>;
}

const PROJECTION = `CASE r.resource_type
  WHEN 'Observation' THEN jsonb_build_object(
    'code', r.content#>'{code,coding,0}', 'cat', r.content#>>'{category,0,coding,0,code}', 'q', r.content->'valueQuantity',
    'vcc', r.content->'valueCodeableConcept', 'vdt', r.content->>'valueDateTime', 'vs', r.content->>'valueString',
    'eff', coalesce(r.content->>'effectiveDateTime', r.content#>>'{effectivePeriod,start}', r.content->>'issued'),
    'interp', r.content#>>'{interpretation,0,coding,0,code}', 'rr', r.content#>'{referenceRange,0}', 'enc', r.content#>>'{encounter,reference}')
  WHEN 'DiagnosticReport' THEN CASE WHEN r.content#>>'{category,0,coding,0,code}' = 'LAB' THEN jsonb_build_object('cat', 'LAB')
    ELSE jsonb_build_object('cat', r.content#>>'{category,0,coding,0,code}', 'code', r.content->'code', 'concl', r.content->>'conclusion',
      'form', r.content#>>'{presentedForm,0,data}', 'eff', coalesce(r.content->>'effectiveDateTime', r.content#>>'{effectivePeriod,start}'),
      'issued', r.content->>'issued') END
  WHEN 'Patient' THEN jsonb_build_object('address', r.content#>'{address,0}', 'name', r.content#>>'{name,0,text}')
  ELSE r.content - 'meta' - 'text' - 'identifier' END`;

/** The person's summary rows across all their institution-level Patients. */
export async function readFacts(q: Queryable, patientKeys: string[]): Promise<FactRow[]> {
  if (!patientKeys.length) return [];
  // One JSON document for the whole record: a single JSON.parse on our side instead of per-row, per-column decoding
  // (which, with timestamp parsing, cost more than the query itself for 2,000 rows).
  const { rows } = await q.query<{ facts: string | null }>(
    `SELECT json_agg(json_build_array(r.resource_type, r.id, r.institution_id, i.name,
         r.last_updated, ${PROJECTION}))::text AS facts
     FROM fhir_resource r LEFT JOIN institution i ON i.id = r.institution_id
     WHERE r.patient_key = ANY($1::text[]) AND r.resource_type = ANY($2::text[]) AND NOT r.deleted`,
    [patientKeys, SUMMARY_TYPES],
  );
  const list = JSON.parse(rows[0]?.facts ?? '[]') as Array<[string, string, string | null, string | null, string, Record<string, unknown>]>;
  return list.map(([t, id, inst, inst_name, updated, f]) => ({ t, id, inst, inst_name, updated, f }));
}

export interface PersonRow {
  person_id: string;
  health_card: string | null;
  resident_id: string | null;
  golden: Record<string, { value: string; source: string }>;
}

export interface LinkRow {
  patient_key: string;
  institution_id: string;
  inst_name: string | null;
  mrn: string | null;
  updated_at: Date;
}

/** The golden person and its cross-references (PIX), with institution names. */
export async function readPerson(q: Queryable, personId: string, patientKeys: string[]): Promise<{ person?: PersonRow; links: LinkRow[] }> {
  const [p, l] = await Promise.all([
    q.query<PersonRow>('SELECT person_id, health_card, resident_id, golden FROM empi_person WHERE person_id = $1', [personId]),
    q.query<LinkRow>(
      `SELECT r.patient_key, r.institution_id, i.name AS inst_name, r.local_value AS mrn, r.updated_at
       FROM empi_record r LEFT JOIN institution i ON i.id = r.institution_id WHERE r.patient_key = ANY($1::text[]) ORDER BY r.institution_id, r.patient_key`,
      [patientKeys],
    ),
  ]);
  // The EMPI stores the resident ID, health card and the golden record's protected values encrypted (issue 10).
  const row = p.rows[0];
  const crypto = q.crypto;
  const person = row && crypto
    ? { ...row, health_card: row.health_card && crypto.open(row.health_card), resident_id: row.resident_id && crypto.open(row.resident_id), golden: openGolden(crypto, row.golden ?? {}) }
    : row;
  return { person, links: l.rows };
}
