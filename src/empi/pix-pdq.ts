/**
 * Cross-reference and demographics queries, ready for the HTTP layer:
 * - IHE PIXm ($ihe-pix, ITI-83): one identifier in, the person's other identifiers out;
 * - IHE PDQm (ITI-78) style Patient search across the region, one golden Patient per person;
 * - FHIR Patient/$match (https://hl7.org/fhir/R4/patient-operation-match.html): scored candidates with evidence.
 */
import type { Parameters, Patient } from '@medplum/fhirtypes';
import type { Queryable } from '../store/index.ts';
import { findCandidates } from './candidates.ts';
import { DEFAULT_THRESHOLDS, type Thresholds } from './decision.ts';
import { featuresOf, HEALTH_CARD_SYSTEM, PERSON_ID_SYSTEM, RESIDENT_ID_SYSTEM } from './features.ts';
import { EmpiError } from './errors.ts';
import { FULL_VIEW, goldenPatientResource, type IdentityView } from './identity-output.ts';
import { recordByIdentifier } from './merge.ts';
import type { FieldEvidence } from './model.ts';
import { loadModel } from './model-store.ts';
import { cryptoOf, identifierIndex, openIdentifier } from './protect.ts';
import { normalizeBirthDate } from './normalize/date.ts';
import { normalizeResidentId } from './normalize/identifier.ts';
import { normalizeName } from './normalize/name.ts';
import { normalizePhone } from './normalize/phone.ts';
import { normalizeSex } from './normalize/sex.ts';
import { getPerson, personOfPatient, type PersonView } from './registry.ts';

export interface PixIdentifier {
  system: string;
  value: string;
  /** The institution-level Patient carrying it (absent for person-level ids: resident ID, health card, person id). */
  patientKey?: string;
  institutionId?: string;
}

export interface PixResult {
  personId: string;
  identifiers: PixIdentifier[];
  /** Every institution-level Patient of the person (PIXm targetId). */
  patientKeys: string[];
  /** The institution of each of the person's Patients (patient key → institution id), for output by institution. */
  patientInstitutions: Record<string, string>;
}

function split(identifier: string): [string, string] {
  const bar = identifier.indexOf('|');
  return bar >= 0 ? [identifier.slice(0, bar), identifier.slice(bar + 1)] : ['', identifier];
}

/** The person an identifier designates: a record's identifier, a resident ID, a health card or a person id. */
async function personOfIdentifier(q: Queryable, identifier: string): Promise<string | undefined> {
  const [system, value] = split(identifier);
  // Health cards and resident IDs are stored encrypted: found by their blind indexes (protect.ts).
  if (system === PERSON_ID_SYSTEM || system === HEALTH_CARD_SYSTEM) {
    const [col, v] = system === PERSON_ID_SYSTEM ? ['person_id', value] : ['health_card_bi', cryptoOf(q).blindIndex('health-card', value.toUpperCase())];
    const { rows } = await q.query<{ pid: string }>(`SELECT empi_resolve(person_id) AS pid FROM empi_person WHERE ${col} = $1`, [v]);
    return rows[0]?.pid;
  }
  if (system === RESIDENT_ID_SYSTEM || system === 'urn:oid:2.16.156.10011.1.1') {
    const rid = normalizeResidentId(value);
    if (!rid) return undefined;
    const { rows } = await q.query<{ patient_key: string }>(
      `SELECT patient_key FROM empi_record WHERE rid_bi = $1 AND status = 'active' ORDER BY resident_id_valid DESC, created_at LIMIT 1`,
      [cryptoOf(q).blindIndex('resident-id', rid.id)],
    );
    if (rows[0]) return personOfPatient(q, rows[0].patient_key);
  }
  const key = await recordByIdentifier(q, identifier);
  return key ? personOfPatient(q, key) : undefined;
}

/**
 * PIXm query: all identifiers of the person `sourceIdentifier` (`system|value`) designates, except the source itself,
 * optionally restricted to `targetSystems`. Undefined when the identifier is unknown (PIXm: 404 / not found).
 */
