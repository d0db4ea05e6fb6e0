import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { autoResolve } from './code-map.ts';
import { SYSTEMS, type LocalKind } from './systems.ts';
import type { Terminology } from './terminology.ts';

/** One row of a synthetic county's truth/code-map.csv (docs/SYNTH.md): a local code and its true standard code. */
export interface TruthMapRow {
  inst: string;
  kind: string;
  local_system: string;
  local_code: string;
  local_name: string;
  standard_system: string;
  standard_code: string;
}

export interface KindAccuracy {
  kind: string;
  codes: number;
  top1: number;
  top3: number;
  /** Mapped with no operator (standard code or exact name), and how many of those were wrong. */
  auto: number;
  autoWrong: number;
}

const KINDS: Record<string, LocalKind> = { diagnosis: 'diagnosis', lab: 'lab', panel: 'panel', exam: 'exam', drug: 'drug', vaccine: 'vaccine', procedure: 'procedure' };

/**
 * Whether a HealthBrain standard code is the truth's: LOINC mass/molar twins count as the same analyte; vaccines are
 * compared through the CVX the HealthBrain vaccine code maps to.
 */
export function sameStandard(t: Terminology, kind: string, ours: string, truthCode: string): boolean {
  if (ours === truthCode) return true;
  if (kind === 'vaccine') return t.lookup(SYSTEMS.vaccine, ours)?.properties.cvx === truthCode;
  if (kind === 'lab' || kind === 'panel') {
    const a = t.lookup(SYSTEMS.loinc, ours);
    const b = t.lookup(SYSTEMS.loinc, truthCode);
    return a?.properties.twin === truthCode || b?.properties.twin === ours;
  }
  return false;
}

/**
 * Measures, per kind of local code of a synthetic county, how often the suggestion ranked first (top-1) and among the
 * first three (top-3) is the true standard code, and the precision of the automatic mappings. The platform never
 * reads the truth; this is the benchmark's and the tests' yardstick.
 */
export function evaluateSuggestions(t: Terminology, codeMapCsv: string): KindAccuracy[] {
  const rows = parse(readFileSync(codeMapCsv, 'utf8'), { columns: true, skip_empty_lines: true }) as TruthMapRow[];
  const acc = new Map<string, KindAccuracy>();
  for (const r of rows) {
    const kind = KINDS[r.kind];
    if (!kind) continue;
    const a = acc.get(r.kind) ?? { kind: r.kind, codes: 0, top1: 0, top3: 0, auto: 0, autoWrong: 0 };
    acc.set(r.kind, a);
    a.codes++;
    const s = t.suggest(kind, r.local_code, r.local_name, 3);
    if (s[0] && sameStandard(t, r.kind, s[0].code, r.standard_code)) a.top1++;
    if (s.some((x) => sameStandard(t, r.kind, x.code, r.standard_code))) a.top3++;
    const auto = autoResolve(t, kind, r.local_system, r.local_code, r.local_name);
    if (auto) {
      a.auto++;
      if (!sameStandard(t, r.kind, auto.coding.code, r.standard_code)) a.autoWrong++;
    }
  }
  const list = [...acc.values()].sort((x, y) => x.kind.localeCompare(y.kind));
  const total = list.reduce((s, k) => ({ kind: 'all', codes: s.codes + k.codes, top1: s.top1 + k.top1, top3: s.top3 + k.top3, auto: s.auto + k.auto, autoWrong: s.autoWrong + k.autoWrong }), { kind: 'all', codes: 0, top1: 0, top3: 0, auto: 0, autoWrong: 0 });
  return [...list, total];
}
