/** The fixed context every chunk is generated in: options, period, county, institutions, local catalogues, outbreak. */
import type { CountyJson } from './county-types.ts';
import { buildCountyJson } from './county.ts';
import { dayOf, isoDay } from './dates.ts';
import { buildLocalCatalog, type LocalCatalog } from './local-codes.ts';
import { DEFAULT_ERROR_RATES, type ErrorRates, type SynthOptions } from './options.ts';
import { Rng, Weighted } from './prng.ts';

export interface Outbreak {
  townshipIdx: number;
  townshipCode: string;
  startDay: number;
  /** Days the outbreak lasts (whole ISO weeks). */
  days: number;
  /** Extra ILI visit probability per resident per outbreak week. */
  weeklyAttack: number;
}

export interface World {
  seed: number;
  persons: number;
  years: number;
  chunkSize: number;
  chunks: number;
  startDay: number;
  endDay: number;
  county: CountyJson;
  villages: Weighted<readonly [number, number]>;
  rates: ErrorRates;
  foreignShare: number;
  catalogs: LocalCatalog[];
  /** Index of institutions by role. */
  roles: { county: number; tcm: number; mch: number; centres: number[]; villageClinics: Map<string, number>; privateClinic: number; publicHealth: number };
  outbreak: Outbreak;
}

export interface WorldInput {
  seed: number;
  persons: number;
  years: number;
  endDate: string;
  errorRates: Partial<ErrorRates>;
  foreignShare: number;
}

export function worldInput(o: SynthOptions): WorldInput {
  const years = o.years ?? 3;
  if (years < 1 || years > 5) throw new Error('years must be 1–5');
  for (const [k, v] of Object.entries(o.errorRates ?? {})) {
    if (!(k in DEFAULT_ERROR_RATES)) throw new Error(`unknown error rate "${k}" (known: ${Object.keys(DEFAULT_ERROR_RATES).join(', ')})`);
    if (typeof v !== 'number' || !(v >= 0 && v <= 1)) throw new Error(`error rate "${k}" must be a number in [0, 1]`);
  }
  if (o.persons !== undefined && (!Number.isInteger(o.persons) || o.persons < 1)) throw new Error('persons must be a positive integer');
  if (o.endDate !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(o.endDate)) throw new Error('endDate must be yyyy-mm-dd');
  return { seed: o.seed ?? 1, persons: o.persons ?? 20_000, years, endDate: o.endDate ?? '2025-12-31', errorRates: o.errorRates ?? {}, foreignShare: o.foreignShare ?? 0.003 };
}

/** Builds the world; pure in its input, so each worker thread builds the same one. */
export function buildWorld(input: WorldInput): World {
  const endDay = dayOf(input.endDate);
  const startDay = dayOf(`${Number(input.endDate.slice(0, 4)) - input.years + 1}-01-01`);
  const county = buildCountyJson(input.seed, input.persons, { start: isoDay(startDay), end: isoDay(endDay), today: isoDay(endDay + 1) });
  const chunkSize = Math.max(5000, Math.ceil(input.persons / 240));
  const chunks = Math.max(1, Math.ceil(input.persons / chunkSize));
  const entries: (readonly [readonly [number, number], number])[] = [];
  county.divisions.forEach((t, ti) => t.villages.forEach((v, vi) => entries.push([[ti, vi], t.kind === 'subdistrict' ? 2.2 : v.kind === 'community' ? 1.6 : 1] as const)));
  const insts = county.institutions;
  const idx = (type: string) => insts.findIndex((i) => i.type === type);
  const villageClinics = new Map<string, number>();
  insts.forEach((i, k) => {
    if (i.type === 'village-clinic') villageClinics.set(`330523${i.code.slice(7)}`, k);
  });
  const rng = new Rng(input.seed, 0x0b5e);
  // The outbreak hits a rural township for 3–4 weeks in the last winter of the period.
  const ti = 4 + rng.int(0, county.divisions.length - 5);
  const lastYear = Number(input.endDate.slice(0, 4));
  const jan = dayOf(`${lastYear}-01-01`);
  const monday = jan + ((8 - new Date(jan * 86_400_000).getUTCDay()) % 7) + 7 * rng.int(1, 4);
  return {
    seed: input.seed, persons: input.persons, years: input.years, chunkSize, chunks, startDay, endDay, county,
    villages: new Weighted(entries), rates: { ...DEFAULT_ERROR_RATES, ...input.errorRates }, foreignShare: input.foreignShare,
    catalogs: insts.map((i) => buildLocalCatalog(input.seed, i)),
    roles: {
      county: idx('county-hospital'), tcm: idx('tcm-hospital'), mch: idx('mch-hospital'),
      centres: insts.map((i, k) => (i.type === 'township-health-centre' ? k : -1)).filter((k) => k >= 0),
      villageClinics, privateClinic: idx('private-clinic'), publicHealth: idx('public-health'),
    },
    outbreak: { townshipIdx: ti, townshipCode: county.divisions[ti].code, startDay: monday, days: 7 * rng.int(3, 4), weeklyAttack: 0.04 },
  };
}