export async function pixLookup(q: Queryable, sourceIdentifier: string, targetSystems?: string[]): Promise<PixResult | undefined> {
  const personId = await personOfIdentifier(q, sourceIdentifier);
  if (!personId) return undefined;
  const person = (await getPerson(q, personId))!;
  const crypto = cryptoOf(q);
  const { rows } = await q.query<{ patient_key: string; institution_id: string; identifiers: string[] }>(
    `SELECT patient_key, institution_id, identifiers FROM empi_record WHERE patient_key = ANY($1::text[]) ORDER BY patient_key`,
    [person.patientKeys],
  );
  const out: PixIdentifier[] = [{ system: PERSON_ID_SYSTEM, value: person.personId }, { system: HEALTH_CARD_SYSTEM, value: person.healthCard }];
  if (person.residentId) out.push({ system: RESIDENT_ID_SYSTEM, value: person.residentId });
  const seen = new Set(out.map((i) => `${i.system}|${i.value}`));
  const patientInstitutions: Record<string, string> = {};
  for (const r of rows) {
    patientInstitutions[r.patient_key] = r.institution_id;
    for (const stored of r.identifiers) {
      const id = openIdentifier(crypto, stored);
      if (seen.has(id)) continue;
      seen.add(id);
      const [system, value] = split(id);
      out.push({ system, value, patientKey: r.patient_key, institutionId: r.institution_id });
    }
  }
  const [ss, sv] = split(sourceIdentifier);
  const filtered = out.filter((i) => !(i.system === ss && i.value === sv) && (!targetSystems?.length || targetSystems.includes(i.system)));
  return { personId, identifiers: filtered, patientKeys: person.patientKeys, patientInstitutions };
}

/** Person-level identifier systems every query knows: golden person ids, health cards, resident IDs. */
const PERSON_DOMAINS = new Set([PERSON_ID_SYSTEM, HEALTH_CARD_SYSTEM, RESIDENT_ID_SYSTEM, 'urn:oid:2.16.156.10011.1.1']);

/**
 * Whether the EMPI knows an identifier system (a PIXm Patient Identity Domain): a person-level system, or the local
 * record-number system of some registered Patient (indexed, migration 0451).
 */
export async function knownDomain(q: Queryable, system: string): Promise<boolean> {
  if (PERSON_DOMAINS.has(system)) return true;
  const { rows } = await q.query('SELECT 1 FROM empi_record WHERE local_system = $1 LIMIT 1', [system]);
  return rows.length > 0;
}

/** The failures ITI-83 distinguishes (https://profiles.ihe.net/ITI/PIXm/ITI-83.html, 2:3.83.4.2.2). */
export type PixFailure = 'unknown-source-domain' | 'source-not-found' | 'unknown-target-domain';

/**
 * A PIXm query as ITI-83 answers it: the person's identifiers (restricted to `targetSystems` when given; targetId then
 * only the Patients that carry an identifier of a target domain), or why not — the source identifier's domain is
 * unknown (400), its value is unknown in a known domain (404), a target domain is unknown (403). A known target domain
 * in which the person has no identifier is no failure: the answer is empty.
 */
export async function pixQuery(
  q: Queryable,
  sourceIdentifier: string,
  targetSystems?: string[],
): Promise<{ result: PixResult; failure?: undefined } | { failure: PixFailure; system: string }> {
  const [system] = split(sourceIdentifier);
  const r = await pixLookup(q, sourceIdentifier, targetSystems);
  if (!r) return { failure: (await knownDomain(q, system)) ? 'source-not-found' : 'unknown-source-domain', system };
  if (!targetSystems?.length) return { result: r };
  for (const t of targetSystems) {
    if (!r.identifiers.some((i) => i.system === t) && !(await knownDomain(q, t))) return { failure: 'unknown-target-domain', system: t };
  }
  const carriers = new Set(r.identifiers.flatMap((i) => (i.patientKey ? [i.patientKey] : [])));
  return { result: { ...r, patientKeys: r.patientKeys.filter((k) => carriers.has(k)) } };
}

/** The PIXm response body (ITI-83): a Parameters resource with targetIdentifier and targetId parameters. */
export function pixParameters(result: PixResult): Parameters {
  return {
    resourceType: 'Parameters',
    parameter: [
      ...result.identifiers.map((i) => ({ name: 'targetIdentifier', valueIdentifier: { system: i.system, value: i.value } })),
      ...result.patientKeys.map((k) => ({ name: 'targetId', valueReference: { reference: `Patient/${k}` } })),
    ],
  };
}

/** A person as one FHIR Patient, cut to `view` (identity-output.ts; by default whole: golden values, every identifier, `seealso` links). */
export async function goldenPatient(q: Queryable, person: PersonView, view: IdentityView = FULL_VIEW): Promise<Patient> {
  return goldenPatientResource(person, await pixLookup(q, `${PERSON_ID_SYSTEM}|${person.personId}`), view);
}

export interface PdqParams {
  name?: string;
  family?: string;
  given?: string;
  birthdate?: string;
  gender?: string;
  identifier?: string;
  telecom?: string;
  _count?: number;
}

/**
 * PDQm-style search across the region: records matching every given criterion (a name matches by its key or by its
 * toneless pinyin, so a homophone or a pinyin spelling finds the person), grouped to one golden Patient per person.
 */
