/**
 * Households and persons of one chunk. Household heads are drawn from the county's age pyramid; spouses, children,
 * co-resident parents and left-behind grandchildren are built around them, which yields an ageing pyramid with a
 * working-age deficit (out-migration). Resident IDs follow GB 11643 and are unique county-wide (see allocSequence).
 */
import { residentIdCheckChar } from '../standards/index.ts';
import { FEMALE_CHARS, FEMALE_DOUBLE, FEMALE_SINGLE, FOREIGN_NAMES, MALE_CHARS, MALE_DOUBLE, MALE_SINGLE, MODERN_CHARS, MODERN_FEMALE, MODERN_MALE, SURNAMES } from './catalog/names.ts';
import { villageShortName } from './county.ts';
import { compactDay, ymd } from './dates.ts';
import type { Household, Person, Sex } from './model.ts';
import { Rng, Weighted } from './prng.ts';
import type { World } from './world.ts';

/** De-facto age structure at the period start, 5-year bands 0–4 … 85+ (per cent); see docs/SYNTH.md. */
export const PYRAMID = [3.5, 4.5, 5.0, 4.5, 4.0, 4.5, 6.0, 6.0, 6.0, 8.0, 9.0, 8.5, 7.0, 7.0, 6.0, 4.0, 2.5, 1.5];

const surnames = new Weighted(SURNAMES);
const maleSingle = new Weighted(MALE_SINGLE);
const femaleSingle = new Weighted(FEMALE_SINGLE);
const maleDouble = new Weighted(MALE_DOUBLE);
const femaleDouble = new Weighted(FEMALE_DOUBLE);
const modernMale = new Weighted(MODERN_MALE);
const modernFemale = new Weighted(MODERN_FEMALE);
const headAges = new Weighted(PYRAMID.map((w, i) => [i, i < 4 ? 0 : i === 4 ? w * 0.5 : w] as const));
const OTHER_REGIONS = ['330522', '330521', '330502', '330503', '341882', '411521'];
const MOBILE_PREFIXES = ['130', '131', '132', '133', '135', '136', '137', '138', '139', '150', '151', '152', '157', '158', '159', '177', '180', '181', '183', '187', '188', '189', '199'];

/** Per-chunk allocator of GB 11643 sequence numbers: unique across chunks because the chunk index is part of it. */
export class IdAllocator {
  private used = new Map<string, number>();
  private readonly chunk: number;
  private readonly chunks: number;
  constructor(chunk: number, chunks: number) {
    this.chunk = chunk;
    this.chunks = chunks;
  }

  /** Returns [birthDay, 17 digits]; moves the birth a day later when the date is full. */
  alloc(region: string, birth: number, sex: Sex): [number, string] {
    for (let b = birth; ; b++) {
      const key = `${region}${b}${sex}`;
      const c = this.used.get(key) ?? 0;
      const slot = c * this.chunks + this.chunk;
      if (slot > 498) continue;
      this.used.set(key, c + 1);
      const idx = (slot * 7 + 13) % 499; // a fixed bijection on 0..498 so sequences do not reveal chunks
      const seq = sex === '1' ? idx * 2 + 1 : idx * 2 + 2;
      return [b, `${region}${compactDay(b)}${String(seq).padStart(3, '0')}`];
    }
  }
}

/** A given name in the fashion of the birth decade (traditional before 1975, modern from 2000). */
function givenName(rng: Rng, sex: Sex, birthYear: number): string {
  if (birthYear >= 2000 && !rng.chance(0.1)) {
    if (rng.chance(0.6)) return (sex === '1' ? modernMale : modernFemale).pick(rng);
    return MODERN_CHARS[rng.int(0, MODERN_CHARS.length - 1)] + MODERN_CHARS[rng.int(0, MODERN_CHARS.length - 1)];
  }
  const single = rng.chance(birthYear >= 1970 && birthYear < 2000 ? 0.28 : 0.12);
  if (single) return (sex === '1' ? maleSingle : femaleSingle).pick(rng);
  if (rng.chance(birthYear < 1975 ? 0.55 : 0.3)) return (sex === '1' ? maleDouble : femaleDouble).pick(rng);
  const chars = sex === '1' ? MALE_CHARS : FEMALE_CHARS;
  return chars[rng.int(0, chars.length - 1)] + chars[rng.int(0, chars.length - 1)];
}

export interface PersonSeed {
  sex: Sex;
  age: number;
  surname?: string;
  role: 'head' | 'spouse' | 'child' | 'parent' | 'grandchild';
}

/** Makes a person of the given sex and age (at period start) in a household. */
export function makePerson(world: World, rng: Rng, ids: IdAllocator, hh: { id: string; t: number; v: number; address: string }, idx: number, seed: PersonSeed, birthDay?: number): Person {
  const birth0 = birthDay ?? world.startDay - seed.age * 365 - rng.int(0, 364);
  const foreign = seed.role === 'spouse' && rng.chance(world.foreignShare * 3);
  const region = seed.role === 'spouse' && rng.chance(0.3) ? rng.pick(OTHER_REGIONS) : '330523';
  const [birth, first17] = ids.alloc(region, birth0, seed.sex);
  const surname = seed.surname ?? surnames.pick(rng);
  const given = givenName(rng, seed.sex, ymd(birth)[0]);
  const id = `P${String(idx).padStart(7, '0')}`;
  // Affine bijections on 0..10^8-1 keep every current number unique county-wide.
  const suffix = (k: number, mul: number) => String((idx * mul + k) % 100_000_000).padStart(8, '0');
  const p: Person = {
    id, idx, householdId: hh.id, surname, given, name: surname + given, sex: seed.sex, birth,
    residentId: first17 + residentIdCheckChar(first17),
    phone: MOBILE_PREFIXES[idx % MOBILE_PREFIXES.length] + suffix(37_460_521 + world.seed * 7919, 48271),
    oldPhone: MOBILE_PREFIXES[(idx + 7) % MOBILE_PREFIXES.length] + suffix(81_122_347 + world.seed * 104_729, 69621),
    townshipIdx: hh.t, villageIdx: hh.v, villageCode: world.county.divisions[hh.t].villages[hh.v].code, address: hh.address,
    bornInPeriod: birth >= world.startDay, migrant: false, conditions: new Map(), control: rng.next(),
  };
  if (foreign) {
    const [family, g, nat] = rng.pick(FOREIGN_NAMES);
    p.foreign = { family, given: g, nationality: nat, passport: `${nat.slice(0, 1)}${String(rng.int(10_000_000, 99_999_999))}` };
    p.name = `${family} ${g}`;
    p.surname = family;
    p.given = g;
    p.residentId = '';
  }
  return p;
}

