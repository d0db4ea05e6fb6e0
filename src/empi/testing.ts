/** Test helpers: compact construction of institution-level Patients as registration systems send them. */
import type { Patient } from '@medplum/fhirtypes';
import { residentIdCheckChar } from '../standards/index.ts';
import { RESIDENT_ID_SYSTEM, type MatchInput } from './features.ts';

export interface PersonSpec {
  name?: string;
  family?: string;
  given?: string;
  rid?: string;
  passport?: string;
  birthDate?: string;
  gender?: Patient['gender'];
  phone?: string;
  village?: string;
  address?: string;
  mrn?: string;
}

let seq = 0;

/** A Patient input for matchIncoming; `institution` defaults to a new one so that every call is another source. */
export function patientInput(spec: PersonSpec, institution = `inst-${++seq}`, patientKey = `pk-${++seq}`): MatchInput {
  const identifier: NonNullable<Patient['identifier']> = [{ system: `urn:${institution}:mrn`, value: spec.mrn ?? `MRN${seq}`, type: { coding: [{ code: 'MR' }] } }];
  if (spec.rid) identifier.push({ system: RESIDENT_ID_SYSTEM, value: spec.rid });
  if (spec.passport) identifier.push({ system: 'urn:passport', value: spec.passport, type: { coding: [{ code: 'PPN' }] } });
  const patient: Patient = {
    resourceType: 'Patient',
    id: patientKey,
    identifier,
    ...(spec.name || spec.family ? { name: [spec.name ? { text: spec.name } : { family: spec.family, given: spec.given ? [spec.given] : [] }] } : {}),
    ...(spec.birthDate ? { birthDate: spec.birthDate } : {}),
    ...(spec.gender ? { gender: spec.gender } : {}),
    ...(spec.phone ? { telecom: [{ system: 'phone', value: spec.phone }] } : {}),
    ...(spec.village || spec.address ? { address: [{ text: spec.address, extension: spec.village ? [{ url: 'urn:division', valueCode: spec.village }] : undefined }] } : {}),
  };
  return { patient, patientKey, institutionId: institution };
}


/** Deterministic PRNG (mulberry32). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Surnames by (rough) real frequency: 王 李 张 cover about a fifth.
const SURNAMES = '王王王王李李李李张张张张刘刘刘陈陈陈杨杨黄黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾萧田董袁潘蔡蒋余杜叶程魏苏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤欧阳';
const GIVEN = '伟 芳 娜 敏 静 秀英 丽 强 磊 军 洋 勇 艳 杰 娟 涛 明 超 秀兰 霞 平 刚 桂英 建国 建华 志强 玉兰 海燕 晓明 红梅 国强 春梅 俊杰 子涵 浩然 雨涵 欣怡 梓轩 一诺 宇航 思远 嘉怡 文博 佳琪 婷婷 家豪 立新 德华 淑珍'.split(' ');
const HOMOPHONE: Record<string, string> = { 伟: '玮', 芳: '方', 娜: '纳', 敏: '民', 静: '晶', 丽: '莉', 强: '墙', 磊: '蕾', 军: '君', 洋: '阳', 勇: '永', 艳: '燕', 杰: '洁', 娟: '鹃', 涛: '韬', 明: '铭', 超: '潮', 霞: '侠', 平: '萍', 刚: '钢', 国: '果', 华: '桦', 志: '智', 兰: '岚', 海: '海', 梅: '玫', 英: '瑛' };
const TRAD: Record<string, string> = { 张: '張', 陈: '陳', 刘: '劉', 杨: '楊', 黄: '黃', 赵: '趙', 吴: '吳', 国: '國', 华: '華', 兰: '蘭', 丽: '麗', 军: '軍', 强: '強', 艳: '艷', 涛: '濤', 红: '紅', 梅: '梅' };

export interface MiniCounty {
  inputs: MatchInput[];
  /** patient_key → true person. */
  truth: Map<string, string>;
}

/**
 * A small population with the registration errors of issue 3 at exaggerated rates, for tests that need known truth
 * without the full synthetic county: each person registers at 1–3 institutions.
 */
export function miniCounty(persons: number, seed: number, errorRate = 0.1): MiniCounty {
  const r = prng(seed);
  const pick = <T>(xs: T[] | string): T => (typeof xs === 'string' ? ([...xs][Math.floor(r() * [...xs].length)] as T) : xs[Math.floor(r() * xs.length)]);
  const inputs: MatchInput[] = [];
  const truth = new Map<string, string>();
  for (let i = 0; i < persons; i++) {
    const sex = r() < 0.5 ? 'male' : 'female';
    const y = 1930 + Math.floor(r() * 90);
    const birth = `${y}-${String(1 + Math.floor(r() * 12)).padStart(2, '0')}-${String(1 + Math.floor(r() * 28)).padStart(2, '0')}`;
    const seq = String(Math.floor(r() * 50) * 2 + (sex === 'male' ? 1 : 0)).padStart(3, '0');
    const first17 = '330523' + birth.replace(/-/g, '') + seq;
    const id = first17 + residentIdCheckChar(first17);
    const surname = pick<string>(SURNAMES);
    const name = surname + pick(GIVEN);
    const village = `330523${String(100 + Math.floor(r() * 12))}${String(200 + Math.floor(r() * 15))}`;
    const phone = `13${Math.floor(100000000 + r() * 899999999)}`;
    const visits = 1 + Math.floor(r() * 3);
    for (let v = 0; v < visits; v++) {
      const spec: PersonSpec = { name, rid: id, birthDate: birth, gender: sex, phone, village };
      if (r() < errorRate) {
        const kind = Math.floor(r() * 8);
        if (kind === 0) spec.name = [...name].map((c, j) => (j > 0 && HOMOPHONE[c] ? HOMOPHONE[c] : c)).join('');
        if (kind === 1) spec.name = [...name].map((c) => TRAD[c] ?? c).join('');
        if (kind === 2) spec.rid = undefined;
        if (kind === 3) spec.rid = id.slice(0, 15) + String((Number(id[15]) + 1) % 10) + id.slice(16);
        if (kind === 4) spec.rid = id.slice(0, 12) + id[13] + id[12] + id.slice(14);
        if (kind === 5) spec.birthDate = birth.replace(/^(\d+)-(\d+)-(\d+)$/, (_, a, b, c) => (Number(c) <= 12 ? `${a}-${c}-${b}` : `${a}-${b}-${c}`));
        if (kind === 6) spec.gender = undefined;
        if (kind === 7) spec.phone = `13${Math.floor(100000000 + r() * 899999999)}`;
      }
      const input = patientInput(spec, `inst-${v}`, `s${seed}-p${i}-v${v}`);
      inputs.push(input);
      truth.set(input.patientKey, `s${seed}-person-${i}`);
    }
  }
  return { inputs, truth };
}
