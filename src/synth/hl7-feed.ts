/**
 * Renders visits as HL7 v2.x messages the way a hospital interface engine sends them over MLLP: ADT^A04
 * (outpatient registration) / ADT^A01 (admission) with DG1, ADT^A08 at discharge with DG1/PR1, ADT^A40 merges,
 * ORU^R01 lab and exam results (OBX-2 NM/ST/TX), ORM^O01 drug orders (ORC/RXO). Field numbering follows HL7 v2.5.1
 * chapters 2, 3, 4 and 7. Each message is framed <VT>…<FS><CR> and written to feeds/<code>/messages.hl7.
 */
import { DRUGS } from './catalog/drugs.ts';
import { EXAMS } from './catalog/exams.ts';
import { FLU_A_AG, LAB_ITEMS, LAB_PANELS, VITALS } from './catalog/labs.ts';
import { PROCEDURES } from './catalog/vaccines.ts';
import type { Hl7Profile, Institution } from './county-types.ts';
import { compactDay } from './dates.ts';
import type { Registration } from './errors.ts';
import { SYSTEMS, standardDx } from './local-codes.ts';
import type { VisitEvent } from './model.ts';
import type { TruthCode, TruthRecord } from './output.ts';
import { hl7Ts, type RenderContext } from './render-context.ts';
import { displayValue, flagOf, rangeText } from './values.ts';

const SEP = { CR: '\r', LF: '\n', CRLF: '\r\n' } as const;

/** HL7 v2 escape sequences (2.7.4): \F\ | , \S\ ^ , \T\ & , \R\ ~ , \E\ backslash. */
export function hl7Escape(v: string): string {
  return /[|^&~\\]/.test(v) ? v.replace(/[|^&~\\]/g, (c) => ({ '|': '\\F\\', '^': '\\S\\', '&': '\\T\\', '~': '\\R\\', '\\': '\\E\\' })[c]!) : v;
}
const sexHl7 = { '0': 'U', '1': 'M', '2': 'F' } as const;

function pid(inst: Institution, reg: Registration): string {
  const auth = `${inst.hl7!.sendingFacility}&${inst.mrnSystem.replace('urn:oid:', '')}&ISO`;
  const ids = [`${reg.mrn}^^^${auth}^MR`];
  if (reg.idNumber) ids.push(reg.idType === '03' ? `${reg.idNumber}^^^${reg.nationality}^PPN` : `${reg.idNumber}^^^CHN&2.16.156.10011.1.1&ISO^NNCHN`);
  const name = inst.hl7!.version === '2.4' && /^[\u4e00-\u9fff]{2,4}$/.test(reg.name) ? `${reg.name.slice(0, 1)}^${reg.name.slice(1)}` : hl7Escape(reg.name);
  const addr = reg.address ? `${hl7Escape(reg.address)}^^湖州市^浙江省^313300^CHN^H^^${reg.divisionCode}` : '';
  const phone = reg.phone ? `${reg.phone}^PRN^CP` : '';
  return `PID|1||${ids.join('~')}||${name}||${reg.birth === undefined ? '' : compactDay(reg.birth)}|${sexHl7[reg.sex]}|||${addr}||${phone}|||||||||||||||${reg.nationality}`;
}

function msh(inst: Institution, type: string, ts: string, control: string): string {
  const h = inst.hl7!;
  const charset = inst.encoding === 'gbk' ? 'GB 18030-2000' : 'UNICODE UTF-8';
  return `MSH|^~\\&|${h.sendingApplication}|${h.sendingFacility}|HEALTHBRAIN|330523|${ts}||${type}|${control}|P|${h.version}|||AL|NE|CHN|${charset}`;
}

