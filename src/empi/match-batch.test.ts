import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openTestDb } from '../../test/support/db.ts';
import type { Db, Queryable } from '../store/index.ts';
import { generateKeyRing } from '../crypto/index.ts';
import { generateCounty } from '../synth/index.ts';
import { featuresOf as featuresWith, phoneFields, type MatchInput, type RecordFeatures } from './features.ts';
import { matchBatch } from './match-batch.ts';
import { matchFeatures, type MatchResult } from './match-incoming.ts';
import { loadModel } from './model-store.ts';
import { refreshGolden, registerDistinctPersons } from './registry.ts';
import { openIdentifier } from './protect.ts';
import { stageRecords } from './stage.ts';
import { readSynthPatients, readSynthTruth } from './synth-feeds.ts';
import { patientInput, prng, type PersonSpec } from './testing.ts';

const engine = process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite';

/** Counts the statements sent through a transaction. */
function counting(tx: Queryable): Queryable & { n: number } {
  const c = {
    n: 0,
    crypto: tx.crypto,
    query: ((sql: string, params?: unknown[], options?: { prepare?: boolean }) => {
      c.n++;
      return tx.query(sql, params, options);
    }) as Queryable['query'],
    exec: (sql: string) => {
      c.n++;
      return tx.exec(sql);
    },
  };
  return c;
}

function open(db: Db, row: Record<string, unknown>, cols: string[]): Record<string, unknown> {
  return { ...row, ...Object.fromEntries(cols.map((c) => [c, row[c] === null ? null : db.crypto.open(row[c] as string)])) };
}

/** Everything the EMPI wrote, minus timestamps, in a comparable form. */
async function snapshot(db: Db) {
  const q = async (sql: string) => (await db.query(sql)).rows;
  return {
    // Protected values decrypted (issue 10): the same value is a different ciphertext in each database — each
    // encrypted its health cards, and of two records with the same ID either may be the golden record's source.
    persons: (await q('SELECT person_id, health_card, resident_id, merged_into FROM empi_person ORDER BY person_id')).map((r) => open(db, r, ['health_card', 'resident_id'])),
    records: (await q(`SELECT patient_key, person_id, status, resident_id, name, name_pinyin, birth_date, sex, phone, village, passport, identifiers FROM empi_record ORDER BY patient_key`))
      .map((r) => ({ ...open(db, r, ['resident_id', 'phone', 'passport']), identifiers: (r.identifiers as string[]).map((i) => openIdentifier(db.crypto, i)) })),
    blocks: await q('SELECT key, patient_key FROM empi_block ORDER BY key, patient_key'),
    names: await q('SELECT name, n FROM empi_name_tf ORDER BY name'),
    decisions: await q('SELECT decision_id, patient_key, other_patient_key, person_id, outcome, mode, weight, evidence, model_id FROM empi_decision ORDER BY decision_id'),
    events: await q('SELECT event_id, kind, person_id, patient_key, actor, detail FROM empi_event ORDER BY event_id'),
    reviews: await q('SELECT review_id, patient_key_a, patient_key_b, weight, evidence, reason, status FROM empi_review ORDER BY review_id'),
  };
}

/** Whether every person's stored golden record is what a recomputation from all its records gives. */
async function goldenIsRecomputed(db: Db): Promise<void> {
  const read = async () => (await db.query('SELECT person_id, golden FROM empi_person ORDER BY person_id')).rows;
  const stored = await read();
  const { rows } = await db.query<{ person_id: string }>('SELECT person_id FROM empi_person WHERE merged_into IS NULL');
  await refreshGolden(db, rows.map((r) => r.person_id));
  assert.deepEqual(stored, await read());
}

