/**
 * EMPI stewardship for a person at the console (人工审核, merge, unmerge): the review queue, one item side by side,
 * its decision, a person's golden record and history, a manual merge and its undo — each behind the identity-operation
 * rules (src/access/identity-operations.ts: operators and the platform admin) and audited with the persons it showed
 * or changed (identity-guard.ts). The unguarded functions (review.ts, merge.ts) stay for the platform's own paths
 * (batch dedupe, HL7 A40 merges), which act for no person.
 */
import type { Db, Queryable } from '../store/index.ts';
import { EmpiError } from './errors.ts';
import { guardIdentity, type Disclosed, type IdentityCaller } from './identity-guard.ts';
import { mergePersons, personHistory, unmergePersons } from './merge.ts';
import { getPerson, personOfPatient, type PersonView } from './registry.ts';
import { decideReview, getReview, listReviews, type ReviewItem } from './review.ts';

const disclose = (p: PersonView | undefined): Disclosed[] => (p ? [{ personId: p.personId, patientKeys: p.patientKeys }] : []);

async function personsOfKeys(q: Queryable, keys: string[]): Promise<Disclosed[]> {
  const out: Disclosed[] = [];
  for (const key of keys) {
    const pid = await personOfPatient(q, key);
    if (pid && !out.some((d) => d.personId === pid)) out.push({ personId: pid, patientKeys: [key] });
  }
  return out;
}

/** The review queue (item ids, patient keys, weights, evidence levels: no identifiers). */
export function reviewQueue(db: Db, caller: IdentityCaller, options: { status?: ReviewItem['status']; limit?: number; offset?: number }) {
  const call = { op: 'review', query: `empi/reviews?status=${options.status ?? 'pending'}`, subtype: 'empi-review', action: 'E' } as const;
  return guardIdentity(db, caller, call, async () => ({ value: await listReviews(db, options), disclosed: [] }));
}

/** One review item with both records and their persons, whole: the evidence an operator decides on. */
export function reviewDetail(db: Db, caller: IdentityCaller, reviewId: number) {
  const call = { op: 'review', query: `empi/reviews/${reviewId}`, subtype: 'empi-review', action: 'R' } as const;
  return guardIdentity(db, caller, call, async () => {
    const r = await getReview(db, reviewId);
    if (!r) throw new EmpiError('not-found', `no review item ${reviewId}`);
    const shown = [...disclose(r.a.person), ...disclose(r.b.person)].filter((d, i, all) => all.findIndex((x) => x.personId === d.personId) === i);
    return { value: r, disclosed: shown };
  });
}

/** Decides a review item (`link` merges the two persons), recording the operator as the decider. */
export function decideReviewItem(db: Db, caller: IdentityCaller, reviewId: number, decision: 'link' | 'not-link') {
  const call = { op: 'review', query: `empi/reviews/${reviewId} decision=${decision}`, subtype: 'empi-review', action: 'U' } as const;
  return guardIdentity(db, caller, call, async () => {
    const value = await db.transaction((tx) => decideReview(tx, reviewId, decision, { actor: caller.actor.subject }));
    const { rows } = await db.query<{ a: string; b: string }>('SELECT patient_key_a AS a, patient_key_b AS b FROM empi_review WHERE review_id = $1', [reviewId]);
    return { value, disclosed: rows[0] ? await personsOfKeys(db, [rows[0].a, rows[0].b]) : [] };
  });
}

/** A person's golden record, patient keys and merge history. */
export function personDetail(db: Db, caller: IdentityCaller, personId: string) {
  const call = { op: 'review', query: `empi/persons/${personId}`, subtype: 'empi-review', action: 'R' } as const;
  return guardIdentity(db, caller, call, async () => {
    const person = await getPerson(db, personId);
    if (!person) throw new EmpiError('not-found', `no person ${personId}`);
    return { value: { ...person, history: await personHistory(db, person.personId) }, disclosed: disclose(person) };
  });
}

/** Merges person `fromId` into `survivorId`; the merge event id (undefined when they were already one). */
export function mergeInto(db: Db, caller: IdentityCaller, survivorId: string, fromId: string) {
  const call = { op: 'merge', query: `empi/persons/${survivorId}/merge from=${fromId}`, subtype: 'empi-merge', action: 'U' } as const;
  return guardIdentity(db, caller, call, async () => {
    const value = await db.transaction((tx) => mergePersons(tx, survivorId, fromId, { actor: caller.actor.subject }));
    const persons = await Promise.all([getPerson(db, survivorId), getPerson(db, fromId)]);
    return { value, disclosed: persons.flatMap(disclose) };
  });
}

/** Undoes merge event `mergeEventId`; the unmerge event id. */
export function undoMerge(db: Db, caller: IdentityCaller, mergeEventId: number) {
  const call = { op: 'unmerge', query: `empi/merges/${mergeEventId}/undo`, subtype: 'empi-unmerge', action: 'U' } as const;
  return guardIdentity(db, caller, call, async () => {
    const value = await db.transaction((tx) => unmergePersons(tx, mergeEventId, { actor: caller.actor.subject }));
    const { rows } = await db.query<{ a: string; b: string }>('SELECT person_id AS a, other_person_id AS b FROM empi_event WHERE event_id = $1', [mergeEventId]);
    const persons = rows[0] ? await Promise.all([getPerson(db, rows[0].a), getPerson(db, rows[0].b)]) : [];
    return { value, disclosed: persons.flatMap(disclose) };
  });
}
