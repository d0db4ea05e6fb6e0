/**
 * The shared record end to end (issue 6, "Done when"): the demo pipeline on a fresh data dir (a small synthetic county
 * ingested through FHIR, HL7 over MLLP and CSV, standardized, EMPI-linked), then real headless Chromium:
 * a clinician signs in, finds a patient seen at three institutions, opens the record and sees items from all three
 * and a lab trend chart drawn; is refused a patient with no care relationship; breaks the glass with a reason and sees
 * that record; and the auditor's page shows each step. Screenshots of the main pages → test-results/e2e/screenshots/.
 *
 * The tests run in order and share one browser page (each step starts where the previous one left the console).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import type { CountyJson } from '../src/synth/index.ts';
import { zh } from '../web/src/i18n/zh.ts';
import { openBrowser, seriesPixels, shot, startDemo, type RunningDemo } from './harness.ts';

const PERSONS = Number(process.env.E2E_PERSONS ?? 1000);
const SEED = Number(process.env.E2E_SEED ?? 2026);
const BTG_REASON = '急诊抢救：患者胸痛伴意识模糊，需了解既往病史、用药与过敏史';

let demo: RunningDemo;
let browser: Awaited<ReturnType<typeof openBrowser>>;
let page: Page;
let institutionName: (code: string) => string;
const shots: string[] = [];

before(async () => {
  demo = await startDemo({ persons: PERSONS, seed: SEED, timeoutMs: 8 * 60_000 });
  const county = JSON.parse(readFileSync(join(demo.info.countyDir, 'county.json'), 'utf8')) as CountyJson;
  institutionName = (code) => county.institutions.find((i) => i.code === code)!.name;
  browser = await openBrowser();
  page = browser.page;
  page.on('pageerror', (err) => console.error(`[browser] ${err.message}`));
}, { timeout: 10 * 60_000 });

after(async () => {
  await browser?.close();
  await demo?.stop();
  if (shots.length) console.log(shots.map((p) => `screenshot ${p}`).join('\n'));
});

const snap = async (name: string) => void shots.push(await shot(page, name));

async function signIn(role: keyof typeof ROLE, institutionCode?: string): Promise<void> {
  await page.goto(`${demo.info.url}/#/login`);
  await page.waitForSelector('.login-card');
  await page.getByRole('radio', { name: new RegExp(ROLE[role]) }).check();
  if (institutionCode) await page.locator('.login-card select').selectOption({ label: institutionName(institutionCode) });
  await page.getByRole('button', { name: zh['login.signIn'], exact: true }).click();
  await page.waitForSelector('.topbar');
}

const ROLE = { clinician: zh['role.clinician'], operator: zh['role.operator'], auditor: zh['role.auditor'], resident: zh['role.resident'], manager: zh['role.manager'] };

async function search(q: string): Promise<void> {
  await page.goto(`${demo.info.url}/#/search`);
  await page.fill('input[name=q]', q);
  await page.getByRole('button', { name: zh['search.submit'] }).click();
  await page.waitForSelector('table.grid tbody tr');
}

/** Every source institution named by a badge on the record, across all its tabs. */
async function sourcesOnRecord(): Promise<Set<string>> {
  const names = new Set<string>();
  for (const tab of ['tab.summary', 'tab.timeline', 'tab.labs', 'tab.exams', 'tab.medications', 'tab.immunizations', 'tab.followUps'] as const) {
    await page.getByRole('tab', { name: new RegExp(zh[tab]) }).click();
    for (const title of await page.locator('.tab-body .src-badge').evaluateAll((els) => els.map((e) => e.getAttribute('title') ?? ''))) names.add(title);
  }
  return names;
}

