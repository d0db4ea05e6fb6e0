/**
 * Who a person is, for the access rules: the golden person behind an id (through EMPI merges) with every
 * institution-level Patient linked to it right now, and the person a resident's token speaks for.
 *
 * A resident signs in as themself: the token's `sub` (the `user` of `POST /admin/tokens` / the demo sign-in) is
 * their EMPI person id (`P0000000042`) or their resident ID number (GB 11643); either resolves to the golden person.
 */
import type { Actor } from '../fhir/context.ts';
import type { Queryable } from '../store/index.ts';

export interface PersonKeys {
  /** The surviving golden person (a merged-away id resolves to its survivor). */
  personId: string;
  patientKeys: string[];
}

/** The person and its current patient keys; undefined when the id names no person. */
export async function resolvePerson(q: Queryable, personId: string): Promise<PersonKeys | undefined> {
  // One round trip: the survivor, then every record of it and of the persons merged into it (as patientKeysOfPerson).
  const { rows } = await q.query<{ pid: string; keys: string[] | null }>(
    `WITH RECURSIVE root AS (
       SELECT CASE WHEN merged_into IS NULL THEN person_id ELSE empi_resolve(person_id) END AS pid FROM empi_person WHERE person_id = $1
     ), members(pid) AS (
       SELECT pid FROM root
       UNION SELECT p.person_id FROM empi_person p JOIN members m ON p.merged_into = m.pid
     )
     SELECT (SELECT pid FROM root) AS pid,
       (SELECT array_agg(r.patient_key ORDER BY r.patient_key) FROM empi_record r JOIN members m ON r.person_id = m.pid) AS keys`,
    [personId],
  );
  const pid = rows[0]?.pid;
  if (!pid) return undefined;
  return { personId: pid, patientKeys: rows[0].keys ?? [] };
}

/** The person of the institution-level Patient `patientKey` (undefined when the EMPI has not linked it). */
export async function personOfKey(q: Queryable, patientKey: string): Promise<string | undefined> {
  const { rows } = await q.query<{ pid: string | null }>(
    `SELECT CASE WHEN p.merged_into IS NULL THEN r.person_id ELSE empi_resolve(r.person_id) END AS pid
     FROM empi_record r LEFT JOIN empi_person p ON p.person_id = r.person_id WHERE r.patient_key = $1`,
    [patientKey],
  );
  return rows[0]?.pid ?? undefined;
}

/** The golden person a resident's token speaks for (person id or resident ID as subject), or undefined. */
export async function residentPersonId(q: Queryable, actor: Actor): Promise<string | undefined> {
  if (actor.kind !== 'user' || actor.role !== 'resident') return undefined;
  const sub = actor.subject.trim();
  if (/^P\d{10}$/.test(sub)) return (await resolvePerson(q, sub))?.personId;
  if (/^\d{17}[\dXx]$/.test(sub) && q.crypto) {
    // The EMPI stores resident IDs encrypted (issue 10): the person of a valid record carrying the ID's blind index.
    const { rows } = await q.query<{ pid: string }>(
      `SELECT CASE WHEN p.merged_into IS NULL THEN p.person_id ELSE empi_resolve(p.person_id) END AS pid
       FROM empi_record r JOIN empi_person p ON p.person_id = r.person_id
       WHERE r.rid_bi = $1 AND r.resident_id_valid AND r.status = 'active' ORDER BY p.merged_into NULLS FIRST, r.created_at LIMIT 1`,
      [q.crypto.blindIndex('resident-id', sub.toUpperCase())],
    );
    return rows[0]?.pid;
  }
  return undefined;
}

/** The person of each institution-level Patient key the EMPI has linked (one statement; unlinked keys are absent). */
export async function personsOfKeys(q: Queryable, keys: string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if (!keys.length) return out;
  const { rows } = await q.query<{ key: string; pid: string | null }>(
    `SELECT r.patient_key AS key, CASE WHEN p.merged_into IS NULL THEN r.person_id ELSE empi_resolve(r.person_id) END AS pid
     FROM empi_record r LEFT JOIN empi_person p ON p.person_id = r.person_id WHERE r.patient_key = ANY($1::text[])`,
    [keys],
  );
  for (const r of rows) if (r.pid) out.set(r.key, r.pid);
  return out;
}
