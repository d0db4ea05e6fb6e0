/**
 * Evaluation tooling (tests and `bench/empi.ts`, never the platform's ingestion path): reads the Patients of a
 * synthetic county's feeds — FHIR Bundles, HL7 v2 PID segments, core-table CSV patient and health-archive rows — as
 * the institution-level Patients the platform would store, keyed `<institution code>|<MRN>` like truth/mrns.csv.
 * Also reads the truth (patient key → true person) and the ADT^A40 merges the feeds contain.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Patient } from '@medplum/fhirtypes';
import { parse } from 'csv-parse/sync';
import iconv from 'iconv-lite';
import { coreTable, findCoreColumn } from '../standards/core-tables.ts';
import { RESIDENT_ID_SYSTEM, type MatchInput } from './features.ts';

interface CountyLite {
  institutions: Array<{ code: string; format: 'fhir' | 'hl7v2' | 'csv'; encoding: 'utf-8' | 'gbk'; feedDir: string; mrnSystem: string; csv?: { delimiter: string; headerLanguage: 'zh' | 'en' } }>;
}

function decode(buf: Buffer, encoding: string): string {
  return (encoding === 'gbk' ? iconv.decode(buf, 'gbk') : buf.toString('utf8')).replace(/^\uFEFF/, '');
}

const GENDER: Record<string, Patient['gender']> = { M: 'male', F: 'female', '1': 'male', '2': 'female', O: 'other', U: 'unknown', '0': 'unknown', '9': 'unknown' };

function hl7Patient(msg: string, mrnSystem: string): { mrn: string; patient: Patient; merge?: string } | undefined {
  const segs = msg.split(/\r\n|\r|\n/);
  const pid = segs.find((s) => s.startsWith('PID|'))?.split('|');
  if (!pid) return undefined;
  const ids = (pid[3] ?? '').split('~').map((rep) => rep.split('^'));
  const mrn = ids.find((c) => c[4] === 'MR')?.[0] ?? ids[0]?.[0];
  if (!mrn) return undefined;
  const identifier: NonNullable<Patient['identifier']> = [{ system: mrnSystem, value: mrn, type: { coding: [{ code: 'MR' }] } }];
  for (const c of ids) {
    if (c[4] === 'NNCHN' && c[0]) identifier.push({ system: RESIDENT_ID_SYSTEM, value: c[0] });
    if (c[4] === 'PPN' && c[0]) identifier.push({ system: 'urn:passport', value: c[0], type: { coding: [{ code: 'PPN' }] } });
  }
  const [family, given] = (pid[5] ?? '').split('~')[0].split('^');
  const latin = /[A-Za-z]/.test(family + (given ?? ''));
  const addr = (pid[11] ?? '').split('~')[0].split('^');
  const patient: Patient = {
    resourceType: 'Patient',
    identifier,
    name: [{ text: latin ? `${family} ${given ?? ''}`.trim() : `${family}${given ?? ''}` }],
    ...(pid[7] ? { birthDate: pid[7].slice(0, 8).replace(/^(\d{4})(\d{2})(\d{2})$/, '$1-$2-$3') } : {}),
    ...(pid[8] && GENDER[pid[8]] ? { gender: GENDER[pid[8]] } : {}),
    ...(pid[13] ? { telecom: [{ system: 'phone', value: pid[13].split('^')[0] }] } : {}),
    ...(addr[0] ? { address: [{ text: addr[0], ...(addr[8] ? { extension: [{ url: 'urn:division', valueCode: addr[8] }] } : {}) }] } : {}),
  };
  const mrg = segs.find((s) => s.startsWith('MRG|'))?.split('|')[1]?.split('^')[0];
  return { mrn, patient, ...(mrg ? { merge: mrg } : {}) };
}

function csvPatients(text: string, delimiter: string, table: 'patient' | 'health_archive', mrnSystem: string): Array<{ mrn: string; patient: Patient }> {
  const rows = parse(text, { delimiter, relax_column_count: true, skip_empty_lines: true }) as string[][];
  if (!rows.length) return [];
  const t = coreTable(table)!;
  const keys = rows[0].map((h) => findCoreColumn(t, h)?.key ?? h);
  const out: Array<{ mrn: string; patient: Patient }> = [];
  for (const row of rows.slice(1)) {
    if (row.length !== keys.length) continue;
    const v = Object.fromEntries(keys.map((k, i) => [k, row[i]]));
    const mrn = v.patient_local_id || v.archive_no;
    if (!mrn) continue;
    const identifier: NonNullable<Patient['identifier']> = [{ system: mrnSystem, value: mrn, type: { coding: [{ code: 'MR' }] } }];
    if (v.id_number) identifier.push(v.id_type === '03' ? { system: 'urn:passport', value: v.id_number, type: { coding: [{ code: 'PPN' }] } } : { system: RESIDENT_ID_SYSTEM, value: v.id_number });
    out.push({
      mrn,
      patient: {
        resourceType: 'Patient',
        identifier,
        ...(v.name ? { name: [{ text: v.name }] } : {}),
        ...(v.birth_date ? { birthDate: v.birth_date } : {}),
        ...(v.sex_code && GENDER[v.sex_code] ? { gender: GENDER[v.sex_code] } : {}),
        ...(v.phone ? { telecom: [{ system: 'phone', value: v.phone }] } : {}),
        ...(v.address || v.division_code ? { address: [{ text: v.address, ...(v.division_code ? { extension: [{ url: 'urn:division', valueCode: v.division_code }] } : {}) }] } : {}),
      },
    });
  }
  return out;
}

export interface SynthPatients {
  inputs: MatchInput[];
  /** ADT^A40 merges found: [surviving patient key, prior patient key]. */
  merges: Array<[string, string]>;
}

