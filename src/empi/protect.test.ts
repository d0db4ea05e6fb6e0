import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openTestDb } from '../../test/support/db.ts';
import { FieldCrypto, generateKeyRing } from '../crypto/index.ts';
import { residentIdCheckChar } from '../standards/index.ts';
import type { Db } from '../store/index.ts';
import { generateCounty } from '../synth/index.ts';
import { batchDedupe } from './batch-dedupe.ts';
import { COMPARISONS, gammaOf } from './comparisons.ts';
import { featuresOf, HEALTH_CARD_SYSTEM, isPassportIdentifier, isResidentIdIdentifier, RESIDENT_ID_SYSTEM, type MatchInput } from './features.ts';
import { matchBatch } from './match-batch.ts';
import { matchIncoming } from './match-incoming.ts';
import { loadModel } from './model-store.ts';
import { normalizePassport, normalizeResidentId } from './normalize/identifier.ts';
import { normalizePhone } from './normalize/phone.ts';
import { pixLookup } from './pix-pdq.ts';
import { passportVariants, residentIdVariants } from './protect.ts';
import { protectLegacyEmpiRows } from './protect-legacy.ts';
import { getPerson, personOfPatient } from './registry.ts';
import { hamming1, transposed } from './similarity.ts';
import { stageRecords } from './stage.ts';
import { patientInput, prng } from './testing.ts';
import { readSynthPatients } from './synth-feeds.ts';

const engine = process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite';
const RID = COMPARISONS.find((c) => c.name === 'rid')!;
const PASSPORT = COMPARISONS.find((c) => c.name === 'passport')!;

/** The level the clear values give (the comparison as it was before encryption at rest): exact, one, swap, else. */
function clearLevel(a: string, b: string): number {
  return a === b ? 0 : hamming1(a, b) ? 1 : transposed(a, b) ? 2 : 3;
}

