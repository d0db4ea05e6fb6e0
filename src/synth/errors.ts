/**
 * Data-entry errors made when a person is registered at an institution (建卡/挂号): name typos (形近字), homophones
 * (同音字, found with pinyin-pro), traditional characters (opencc-js), resident-ID faults (missing, one digit wrong,
 * two digits transposed, old 15-digit form, full-width digits, lowercase x), day/month swaps, missing sex, stale and
 * shared phones; newborns registered under the mother, and 无名氏 emergency patients. Every error applied is named in
 * the truth with the codes listed in docs/SYNTH.md.
 */
import * as OpenCC from 'opencc-js';
import { pinyin } from 'pinyin-pro';
import { isValidResidentId } from '../standards/index.ts';
import { FEMALE_CHARS, HOMOPHONE_POOL, LOOKALIKES, MALE_CHARS } from './catalog/names.ts';
import type { Person } from './model.ts';
import type { Rng } from './prng.ts';
import type { ErrorRates } from './options.ts';

export interface Registration {
  mrn: string;
  personId: string;
  name: string;
  /** GB/T 2261.1 code as entered: '1', '2', or '0' when left unknown. */
  sex: '0' | '1' | '2';
  /** Birth day as entered, undefined when unknown. */
  birth: number | undefined;
  /** 01 resident ID, 03 passport, '' none. */
  idType: '01' | '03' | '';
  idNumber: string;
  phone: string;
  address: string;
  divisionCode: string;
  nationality: string;
  errors: string[];
}

const lookalike = new Map<string, string>();
for (const [a, b] of LOOKALIKES) {
  lookalike.set(a, b);
  lookalike.set(b, a);
}
const homophones = new Map<string, string[]>();
{
  const pool = [...new Set([...MALE_CHARS, ...FEMALE_CHARS, ...HOMOPHONE_POOL, ...'伟芳娜敏静丽强磊军勇杰涛斌超明刚平辉鹏华飞鑫波宇浩凯健俊帆帅旭宁龙林阳毅峰艳娟霞燕玲婷雪慧莉倩颖琳洁萍红梅琴蓉欣晶妍悦佳'])];
  const py = pinyin(pool.join(''), { toneType: 'none', type: 'array' });
  const byPy = new Map<string, string[]>();
  pool.forEach((ch, i) => byPy.set(py[i], [...(byPy.get(py[i]) ?? []), ch]));
  for (const group of byPy.values()) for (const ch of group) if (group.length > 1) homophones.set(ch, group.filter((x) => x !== ch));
}
let toTraditional: ((s: string) => string) | undefined;
function traditional(s: string): string {
  toTraditional ??= OpenCC.Converter({ from: 'cn', to: 'tw' }) as (s: string) => string;
  return toTraditional(s);
}

/** Replaces one given-name character by a same-pinyin character; undefined when none is known. */
export function homophoneOf(name: string, surnameLen: number, rng: Rng): string | undefined {
  const idx = [...name].map((_, i) => i).filter((i) => i >= surnameLen && homophones.has(name[i]));
  if (idx.length === 0) return undefined;
  const i = rng.pick(idx);
  return name.slice(0, i) + rng.pick(homophones.get(name[i])!) + name.slice(i + 1);
}

/** True when a name has a character with a known look-alike (the name-typo error can apply). */
export function hasLookalike(name: string): boolean {
  return [...name].some((ch) => lookalike.has(ch));
}

/** True when a given name has a character with a known homophone (the homophone error can apply). */
export function hasHomophone(name: string, surnameLen: number): boolean {
  return [...name].some((ch, i) => i >= surnameLen && homophones.has(ch));
}

function lookalikeOf(name: string, rng: Rng): string | undefined {
  const idx = [...name].map((_, i) => i).filter((i) => lookalike.has(name[i]));
  if (idx.length === 0) return undefined;
  const i = rng.pick(idx);
  return name.slice(0, i) + lookalike.get(name[i]) + name.slice(i + 1);
}

/** One digit of the first 17 changed so that the check character no longer matches (GB 11643 MOD 11-2). */
export function mistypeOneDigit(id: string, rng: Rng): string {
  for (;;) {
    const i = rng.int(6, 16);
    const d = String((Number(id[i]) + rng.int(1, 9)) % 10);
    const out = id.slice(0, i) + d + id.slice(i + 1);
    if (!isValidResidentId(out)) return out;
  }
}

/** Two adjacent different digits transposed; the weighted MOD 11-2 sum then changes, so the check fails. */
export function transposeDigits(id: string, rng: Rng): string | undefined {
  const cands: number[] = [];
  for (let i = 6; i < 16; i++) if (id[i] !== id[i + 1]) cands.push(i);
  while (cands.length > 0) {
    const j = cands.splice(rng.int(0, cands.length - 1), 1)[0];
    const out = id.slice(0, j) + id[j + 1] + id[j] + id.slice(j + 2);
    if (!isValidResidentId(out)) return out;
  }
  return undefined;
}