export async function pdqSearch(q: Queryable, params: PdqParams, view: IdentityView = FULL_VIEW): Promise<{ total: number; patients: Patient[] }> {
  const where: string[] = ["r.status = 'active'"];
  const args: unknown[] = [];
  const arg = (v: unknown) => {
    args.push(v);
    return `$${args.length}`;
  };
  const nameText = params.name ?? (params.family || params.given ? `${params.family ?? ''}${/[\u3400-\u9fff]/.test(params.family ?? '') ? '' : ' '}${params.given ?? ''}` : undefined);
  if (nameText) {
    const n = normalizeName(nameText);
    if (!n || n.kind === 'unknown') return { total: 0, patients: [] };
    where.push(`(r.name = ${arg(n.key)} OR r.name_pinyin = ${arg(n.pinyin)} OR r.name LIKE ${arg(n.key + '%')})`);
  }
  if (params.birthdate) {
    const d = normalizeBirthDate(params.birthdate.replace(/^eq/, ''));
    if (!d) return { total: 0, patients: [] };
    where.push(`r.birth_date = ${arg(d)}`);
  }
  if (params.gender) {
    const s = normalizeSex(params.gender);
    if (s) where.push(`r.sex = ${arg(s)}`);
  }
  if (params.telecom) {
    const p = normalizePhone(params.telecom.replace(/^(phone|tel):?\|?/, ''));
    if (!p) return { total: 0, patients: [] };
    where.push(`r.phone_bi = ${arg(cryptoOf(q).blindIndex('phone', p.value))}`);
  }
  if (params.identifier) {
    const [system, value] = split(params.identifier);
    const rid = normalizeResidentId(value);
    const byRid = rid ? ` OR r.rid_bi = ${arg(cryptoOf(q).blindIndex('resident-id', rid.id))}` : '';
    where.push(system ? `(r.identifier_bis @> ARRAY[${arg(identifierIndex(cryptoOf(q), `${system}|${value}`))}::text]${byRid})` : `(r.local_value = ${arg(value)}${byRid})`);
  }
  if (where.length === 1) throw new EmpiError('invalid', 'PDQ search needs at least one criterion');
  const { rows } = await q.query<{ pid: string }>(
    `SELECT DISTINCT CASE WHEN pp.merged_into IS NULL THEN r.person_id ELSE empi_resolve(r.person_id) END AS pid
     FROM empi_record r JOIN empi_person pp ON pp.person_id = r.person_id WHERE ${where.join(' AND ')} ORDER BY 1 LIMIT 1000`,
    args,
  );
  const patients: Patient[] = [];
  for (const r of rows.slice(0, params._count ?? 20)) patients.push(await goldenPatient(q, (await getPerson(q, r.pid))!, view));
  return { total: rows.length, patients };
}

export interface MatchCandidate {
  personId: string;
  /** The person's best-matching institution-level Patient. */
  patientKey: string;
  weight: number;
  /** Match probability, the $match search score. */
  probability: number;
  /** FHIR match-grade extension values. */
  grade: 'certain' | 'probable' | 'possible' | 'certainly-not';
  reason?: string;
  evidence: FieldEvidence[];
  patient: Patient;
}

/**
 * FHIR Patient/$match: scored candidate persons for a Patient that need not be stored. `onlyCertain` returns at most
 * one candidate, and only when exactly one person is a certain match (as the operation defines).
 */
export async function matchCandidates(
  q: Queryable,
  patient: Patient,
  options: { count?: number; onlyCertain?: boolean; thresholds?: Thresholds; view?: IdentityView } = {},
): Promise<MatchCandidate[]> {
  const f = featuresOf({ patient, patientKey: '', institutionId: '' }, cryptoOf(q));
  const model = await loadModel(q);
  const found = await findCandidates(q, f, model.params, options.thresholds ?? DEFAULT_THRESHOLDS);
  const out: MatchCandidate[] = [];
  for (const c of found) {
    const grade = c.decision.outcome === 'link' ? 'certain' : c.decision.outcome === 'review' ? (c.score.probability >= 0.9 ? 'probable' : 'possible') : 'certainly-not';
    if (grade === 'certainly-not') continue;
    out.push({ personId: c.personId, patientKey: c.patientKey, weight: c.score.weight, probability: c.score.probability, grade, reason: c.decision.reason, evidence: c.score.evidence, patient: await goldenPatient(q, (await getPerson(q, c.personId))!, options.view) });
    if (out.length >= (options.count ?? 10)) break;
  }
  if (options.onlyCertain) {
    const certain = out.filter((c) => c.grade === 'certain');
    return certain.length === 1 ? certain : [];
  }
  return out;
}