/** Every institution-level Patient of a synthetic county's feeds, first registration per (institution, MRN). */
export function readSynthPatients(dir: string): SynthPatients {
  const county = JSON.parse(readFileSync(join(dir, 'county.json'), 'utf8')) as CountyLite;
  const seen = new Map<string, MatchInput>();
  const merges: Array<[string, string]> = [];
  const add = (inst: string, mrn: string, patient: Patient) => {
    const key = `${inst}|${mrn}`;
    if (!seen.has(key)) seen.set(key, { patient: { ...patient, id: key }, patientKey: key, institutionId: inst });
  };
  for (const inst of county.institutions) {
    const d = join(dir, inst.feedDir);
    for (const f of readdirSync(d).sort()) {
      const file = join(d, f);
      if (f.endsWith('.ndjson')) {
        for (const line of readFileSync(file, 'utf8').split('\n')) {
          if (!line.trim()) continue;
          let b: { entry?: Array<{ resource?: Patient }> };
          try {
            b = JSON.parse(line);
          } catch {
            continue; // a malformed bundle: the platform quarantines it
          }
          for (const e of b.entry ?? []) {
            const p = e.resource;
            if (p?.resourceType !== 'Patient') continue;
            const mrn = p.identifier?.find((i) => i.type?.coding?.some((c) => c.code === 'MR'))?.value;
            if (mrn) add(inst.code, mrn, p);
          }
        }
      } else if (f.endsWith('.hl7')) {
        const text = decode(readFileSync(file), inst.encoding);
        for (const raw of text.split('\x1c')) {
          const msg = raw.replace(/^[\r\n]*\x0b/, '');
          if (!msg.includes('PID|')) continue;
          const r = hl7Patient(msg, inst.mrnSystem);
          if (!r) continue;
          add(inst.code, r.mrn, r.patient);
          if (r.merge) merges.push([`${inst.code}|${r.mrn}`, `${inst.code}|${r.merge}`]);
        }
      } else if (f === 'patient.csv' || f === 'health_archive.csv') {
        const text = decode(readFileSync(file), inst.encoding);
        for (const r of csvPatients(text, inst.csv?.delimiter ?? ',', f === 'patient.csv' ? 'patient' : 'health_archive', inst.mrnSystem)) add(inst.code, r.mrn, r.patient);
      }
    }
  }
  return { inputs: [...seen.values()], merges };
}

/** truth/mrns.csv as patient key (`<inst>|<mrn>`) → true person id. */
export { loadTruth as readSynthTruth } from './truth.ts';
