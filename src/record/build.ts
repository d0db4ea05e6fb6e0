/**
 * Rows of the person's record (facts.ts) → the summary's items (summary-types.ts). Pure functions: each item keeps
 * its FHIR reference, its source institution and its clinically relevant date.
 */
import type { Terminology } from '../terminology/index.ts';
import type { FactRow } from './facts.ts';
import { labSeries, type RawPoint } from './labs.ts';
import type {
  Allergy, Coding, Encounter, EncounterClass, ExamReport, FollowUp, Immunization, InstitutionRef, Medication, Problem,
} from './summary-types.ts';

type J = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- projected FHIR JSON

const RECORD_KIND = 'https://healthbrain.cn/fhir/CodeSystem/record-kind';
const CHRONIC = /^(I1[0-5]|E1[0-4]|J4[45]|I2[0-5]|I6\d|N18|C\d\d|F2\d|B18)/;

export interface Items {
  problems: Problem[];
  allergies: Allergy[];
  medications: Medication[];
  encounters: Encounter[];
  labs: ReturnType<typeof labSeries>;
  exams: ExamReport[];
  immunizations: Immunization[];
  followUps: FollowUp[];
  /** The newest Patient row's address (for the demographics). */
  address?: J;
}

function coding(cc: J | undefined, fallback = ''): Coding {
  const c = cc?.coding?.[0] ?? cc ?? {};
  return { system: c.system ?? '', code: c.code ?? '', display: c.display ?? cc?.text ?? fallback };
}

const byDateDesc = <T extends { date: string }>(a: T, b: T) => b.date.localeCompare(a.date);

