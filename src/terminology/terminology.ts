import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import type { Db, Queryable } from '../store/index.ts';
import type { ConceptRow } from './shipped.ts';
import { loadShippedTerminology, readConcepts, readCrossMaps, type CrossMapRow } from './store.ts';
import { STANDARD_URIS } from './standard-systems.ts';
import { codeSupport, nameFeatures, nameSimilarity, normalizeCode, normalizeName, type NameFeatures } from './similarity.ts';
import { SYSTEMS, TARGET_SYSTEM, type LocalKind } from './systems.ts';

export type Concept = ConceptRow;

/** A candidate standard code for a local one, best first. */
export interface Suggestion {
  system: string;
  code: string;
  display: string;
  /** In [0, 1.5]: name similarity plus half the support of a local code that prefixes the standard code. */
  score: number;
}

interface Named {
  concept: Concept;
  names: NameFeatures[];
  /** Normal forms of the official display and the curated synonyms (exact-name matching). */
  exact: Set<string>;
  /** Normal form of the official display alone (it wins over another concept's synonym). */
  official: string;
  /**
   * For an ICD category that has subcategories (not a valid final code): the subcategory a bare category name
   * stands for — the "未特指" (unspecified) or "其他和未特指" one — when the tables have it.
   */
  redirect?: Concept;
}

/** Which concepts of a target system a local code of this kind may map to. */
function eligible(kind: LocalKind, c: Concept): boolean {
  const cat = c.properties.category;
  // An imported LOINC item has an example unit, not the platform's canonical one: still a lab item to suggest.
  const unit = c.properties.unit ?? c.properties.exampleUnit;
  if (kind === 'lab') return c.system === SYSTEMS.loinc && (((cat === 'laboratory' || cat === 'vital-signs') && unit !== undefined) || cat === 'laboratory-ord');
  if (kind === 'panel') return c.system === SYSTEMS.loinc && (cat === 'laboratory' || cat === 'vital-signs') && unit === undefined;
  if (kind === 'exam') return c.system === SYSTEMS.loinc && (cat === 'imaging' || cat === 'procedure');
  return c.system === TARGET_SYSTEM[kind];
}

const SYNONYMS = new URL('./data/synonyms.csv', import.meta.url);

/**
 * The terminology service: every concept held in memory (a few thousand rows; an operator's full ICD-10 import is
 * ~40k, still small) for constant-time lookups, plus the name index used to suggest standard codes. Built from the
 * database tables, which are the source of truth; `reload` after an import.
 */
export class Terminology {
  #bySystem = new Map<string, Map<string, Concept>>();
  #named = new Map<LocalKind, Named[]>();
  /** `${system}|${code}` → its maps into other standard systems (terminology_crossmap, plus the shipped CVX links). */
  #cross = new Map<string, CrossMapRow[]>();

  private constructor(concepts: Concept[], cross: CrossMapRow[] = []) {
    this.#index(concepts, cross);
  }

  /** Loads the shipped subset if this release is not loaded yet, then reads every concept into memory. */
  static async open(db: Db | Queryable): Promise<Terminology> {
    await loadShippedTerminology(db);
    return new Terminology(await readConcepts(db), await readCrossMaps(db));
  }

  /** A service over given concepts (tests, tools), without a database. */
  static fromConcepts(concepts: Concept[], cross: CrossMapRow[] = []): Terminology {
    return new Terminology(concepts, cross);
  }

  async reload(db: Queryable): Promise<void> {
    const [concepts, cross] = [await readConcepts(db), await readCrossMaps(db)];
    this.#bySystem = new Map();
    this.#named = new Map();
    this.#cross = new Map();
    this.#index(concepts, cross);
  }

