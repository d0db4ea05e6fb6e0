import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CORE_TABLES, coreTable, findCoreColumn } from './core-tables.ts';

test('every core table has unique column keys and Chinese headers, and opens with org, record and patient ids', () => {
  for (const t of CORE_TABLES) {
    assert.equal(new Set(t.columns.map((c) => c.key)).size, t.columns.length, t.key);
    assert.equal(new Set(t.columns.map((c) => c.header)).size, t.columns.length, t.key);
    assert.deepEqual(t.columns.slice(0, 3).map((c) => c.key), ['org_code', 'record_id', 'patient_local_id'], t.key);
    for (const c of t.columns) assert.match(c.header, /[\u4e00-\u9fff]/, `${t.key}.${c.key} header is Chinese`);
  }
});

test('finds a column by its Chinese header, an alias or its English key, ignoring a BOM and spaces', () => {
  const lab = coreTable('lab_result')!;
  assert.equal(findCoreColumn(lab, '检验项目代码')?.key, 'item_code');
  assert.equal(findCoreColumn(lab, '\uFEFF机构代码')?.key, 'org_code');
  assert.equal(findCoreColumn(lab, ' 项目代码 ')?.key, 'item_code');
  assert.equal(findCoreColumn(lab, 'REFERENCE_RANGE')?.key, 'reference_range');
  assert.equal(findCoreColumn(lab, '不存在的列'), undefined);
});

test('no header or alias maps to two different columns of one table', () => {
  for (const t of CORE_TABLES) {
    for (const c of t.columns) for (const h of [c.header, ...(c.aliases ?? [])]) assert.equal(findCoreColumn(t, h)?.key, c.key, `${t.key}: ${h}`);
  }
});