describe(`batch form of incremental matching (${engine})`, () => {
  const dir = mkdtempSync(join(tmpdir(), 'empi-batch-'));
  let one: Db; // per-Patient matchFeatures
  let many: Db; // matchBatch
  let inputs: MatchInput[];
  let truth: Map<string, string>;
  before(async () => {
    await generateCounty({ persons: 500, seed: 11, outDir: dir });
    inputs = readSynthPatients(dir).inputs;
    truth = readSynthTruth(dir);
    // One key ring for both: the features computed once go to both, and their health cards' blind indexes compare.
    const keys = generateKeyRing();
    [one, many] = await Promise.all([openTestDb({ keys }), openTestDb({ keys })]);
  });
  after(async () => {
    await Promise.all([one?.close(), many?.close()]);
    rmSync(dir, { recursive: true, force: true });
  });

  // Features with the databases' (shared) keys; a changed phone as the matcher stores it (ciphertext, blind index).
  const featuresOf = (x: MatchInput) => featuresWith(x, one.crypto);
  const phoneAs = (p: string | null) => phoneFields(one.crypto, p);

  /** The landed unit a batch's i-th Patient came from (its events name it). */
  const actorOf = (i: number) => `landing:${100 + (i % 7)}`;

  /** Runs the same batches through both paths, one transaction per batch; returns each path's results and statements. */
  async function runBoth(batches: RecordFeatures[][]) {
    const model = await loadModel(one);
    const perPatient: MatchResult[][] = [];
    const batched: MatchResult[][] = [];
    let statementsOne = 0;
    let statementsMany = 0;
    for (const batch of batches) {
      perPatient.push(
        await one.transaction(async (tx) => {
          const c = counting(tx);
          const out: MatchResult[] = [];
          for (const [i, f] of batch.entries()) out.push(await matchFeatures(c, f, model, { actor: actorOf(i) }));
          statementsOne += c.n;
          return out;
        }),
      );
      batched.push(
        await many.transaction(async (tx) => {
          const c = counting(tx);
          const out = await matchBatch(c, batch, model, { actors: batch.map((_, i) => actorOf(i)) });
          statementsMany += c.n;
          return out;
        }),
      );
    }
    return { perPatient, batched, statementsOne, statementsMany };
  }

  it('gives exactly the decisions of matchFeatures Patient by Patient: persons, links, decisions, events, review items', async () => {
    const r = prng(77);
    // A registry to match against: one record of each of 150 true persons (distinct persons, registered in bulk); the
    // name total is set high so that term-frequency weights apply (and stay fixed while records arrive).
    const firstOf = new Map<string, MatchInput>();
    for (const x of inputs) if (!firstOf.has(truth.get(x.patientKey)!)) firstOf.set(truth.get(x.patientKey)!, x);
    const base = [...firstOf.values()].slice(0, 150);
    const inBase = new Set(base.map((x) => x.patientKey));
    for (const db of [one, many]) {
      await registerDistinctPersons(db, base.map((x) => featuresOf(x)));
      await db.query(`UPDATE empi_name_tf SET n = 5000 WHERE name = ''`);
    }
    // The rest, shuffled (the same person's registrations at several institutions fall into one batch), with ADT^A08
    // re-sends: of a base record, of a Patient just sent (same batch), of one sent batches earlier, twice in a row.
    const rest = inputs.filter((x) => !inBase.has(x.patientKey));
    for (let i = rest.length - 1; i > 0; i--) {
      const j = Math.floor(r() * (i + 1));
      [rest[i], rest[j]] = [rest[j], rest[i]];
    }
    const stream: RecordFeatures[] = rest.map((x) => featuresOf(x));
    const resend = (f: RecordFeatures, change: Partial<RecordFeatures>): RecordFeatures => ({ ...f, ...change });
    for (let i = 0; i < 40; i++) {
      const at = Math.floor(r() * stream.length);
      const f = stream[at];
      const change: Partial<RecordFeatures> = i % 3 === 0 ? phoneAs(`139${String(Math.floor(r() * 1e8)).padStart(8, '0')}`) : i % 3 === 1 ? { village: null, township: null } : { birthDate: null };
      stream.splice(Math.min(stream.length, at + 1 + (i % 2 ? 2 : 60)), 0, resend(f, change));
      if (i % 10 === 0) stream.splice(Math.min(stream.length, at + 4), 0, resend(f, { ...change, sex: null }));
    }
    for (let i = 0; i < 10; i++) stream.splice(Math.floor(r() * stream.length), 0, resend(featuresOf(base[i * 7]), phoneAs(null)));
    const batches: RecordFeatures[][] = [];
    for (let i = 0; i < stream.length; i += 50) batches.push(stream.slice(i, i + 50));

    const { perPatient, batched, statementsOne, statementsMany } = await runBoth(batches);
    assert.deepEqual(batched, perPatient);
    const [a, b] = [await snapshot(one), await snapshot(many)];
    for (const table of Object.keys(a) as Array<keyof typeof a>) assert.deepEqual(b[table], a[table], `${table} differ`);
    await goldenIsRecomputed(many);

    // The case the batch form exists for happened: Patients linked to a record created earlier in their own batch,
    // re-sends of records created in the same batch, review items, new persons.
    let sameBatch = 0;
    let updatedSameBatch = 0;
    batched.forEach((results, i) => {
      const keys = batches[i].map((f) => f.patientKey);
      results.forEach((x, j) => {
        if (x.outcome === 'linked' && keys.slice(0, j).includes(x.matchedPatientKey!)) sameBatch++;
        if (x.outcome === 'updated' && keys.slice(0, j).includes(x.patientKey)) updatedSameBatch++;
      });
    });
    const outcomes = batched.flat().reduce((m, x) => m.set(x.outcome, (m.get(x.outcome) ?? 0) + 1), new Map<string, number>());
    assert.ok(sameBatch >= 10, `links within a batch: ${sameBatch}`);
    assert.ok(updatedSameBatch >= 5, `re-sends within a batch: ${updatedSameBatch}`);
    for (const o of ['linked', 'new', 'updated', 'review']) assert.ok((outcomes.get(o) ?? 0) > 0, `${o}: ${JSON.stringify([...outcomes])}`);
    assert.ok(a.reviews.length > 0 && a.names.some((n) => (n.n as number) > 1));
    // Round trips: a handful per batch instead of several per Patient.
    assert.ok(statementsMany <= batches.length * 5, `${statementsMany} statements for ${batches.length} batches (per Patient: ${statementsOne})`);
  });

  it('follows the batch’s own changes to the blocks, and falls back to the per-Patient path where its view cannot decide', async () => {
    // A phone shared by 201 records (over the block limit) of which a re-send takes one away — the 200 left make the
    // key usable again: the view, which read 201 entries of it, cannot tell; a staged record without a person re-sent
    // in the batch; re-sends that give a record the one key a later Patient of the batch shares with it, or take it away.
    const phone = '13700000000';
    const crowd: RecordFeatures[] = Array.from({ length: 201 }, (_, i) =>
      featuresOf(patientInput({ name: `张${'一二三四五六七八九十'[i % 10]}${'明华建国晓春伟芳娜敏'[Math.floor(i / 10) % 10]}`, birthDate: `19${50 + (i % 40)}-0${1 + (i % 9)}-1${i % 10}`, gender: i % 2 ? 'male' : 'female', phone }, `crowd-inst`, `crowd-${i}`)),
    );
    const staged = patientInput({ name: '欧阳修远', birthDate: '1977-07-07', gender: 'male', phone: '13811112222', village: '330523101203' }, 'inst-staged', 'staged-1');
    const gains = featuresOf(patientInput({ name: '诸葛明亮', gender: 'male', village: '330523101207' }, 'inst-g', 'gains-1'));
    const loses = featuresOf(patientInput({ name: '上官云', gender: 'female', birthDate: '1966-06-16', phone: '13912345678', village: '330523101208' }, 'inst-l', 'loses-1'));
    for (const db of [one, many]) {
      await registerDistinctPersons(db, [...crowd, gains, loses]);
      await stageRecords(db, [staged]);
    }
    const batch: RecordFeatures[] = [
      featuresOf(patientInput({ name: '李四', birthDate: '1980-01-01', gender: 'male', village: '330523101001' }, 'inst-x', 'x-1')),
      { ...gains, ...phoneAs('13912340000'), birthDate: '1971-01-01' }, // now in the phone's block
      { ...loses, ...phoneAs(null) }, // out of the phone's block
      featuresOf(patientInput({ name: '诸葛明亮', gender: 'male', phone: '13912340000' }, 'inst-g2', 'gains-2')), // found by the phone alone
      featuresOf(patientInput({ name: '上官云', gender: 'female', phone: '13912345678' }, 'inst-l2', 'loses-2')), // not found
      { ...crowd[0], ...phoneAs('13611110000') }, // leaves the crowded phone
      featuresOf(patientInput({ name: '张三明', gender: 'female', phone }, 'inst-y', 'y-1')), // the phone's block is usable again
      featuresOf(patientInput({ name: '欧阳修远', birthDate: '1977-07-07', gender: 'male', phone: '13811112222' }, 'inst-z', 'z-1')),
      featuresOf(staged), // known, but without a person
      featuresOf(patientInput({ name: '欧阳修远', birthDate: '1977-07-07', gender: 'male', village: '330523101203' }, 'inst-w', 'w-1')),
    ];
    const { perPatient, batched } = await runBoth([batch]);
    assert.deepEqual(batched, perPatient);
    const byKey = new Map(batched[0].map((x) => [x.patientKey, x]));
    assert.equal(byKey.get('gains-2')!.matchedPatientKey, 'gains-1', JSON.stringify(byKey.get('gains-2')));
    assert.equal(byKey.get('loses-2')!.matchedPatientKey, undefined, JSON.stringify(byKey.get('loses-2')));
    assert.match(byKey.get('y-1')!.matchedPatientKey ?? '', /^crowd-/, JSON.stringify(byKey.get('y-1'))); // found by the phone alone
    assert.equal(byKey.get('staged-1')!.outcome, 'linked', JSON.stringify(byKey.get('staged-1')));
    const [a, b] = [await snapshot(one), await snapshot(many)];
    for (const table of Object.keys(a) as Array<keyof typeof a>) assert.deepEqual(b[table], a[table], `${table} differ`);
    await goldenIsRecomputed(many);
  });

  it('gives one person to a new person’s Patients matched at the same moment in two batches on two connections', async () => {
    const persons: PersonSpec[] = Array.from({ length: 10 }, (_, i) => ({
      name: `司马${'明华建国晓春'[i % 6]}${'一二三四五六七八九十'[i]}`,
      birthDate: `1968-05-${String(10 + i).padStart(2, '0')}`,
      gender: 'female',
      phone: `1377100${String(1000 + i)}`,
      village: '330523105211',
    }));
    const model = await loadModel(many);
    // Both transactions are open before either matches (a barrier), so neither can finish before the other starts.
    let arrived = 0;
    let go!: () => void;
    const barrier = new Promise<void>((resolve) => (go = resolve));
    const run = (inst: string, order: number[]) =>
      many.transaction(async (tx) => {
        const batch = order.map((i) => featuresOf(patientInput(persons[i], inst, `${inst}-${i}`)));
        if (many.engine === 'postgres') {
          // (PGlite runs one transaction at a time: there the second begins when the first has committed.)
          await tx.query('SELECT 1');
          if (++arrived === 2) go();
          await barrier;
        }
        return matchBatch(tx, batch, model);
      });
    const [x, y] = await Promise.all([run('inst-c1', [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]), run('inst-c2', [9, 8, 7, 6, 5, 4, 3, 2, 1, 0])]);
    for (let i = 0; i < persons.length; i++) {
      const [p, q] = [x[i], y[9 - i]];
      assert.equal(p.personId, q.personId, `${persons[i].name}: ${p.outcome} ${p.personId} / ${q.outcome} ${q.personId}`);
      assert.deepEqual([p.outcome, q.outcome].sort(), ['linked', 'new']);
    }
  });
});