/** Generates the households of one chunk until it holds exactly `quota` persons (newborns of the period included). */
export function generateHouseholds(world: World, chunk: number, rng: Rng, ids: IdAllocator, quota: number): Household[] {
  const out: Household[] = [];
  let count = 0;
  let hhNo = 0;
  const base = chunk * world.chunkSize;
  while (count < quota) {
    const [t, v] = world.villages.pick(rng);
    const town = world.county.divisions[t];
    const village = town.villages[v];
    const hhId = `H${String(chunk).padStart(4, '0')}${String(hhNo++).padStart(5, '0')}`;
    const vName = villageShortName(village.name);
    const address = village.kind === 'community'
      ? `浙江省湖州市安吉县${town.name}${vName}${rng.pick(['人民路', '昌硕路', '天目路', '浦源大道', '胜利路'])}${rng.int(1, 300)}号`
      : `浙江省湖州市安吉县${town.name}${vName}${rng.int(1, 12)}组${rng.int(1, 80)}号`;
    const hh = { id: hhId, t, v, address };
    const seeds = householdSeeds(rng);
    const members: Person[] = [];
    for (const s of seeds) {
      if (count >= quota) break;
      const p = makePerson(world, rng, ids, hh, base + count, s);
      if (s.role === 'child' || s.role === 'grandchild') p.surname = members[0]?.foreign ? p.surname : (members.find((m) => m.sex === '1' && !m.foreign)?.surname ?? p.surname);
      if (!p.foreign) p.name = p.surname + p.given;
      p.migrant = !p.foreign && p.bornInPeriod === false && s.age >= 18 && s.age <= 45 && rng.chance(0.3);
      members.push(p);
      count++;
    }
    // Births of the period: a married woman of 20–42 gives birth with ~9% a year (county birth rate ≈ 6‰).
    for (const mother of members.slice(0, 2)) {
      const age = (world.startDay - mother.birth) / 365.25;
      if (mother.sex !== '2' || mother.foreign || age < 20 || age > 42 || members.length < 2) continue;
      for (let y = 0; y < world.years && count < quota; y++) {
        if (!rng.chance(0.09)) continue;
        const day = world.startDay + y * 365 + rng.int(0, 364);
        if (day > world.endDay - 1) continue;
        const sex: Sex = rng.chance(0.53) ? '1' : '2';
        const baby = makePerson(world, rng, ids, hh, base + count, { sex, age: 0, role: 'child' }, day);
        baby.surname = members.find((m) => m.sex === '1' && !m.foreign)?.surname ?? mother.surname;
        baby.name = baby.surname + baby.given;
        baby.motherId = mother.id;
        members.push(baby);
        count++;
        break;
      }
    }
    out.push({ id: hhId, members });
  }
  return out;
}

function householdSeeds(rng: Rng): PersonSeed[] {
  const band = headAges.pick(rng);
  const headAge = Math.min(99, band * 5 + rng.int(0, 4));
  const headSex: Sex = rng.chance(0.78) ? '1' : '2';
  const other: Sex = headSex === '1' ? '2' : '1';
  const s: PersonSeed[] = [{ sex: headSex, age: headAge, role: 'head' }];
  const married = headAge >= 24 && rng.chance(headAge >= 75 ? 0.55 : headAge < 30 ? 0.6 : 0.88);
  if (married) s.push({ sex: other, age: Math.max(20, headAge + rng.int(-5, 3)), role: 'spouse' });
  if (headAge >= 24 && headAge < 60) {
    const kids = married ? (rng.chance(0.85) ? (rng.chance(0.45) ? 2 : 1) : 0) : rng.chance(0.2) ? 1 : 0;
    for (let i = 0; i < kids; i++) {
      const age = headAge - rng.int(23, 34);
      // Grown children mostly live and work elsewhere.
      if (age < 0 || (age >= 18 && rng.chance(0.6))) continue;
      s.push({ sex: rng.chance(0.53) ? '1' : '2', age, role: 'child' });
    }
    if (headAge < 50 && rng.chance(0.3)) {
      const pAge = headAge + rng.int(24, 32);
      if (pAge < 100) s.push({ sex: rng.chance(0.4) ? '1' : '2', age: pAge, role: 'parent' });
    }
  } else if (headAge >= 55 && rng.chance(0.22)) {
    // Left-behind grandchildren (留守儿童) whose parents work in the cities.
    const n = rng.chance(0.3) ? 2 : 1;
    for (let i = 0; i < n; i++) s.push({ sex: rng.chance(0.53) ? '1' : '2', age: rng.int(1, 14), role: 'grandchild' });
  }
  return s;
}
