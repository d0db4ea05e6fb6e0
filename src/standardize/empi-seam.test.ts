import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Patient } from '@medplum/fhirtypes';
import type { Db } from '../store/index.ts';
import { openTestDb } from '../../test/support/db.ts';
import { personOfPatient } from '../empi/index.ts';
import type { StandardizeResult, UnitInput } from '../ingest/index.ts';
import { createStandardizer, empiHooks, openStandardization, type StandardizeServices } from './index.ts';
import { asLanded, csvInput, hl7Input } from './test-support.ts';

let db: Db;
let services: StandardizeServices;
const INST = 'H-EMPI';

before(async () => {
  db = await openTestDb();
  services = await openStandardization(db, empiHooks());
});
after(() => db.close());

const run = (input: UnitInput): Promise<StandardizeResult> => db.transaction((tx) => createStandardizer(services)(asLanded(input), tx));
const patient = (mrn: string, name: string, id: string) => csvInput(INST, 'patient', {
  org_code: INST, record_id: mrn, patient_local_id: mrn, name, sex_code: '2', birth_date: '1962-06-19', id_number: id, updated_at: '2024-01-01 08:00:00',
});

test('every standardized Patient is matched by the EMPI as it arrives; the same person at two MRNs is linked', async () => {
  const a = await run(patient('E1', '孟欣怡', '330503196206190285'));
  const b = await run(patient('E2', '孟欣怡', '330503196206190285'));
  assert.ok('resources' in a && 'resources' in b);
  const [pa, pb] = [a.resources[0] as Patient, b.resources[0] as Patient];
  const [x, y] = [await personOfPatient(db, pa.id!), await personOfPatient(db, pb.id!)];
  assert.ok(x, 'linked to a person');
  assert.equal(x, y);
});

test('a quarantined Patient is not sent to the EMPI', async () => {
  const r = await run(csvInput(INST, 'patient', { org_code: INST, record_id: 'E3', patient_local_id: 'E3', name: '王五', birth_date: '2999-01-01', updated_at: '2024-01-01 08:00:00' }));
  assert.ok('quarantine' in r);
  const { rows } = await db.query(`SELECT 1 FROM empi_record WHERE institution_id = $1 AND local_value = 'E3'`, [INST]);
  assert.equal(rows.length, 0);
});

test('ADT^A40 merges the prior MRN\'s person into the surviving one', async () => {
  const c = await run(patient('E4', '李雷', '330523198001010016'));
  const d = await run(patient('E5', '韩梅梅', '330523198502020028'));
  assert.ok('resources' in c && 'resources' in d);
  const [pc, pd] = [c.resources[0] as Patient, d.resources[0] as Patient];
  assert.notEqual(await personOfPatient(db, pc.id!), await personOfPatient(db, pd.id!));
  const msg = [`MSH|^~\\&|HIS|${INST}|HB|HB|20240305101500||ADT^A40|M1|P|2.4`, 'EVN|A40', 'PID|1||E4^^^H^MR', 'MRG|E5'];
  assert.ok('resources' in (await run(hl7Input(INST, msg))));
  assert.equal(await personOfPatient(db, pd.id!), await personOfPatient(db, pc.id!));
});

test('a worker batch\'s Patients are matched together at its end: the same person at two MRNs of the batch is linked, each event names its unit', async () => {
  const std = createStandardizer(services);
  const units = [patient('E6', '夏侯惠兰', '330503197103150020'), patient('E7', '夏侯惠兰', '330503197103150020'), patient('E8', '司徒正', '330523197707070017')].map((u) => asLanded(u));
  const ids = await db.transaction(async (tx) => {
    std.beginBatch(tx);
    const out: string[] = [];
    for (const u of units) {
      const r = await std(u, tx);
      assert.ok('resources' in r);
      out.push((r.resources[0] as Patient).id!);
    }
    await std.endBatch(tx);
    return out;
  });
  const persons = await Promise.all(ids.map((id) => personOfPatient(db, id)));
  assert.ok(persons[0]);
  assert.equal(persons[0], persons[1]);
  assert.notEqual(persons[2], persons[0]);
  const { rows } = await db.query<{ patient_key: string; kind: string; actor: string }>(
    'SELECT patient_key, kind, actor FROM empi_event WHERE patient_key = ANY($1::text[]) ORDER BY event_id', [ids],
  );
  assert.deepEqual(rows.map((r) => [r.patient_key, r.actor]).sort(), ids.map((id, i) => [id, `landing:${units[i].id}`]).sort());
  assert.deepEqual(rows.map((r) => r.kind).sort(), ['link', 'new-person', 'new-person']);
});
