/**
 * `npm run bench -- <area> [options]`: each area lives in bench/<area>.ts and exports `run(args: string[])`.
 * Benchmarks print figures and the ratio to the physical limit they name; they never run in the test suite.
 */
import { existsSync, readdirSync } from 'node:fs';

const [area, ...args] = process.argv.slice(2);
const areas = readdirSync(new URL('.', import.meta.url))
  .filter((f) => f.endsWith('.ts') && f !== 'main.ts' && !f.startsWith('_'))
  .map((f) => f.slice(0, -3))
  .sort();
if (!area || !areas.includes(area)) {
  console.log(`usage: npm run bench -- <area> [options]\nareas: ${areas.join(', ') || '(none yet)'}`);
  process.exit(area ? 1 : 0);
}
const file = new URL(`./${area}.ts`, import.meta.url);
if (!existsSync(file)) process.exit(1);
const mod = (await import(file.href)) as { run: (args: string[]) => Promise<void> };
await mod.run(args);
