/**
 * The health and care of one person over the period: chronic conditions by age and sex, death, the health archive
 * and family-doctor contract, quarterly hypertension/diabetes follow-ups, annual check-ups from 65, the childhood
 * immunization schedule, antenatal care and delivery, outpatient and inpatient care with labs, exams,
 * prescriptions and procedures, repeat tests at another institution, and the seasonal ILI outbreak.
 */
import { CHRONIC, OUTPATIENT_MIX, prevalence } from './catalog/conditions.ts';
import { TREATS } from './catalog/drugs.ts';
import { LAB_ITEMS, LAB_PANELS } from './catalog/labs.ts';
import { VACCINES } from './catalog/vaccines.ts';
import type { CareEvent, LabOrder, Person, VisitEvent } from './model.ts';
import { Rng, Weighted } from './prng.ts';
import type { World } from './world.ts';

const mix = {
  child: new Weighted(OUTPATIENT_MIX.child),
  adult: new Weighted(OUTPATIENT_MIX.adult),
  elder: new Weighted(OUTPATIENT_MIX.elder),
};
const ageAt = (p: Person, day: number) => (day - p.birth) / 365.25;

/** Assigns chronic conditions (prevalence at the period start) and the death day, if any. */
export function assignHealth(world: World, p: Person, rng: Rng): void {
  const age = ageAt(p, world.startDay);
  for (const c of CHRONIC) {
    let prev = prevalence(c, age, p.sex);
    if (c.key === 'hypertension' && p.conditions.has('diabetes')) prev = Math.min(0.85, prev * 1.4);
    if (prev > 0 && rng.chance(prev)) {
      const diagnosed = rng.chance(c.awareness);
      // A share of the diagnosed are first diagnosed during the period.
      const onset = diagnosed && rng.chance(0.12) ? world.startDay + rng.int(0, world.endDay - world.startDay) : world.startDay - rng.int(30, 3650);
      p.conditions.set(c.key, { diagnosed, onset });
    }
  }
  // Gompertz mortality (≈8‰ crude for this pyramid), raised by chronic burden.
  const burden = 1 + 0.15 * p.conditions.size;
  for (let y = 0; y < world.years; y++) {
    const a = age + y;
    const h = 0.00002 * Math.exp(0.095 * Math.max(a, 5)) * burden + (a < 1 ? 0.003 : 0);
    if (rng.chance(h)) {
      const d = world.startDay + y * 365 + rng.int(0, 364);
      if (d > p.birth && d <= world.endDay) {
        p.death = d;
        break;
      }
    }
  }
}

const seasonal = (day: number) => 1 + 0.6 * Math.cos((2 * Math.PI * (day - 15)) / 365.25);

/** A day in [from, to] drawn with winter-peaked seasonality (respiratory illness). */
function seasonalDay(rng: Rng, from: number, to: number): number {
  for (;;) {
    const d = rng.int(from, to);
    if (rng.next() * 1.6 < seasonal(d)) return d;
  }
}

function labValue(world: World, p: Person, item: string, rng: Rng, ctx: { dx?: string; pregnant?: boolean }): number {
  const it = LAB_ITEMS[item];
  let mean = it.mean;
  let sd = it.sd;
  const has = (k: string) => p.conditions.has(k);
  if (item === 'glu' && has('diabetes')) [mean, sd] = p.control > 0.5 ? [6.8, 0.8] : [9.2, 2];
  if (item === 'hba1c' && has('diabetes')) [mean, sd] = p.control > 0.5 ? [6.6, 0.5] : [8.4, 1.2];
  if ((item === 'chol' || item === 'ldl') && has('dyslipidaemia')) mean += 1.3;
  if (item === 'tg' && has('dyslipidaemia')) mean += 1;
  if (item === 'crea' && has('ckd')) [mean, sd] = [145, 45];
  if (item === 'crea' && p.sex === '2') mean -= 15;
  if (item === 'hgb' && p.sex === '2') mean -= 15;
  if (item === 'hgb' && ctx.pregnant) mean = 112;
  if ((item === 'wbc' || item === 'neut') && (ctx.dx === 'pneumonia' || ctx.dx === 'copd_exac')) mean = item === 'wbc' ? 12.5 : 82;
  const v = Math.max(it.decimals ? 10 ** -it.decimals : 1, rng.normal(mean, sd));
  return Number(v.toFixed(it.decimals));
}

