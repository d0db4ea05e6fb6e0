/**
 * Each institution's own code tables: lab items, panels, diagnoses, drugs, exams, procedures, vaccines, departments
 * and sex. Codes follow the vendor's scheme; names are drawn from the local synonyms (including typos). Every local
 * code maps to exactly one standard code; the map is written to truth/code-map.csv, never to the feeds.
 */
import type { Institution } from './county-types.ts';
import { ACUTE, CHRONIC } from './catalog/conditions.ts';
import { DRUGS } from './catalog/drugs.ts';
import { EXAMS } from './catalog/exams.ts';
import { FLU_A_AG, LAB_ITEMS, LAB_PANELS } from './catalog/labs.ts';
import { PROCEDURES, VACCINES } from './catalog/vaccines.ts';
import { hash32, Rng } from './prng.ts';

export interface LocalCode {
  code: string;
  name: string;
}

export type CodeKind = 'diagnosis' | 'lab' | 'panel' | 'exam' | 'drug' | 'procedure' | 'vaccine' | 'department' | 'sex';

export interface CodeMapRow {
  kind: CodeKind;
  localSystem: string;
  localCode: string;
  localName: string;
  standardSystem: string;
  standardCode: string;
  standardName: string;
}

export const SYSTEMS = {
  icd10: 'http://hl7.org/fhir/sid/icd-10',
  loinc: 'http://loinc.org',
  atc: 'http://www.whocc.no/atc',
  cvx: 'http://hl7.org/fhir/sid/cvx',
  icd9cm3: 'urn:oid:2.16.156.10011.2.3.2.1', // ICD-9-CM-3 clinical edition (手术操作分类代码)
  sex: 'urn:oid:2.16.156.10011.2.3.3.4', // GB/T 2261.1 (生理性别代码)
  dept: 'urn:oid:2.16.156.10011.2.3.3.8', // 诊疗科目代码 (卫医发〔1994〕27号)
} as const;

/** Departments: key → [standard 诊疗科目 code, name]. */
export const DEPARTMENTS: Record<string, readonly [string, string]> = {
  internal: ['03', '内科'], surgery: ['04', '外科'], obgyn: ['05', '妇产科'], pediatrics: ['07', '儿科'],
  ophthalmology: ['10', '眼科'], emergency: ['20', '急诊医学科'], general: ['02', '全科医疗科'], tcm: ['50', '中医科'],
  prevention: ['01', '预防保健科'], respiratory: ['03.01', '呼吸内科'], cardiology: ['03.03', '心血管内科'],
  neurology: ['03.05', '神经内科'], endocrine: ['03.06', '内分泌科'], orthopedics: ['04.05', '骨科'],
};

export interface LocalCatalog {
  inst: Institution;
  localSystemBase: string;
  dx: Map<string, LocalCode[]>;
  lab: Map<string, LocalCode>;
  panel: Map<string, LocalCode>;
  exam: Map<string, LocalCode>;
  drug: Map<string, LocalCode>;
  proc: Map<string, LocalCode>;
  vaccine: Map<string, LocalCode>;
  dept: Map<string, LocalCode>;
  /** Local sex codes for GB/T 2261.1 '1' male, '2' female, '0' unknown. */
  sex: Record<'0' | '1' | '2', string>;
  rows: CodeMapRow[];
}