  #index(concepts: Concept[], cross: CrossMapRow[]): void {
    for (const c of concepts) {
      let m = this.#bySystem.get(c.system);
      if (!m) this.#bySystem.set(c.system, (m = new Map()));
      m.set(c.code, c);
    }
    const addCross = (x: CrossMapRow) => {
      const k = `${x.sourceSystem}|${x.sourceCode}`;
      const list = this.#cross.get(k) ?? [];
      this.#cross.set(k, [...list.filter((y) => y.targetSystem !== x.targetSystem), x]);
    };
    // The national vaccine list names the CVX of each vaccine: CVX → national code where exactly one vaccine has it.
    const byCvx = new Map<string, Concept[]>();
    for (const v of this.#bySystem.get(SYSTEMS.vaccine)?.values() ?? []) {
      const cvx = v.properties.cvx;
      if (typeof cvx === 'string' && cvx) byCvx.set(cvx, [...(byCvx.get(cvx) ?? []), v]);
    }
    for (const [cvx, vs] of byCvx) if (vs.length === 1) addCross({ sourceSystem: SYSTEMS.cvx, sourceCode: cvx, targetSystem: SYSTEMS.vaccine, targetCode: vs[0].code, equivalence: 'equivalent' });
    for (const x of cross) addCross(x);
    const synonyms = parse(readFileSync(SYNONYMS, 'utf8'), { columns: true, trim: true, skip_empty_lines: true }) as Array<{
      kind: LocalKind; code: string; synonym: string;
    }>;
    const extra = new Map<string, string[]>();
    for (const s of synonyms) {
      const sys = TARGET_SYSTEM[s.kind] ?? '';
      const key = `${sys}|${s.code}`;
      extra.set(key, [...(extra.get(key) ?? []), s.synonym]);
    }
    const kinds: LocalKind[] = ['diagnosis', 'lab', 'panel', 'exam', 'drug', 'vaccine', 'sex', 'procedure'];
    for (const kind of kinds) {
      const list: Named[] = [];
      for (const c of this.#bySystem.get(kind === 'lab' || kind === 'panel' || kind === 'exam' ? SYSTEMS.loinc : TARGET_SYSTEM[kind]!)?.values() ?? []) {
        if (!eligible(kind, c)) continue;
        // Vaccine codes are the mnemonic abbreviations clinics write (BCG, IPV, MMR): a name too.
        const raw = [c.display, ...(c.displayEn ? [c.displayEn] : []), ...(kind === 'vaccine' ? [c.code] : []), ...(extra.get(`${c.system}|${c.code}`) ?? [])];
        list.push({ concept: c, names: raw.map(nameFeatures), exact: new Set(raw.map(normalizeName)), official: normalizeName(c.display) });
      }
      if (kind === 'diagnosis' || kind === 'procedure') {
        const children = new Map<string, Concept[]>();
        for (const n of list) if (n.concept.parent) children.set(n.concept.parent, [...(children.get(n.concept.parent) ?? []), n.concept]);
        for (const n of list) {
          const kids = children.get(n.concept.code);
          if (kids) n.redirect = kids.find((k) => k.display.startsWith('未特指')) ?? kids.find((k) => k.display.startsWith('其他和未特指'));
        }
      }
      this.#named.set(kind, list);
    }
  }

  /** The concept, or undefined when the code is not in the loaded tables. */
  lookup(system: string, code: string): Concept | undefined {
    return this.#bySystem.get(system)?.get(code);
  }

  /**
   * The code of `targetSystem` a standard code maps to — the county's reporting system (ICD-10-CN for diagnoses) —
   * or undefined when none is known. Sources, in order: the code is itself in the target system; an imported cross
   * map (SNOMED CT → ICD-10, RxNorm → ATC) or a shipped one (CVX → national vaccine code); ICD-10 (WHO or CM) →
   * ICD-10-CN by the same code, else by its longest prefix in the ICD-10-CN tables (`wider`: ICD-10-CN extends the WHO
   * codes; a CM code more specific than the county's tables maps to the category above it). SNOMED CT reaches
   * ICD-10-CN through its ICD-10 map and that rule.
   */
  reportingCode(system: string, code: string, targetSystem: string): { coding: { system: string; code: string; display: string }; equivalence: string } | undefined {
    const here = (s: string, c: string, equivalence: string) => {
      const t = this.lookup(s, c);
      return t ? { coding: { system: t.system, code: t.code, display: t.display }, equivalence } : undefined;
    };
    if (system === targetSystem) return here(system, code, 'equal');
    const direct = this.#cross.get(`${system}|${code}`)?.find((x) => x.targetSystem === targetSystem);
    if (direct) return here(targetSystem, direct.targetCode, direct.equivalence);
    if (targetSystem === SYSTEMS.icd10 && (system === STANDARD_URIS.icd10who || system === STANDARD_URIS.icd10cm)) {
      if (this.lookup(SYSTEMS.icd10, code)) return here(SYSTEMS.icd10, code, 'equivalent');
      for (let c = code.replace(/\.$/, ''); c.length > 3; c = c.slice(0, -1).replace(/\.$/, '')) {
        const shorter = c.slice(0, -1).replace(/\.$/, '');
        if (this.lookup(SYSTEMS.icd10, shorter)) return here(SYSTEMS.icd10, shorter, 'wider');
      }
      return undefined;
    }
    if (targetSystem === SYSTEMS.icd10 && system === STANDARD_URIS.snomed) {
      const icd = this.#cross.get(`${system}|${code}`)?.find((x) => x.targetSystem === STANDARD_URIS.icd10who);
      const cn = icd ? this.reportingCode(STANDARD_URIS.icd10who, icd.targetCode, targetSystem) : undefined;
      return cn && icd ? { coding: cn.coding, equivalence: cn.equivalence === 'equivalent' ? icd.equivalence : 'wider' } : undefined;
    }
    return undefined;
  }

  /** The imported maps of a standard code into other standard systems (SNOMED CT → ICD-10 …). */
  crossMaps(system: string, code: string): readonly CrossMapRow[] {
    return this.#cross.get(`${system}|${code}`) ?? [];
  }

  /** Display (Chinese name) of a code, or undefined. */
  display(system: string, code: string): string | undefined {
    return this.lookup(system, code)?.display;
  }

  /** Number of concepts loaded per system (for `terminology status`). */
  counts(): Record<string, number> {
    return Object.fromEntries([...this.#bySystem].map(([s, m]) => [s, m.size]));
  }

  /**
   * The one concept of this kind whose official name or curated synonym has exactly the same normal form as
   * `display` (full/half width, traditional/simplified, punctuation ignored), or undefined when none or several do.
   */
  exactName(kind: LocalKind, display: string): Concept | undefined {
    const n = normalizeName(display);
    if (!n) return undefined;
    let hits = (this.#named.get(kind) ?? []).filter((x) => x.exact.has(n));
    if (hits.length > 1) hits = hits.filter((x) => x.official === n);
    return hits.length === 1 ? (hits[0].redirect ?? hits[0].concept) : undefined;
  }

  /** Standard concept whose code equals the local code (after normalisation) and is eligible for the kind. */
  sameCode(kind: LocalKind, code: string): Concept | undefined {
    const norm = normalizeCode(code);
    return (this.#named.get(kind) ?? []).find((x) => x.concept.code.toUpperCase() === norm)?.concept;
  }

  /** Best name similarity of `display` to any name of the concept. */
  similarity(kind: LocalKind, concept: Concept, display: string): number {
    const n = (this.#named.get(kind) ?? []).find((x) => x.concept === concept);
    if (!n || !display) return 0;
    const f = nameFeatures(display);
    return Math.max(...n.names.map((g) => nameSimilarity(f, g)));
  }

  /**
   * Candidate standard codes for a local code, ranked by name similarity (Chinese character bigrams + pinyin, see
   * similarity.ts) over official names and curated synonyms, boosted when the local code is an ICD-style variant of
   * the standard code. For the operator's review list (`terminology unmapped`).
   */
  suggest(kind: LocalKind, localCode: string | undefined, localDisplay: string | undefined, limit = 5): Suggestion[] {
    const f = localDisplay ? nameFeatures(localDisplay) : undefined;
    const best = new Map<string, Suggestion>();
    for (const n of this.#named.get(kind) ?? []) {
      const name = f ? Math.max(...n.names.map((g) => nameSimilarity(f, g))) : 0;
      const code = localCode ? codeSupport(localCode, n.concept.code) : 0;
      // An exact official name outranks an exact synonym of another concept.
      const score = name + 0.5 * code + (f && f.norm === n.official ? 0.01 : 0);
      if (score <= 0.05) continue;
      // A category with subcategories is not a final code: its score goes to its unspecified subcategory.
      const c = n.redirect ?? n.concept;
      const prev = best.get(c.code);
      if (!prev || prev.score < score) best.set(c.code, { system: c.system, code: c.code, display: c.display, score: Math.round(score * 1000) / 1000 });
    }
    const scored = [...best.values()];
    // Ties: the shorter (more general, 3-char or canonical molar) code first, then code order — deterministic.
    scored.sort((a, b) => b.score - a.score || a.code.length - b.code.length || a.code.localeCompare(b.code));
    return scored.slice(0, limit);
  }
}
