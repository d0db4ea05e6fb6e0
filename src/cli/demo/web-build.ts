import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

const repo = resolve(import.meta.dirname, '../../..');
/** What the console is built from: its sources, and the contract types it shares with the server. */
const SOURCES = ['web/src', 'web/index.html', 'web/vite.config.ts', 'src/record'].map((p) => join(repo, p));
const BUILT = join(repo, 'web/dist/index.html');

function newest(path: string): number {
  const s = statSync(path, { throwIfNoEntry: false });
  if (!s) return 0;
  if (!s.isDirectory()) return s.mtimeMs;
  return readdirSync(path).reduce((m, name) => Math.max(m, newest(join(path, name))), s.mtimeMs);
}

/** Why the web console needs a build (web/dist missing, or older than a source file), or undefined when it is current. */
export function webBuildNeeded(): string | undefined {
  if (!existsSync(BUILT)) return 'web/dist is missing';
  const built = statSync(BUILT).mtimeMs;
  const src = Math.max(...SOURCES.map(newest));
  return src > built ? 'web/dist is older than its sources' : undefined;
}

/** Builds the web console into web/dist (what `npm run build:web` does) when it is missing or stale. */
export async function ensureWebBuilt(log: (line: string) => void): Promise<void> {
  const why = webBuildNeeded();
  if (!why) return log('web console: web/dist is current');
  log(`web console: building (${why}) …`);
  const t0 = performance.now();
  // vite is a devDependency: present after `npm install` in the checkout, which is where the demo runs.
  const { build } = await import('vite');
  await build({ configFile: join(repo, 'web/vite.config.ts'), logLevel: 'warn' });
  log(`web console: built in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}