/** Builds an institution's local code tables (deterministic in seed and institution code). */
export function buildLocalCatalog(seed: number, inst: Institution): LocalCatalog {
  const rng = new Rng(seed, hash32(inst.code));
  const scheme = inst.vendor;
  const localSystemBase = inst.fhir?.codeSystemBase ?? `urn:oid:2.16.156.10011.1.${inst.code}.cs`;
  const rows: CodeMapRow[] = [];
  const hospital = inst.type === 'county-hospital' || inst.type === 'tcm-hospital' || inst.type === 'mch-hospital';
  let n = 0;
  const seq = (prefix: string, width: number) => `${prefix}${String(++n).padStart(width, '0')}`;
  const add = (kind: CodeKind, local: LocalCode, sys: string, std: string, stdName: string) => {
    rows.push({ kind, localSystem: `${localSystemBase}/${kind}`, localCode: local.code, localName: local.name, standardSystem: sys, standardCode: std, standardName: stdName });
    return local;
  };

  const dx = new Map<string, LocalCode[]>();
  const conditions = [...CHRONIC.map((c) => ({ key: c.key, icd10: c.icd10, name: c.name, synonyms: c.synonyms })), ...Object.values(ACUTE)];
  for (const c of conditions) {
    const variants = rng.chance(0.4) ? 2 : 1;
    const names = [...c.synonyms];
    const list: LocalCode[] = [];
    for (let v = 0; v < variants; v++) {
      const name = v === 0 ? rng.pick(names) : rng.pick(names.filter((x) => x !== list[0].name).concat(names[0]));
      // Hospitals code with clinical-edition style extensions of ICD-10; primary care uses its own numbering.
      const stem = c.icd10.includes('.') ? c.icd10 : `${c.icd10}.${scheme === '东软健康' ? 'X' : 'x'}`;
      const code = hospital ? `${stem}${String(v).padStart(2, '0')}` : seq('ZD', 4);
      if (list.some((l) => l.code === code)) continue;
      list.push(add('diagnosis', { code, name }, 'http://hl7.org/fhir/sid/icd-10', c.icd10, c.name));
    }
    dx.set(c.key, list);
  }
  const lab = new Map<string, LocalCode>();
  for (const it of [...Object.values(LAB_ITEMS), FLU_A_AG]) {
    const abbrev = it.synonyms.find((s) => /^[A-Za-z0-9%-]+$/.test(s)) ?? it.key.toUpperCase();
    const code = scheme === '华康软件' ? abbrev.toUpperCase() : scheme === '东软健康' ? seq('L', 4) : scheme === '云杏医疗' ? seq('LAB', 3) : scheme === '自研' ? it.key : seq('1', 3);
    lab.set(it.key, add('lab', { code, name: rng.pick(it.synonyms) }, SYSTEMS.loinc, it.loinc, it.name));
  }
  const panel = new Map<string, LocalCode>();
  for (const p of Object.values(LAB_PANELS)) {
    const local = { code: seq('ZH', 3), name: p.name };
    panel.set(p.key, p.loinc ? add('panel', local, SYSTEMS.loinc, p.loinc, p.name) : local);
  }
  const exam = new Map<string, LocalCode>();
  for (const e of Object.values(EXAMS)) exam.set(e.key, add('exam', { code: seq('JC', 3), name: rng.pick(e.synonyms) }, SYSTEMS.loinc, e.loinc, e.name));
  const drug = new Map<string, LocalCode>();
  for (const d of Object.values(DRUGS)) drug.set(d.key, add('drug', { code: seq('YP', 5), name: rng.chance(0.7) ? d.name : rng.pick(d.synonyms) }, SYSTEMS.atc, d.atc, d.name));
  const proc = new Map<string, LocalCode>();
  for (const [k, p] of Object.entries(PROCEDURES)) proc.set(k, add('procedure', { code: hospital ? `${p.code}0${rng.int(1, 3)}` : seq('SS', 3), name: rng.pick(p.synonyms) }, SYSTEMS.icd9cm3, p.code, p.name));
  const vaccine = new Map<string, LocalCode>();
  for (const v of VACCINES) vaccine.set(v.key, add('vaccine', { code: seq('YM', 3), name: rng.pick(v.synonyms) }, SYSTEMS.cvx, v.cvx, v.name));
  const dept = new Map<string, LocalCode>();
  for (const [k, [std, name]] of Object.entries(DEPARTMENTS)) dept.set(k, add('department', { code: seq('KS', 3), name }, SYSTEMS.dept, std, name));
  const sex: LocalCatalog['sex'] =
    inst.format === 'hl7v2' ? { '0': 'U', '1': 'M', '2': 'F' } : scheme === '自研' ? { '0': '未知', '1': '男', '2': '女' } : { '0': '0', '1': '1', '2': '2' };
  const sexNames = { '0': '未知的性别', '1': '男性', '2': '女性' } as const;
  for (const k of ['0', '1', '2'] as const) add('sex', { code: sex[k], name: sexNames[k] }, SYSTEMS.sex, k, sexNames[k]);
  return { inst, localSystemBase, dx, lab, panel, exam, drug, proc, vaccine, dept, sex, rows };
}

/** The local diagnosis entry a clinician picks for a condition key. */
export function pickDx(cat: LocalCatalog, key: string, rng: Rng): LocalCode {
  const list = cat.dx.get(key)!;
  return list.length === 1 ? list[0] : rng.pick(list);
}

/** Standard (ICD-10 code, name) for a condition key. */
export function standardDx(key: string): { code: string; name: string } {
  const c = CHRONIC.find((x) => x.key === key) ?? ACUTE[key];
  return { code: c.icd10, name: c.name };
}