describe('keyed resident ID and passport comparisons', () => {
  const crypto = new FieldCrypto(generateKeyRing());
  const f = (rid: string | null, passport: string | null = null) =>
    featuresOf(patientInput({ name: '王伟', birthDate: '1980-03-05', ...(rid ? { rid } : {}), ...(passport ? { passport } : {}) }), crypto);

  it('recognises one digit and an adjacent transposition through the keyed variants exactly as on the clear IDs', () => {
    const r = prng(20261207);
    const base = ['330523198003050019', '11010519491231002X', '330523199501011228', '330523200012310000'];
    const pairs: Array<[string, string]> = [];
    for (const id of base) {
      for (let i = 0; i < 18; i++) {
        const d = id[i] === '9' ? '8' : String((Number(id[i]) + 1) % 10);
        pairs.push([id, id.slice(0, i) + d + id.slice(i + 1)]); // one digit, every position
        if (i < 17) pairs.push([id, id.slice(0, i) + id[i + 1] + id[i] + id.slice(i + 2)]); // swap (identity where equal)
        if (i < 16) pairs.push([id, id.slice(0, i) + id[i + 2] + id[i + 1] + id[i] + id.slice(i + 3)]); // a swap over three
      }
      pairs.push([id, id]);
      for (let k = 0; k < 40; k++) {
        // Two or three random digits changed (never a level but "else"), and random strangers of the county.
        const chars = id.split('');
        for (let j = 0; j < 2 + (k % 2); j++) chars[Math.floor(r() * 17)] = String(Math.floor(r() * 10));
        pairs.push([id, chars.join('')]);
        pairs.push([id, `330523${1950 + Math.floor(r() * 70)}0${1 + Math.floor(r() * 9)}1${Math.floor(r() * 10)}${String(Math.floor(r() * 10000)).padStart(4, '0')}`]);
      }
    }
    const seen = new Map<number, number>();
    for (const [a, b] of pairs) {
      const [na, nb] = [normalizeResidentId(a), normalizeResidentId(b)];
      if (!na || !nb) continue; // not ID-shaped (all one digit): no resident ID at all
      const [fa, fb] = [f(a), f(b)];
      const want = clearLevel(na.id, nb.id);
      assert.equal(gammaOf(RID, fa, fb), want, `${a} vs ${b}`);
      assert.equal(gammaOf(RID, fb, fa), want, `${b} vs ${a}`);
      seen.set(want, (seen.get(want) ?? 0) + 1);
    }
    for (const level of [0, 1, 2, 3]) assert.ok((seen.get(level) ?? 0) > 10, `level ${level} exercised: ${JSON.stringify([...seen])}`);
  });

  it('recognises a passport number one character off, of any length, through its keyed variants', () => {
    const cases: Array<[string, string, number]> = [
      ['E12345678', 'E12345678', 0], ['E12345678', 'E12345679', 1], ['E12345678', 'G12345678', 1], ['E12345678', 'E12345687', 2],
      ['E12345678', 'E1234567', 2], ['E1234', 'E1235', 1], ['PA1234567890ABCDEFGH', 'PA1234567890ABCDEFGX', 1], ['E12345678', 'X98765432', 2],
    ];
    for (const [a, b, want] of cases) {
      assert.equal(gammaOf(PASSPORT, f(null, a), f(null, b)), want, `${a} vs ${b}`);
      const clear = a === b ? 0 : hamming1(a, b) ? 1 : 2;
      assert.equal(want, clear, `the case itself: ${a} vs ${b}`);
    }
  });

  it('derives the variants deterministically under one key ring and differently under another, none of them in clear', () => {
    const id = '330523198003050019';
    const once = residentIdVariants(crypto, id);
    assert.deepEqual(residentIdVariants(crypto, id), once, 'the reused cipher keeps no state between records');
    assert.equal(once.near.length, 18);
    assert.equal(once.swaps.length, 18);
    // Swapping two equal adjacent digits (33, 00, 00 here) gives the ID itself: those swaps equal its own form.
    const equalPairs = [...id.slice(1)].filter((c, i) => c === id[i]).length;
    assert.equal(equalPairs, 3);
    assert.equal(new Set([...once.near, ...once.swaps]).size, 18 + 1 + 17 - equalPairs);
    assert.equal(once.swaps.filter((v) => v === once.swaps[0]).length, 1 + equalPairs);
    const other = residentIdVariants(new FieldCrypto(generateKeyRing()), id);
    assert.ok(once.near.every((v, i) => v !== other.near[i]));
    assert.deepEqual(passportVariants(crypto, 'E12345678'), passportVariants(crypto, 'E12345678'));
    const stored = f(id, 'E12345678');
    assert.ok(!JSON.stringify(stored).includes(id) && !JSON.stringify(stored).includes('12345678'));
    assert.equal(crypto.decrypt(stored.residentId!), id);
  });

  it('keeps a record number in clear but never an unlabelled identifier that is the resident ID', () => {
    const id = '33052319800305001' + residentIdCheckChar('33052319800305001'); // valid: taken without a system
    const mrn = featuresOf({ patient: { resourceType: 'Patient', identifier: [{ system: 'urn:H1:mrn', value: 'M7' }, { system: RESIDENT_ID_SYSTEM, value: id }] }, patientKey: 'k1', institutionId: 'H1' }, crypto);
    assert.deepEqual([mrn.localSystem, mrn.localValue, mrn.identifiers[0]], ['urn:H1:mrn', 'M7', 'urn:H1:mrn|M7']);
    assert.ok(mrn.identifiers[1].startsWith(`${RESIDENT_ID_SYSTEM}|sm4:`));
    const bare = featuresOf({ patient: { resourceType: 'Patient', identifier: [{ value: id }] }, patientKey: 'k2', institutionId: 'H1' }, crypto);
    assert.equal(crypto.decrypt(bare.residentId!), id, 'taken for the resident ID');
    assert.equal(bare.localValue, null);
    assert.ok(!JSON.stringify(bare).includes(id));
  });
});