test('the demo set-up found a patient seen at three institutions and one never seen by the clinician', () => {
  const { scenario, persons, users } = demo.info;
  assert.ok(scenario.shared.institutions.length >= 3, `shared patient seen at ${scenario.shared.institutions.join(', ')}`);
  assert.ok(scenario.shared.institutions.includes(scenario.clinicianInstitution));
  assert.ok(!scenario.unrelated.institutions.includes(scenario.clinicianInstitution));
  assert.ok(persons.shared && persons.unrelated, 'both patients are EMPI persons');
  assert.notEqual(persons.shared, persons.unrelated);
  for (const role of ['clinician', 'operator', 'manager', 'auditor', 'resident']) assert.ok(users.some((u) => u.role === role), `a demo ${role}`);
});

test('the sign-in page offers the demo roles', async () => {
  await page.goto(`${demo.info.url}/`);
  await page.waitForSelector('.login-card');
  for (const label of Object.values(ROLE)) assert.equal(await page.getByRole('radio', { name: new RegExp(label) }).count(), 1, label);
  await snap('01-sign-in');
});

test('a clinician finds the patient seen at three institutions by resident ID', async () => {
  const { scenario } = demo.info;
  await signIn('clinician', scenario.clinicianInstitution);
  await search(scenario.shared.residentId);
  const rows = page.locator('table.grid tbody tr');
  assert.equal(await rows.count(), 1, 'one golden person for one resident ID');
  const badges = await rows.first().locator('.src-badge').evaluateAll((els) => els.map((e) => e.getAttribute('title')));
  assert.ok(badges.length >= 3, `institutions in the search hit: ${badges.join(', ')}`);
  await snap('02-patient-search');
});

test('the record shows items from all three institutions', async () => {
  const { scenario, persons } = demo.info;
  const summary = page.waitForResponse((r) => r.url().includes(`/api/record/${persons.shared}/summary`));
  await page.locator('table.grid tbody tr').first().click();
  assert.equal((await summary).status(), 200);
  await page.waitForSelector('.patient-banner');
  await snap('03-record-summary');
  const sources = await sourcesOnRecord();
  const expected = scenario.shared.institutions.map(institutionName);
  const seen = expected.filter((n) => sources.has(n));
  assert.ok(seen.length >= 3, `items from ${seen.join(', ')} of ${expected.join(', ')}`);
  await page.getByRole('tab', { name: new RegExp(zh['tab.timeline']) }).click();
  await snap('04-record-timeline');
});

test('the lab trend chart is drawn', async (t) => {
  const { scenario } = demo.info;
  await page.getByRole('tab', { name: new RegExp(zh['tab.labs']) }).click();
  await page.waitForSelector('.lab-item');
  // The series the ground truth says is longest (several points from the county's labs), else the first one.
  const item = page.locator('.lab-item', { hasText: ` ${scenario.shared.labCode}` });
  if (await item.count()) await item.first().click();
  await page.waitForSelector('[data-chart] canvas');
  await page.waitForTimeout(1000); // the series' entry animation
  const points = await page.locator('table.grid.compact tbody tr').count();
  assert.ok(points >= 2, `a trend of ${points} point(s)`);
  const pixels = await seriesPixels(page);
  t.diagnostic(`${points} points, ${pixels} coloured pixels`);
  assert.ok(pixels > 200, `coloured pixels of the series on the lab chart: ${pixels}`);
  await snap('05-record-labs');
});

test('a patient with no care relationship is refused with a clear message', async () => {
  const { scenario, persons } = demo.info;
  await search(scenario.unrelated.residentId);
  const refused = page.waitForResponse((r) => r.url().includes(`/api/record/${persons.unrelated}/summary`));
  await page.locator('table.grid tbody tr').first().click();
  const answer = await refused;
  assert.equal(answer.status(), 403);
  const outcome = (await answer.json()) as { issue: Array<{ code: string; details?: { coding?: Array<{ code: string }> } }> };
  assert.equal(outcome.issue[0].code, 'forbidden');
  assert.equal(outcome.issue[0].details?.coding?.[0].code, 'no-care-relationship');
  await page.waitForSelector('.refusal');
  assert.equal((await page.locator('.refusal h1').textContent())?.trim(), zh['btg.title']);
  assert.equal(await page.locator('.patient-banner').count(), 0, 'no record behind the refusal');
  await page.waitForSelector('[role=dialog]');
  await snap('06-refused-break-glass-dialog');
});

