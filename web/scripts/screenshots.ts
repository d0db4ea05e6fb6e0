/**
 * Screenshots of every console page at 1366×768 with the dev fixtures (clearly bannered as fictitious), for
 * reviewing the look and feel: `npm run screenshots` → test-results/screenshots/*.png.
 *
 * Builds a fixtures copy of the console (vite --mode fixtures) into test-results/web-fixtures/, serves it with the
 * same fastify plugin `healthbrain serve` uses, and drives Debian's Chromium with playwright-core.
 */
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import Fastify from 'fastify';
import { chromium, type Page } from 'playwright-core';
import { build } from 'vite';
import type { AppDeps } from '../../src/api/deps.ts';
import { createWebRoutes } from '../../src/api/web-routes.ts';

const repo = resolve(import.meta.dirname, '../..');
const outDir = resolve(repo, 'test-results/web-fixtures');
const shotDir = resolve(repo, 'test-results/screenshots');

await build({ configFile: resolve(repo, 'web/vite.config.ts'), mode: 'fixtures', logLevel: 'warn', build: { outDir, emptyOutDir: true } });
await mkdir(shotDir, { recursive: true });

const app = Fastify();
await app.register(async (scope) => createWebRoutes(outDir)(scope, {} as AppDeps));
const base = await app.listen({ host: '127.0.0.1', port: 0 });

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--lang=zh-CN'],
});
const taken: string[] = [];
try {
  const page = await browser.newPage({ viewport: { width: 1366, height: 768 }, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
  const shot = async (name: string) => {
    await page.waitForTimeout(350); // let ECharts finish its entry animation
    const path = resolve(shotDir, `${name}.png`);
    await page.screenshot({ path });
    taken.push(path);
  };
  const signInAs = async (roleLabel: string) => {
    await page.goto(`${base}/?fixtures=1#/login`);
    await page.getByRole('radio', { name: new RegExp(roleLabel) }).check();
    await page.getByRole('button', { name: '登录', exact: true }).click();
    await page.waitForSelector('.topbar');
  };
  const tab = async (label: string) => {
    await page.getByRole('tab', { name: new RegExp(label) }).click();
  };

  await page.goto(`${base}/?fixtures=1#/login`);
  await page.waitForSelector('.login-card');
  await shot('01-sign-in');

  await signInAs('临床医生');
  await page.fill('input[name=q]', '王');
  await page.getByRole('button', { name: '查询' }).click();
  await page.waitForSelector('table.grid tbody tr');
  await shot('02-patient-search');

  await page.locator('table.grid tbody tr').first().click();
  await page.waitForSelector('.patient-banner');
  await shot('03-record-summary');
  await tab('就诊时间线');
  await page.waitForSelector('[data-chart] canvas');
  await shot('04-record-timeline');
  await tab('检验结果');
  await page.waitForSelector('[data-chart] canvas');
  await shot('05-record-labs');
  await tab('检查报告');
  await shot('06-record-exams');
  await tab('随访记录');
  await shot('07-record-follow-ups');

  await page.goto(`${base}/?fixtures=1#/record/p-100877`);
  await page.waitForSelector('[role=dialog]');
  await shot('08-break-glass-dialog');
  await page.fill('textarea[name=reason]', '急诊抢救：患者胸痛伴意识模糊，需了解既往病史、用药与过敏史');
  await page.getByRole('button', { name: '确认紧急调阅' }).click();
  await page.waitForSelector('.access-basis.btg');
  await shot('09-break-glass-record');

  await page.getByRole('button', { name: '退出' }).click();
  await signInAs('平台运维');
  await page.waitForSelector('[data-chart] canvas');
  await shot('10-region-overview');

  await page.getByRole('button', { name: '退出' }).click();
  await signInAs('安全审计员');
  await page.waitForSelector('table.grid tbody tr');
  await shot('11-audit');

  await page.getByRole('button', { name: '退出' }).click();
  await signInAs('居民');
  await page.waitForSelector('.patient-banner');
  await page.getByRole('link', { name: '谁查看了我的档案' }).click();
  await page.waitForSelector('table.grid tbody tr');
  await shot('12-resident-who-viewed');

  await page.getByRole('link', { name: '我的健康档案' }).click();
  await page.waitForSelector('.patient-banner');
  await page.getByRole('button', { name: 'English' }).click();
  await tab('Labs');
  await page.waitForSelector('[data-chart] canvas');
  await shot('13-record-labs-en');
  await page.getByRole('button', { name: '中文' }).click();
} finally {
  await browser.close();
  await app.close();
}
console.log(taken.map((p) => `screenshot ${p}`).join('\n'));
