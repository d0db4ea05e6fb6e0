import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import iconv from 'iconv-lite';
import { openTestDb } from '../../../test/support/db.ts';
import type { Db } from '../../store/index.ts';
import { feedCounts } from '../counts.ts';
import { landUnits } from '../landing.ts';
import type { UnitInput } from '../types.ts';
import { toLandedUnit, UNIT_COLUMNS } from '../worker.ts';
import { detectDateFormat, parseDate } from './dates.ts';
import { CsvColumnsError, ingestCsv } from './ingest-csv.ts';
import { parseCsvUnit } from './parse-unit.ts';
import { csvRecords } from './records.ts';

/** Feeds bytes in chunks of `size` (1 = every byte boundary, to prove records never depend on chunking). */
async function* chunks(bytes: Buffer, size: number) {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

const zhPatient = [
  '姓名,患者编号,机构代码,出生日期,记录编号,更新时间,性别代码,现住址',
  '张三,MRN1,H001,1950/3/7,R1,2024/3/1 08:30:00,1,"浙江省安吉县递铺街道, 3号"',
  '李四,MRN2,H001,1962/11/23,R2,2024/3/1 09:00:00,2,"多行\n地址"',
  '王五,MRN3,H001,1970/1/2,R3,2024/3/2 10:00:00,1,',
  ',MRN4,H001,1980/5/6,R4,2024/3/2 10:00:00,2,无名',
].join('\r\n');

describe(`core-table CSV ingestion on ${process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite'}`, () => {
  let db: Db;
  const land = (units: UnitInput[]) => landUnits(db, units);
  const units = async (inst: string) =>
    (await db.query<never>(`SELECT ${UNIT_COLUMNS} FROM landed_unit WHERE institution_id = $1 ORDER BY id`, [inst])).rows.map((r) => toLandedUnit(r, db.crypto));
  before(async () => {
    db = await openTestDb();
  });
  after(() => db.close());

  it('splits records on bytes the same way whatever the chunking, keeping quoted line breaks in their field', async () => {
    const bytes = Buffer.from(zhPatient);
    const whole = [];
    for await (const r of csvRecords(chunks(bytes, bytes.length))) whole.push(r.bytes.toString());
    const tiny = [];
    for await (const r of csvRecords(chunks(bytes, 1))) tiny.push(r.bytes.toString());
    assert.equal(whole.length, 5);
    assert.deepEqual(tiny, whole);
    assert.match(whole[2], /多行\n地址/);
  });

  it('maps shuffled Chinese headers of a UTF-8 file with BOM, detects the date format, lands one unit per row', async () => {
    const file = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(zhPatient)]);
    const s = await ingestCsv(chunks(file, 7), { institutionId: 'csv-utf8', fileName: 'patient-2024-03.csv', land });
    assert.deepEqual([s.table, s.encoding, s.received, s.landed, s.duplicates, s.quarantined], ['patient', 'utf-8', 4, 4, 0, 1]);
    assert.deepEqual(s.dateFormats, { birth_date: 'yyyy/M/d', updated_at: 'yyyy/M/d' });
    const [first, , , fourth] = await units('csv-utf8');
    const row = parseCsvUnit(first);
    assert.deepEqual(
      [row.values.name, row.values.birth_date, row.values.updated_at, row.values.address],
      ['张三', '1950-03-07', '2024-03-01T08:30:00', '浙江省安吉县递铺街道, 3号'],
    );
    assert.equal(fourth.status, 'quarantined');
    const { rows } = await db.query<{ reasons: unknown }>('SELECT reasons FROM landed_unit WHERE id = $1', [fourth.id]);
    assert.deepEqual(rows[0].reasons, [{ code: 'csv-required-missing', detail: 'required column 姓名 is empty', element: '姓名' }]);
  });

  it('reads a GBK tab-separated file with English headers and yyyyMMdd dates, keeping each row in GBK bytes', async () => {
    const text = [
      'updated_at\trecord_id\torg_code\tpatient_local_id\tname\tbirth_date',
      '20240301083000\tG1\tH002\tM1\t欧阳娜娜\t19500307',
      '20240301090000\tG2\tH002\tM2\t司马光\t19621123',
    ].join('\n');
    const gbk = iconv.encode(text, 'gbk');
    const s = await ingestCsv(chunks(gbk, 5), { institutionId: 'csv-gbk', table: 'patient', land });
    assert.deepEqual([s.encoding, s.delimiter, s.received, s.landed], ['gb18030', '\t', 2, 2]);
    const [u] = await units('csv-gbk');
    assert.deepEqual(u.content, iconv.encode(text.split('\n').slice(0, 2).join('\n'), 'gbk'));
    const row = parseCsvUnit(u);
    assert.deepEqual([row.values.name, row.values.birth_date, row.values.updated_at], ['欧阳娜娜', '1950-03-07', '2024-03-01T08:30:00']);
  });

  it('refuses a file missing required columns, naming them, and lands nothing', async () => {
    const text = '姓名,出生日期\n张三,1950-01-01\n';
    await assert.rejects(
      ingestCsv(chunks(Buffer.from(text), 64), { institutionId: 'csv-missing', table: 'patient', land }),
      (err: unknown) => err instanceof CsvColumnsError && err.missing.includes('org_code') && /机构代码 \(org_code\)/.test(err.message),
    );
    assert.equal((await units('csv-missing')).length, 0);
  });

  it('quarantines a row with the wrong number of fields instead of dropping it, and re-sending the file lands nothing new', async () => {
    const text = '机构代码,记录编号,患者编号,姓名,更新时间\nH3,1,M1,甲,2024-01-01\nH3,2,M2\nH3,3,M3,丙,2024-01-03\n';
    const first = await ingestCsv(chunks(Buffer.from(text), 3), { institutionId: 'csv-bad', table: 'patient', land });
    assert.deepEqual([first.received, first.landed, first.quarantined], [3, 3, 1]);
    const again = await ingestCsv(chunks(Buffer.from(text), 100), { institutionId: 'csv-bad', table: 'patient', land });
    assert.deepEqual([again.received, again.landed, again.duplicates], [3, 0, 3]);
    const [c] = await feedCounts(db, { institution: 'csv-bad' });
    assert.deepEqual([c.received, c.duplicates, c.quarantined, c.pending], [6, 3, 1, 2]);
  });

  it('lands thousands of rows in concurrent set-based batches, a row repeated in a later batch counted as a duplicate', async () => {
    const lines = ['机构代码,记录编号,患者编号,姓名,更新时间'];
    // Rows 6000–6999 repeat rows 0–999 exactly: they fall in the second batch, which lands alongside the first.
    for (let i = 0; i < 12_000; i++) {
      const k = i >= 6000 && i < 7000 ? i - 6000 : i;
      lines.push(`H4,${k},M${k},名${k},2024-01-01`);
    }
    const s = await ingestCsv(chunks(Buffer.from(lines.join('\n')), 65536), { institutionId: 'csv-big', table: 'patient', land, concurrency: 2 });
    assert.deepEqual([s.received, s.landed, s.duplicates], [12_000, 11_000, 1000]);
    const [c] = await feedCounts(db, { institution: 'csv-big' });
    assert.deepEqual([c.received, c.duplicates, c.pending], [12_000, 1000, 11_000]);
  });

  it('detects day-first and month-first dates from values only one of them can read', () => {
    assert.equal(detectDateFormat(['03/04/2020', '25/12/2020']), 'dd/MM/yyyy');
    assert.equal(detectDateFormat(['03/04/2020', '12/25/2020']), 'MM/dd/yyyy');
    assert.equal(detectDateFormat(['2020年3月4日']), 'yyyy年M月d日');
    assert.equal(parseDate('2023-02-29', 'yyyy-MM-dd'), undefined);
  });
});
