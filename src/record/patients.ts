/**
 * Patient search for the viewer (`GET /api/patients`, PDQ-style, IHE PDQm ITI-78 semantics over the EMPI): a resident
 * ID, a health-card number, an institution's MRN or a name (Chinese, or pinyin) → golden persons, at most 50, with
 * identifiers MASKED and the institutions where each has a record (with the last visit there). Clinicians and
 * operators search; the search itself is audited (it reads personal data).
 */
import { decide, maskHealthCard, maskPhone, maskResidentId } from '../access/index.ts';
import { normalizeName, normalizeResidentId, openGolden } from '../empi/index.ts';
import type { Actor } from '../fhir/context.ts';
import { fail, forbiddenText } from '../fhir/outcomes.ts';
import type { RecordDeps } from './summary.ts';
import type { PatientHit, PatientSearchBy, PatientSearchResult } from './summary-types.ts';

const LIMIT = 50;

/** What `by=any` takes `q` for. */
export function guessBy(q: string, institution?: string): Exclude<PatientSearchBy, 'any'> | 'person' {
  const t = q.trim();
  if (/^P\d{10}$/.test(t)) return 'person';
  if (/^\d{17}[\dXx]$|^\d{15}$/.test(t)) return 'residentId';
  if (/^HC\d{17}[\dX]$/i.test(t)) return 'healthCard';
  if (institution || /\d/.test(t)) return 'mrn';
  return 'name';
}

export async function searchPatients(
  deps: RecordDeps, actor: Actor, p: { q: string; by?: PatientSearchBy; institution?: string; requestId?: string },
): Promise<PatientSearchResult> {
  const role = actor.role ?? '';
  const allowed = await decide(deps.db, actor, { kind: 'patient-search' }, { purpose: actor.purposeOfUse, now: deps.now() });
  if (!allowed.allowed) fail(forbiddenText(allowed.text));
  const q = p.q.trim();
  if (!q) return { total: 0, hits: [] };
  const by = !p.by || p.by === 'any' ? guessBy(q, p.institution) : p.by;
  const args: unknown[] = [];
  const arg = (v: unknown) => `$${args.push(v)}`;
  let where: string;
  switch (by) {
    case 'person':
      where = `r.person_id = ${arg(q)} OR pp.merged_into = ${arg(q)}`;
      break;
    case 'residentId': {
      const rid = normalizeResidentId(q);
      // Stored encrypted: found by the blind index of the normalised number (src/empi/protect.ts).
      where = `r.rid_bi = ${arg(deps.db.crypto.blindIndex('resident-id', rid?.id ?? q.toUpperCase()))}`;
      break;
    }
    case 'healthCard':
      where = `pp.health_card_bi = ${arg(deps.db.crypto.blindIndex('health-card', q.toUpperCase()))}`;
      break;
    case 'mrn':
      where = `r.local_value = ${arg(q)}${p.institution ? ` AND r.institution_id = ${arg(p.institution)}` : ''}`;
      break;
    case 'name': {
      const n = normalizeName(q);
      if (!n || n.kind === 'unknown') return { total: 0, hits: [] };
      where = `(r.name = ${arg(n.key)} OR r.name_pinyin = ${arg(n.pinyin)} OR r.name LIKE ${arg(n.key.replace(/[\\%_]/g, '\\$&') + '%')})`;
      break;
    }
  }
  const found = await deps.db.query<{ pid: string; total: number }>(
    `WITH hits AS (
       SELECT DISTINCT CASE WHEN pp.merged_into IS NULL THEN r.person_id ELSE empi_resolve(r.person_id) END AS pid
       FROM empi_record r JOIN empi_person pp ON pp.person_id = r.person_id WHERE r.status = 'active' AND (${where}) LIMIT 1000)
     SELECT pid, count(*) OVER () AS total FROM hits ORDER BY pid LIMIT ${LIMIT}`,
    args,
  );
  const pids = found.rows.map((r) => r.pid);
  const total = found.rows.length ? Number(found.rows[0].total) : 0;
  await deps.audit.record({
    actor, institutionName: actor.institutionId ? await deps.institutionName?.(actor.institutionId) : undefined, action: 'E', subtype: 'patient-search',
    query: `patients?by=${by}&q=${q}`, purpose: role === 'clinician' ? 'TREAT' : 'HOPERAT', outcome: 'success', recorded: deps.now(),
    // Every person the search returned, so each one's "who viewed me" lists it (issue 10).
    personId: pids[0], persons: pids.length > 1 ? pids.map((personId) => ({ personId, patientKeys: [] })) : undefined,
  });
  if (!pids.length) return { total, hits: [] };
  const [persons, places] = await Promise.all([
    deps.db.query<{ person_id: string; health_card: string | null; golden: Record<string, { value: string }> }>(
      'SELECT person_id, health_card, golden FROM empi_person WHERE person_id = ANY($1::text[])',
      [pids],
    ),
    deps.db.query<{ root: string; institution_id: string; name: string | null; last_seen: Date | null }>(
      `WITH RECURSIVE m(root, pid) AS (
         SELECT p, p FROM unnest($1::text[]) AS p
         UNION SELECT m.root, x.person_id FROM empi_person x JOIN m ON x.merged_into = m.pid)
       SELECT m.root, r.institution_id, i.name,
         (SELECT max(f.date_lo) FROM fhir_resource f WHERE f.resource_type = 'Encounter' AND f.patient_key = r.patient_key AND NOT f.deleted) AS last_seen
       FROM m JOIN empi_record r ON r.person_id = m.pid LEFT JOIN institution i ON i.id = r.institution_id`,
      [pids],
    ),
  ]);
  const crypto = deps.db.crypto;
  const byPerson = new Map(persons.rows.map((r) => [r.person_id, { ...r, health_card: r.health_card && crypto.open(r.health_card), golden: openGolden(crypto, r.golden) }]));
  const hits: PatientHit[] = pids.map((pid) => {
    const g = byPerson.get(pid)?.golden ?? {};
    const inst = new Map<string, PatientHit['institutions'][number]>();
    for (const r of places.rows.filter((x) => x.root === pid)) {
      const seen = r.last_seen ? new Date(r.last_seen).toISOString() : undefined;
      const had = inst.get(r.institution_id);
      if (!had || (seen && (!had.lastSeen || seen > had.lastSeen))) inst.set(r.institution_id, { id: r.institution_id, name: r.name ?? r.institution_id, ...(seen ? { lastSeen: seen } : {}) });
    }
    return {
      personId: pid,
      name: g.name?.value ?? '',
      sex: g.sex?.value === 'M' ? 'male' : g.sex?.value === 'F' ? 'female' : 'unknown',
      ...(g.birthDate?.value ? { birthDate: g.birthDate.value } : {}),
      ...(g.residentId?.value ? { residentIdMasked: maskResidentId(g.residentId.value) } : {}),
      ...(byPerson.get(pid)?.health_card ? { healthCardMasked: maskHealthCard(byPerson.get(pid)!.health_card) } : {}),
      ...(g.phone?.value ? { phoneMasked: maskPhone(g.phone.value) } : {}),
      institutions: [...inst.values()].sort((a, b) => (b.lastSeen ?? '').localeCompare(a.lastSeen ?? '')),
    };
  });
  return { total, hits };
}