test('break-the-glass with a reason opens the record, marked as such', async () => {
  const { persons } = demo.info;
  const posted = page.waitForResponse((r) => r.url().includes(`/api/record/${persons.unrelated}/summary`) && r.request().method() === 'POST');
  await page.fill('textarea[name=reason]', BTG_REASON);
  await page.getByRole('button', { name: zh['btg.confirm'] }).click();
  assert.equal((await posted).status(), 200);
  await page.waitForSelector('.patient-banner');
  await page.waitForSelector('.access-basis.btg');
  await snap('07-break-glass-record');
});

test("the auditor's trail shows the read, the refusal and the flagged break-the-glass", async () => {
  const { persons, users, scenario } = demo.info;
  // The audit trail names the reader by their login id (the token's subject).
  const reader = users.find((u) => u.role === 'clinician' && u.institution === scenario.clinicianInstitution)!.user;
  await page.getByRole('button', { name: zh['top.signOut'] }).click();
  await signIn('auditor');
  await page.waitForSelector('table.grid tbody tr');
  await snap('08-audit');
  const rows = async (patient: string) => {
    await page.goto(`${demo.info.url}/#/audit`);
    await page.locator('.filters input').first().fill(patient);
    const answer = page.waitForResponse((r) => r.url().includes('/fhir/AuditEvent'));
    await page.getByRole('button', { name: zh['audit.search'] }).click();
    assert.equal((await answer).status(), 200);
    await page.waitForSelector('table.grid tbody tr');
    return page.locator('table.grid tbody tr').evaluateAll((trs) => trs.map((tr) => ({ text: tr.textContent ?? '', btg: tr.classList.contains('row-btg'), outcome: tr.querySelector('.outcome')?.className ?? '' })));
  };
  const shared = await rows(persons.shared!);
  assert.ok(shared.some((r) => r.outcome.includes('outcome-success') && r.text.includes(reader) && !r.btg), 'the allowed read by the clinician');
  const unrelated = await rows(persons.unrelated!);
  assert.ok(unrelated.some((r) => r.outcome.includes('outcome-denied') && r.text.includes(reader) && !r.btg), 'the refusal');
  assert.ok(unrelated.some((r) => r.outcome.includes('outcome-success') && r.btg && r.text.includes(reader) && r.text.includes(zh['audit.btg'])), 'the break-the-glass read, flagged for review');
  await snap('09-audit-break-glass');
});

test('the operator sees the region overview', async () => {
  await page.getByRole('button', { name: zh['top.signOut'] }).click();
  await signIn('operator');
  await page.waitForSelector('[data-chart] canvas');
  await snap('10-region-overview');
});

test('the resident sees their own record and who read it', async () => {
  const { persons, users, scenario } = demo.info;
  const reader = users.find((u) => u.role === 'clinician' && u.institution === scenario.clinicianInstitution)!.user;
  await page.getByRole('button', { name: zh['top.signOut'] }).click();
  const own = page.waitForResponse((r) => r.url().includes(`/api/record/${persons.shared}/summary`));
  await signIn('resident');
  assert.equal((await own).status(), 200);
  await page.waitForSelector('.patient-banner');
  await snap('11-resident-own-record');
  // The record page has tables of its own: wait for the audit page's answer and heading, not just any table row.
  const trail = page.waitForResponse((r) => r.url().includes('/fhir/AuditEvent'));
  await page.getByRole('link', { name: zh['nav.whoViewed'] }).click();
  assert.equal((await trail).status(), 200);
  await page.getByRole('heading', { name: zh['audit.mineTitle'] }).waitFor();
  await page.waitForSelector('table.grid tbody tr');
  const rows = await page.locator('table.grid tbody tr').allTextContents();
  assert.ok(rows.some((r) => r.includes(reader)), `the clinician's read is listed: ${rows.length} row(s)`);
  await snap('12-resident-who-viewed');
});