const fullWidth = (s: string) => s.replace(/[0-9X]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0));

export interface RegisterContext {
  rates: ErrorRates;
  /** Day of registration, to decide age-dependent behaviour (guardian phone). */
  day: number;
  /** Other household members (for shared phones and newborn registration). */
  household: Person[];
  mother?: Person;
  /** The newborn's first registration at its birth hospital. */
  newborn: boolean;
  /** 无名氏: unknown emergency patient. */
  unknown: boolean;
}

/** Registers a person at an institution with the data-entry errors drawn from the configured rates. */
export function register(p: Person, mrn: string, ctx: RegisterContext, rng: Rng): Registration {
  const r = ctx.rates;
  const errors: string[] = [];
  const age = (ctx.day - p.birth) / 365.25;
  const guardian = ctx.household.find((m) => m !== p && (ctx.day - m.birth) / 365.25 >= 20 && (ctx.day - m.birth) / 365.25 < 70 && !m.death) ?? ctx.mother;
  const reg: Registration = {
    mrn, personId: p.id, name: p.name, sex: p.sex, birth: p.birth, idType: p.foreign ? '03' : '01', idNumber: p.foreign ? p.foreign.passport : p.residentId,
    phone: (age < 16 || age >= 80) && guardian ? guardian.phone : p.phone, address: p.address, divisionCode: p.villageCode,
    nationality: p.foreign?.nationality ?? 'CHN', errors,
  };
  if (ctx.unknown) {
    Object.assign(reg, { name: '无名氏', birth: undefined, idType: '', idNumber: '', phone: '', address: '' });
    errors.push('unknownPatient');
    return reg;
  }
  if (ctx.newborn && ctx.mother && rng.chance(r.newbornUnderMother)) {
    reg.name = `${ctx.mother.name}${p.sex === '1' ? '之子' : '之女'}`;
    reg.idNumber = ctx.mother.residentId;
    reg.phone = ctx.mother.phone;
    errors.push('newbornUnderMother');
    return reg;
  }
  if (ctx.newborn) {
    // A newborn registered in its own name before it has an ID card.
    reg.idType = '';
    reg.idNumber = '';
    return reg;
  }
  // Name errors (at most one).
  const u = rng.next();
  if (p.foreign) {
    if (u < r.nameTypo + r.homophone) {
      reg.name = `${p.foreign.given} ${p.foreign.family}`;
      errors.push('nameOrderSwapped');
    }
  } else if (u < r.nameTypo) {
    const n = lookalikeOf(p.name, rng);
    if (n) (reg.name = n), errors.push('nameTypo');
  } else if (u < r.nameTypo + r.homophone) {
    const n = homophoneOf(p.name, p.surname.length, rng);
    if (n) (reg.name = n), errors.push('homophone');
  } else if (u < r.nameTypo + r.homophone + r.traditional) {
    const n = traditional(p.name);
    if (n !== p.name) (reg.name = n), errors.push('traditional');
  }
  // Resident ID errors (at most one).
  if (!p.foreign) {
    const v = rng.next();
    let acc = 0;
    const born1985 = p.birth < 5479; // 1985-01-01
    if (v < (acc += r.idMissing)) {
      reg.idType = '';
      reg.idNumber = '';
      errors.push('idMissing');
    } else if (v < (acc += r.idOneDigit)) {
      reg.idNumber = mistypeOneDigit(p.residentId, rng);
      errors.push('idOneDigit');
    } else if (v < (acc += r.idTransposed)) {
      const t = transposeDigits(p.residentId, rng);
      if (t) (reg.idNumber = t), errors.push('idTransposed');
    } else if (v < (acc += r.id15) && born1985) {
      reg.idNumber = p.residentId.slice(0, 6) + p.residentId.slice(8, 17);
      errors.push('id15');
    } else if (v < (acc += r.idFullWidth)) {
      reg.idNumber = fullWidth(p.residentId);
      errors.push('idFullWidth');
    } else if (p.residentId.endsWith('X') && rng.chance(r.idLowercaseX)) {
      reg.idNumber = p.residentId.slice(0, 17) + 'x';
      errors.push('idLowercaseX');
    }
  }
  if (rng.chance(r.dayMonthSwap)) {
    const d = new Date(p.birth * 86_400_000);
    const m = d.getUTCMonth() + 1;
    const dd = d.getUTCDate();
    if (dd <= 12 && dd !== m) {
      reg.birth = Date.UTC(d.getUTCFullYear(), dd - 1, m) / 86_400_000;
      errors.push('dayMonthSwap');
    }
  }
  if (rng.chance(r.sexMissing)) (reg.sex = '0'), errors.push('sexMissing');
  const w = rng.next();
  if (w < r.stalePhone) (reg.phone = p.oldPhone), errors.push('stalePhone');
  else if (w < r.stalePhone + r.sharedPhone) {
    const other = ctx.household.find((m) => m !== p && m.phone !== reg.phone);
    if (other) (reg.phone = other.phone), errors.push('sharedPhone');
  }
  return reg;
}