function order(world: World, p: Person, panel: string, day: number, rng: Rng, ctx: { dx?: string; pregnant?: boolean }): LabOrder {
  return { panel, day, minute: rng.int(7 * 60 + 30, 11 * 60), results: LAB_PANELS[panel].items.map((item) => ({ item, value: labValue(world, p, item, rng, ctx) })) };
}

/** Generates every care event of a person, sorted by day. `babies` are the person's children born in the period. */
export function careEvents(world: World, p: Person, babies: Person[], rng: Rng, birthInst?: number): CareEvent[] {
  const ev: CareEvent[] = [];
  const from = Math.max(world.startDay, p.birth);
  const to = Math.min(world.endDay, p.death ?? world.endDay);
  if (to < from) return ev;
  const R = world.roles;
  const clinic = R.villageClinics.get(p.villageCode);
  const centre = R.centres[p.townshipIdx];
  const ageStart = ageAt(p, from);
  const presence = p.migrant ? 0.2 : 1;
  const visit = (inst: number, cls: VisitEvent['cls'], day: number, dept: string, dx: string[]): VisitEvent => {
    const v: VisitEvent = { kind: 'visit', inst, cls, day, minute: rng.int(8 * 60, 17 * 60), dept, dx, labs: [], exams: [], rx: [], procs: [] };
    ev.push(v);
    return v;
  };
  const prescribe = (v: VisitEvent, key: string, n: number) => {
    const opts = TREATS[key];
    if (!opts) return;
    for (let i = 0; i < n; i++) {
      const d = rng.pick(opts);
      if (!v.rx.includes(d)) v.rx.push(d);
    }
  };

  // Health archive (建档) and family-doctor contract (签约).
  const elderOrChronic = ageStart >= 65 || [...p.conditions.values()].some((c) => c.diagnosed);
  const hasArchive = !p.foreign && rng.chance(p.migrant ? 0.6 : 0.9);
  if (hasArchive) {
    const day = p.bornInPeriod ? Math.min(to, p.birth + rng.int(7, 60)) : from + rng.int(0, 90);
    const contracted = rng.chance(elderOrChronic ? 0.75 : 0.3);
    ev.push({ kind: 'archive', day, contractDay: contracted ? Math.min(to, day + rng.int(0, 120)) : undefined });
  }

  // Quarterly follow-ups of diagnosed hypertension and diabetes (国家基本公共卫生服务规范, 4 a year).
  if (hasArchive) {
    for (const disease of ['hypertension', 'diabetes'] as const) {
      const c = p.conditions.get(disease);
      if (!c?.diagnosed) continue;
      for (let q = Math.max(from, c.onset + 14); q <= to; q += 91) {
        if (!rng.chance(0.85 * (p.migrant ? 0.3 : 1))) continue;
        const day = Math.min(to, q + rng.int(0, 20));
        const good = rng.chance(0.3 + 0.55 * p.control);
        ev.push({
          kind: 'followup', day, disease, controlled: good, method: rng.pick(['1', '1', '2', '3'] as const),
          sbp: Math.round(good ? rng.normal(128, 7) : rng.normal(154, 11)), dbp: Math.round(good ? rng.normal(78, 6) : rng.normal(94, 8)),
          fpg: Number((disease === 'diabetes' ? (good ? rng.normal(6.2, 0.5) : rng.normal(8.9, 1.5)) : rng.normal(5.3, 0.5)).toFixed(1)),
          weight: Number(rng.normal(p.sex === '1' ? 68 : 58, 8).toFixed(1)), hr: Math.round(rng.normal(74, 8)),
        });
      }
    }
  }

  // Annual check-up for residents 65+ (老年人健康管理).
  for (let y = 0; y < world.years; y++) {
    const day = world.startDay + y * 365 + rng.int(90, 300);
    if (day < from || day > to || ageAt(p, day) < 65 || !hasArchive || !rng.chance(0.68)) continue;
    const htn = p.conditions.has('hypertension');
    ev.push({
      kind: 'checkup', day, height: Number(rng.normal(p.sex === '1' ? 165 : 154, 6).toFixed(1)), weight: Number(rng.normal(p.sex === '1' ? 64 : 55, 8).toFixed(1)),
      sbp: Math.round(htn ? rng.normal(146, 14) : rng.normal(124, 10)), dbp: Math.round(htn ? rng.normal(86, 9) : rng.normal(76, 7)),
      fpg: labValue(world, p, 'glu', rng, {}), chol: labValue(world, p, 'chol', rng, {}), crea: labValue(world, p, 'crea', rng, {}),
    });
  }

  // Childhood immunizations (国家免疫规划).
  if (ageStart < 7 && !p.foreign) {
    for (const v of VACCINES) {
      v.doses.forEach((m, i) => {
        const day = p.birth + Math.round(m * 30.44) + (m === 0 ? 0 : rng.int(0, 20));
        if (day >= from && day <= to && rng.chance(0.97)) ev.push({ kind: 'imm', day, vaccine: v.key, dose: i + 1, lot: `${2020 + ((day / 365) | 0) % 6}${String(rng.int(1000, 9999))}` });
      });
    }
  }

  // Pregnancies ending in the period: antenatal care (public health + MCH hospital) and delivery.
  for (const baby of babies) {
    const conception = baby.birth - 273;
    for (const wk of [12, 18, 24, 32, 38]) {
      const day = conception + wk * 7 + rng.int(-3, 3);
      if (day < from || day > to) continue;
      ev.push({ kind: 'anc', day, weeks: wk, sbp: Math.round(rng.normal(112, 9)), dbp: Math.round(rng.normal(70, 7)), weight: Number(rng.normal(58 + wk * 0.3, 6).toFixed(1)), hgb: Math.round(rng.normal(115, 10)), edd: conception + 280 });
    }
    for (const wk of [16, 28, 36]) {
      const day = conception + wk * 7 + rng.int(-3, 3);
      if (day < from || day > to) continue;
      const v = visit(R.mch, 'AMB', day, 'obgyn', ['pregnancy']);
      v.anc = { weeks: wk, sbp: Math.round(rng.normal(112, 9)), dbp: Math.round(rng.normal(70, 7)), weight: Number(rng.normal(60 + wk * 0.3, 6).toFixed(1)) };
      v.labs.push(order(world, p, 'cbc', day, rng, { pregnant: true }));
      v.exams.push({ exam: 'obus', variant: 'normal', day });
      prescribe(v, 'pregnancy', 1);
    }
    if (baby.birth >= from && baby.birth <= to) {
      const cs = rng.chance(0.35);
      const v = visit(rng.chance(0.6) ? R.mch : R.county, 'IMP', baby.birth, 'obgyn', [cs ? 'cesarean' : 'delivery']);
      v.endDay = baby.birth + (cs ? rng.int(4, 6) : rng.int(2, 3));
      v.procs.push(cs ? 'cesarean' : 'vaginal');
      v.labs.push(order(world, p, 'cbc', baby.birth, rng, { pregnant: true }));
      v.babyId = baby.id;
    }
  }
  // A newborn appears at its birth hospital (registered under its mother; see errors.ts).
  if (p.bornInPeriod && birthInst !== undefined) ev.push({ kind: 'visit', inst: birthInst, cls: 'IMP', day: p.birth, minute: rng.int(0, 1439), dept: 'obgyn', dx: ['newborn'], labs: [], exams: [], rx: [], procs: [] });

  // Outpatient care.
  const rate = (ageStart < 5 ? 2.4 : ageStart < 15 ? 1.1 : ageStart < 45 ? 0.55 : ageStart < 65 ? 1.0 : 1.8) * presence;
  const span = (to - from + 1) / 365.25;
  const n = rng.poisson(rate * span);
  const group = ageStart < 15 ? mix.child : ageStart < 60 ? mix.adult : mix.elder;
  for (let i = 0; i < n; i++) {
    const day = seasonalDay(rng, from, to);
    let dx = group.pick(rng) as string;
    const winter = seasonal(day) > 1.4;
    if (dx === 'urti' && winter && rng.chance(0.3)) dx = 'influenza';
    const u = rng.next();
    const inst = ageStart < 14 && u < 0.25 ? R.mch : u < 0.35 && clinic !== undefined ? clinic : u < 0.68 ? centre : u < 0.88 ? R.county : u < 0.95 ? R.tcm : R.privateClinic;
    const emergency = inst === R.county && rng.chance(0.1);
    const dept = emergency ? 'emergency' : ageStart < 14 ? 'pediatrics' : inst === R.tcm ? 'tcm' : inst === R.county ? (dx === 'kneeoa' || dx === 'lowbackpain' ? 'orthopedics' : 'internal') : 'general';
    const v = visit(inst, emergency ? 'EMER' : 'AMB', day, dept, [dx]);
    if (emergency && rng.chance(world.rates.unknownEmergency)) v.unknownPatient = true;
    prescribe(v, dx, rng.int(1, 2));
    const hospitalLab = inst === R.county || inst === R.tcm || inst === R.mch;
    if ((hospitalLab && rng.chance(0.45)) || (inst === centre && rng.chance(0.15)) || (inst === R.privateClinic && rng.chance(0.1))) v.labs.push(order(world, p, 'cbc', day, rng, { dx }));
    if ((dx === 'pneumonia' || (dx === 'bronchitis' && rng.chance(0.3))) && inst !== clinic && inst !== R.privateClinic) v.exams.push({ exam: 'cxr', variant: dx === 'pneumonia' ? 'pneumonia' : p.conditions.has('copd') ? 'copd' : 'normal', day });
    if (dx === 'gastritis' && hospitalLab && rng.chance(0.2)) v.exams.push({ exam: 'abdus', variant: rng.pick(['normal', 'fattyliver', 'normal']), day });
    if (dx === 'headache' && inst === R.county && rng.chance(0.25)) v.exams.push({ exam: 'headct', variant: p.conditions.has('stroke') ? 'infarct' : 'normal', day });
  }
  // Chronic-disease outpatient visits (drug refills, monitoring labs).
  for (const [key, c] of p.conditions) {
    if (!c.diagnosed) continue;
    const k = rng.poisson(1.2 * presence * span);
    for (let i = 0; i < k; i++) {
      const day = rng.int(Math.max(from, c.onset), to);
      if (day < from) continue;
      const u = rng.next();
      const inst = u < 0.3 && clinic !== undefined ? clinic : u < 0.7 ? centre : u < 0.92 ? R.county : R.tcm;
      const dept = inst === R.county ? ({ hypertension: 'cardiology', chd: 'cardiology', diabetes: 'endocrine', copd: 'respiratory', stroke: 'neurology' } as Record<string, string>)[key] ?? 'internal' : inst === R.tcm ? 'tcm' : 'general';
      const v = visit(inst, 'AMB', day, dept, [key]);
      prescribe(v, key, rng.int(1, 2));
      if (inst === clinic) continue;
      if (key === 'diabetes' && rng.chance(0.5)) v.labs.push(order(world, p, 'glucose', day, rng, {}), order(world, p, 'hba1c', day, rng, {}));
      if ((key === 'hypertension' || key === 'dyslipidaemia') && rng.chance(0.3)) v.labs.push(order(world, p, 'lipids', day, rng, {}));
      if ((key === 'ckd' || key === 'hypertension') && rng.chance(0.25)) v.labs.push(order(world, p, 'renal', day, rng, {}));
      if (key === 'chd' && rng.chance(0.5)) v.exams.push({ exam: 'ecg', variant: rng.chance(0.4) ? 'ischemia' : 'normal', day });
    }
  }
  // Inpatient stays.
  const admitRate = (ageStart < 15 ? 0.04 : ageStart < 45 ? 0.03 : ageStart < 65 ? 0.08 : 0.2) * presence * (1 + 0.3 * p.conditions.size);
  const stays = rng.poisson(admitRate * span);
  for (let i = 0; i < stays; i++) {
    const day = seasonalDay(rng, from, to);
    const opts: string[] = ageStart >= 60 ? ['pneumonia', 'cataract', 'gallstone', 'hipfracture'] : ageStart >= 15 ? ['appendicitis', 'gallstone', 'pneumonia'] : ['pneumonia', 'appendicitis'];
    if (p.conditions.has('copd')) opts.push('copd_exac', 'copd_exac');
    if (p.conditions.has('chd')) opts.push('angina', 'angina');
    if (p.conditions.has('stroke')) opts.push('stroke');
    const dx = rng.pick(opts);
    const u = rng.next();
    const inst = u < 0.68 ? R.county : u < 0.86 ? R.tcm : centre;
    const deptOf: Record<string, string> = { pneumonia: 'respiratory', copd_exac: 'respiratory', cataract: 'ophthalmology', gallstone: 'surgery', appendicitis: 'surgery', hipfracture: 'orthopedics', angina: 'cardiology', stroke: 'neurology' };
    const v = visit(inst, 'IMP', day, deptOf[dx] ?? 'internal', [dx, ...[...p.conditions].filter(([, c]) => c.diagnosed).map(([k]) => k).slice(0, 2)]);
    v.endDay = Math.min(world.endDay, day + rng.int(3, 12));
    for (const panel of ['cbc', 'liver', 'renal', 'glucose', 'lipids']) if (panel === 'cbc' || rng.chance(0.7)) v.labs.push(order(world, p, panel, day, rng, { dx }));
    const exam = ({ pneumonia: 'cxr', copd_exac: 'cxr', gallstone: 'abdus', appendicitis: 'abdus', stroke: 'headct', angina: 'ecg' } as Record<string, string>)[dx];
    if (exam) v.exams.push({ exam, variant: ({ pneumonia: 'pneumonia', copd_exac: 'copd', gallstone: 'gallstone', stroke: 'infarct', angina: 'ischemia' } as Record<string, string>)[dx] ?? 'normal', day });
    if (ageStart >= 40) v.exams.push({ exam: 'ecg', variant: p.conditions.has('chd') ? 'ischemia' : 'normal', day });
    const proc = ({ appendicitis: 'appendectomy', gallstone: 'lapchole', cataract: 'phaco', hipfracture: 'hemiarthroplasty' } as Record<string, string>)[dx];
    if (proc && inst !== centre) v.procs.push(proc);
    prescribe(v, dx, 2);
  }
  // The ILI outbreak: extra influenza visits in one township for a few weeks.
  const ob = world.outbreak;
  if (p.townshipIdx === ob.townshipIdx && !p.migrant) {
    for (let w = 0; w < ob.days / 7; w++) {
      const day = ob.startDay + w * 7 + rng.int(0, 6);
      if (day < from || day > to || !rng.chance(ob.weeklyAttack * (ageStart < 15 || ageStart >= 65 ? 1.5 : 1))) continue;
      const v = visit(clinic !== undefined && rng.chance(0.4) ? clinic : centre, 'AMB', day, ageStart < 14 ? 'pediatrics' : 'general', ['influenza']);
      v.outbreak = true;
      prescribe(v, 'influenza', 2);
    }
  }
  // Mutual recognition: some lab panels and exams are repeated at another institution within days.
  const count = ev.length;
  for (let i = 0; i < count; i++) {
    const v = ev[i];
    if (v.kind !== 'visit' || v.cls === 'IMP' || (v.labs.length === 0 && v.exams.length === 0) || !rng.chance(0.08)) continue;
    const day = v.day + rng.int(1, 6);
    if (day > to) continue;
    const inst = v.inst === R.county ? R.tcm : R.county;
    const r = visit(inst, 'AMB', day, v.dept === 'pediatrics' ? 'pediatrics' : 'internal', v.dx.slice(0, 1));
    for (const l of v.labs) r.labs.push({ ...order(world, p, l.panel, day, rng, { dx: v.dx[0] }), repeatOf: `${v.inst}:${l.panel}:${v.day}` });
    for (const x of v.exams) r.exams.push({ ...x, day });
  }
  ev.sort((a, b) => a.day - b.day || (a.kind === 'visit' && b.kind === 'visit' ? a.minute - b.minute : 0));
  return ev;
}