describe(`EMPI tables at rest after matching a synthetic county (${engine})`, () => {
  const dir = mkdtempSync(join(tmpdir(), 'empi-protect-'));
  let db: Db;
  let inputs: MatchInput[];
  before(async () => {
    await generateCounty({ persons: 150, seed: 31, outDir: dir });
    inputs = readSynthPatients(dir).inputs;
    db = await openTestDb();
    // Every path that writes: staged + batch dedupe, then one by one, then a batch of the incremental form.
    const n = inputs.length;
    await stageRecords(db, inputs.slice(0, Math.floor(n * 0.8)));
    await batchDedupe(db);
    for (const x of inputs.slice(Math.floor(n * 0.8), Math.floor(n * 0.9))) await matchIncoming(db, x);
    const model = await loadModel(db);
    await db.transaction((tx) => matchBatch(tx, inputs.slice(Math.floor(n * 0.9)).map((x) => featuresOf(x, db.crypto)), model));
  });
  after(async () => {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /**
   * The clear values that must not be stored: every input's resident IDs (as sent and normalised, and whatever the
   * matcher took for one), phones, passports; every health card number.
   */
  async function secrets(): Promise<Set<string>> {
    const out = new Set<string>();
    for (const x of inputs) {
      const { patient } = x;
      const taken = featuresOf(x, db.crypto).residentId;
      // (A record number that passes for a valid ID, in a Patient without one, is taken for its ID — and stays in
      // clear as the record number it is: local_value, patient_key. The synthetic MRNs never do; checked here.)
      if (taken) out.add(db.crypto.decrypt(taken));
      for (const id of patient.identifier ?? []) {
        if (!id.value) continue;
        if (isResidentIdIdentifier(id)) {
          out.add(id.value);
          const rid = normalizeResidentId(id.value);
          if (rid) out.add(rid.id);
        }
        if (isPassportIdentifier(id)) {
          out.add(id.value);
          const p = normalizePassport(id.value);
          if (p) out.add(p);
        }
      }
      for (const t of patient.telecom ?? []) {
        const p = normalizePhone(t.value);
        if (p && p.value.length >= 7) out.add(p.value);
      }
    }
    const { rows } = await db.query<{ person_id: string }>('SELECT person_id FROM empi_person');
    for (const r of rows) out.add((await getPerson(db, r.person_id))!.healthCard);
    return out;
  }

  it('holds no resident ID, phone, passport or health card number in clear in any empi_* table', async () => {
    const values = await secrets();
    assert.ok([...values].some((v) => /^\d{17}[\dX]$/.test(v)) && [...values].some((v) => /^1\d{10}$/.test(v)) && [...values].some((v) => v.startsWith('HC')));
    const { rows: tables } = await db.query<{ t: string }>(
      `SELECT table_name AS t FROM information_schema.tables WHERE table_schema = current_schema() AND table_name LIKE 'empi\\_%' ORDER BY 1`,
    );
    assert.ok(tables.length >= 10, tables.map((t) => t.t).join());
    let rowsSeen = 0;
    for (const { t } of tables) {
      const { rows } = await db.query<{ x: string }>(`SELECT x::text AS x FROM ${t} x`);
      rowsSeen += rows.length;
      const dump = rows.map((r) => r.x).join('\n');
      for (const v of values) assert.ok(!dump.includes(v), `${v} in clear in ${t}`);
    }
    assert.ok(rowsSeen > inputs.length * 3, `${rowsSeen} rows dumped`);
  });

  it('finds a person by resident ID and by health card number through the blind indexes (PIX)', async () => {
    let checked = 0;
    for (const x of inputs.slice(0, 40)) {
      const id = (x.patient.identifier ?? []).find((i) => i.system === RESIDENT_ID_SYSTEM || i.system === 'urn:oid:2.16.156.10011.1.1');
      const rid = normalizeResidentId(id?.value);
      if (!rid?.valid) continue;
      const person = await personOfPatient(db, x.patientKey);
      const byRid = await pixLookup(db, `${RESIDENT_ID_SYSTEM}|${id!.value}`);
      assert.ok(byRid, `${x.patientKey}: found by its resident ID`);
      // The ID designates the person of its first valid record: the same person as this record's, or a record with
      // the same ID that matching kept apart (then both carry it).
      const holders = await Promise.all(byRid.patientKeys.map((k) => personOfPatient(db, k)));
      assert.ok(byRid.personId === person || holders.every((p) => p === byRid.personId));
      const card = (await getPerson(db, byRid.personId))!.healthCard;
      assert.match(card, /^HC\d{17}[\dX]$/);
      assert.equal((await pixLookup(db, `${HEALTH_CARD_SYSTEM}|${card}`))?.personId, byRid.personId);
      assert.ok(byRid.identifiers.length > 2 && byRid.identifiers.every((i) => !i.value.startsWith('sm4:')), 'answered in clear');
      checked++;
    }
    assert.ok(checked >= 10, `${checked} persons checked`);
  });
});

describe(`EMPI rows written before encryption at rest (${engine})`, () => {
  let db: Db;
  before(async () => {
    db = await openTestDb();
  });
  after(() => db.close());

  it('re-derives them from their clear values at start-up: encrypted, blocked and found again, matching as before', async () => {
    // What the EMPI wrote before migration 0460: clear values, clear blocking keys, no keyed forms.
    const rid = '330523197001018876';
    await db.exec(`INSERT INTO empi_person (person_id, health_card, resident_id, golden) VALUES ('P0000000900', 'HC330523000000009007', '${rid}',
      '{"residentId": {"value": "${rid}", "source": "old-1"}, "phone": {"value": "13566667777", "source": "old-1"}, "name": {"value": "钱学明", "source": "old-1"}}');
      INSERT INTO empi_record (patient_key, institution_id, local_system, local_value, person_id, resident_id, resident_id_valid, name, name_kind, name_pinyin,
        name_initials, birth_date, sex, phone, identifiers)
      VALUES ('old-1', 'H-OLD', 'urn:H-OLD:mrn', 'M1', 'P0000000900', '${rid}', true, '钱学明', 'zh', 'qianxueming', 'qxm', '1970-01-01', 'M', '13566667777',
        ARRAY['urn:H-OLD:mrn|M1', 'urn:oid:2.16.156.10011.1.3|${rid}']);
      INSERT INTO empi_block (key, patient_key) VALUES ('r:${rid}', 'old-1'), ('p:13566667777', 'old-1'), ('n:qianxueming|1970', 'old-1');`);
    assert.deepEqual(await protectLegacyEmpiRows(db), { records: 1, persons: 1 });
    assert.deepEqual(await protectLegacyEmpiRows(db), { records: 0, persons: 0 }, 'done once');
    for (const t of ['empi_record', 'empi_person', 'empi_block']) {
      const { rows } = await db.query<{ x: string }>(`SELECT x::text AS x FROM ${t} x`);
      const dump = rows.map((r) => r.x).join('\n');
      for (const v of [rid, '13566667777', 'HC330523000000009007']) assert.ok(!dump.includes(v), `${v} in clear in ${t}`);
    }
    const person = (await getPerson(db, 'P0000000900'))!;
    assert.equal(person.healthCard, 'HC330523000000009007');
    assert.equal(person.residentId, rid);
    assert.equal(person.golden.phone.value, '13566667777');
    assert.equal((await pixLookup(db, `${RESIDENT_ID_SYSTEM}|${rid}`))?.personId, 'P0000000900');
    assert.equal((await pixLookup(db, `${HEALTH_CARD_SYSTEM}|HC330523000000009007`))?.personId, 'P0000000900');
    assert.equal((await pixLookup(db, 'urn:H-OLD:mrn|M1'))?.personId, 'P0000000900');
    // A new registration of the same person (one digit of the ID mistyped, same phone) finds the old record.
    const next = await matchIncoming(db, patientInput({ name: '钱学明', rid: '330523197001018867', birthDate: '1970-01-01', gender: 'male', phone: '13566667777' }, 'H-NEW', 'new-1'));
    assert.equal(next.matchedPatientKey, 'old-1');
    assert.ok(next.evidence!.some((e) => e.field === 'rid' && e.level === 'transposition'), JSON.stringify(next.evidence));
    assert.ok(next.evidence!.some((e) => e.field === 'phone' && e.level === 'exact'));
  });
});
