/**
 * End-to-end harness: the demo (`healthbrain demo`, the very command `npm run demo` runs) started as a child process on
 * a fresh data dir, and Debian's headless Chromium driven by playwright-core with a fresh profile. No fixtures, no
 * mocks: the browser talks to the server the demo built from the synthetic county's feeds.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import type { DemoInfo } from '../src/cli/demo/index.ts';

export const repo = resolve(import.meta.dirname, '..');
export const resultsDir = join(repo, 'test-results', 'e2e');
export const shotDir = join(resultsDir, 'screenshots');

export interface RunningDemo {
  info: DemoInfo;
  dataDir: string;
  stop(): Promise<void>;
}

/**
 * Runs `healthbrain demo --port 0` on a fresh temp data dir and resolves once it prints "Serving until Ctrl-C."
 * (its set-up written to `<data>/demo.json`). Output goes to test-results/e2e/demo.log. Bounded by `timeoutMs`.
 */
export async function startDemo(options: { persons: number; seed: number; timeoutMs: number }): Promise<RunningDemo> {
  await mkdir(resultsDir, { recursive: true });
  // Developing the browser steps: E2E_DEMO_DATA=<data dir of a demo already serving> skips the set-up.
  const reuse = process.env.E2E_DEMO_DATA;
  if (reuse) return { info: JSON.parse(readFileSync(join(reuse, 'demo.json'), 'utf8')) as DemoInfo, dataDir: reuse, stop: async () => undefined };
  const dataDir = await mkdtemp(join(tmpdir(), 'hb-e2e-'));
  const log = createWriteStream(join(resultsDir, 'demo.log'));
  const child = spawn(process.execPath, [join(repo, 'bin/healthbrain.mjs'), 'demo', '--data', dataDir, '--port', '0',
    '--persons', String(options.persons), '--seed', String(options.seed)], {
    cwd: repo,
    env: { ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn', DATABASE_URL: '' }, // the demo is the embedded engine's
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stderr!.pipe(log, { end: false });
  const stop = async () => {
    await stopChild(child);
    log.end();
    if (!process.env.E2E_KEEP_DATA) await rm(dataDir, { recursive: true, force: true });
  };
  try {
    await new Promise<void>((ready, fail) => {
      let out = '';
      const timer = setTimeout(() => fail(new Error(`demo not ready after ${options.timeoutMs / 1000} s (see test-results/e2e/demo.log)`)), options.timeoutMs);
      child.stdout!.on('data', (b: Buffer) => {
        log.write(b);
        out += b.toString();
        if (out.includes('Serving until Ctrl-C.')) {
          clearTimeout(timer);
          ready();
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        fail(new Error(`demo exited with ${code} before it was ready (see test-results/e2e/demo.log)`));
      });
    });
  } catch (err) {
    await stop();
    throw err;
  }
  const info = JSON.parse(readFileSync(join(dataDir, 'demo.json'), 'utf8')) as DemoInfo;
  return { info, dataDir, stop };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

/** Chromium: Debian's package (never a downloaded browser), headless, a fresh profile, a 1366×768 hospital screen. */
export async function openBrowser(): Promise<{ context: BrowserContext; page: Page; close(): Promise<void> }> {
  const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  if (!existsSync(executablePath)) throw new Error(`no Chromium at ${executablePath}: apt-get install -y chromium fonts-noto-cjk (or set CHROMIUM_PATH)`);
  const profile = await mkdtemp(join(tmpdir(), 'hb-e2e-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--lang=zh-CN'],
    viewport: { width: 1366, height: 768 },
    locale: 'zh-CN',
    timezoneId: 'Asia/Shanghai',
  });
  context.setDefaultTimeout(30_000);
  context.setDefaultNavigationTimeout(30_000);
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/** Saves a screenshot of the page as test-results/e2e/screenshots/<name>.png. */
export async function shot(page: Page, name: string): Promise<string> {
  await mkdir(shotDir, { recursive: true });
  await page.waitForLoadState('networkidle').catch(() => undefined);
  await page.waitForTimeout(400); // ECharts' entry animation
  const path = join(shotDir, `${name}.png`);
  await page.screenshot({ path });
  return path;
}

/**
 * How many pixels of the page's chart canvases are drawn in colour (not transparent, not grey): axes, grid lines and
 * labels are grey, so this counts the series (lines, points, areas). > 0 once a series is drawn.
 */
export async function seriesPixels(page: Page, selector = '[data-chart] canvas'): Promise<number> {
  return page.$$eval(selector, (canvases) =>
    (canvases as HTMLCanvasElement[]).reduce((sum, c) => {
      const ctx = c.getContext('2d');
      if (!ctx || !c.width || !c.height) return sum;
      const d = ctx.getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 128 && Math.max(d[i], d[i + 1], d[i + 2]) - Math.min(d[i], d[i + 1], d[i + 2]) > 40) n++;
      return sum + n;
    }, 0),
  );
}