/** Renders the HL7 messages of one visit; returns nothing, writes to the chunk output. */
export function renderVisitHl7(ctx: RenderContext, instIdx: number, reg: Registration, v: VisitEvent, previous?: Registration): void {
  const inst = ctx.inst(instIdx);
  const h = inst.hl7 as Hl7Profile;
  const cat = ctx.cat(instIdx);
  const file = `${inst.feedDir}/messages.hl7`;
  const sys = h.localCodingSystem;
  const visitId = ctx.nextId('V', 6);
  const dept = cat.dept.get(v.dept)!;
  const cls = v.cls === 'IMP' ? 'I' : v.cls === 'EMER' ? 'E' : 'O';
  const admit = hl7Ts(v.day, v.minute);
  const discharge = v.endDay !== undefined ? hl7Ts(v.endDay, 600) : '';
  const doctor = `D${String(ctx.rng.int(1, 60)).padStart(3, '0')}^${['李医生', '王医生', '张医生', '陈医生', '刘医生'][ctx.rng.int(0, 4)]}`;
  const pv1 = (withDischarge: boolean) =>
    `PV1|1|${cls}|${dept.code}^^^${h.sendingFacility}^^^^^${dept.name}||||${doctor}||||||||||||${visitId}|||||||||||||||||||||||||${admit}|${withDischarge ? discharge : ''}`;
  const z = h.zSegments.includes('ZPI') ? [`ZPI|1|${ctx.rng.pick(['城乡居民医保', '职工医保', '自费'])}|${reg.mrn}`] : [];
  const dxCodes: TruthCode[] = [];
  const dg1 = v.dx.map((k, i) => {
    const local = cat.dx.get(k)![ctx.rng.int(0, cat.dx.get(k)!.length - 1)];
    dxCodes.push({ kind: 'diagnosis', system: SYSTEMS.icd10, code: standardDx(k).code, local: local.code });
    return `DG1|${i + 1}||${local.code}^${local.name}^${sys}||${admit}|${v.cls === 'IMP' ? 'A' : 'F'}`;
  });
  const demographics: TruthCode[] = [{ kind: 'sex', system: SYSTEMS.sex, code: reg.sex === '0' ? '0' : reg.sex, local: sexHl7[reg.sex] }];
  const send = (type: string, body: string[], kind: string, codes: TruthCode[], extra: Partial<TruthRecord> = {}) => {
    const t = ctx.transmit(v.day, v.minute + 1);
    const control = ctx.nextId(h.sendingApplication.slice(0, 2));
    let segs = [msh(inst, type, t.sentTs, control), ...body];
    let malformed: string | undefined;
    if (t.malformed) {
      // A truncated message: the interface engine cut it mid-PID and lost the remaining segments.
      segs = [segs[0], segs.find((s) => s.startsWith('PID'))!.slice(0, 25)];
      malformed = 'truncated';
    }
    const framed = `\x0b${segs.join(SEP[h.segmentSeparator])}${SEP[h.segmentSeparator]}\x1c\r`;
    for (let c = 0; c < t.copies; c++) ctx.out.write(file, framed);
    ctx.out.record(inst, {
      id: `${inst.code}|${control}`, inst: inst.code, file, kind, person: reg.personId, mrn: reg.mrn, sentAt: t.sentAt,
      ...(codes.length ? { codes } : {}), ...(reg.errors.length ? { errors: reg.errors } : {}), ...(t.copies > 1 ? { copies: t.copies } : {}),
      ...(t.lateDays ? { lateDays: t.lateDays } : {}), ...(malformed ? { malformed } : {}), ...extra,
    });
  };

  if (v.cls === 'IMP') {
    send('ADT^A01^ADT_A01', [`EVN|A01|${admit}`, pid(inst, reg), pv1(false), ...dg1.slice(0, 1), ...z], 'ADT^A01', [...demographics, ...dxCodes.slice(0, 1)]);
  } else {
    send('ADT^A04^ADT_A01', [`EVN|A04|${admit}`, pid(inst, reg), pv1(false), ...dg1, ...z], 'ADT^A04', [...demographics, ...dxCodes], v.outbreak ? { outbreak: true } : {});
  }
  // Results.
  let obrN = 0;
  for (const lab of v.labs) {
    const panel = LAB_PANELS[lab.panel];
    const lp = cat.panel.get(lab.panel)!;
    const placer = ctx.nextId('LO', 6);
    const codes: TruthCode[] = [];
    const obx = lab.results.map((r, i) => {
      const item = LAB_ITEMS[r.item];
      const lc = cat.lab.get(r.item)!;
      const [val, unit] = displayValue(inst, item, r.value as number);
      codes.push({ kind: 'lab', system: SYSTEMS.loinc, code: item.loinc, local: lc.code, value: r.value, unit: item.unit });
      return `OBX|${i + 1}|NM|${lc.code}^${lc.name}^${sys}||${val}|${hl7Escape(unit)}|${rangeText(inst, item)}|${flagOf(item, r.value as number)}|||F|||${hl7Ts(lab.day, lab.minute + 90)}`;
    });
    if (v.dx[0] === 'influenza' && instIdx === ctx.world.roles.county && obrN === 0 && ctx.rng.chance(0.5)) {
      const lc = cat.lab.get(FLU_A_AG.key)!;
      const pos = v.outbreak || ctx.rng.chance(0.4);
      codes.push({ kind: 'lab', system: SYSTEMS.loinc, code: FLU_A_AG.loinc, local: lc.code, value: pos ? 'POS' : 'NEG' });
      obx.push(`OBX|${obx.length + 1}|ST|${lc.code}^${lc.name}^${sys}||${pos ? '阳性(+)' : '阴性(-)'}||阴性|${pos ? 'A' : 'N'}|||F`);
    }
    obrN++;
    const obr = `OBR|${obrN}|${placer}|${placer}R|${lp.code}^${panel.name}^${sys}|||${hl7Ts(lab.day, lab.minute)}|||||||${hl7Ts(lab.day, lab.minute)}|血液||||||||${hl7Ts(lab.day, lab.minute + 90)}||LAB|F`;
    send('ORU^R01^ORU_R01', [pid(inst, reg), pv1(false), `ORC|RE|${placer}|${placer}R`, obr, ...obx, ...z], 'ORU^R01', codes, lab.repeatOf ? { repeatOf: lab.repeatOf } : {});
  }
  for (const x of v.exams) {
    const e = EXAMS[x.exam];
    const lc = cat.exam.get(x.exam)!;
    const [findings, impression] = e.reports[x.variant] ?? e.reports.normal;
    const placer = ctx.nextId('EX', 6);
    obrN++;
    const obr = `OBR|${obrN}|${placer}|${placer}R|${lc.code}^${lc.name}^${sys}|||${hl7Ts(x.day, v.minute + 30)}||||||||${e.site}||||||||${hl7Ts(x.day, v.minute + 120)}||RAD|F`;
    send('ORU^R01^ORU_R01', [pid(inst, reg), pv1(false), `ORC|RE|${placer}|${placer}R`, obr, `OBX|1|TX|${lc.code}^${lc.name}^${sys}|1|${hl7Escape(findings)}||||||F`, `OBX|2|TX|${lc.code}^${lc.name}^${sys}|2|${hl7Escape(impression)}||||||F`, ...z], 'ORU^R01', [{ kind: 'exam', system: SYSTEMS.loinc, code: e.loinc, local: lc.code, value: x.variant }]);
  }
  if (v.anc) {
    const vit = [['gestation', v.anc.weeks], ['sbp', v.anc.sbp], ['dbp', v.anc.dbp], ['weight', v.anc.weight]] as const;
    const codes: TruthCode[] = vit.map(([k, val]) => ({ kind: 'vital', system: SYSTEMS.loinc, code: VITALS[k].loinc, value: val, unit: VITALS[k].unit }));
    const obx = vit.map(([k, val], i) => `OBX|${i + 1}|NM|${VITALS[k].loinc}^${VITALS[k].name}^LN||${val}|${VITALS[k].unit}||||F`);
    send('ORU^R01^ORU_R01', [pid(inst, reg), pv1(false), `ORC|RE|${ctx.nextId('VS', 6)}`, `OBR|1|||ANC^产前检查^${sys}|||${admit}`, ...obx, ...z], 'ORU^R01', codes);
  }
  // Drug orders.
  if (v.rx.length) {
    const placer = ctx.nextId('RX', 6);
    const codes: TruthCode[] = [];
    const segs: string[] = [];
    v.rx.forEach((k, i) => {
      const d = DRUGS[k];
      const lc = cat.drug.get(k)!;
      codes.push({ kind: 'drug', system: SYSTEMS.atc, code: d.atc, local: lc.code });
      segs.push(`ORC|NW|${placer}-${i + 1}|||||^${d.frequency}^^${admit}||${admit}|||${doctor}`, `RXO|${lc.code}^${lc.name}^${sys}|${d.dose}||${d.doseUnit}|||||||${hl7Escape(d.strength)}`);
    });
    send('ORM^O01^ORM_O01', [pid(inst, reg), pv1(false), ...segs, ...z], 'ORM^O01', codes);
  }
  if (v.cls === 'IMP') {
    const pr1 = v.procs.map((k, i) => {
      const lc = cat.proc.get(k)!;
      return `PR1|${i + 1}||${lc.code}^${lc.name}^${sys}||${hl7Ts(v.day + 1, 540)}`;
    });
    const codes: TruthCode[] = [...dxCodes, ...v.procs.map((k) => ({ kind: 'procedure', system: SYSTEMS.icd9cm3, code: PROCEDURES[k].code, local: cat.proc.get(k)!.code }))];
    send('ADT^A08^ADT_A01', [`EVN|A08|${discharge || admit}`, pid(inst, reg), pv1(true), ...dg1, ...pr1, ...z], 'ADT^A08', codes);
  }
  // The registrar later merges a duplicate MRN into the first one (ADT^A40, MRG-1 = the retired MRN).
  if (previous && ctx.rng.chance(0.5)) {
    const auth = `${h.sendingFacility}&${inst.mrnSystem.replace('urn:oid:', '')}&ISO`;
    send('ADT^A40^ADT_A39', [`EVN|A40|${admit}`, pid(inst, previous), `MRG|${reg.mrn}^^^${auth}^MR`], 'ADT^A40', [], { mergedMrn: reg.mrn });
  }
}