/** Builds every section from the rows. */
export function buildItems(rows: FactRow[], terminology?: Terminology): Items {
  const out: Items = { problems: [], allergies: [], medications: [], encounters: [], labs: [], exams: [], immunizations: [], followUps: [] };
  const inst = (r: FactRow): InstitutionRef => ({ id: r.inst ?? '', name: r.inst_name ?? r.inst ?? '' });
  const fallbackDate = (r: FactRow) => r.updated;
  const points: RawPoint[] = [];
  const encDiagnosis = new Map<string, { coding: Coding; principal: boolean }>();
  const followObs = new Map<string, { assessment?: string; next?: string }>();
  const problems = new Map<string, Problem>();
  let addressDate = '';
  const encounterRows: FactRow[] = [];

  for (const r of rows) {
    const f = r.f as J;
    const ref = `${r.t}/${r.id}`;
    switch (r.t) {
      case 'Patient':
        if (f.address && r.updated > addressDate) {
          out.address = f.address;
          addressDate = r.updated;
        }
        break;
      case 'Observation': {
        const code = f.code as J | undefined;
        if (code?.system === RECORD_KIND && f.enc) {
          const slot = followObs.get(f.enc) ?? {};
          if (code.code === 'followup-class') slot.assessment = f.vcc?.coding?.[0]?.code;
          if (code.code === 'next-followup-date') slot.next = f.vdt;
          followObs.set(f.enc, slot);
          break;
        }
        const q = f.q as J | undefined;
        if (q && typeof q.value === 'number' && (f.cat === 'laboratory' || f.cat === 'vital-signs' || !f.cat)) {
          points.push({ ref, institution: inst(r), date: f.eff ?? fallbackDate(r), code: code ?? {}, value: q.value, unit: q.code ?? q.unit, interpretation: f.interp ?? undefined, range: f.rr ?? undefined });
        }
        break;
      }
      case 'Condition': {
        const status = f.clinicalStatus?.coding?.[0]?.code ?? 'active';
        const c = coding(f.code);
        const date = f.recordedDate ?? f.onsetDateTime ?? f.onsetPeriod?.start ?? fallbackDate(r);
        if (f.encounter?.reference) {
          const principal = (f.category ?? []).some((x: J) => x.text === '主要诊断');
          const had = encDiagnosis.get(f.encounter.reference);
          if (!had || (principal && !had.principal)) encDiagnosis.set(f.encounter.reference, { coding: c, principal });
        }
        if (!['active', 'recurrence', 'relapse'].includes(status)) break;
        const key = `${c.system}|${c.code || c.display}`;
        const had = problems.get(key);
        if (!had || date > had.date) {
          problems.set(key, { ref, institution: inst(r), date, code: c, clinicalStatus: status, ...(CHRONIC.test(c.code) ? { chronic: true } : {}) });
        }
        break;
      }
      case 'AllergyIntolerance': {
        const reaction = f.reaction?.[0]?.manifestation?.[0];
        out.allergies.push({
          ref, institution: inst(r), date: f.recordedDate ?? f.onsetDateTime ?? fallbackDate(r), substance: coding(f.code),
          ...(f.criticality ? { criticality: f.criticality } : {}),
          ...(reaction ? { reaction: reaction.text ?? reaction.coding?.[0]?.display } : {}),
        });
        break;
      }
      case 'MedicationRequest': {
        if (f.status === 'entered-in-error') break;
        const date = f.authoredOn ?? fallbackDate(r);
        const days = f.dispenseRequest?.expectedSupplyDuration?.value;
        const end = typeof days === 'number' && f.authoredOn ? new Date(Date.parse(f.authoredOn.length === 10 ? f.authoredOn + 'T00:00:00Z' : f.authoredOn) + days * 86_400_000).toISOString().slice(0, 10) : undefined;
        const status = (['active', 'completed', 'stopped', 'on-hold'].includes(f.status) ? f.status : f.status === 'cancelled' ? 'stopped' : 'unknown') as Medication['status'];
        out.medications.push({
          ref, institution: inst(r), date, medication: coding(f.medicationCodeableConcept, f.medicationReference?.display),
          ...(f.dosageInstruction?.[0]?.text ? { dosage: f.dosageInstruction[0].text } : {}), status, ...(end ? { end } : {}),
        });
        break;
      }
      case 'Encounter':
        encounterRows.push(r);
        break;
      case 'DiagnosticReport': {
        if (f.cat === 'LAB') break;
        const title = f.code?.text ?? f.code?.coding?.[0]?.display ?? '检查报告';
        out.exams.push({
          ref, institution: inst(r), date: f.eff ?? f.issued ?? fallbackDate(r), modality: modalityOf(f.code, title, f.cat), title,
          findings: f.form ? Buffer.from(f.form, 'base64').toString('utf8') : '', conclusion: f.concl ?? '',
        });
        break;
      }
      case 'Immunization': {
        const dose = f.protocolApplied?.[0]?.doseNumberPositiveInt;
        out.immunizations.push({
          ref, institution: inst(r), date: f.occurrenceDateTime ?? fallbackDate(r), vaccine: coding(f.vaccineCode),
          ...(typeof dose === 'number' ? { doseNumber: dose } : {}), ...(f.lotNumber ? { lotNumber: f.lotNumber } : {}),
        });
        break;
      }
    }
  }

  for (const r of encounterRows) {
    const f = r.f as J;
    const ref = `Encounter/${r.id}`;
    const date = f.period?.start ?? fallbackDate(r);
    const program = (f.type ?? []).map((t: J) => t.coding?.[0]).find((c: J | undefined) => c?.system?.endsWith('bphs-followup-program'));
    const practitioner = f.participant?.[0]?.individual?.display;
    const dx = encDiagnosis.get(ref)?.coding ?? (f.reasonCode?.[0]?.coding ? coding(f.reasonCode[0]) : undefined);
    out.encounters.push({
      ref, institution: inst(r), date, class: program ? 'public-health' : classOf(f.class?.code),
      ...(f.serviceType ? { department: f.serviceType.text ?? f.serviceType.coding?.[0]?.display } : {}),
      ...(dx ? { diagnosis: dx } : {}), ...(f.period?.end ? { end: f.period.end } : {}), ...(practitioner ? { practitioner } : {}),
    });
    if (program) {
      const method = (f.type ?? []).map((t: J) => t.coding?.[0]).find((c: J | undefined) => c?.system?.endsWith('bphs-followup-method'))?.code;
      const obs = followObs.get(ref) ?? {};
      out.followUps.push({
        ref, institution: inst(r), date, programme: program.display ?? program.code,
        ...(METHOD[method] ? { method: METHOD[method] } : {}), ...(ASSESSMENT[obs.assessment ?? ''] ? { assessment: ASSESSMENT[obs.assessment!] } : {}),
        ...(obs.next ? { nextDue: obs.next } : {}), ...(practitioner ? { practitioner } : {}),
      });
    }
  }

  out.problems = [...problems.values()].sort(byDateDesc);
  out.allergies.sort(byDateDesc);
  out.medications.sort(byDateDesc);
  out.encounters.sort(byDateDesc);
  out.exams.sort(byDateDesc);
  out.immunizations.sort(byDateDesc);
  out.followUps.sort(byDateDesc);
  out.labs = labSeries(points, terminology);
  return out;
}

const METHOD: Record<string, FollowUp['method']> = { '1': 'clinic', '2': 'home', '3': 'phone', '4': 'online' };
const ASSESSMENT: Record<string, FollowUp['assessment']> = { '1': 'controlled', '2': 'uncontrolled', '3': 'adverse-reaction', '4': 'complication' };

function classOf(code: string | undefined): EncounterClass {
  switch (code) {
    case 'IMP': case 'ACUTE': case 'NONAC': case 'OBSENC': return 'inpatient';
    case 'EMER': return 'emergency';
    case 'HH': return 'home';
    default: return 'outpatient';
  }
}

function modalityOf(code: J | undefined, title: string, cat: string | undefined): string {
  const text = `${title} ${(code?.coding ?? []).map((c: J) => `${c.code ?? ''} ${c.display ?? ''}`).join(' ')}`;
  if (/CT|计算机断层/i.test(text)) return 'CT';
  if (/MR|磁共振/i.test(text)) return 'MR';
  if (/超声|彩超|B超|US/i.test(text)) return 'US';
  if (/心电|ECG|EKG/i.test(text)) return 'ECG';
  if (/X线|DR|胸片|CR|XR/i.test(text)) return 'DR';
  if (/内镜|胃镜|肠镜/i.test(text)) return 'ES';
  return cat === 'RAD' ? 'RAD' : cat ?? 'OTH';
}
