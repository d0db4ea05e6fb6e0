import type { Address, HumanName, Identifier, Patient } from '@medplum/fhirtypes';
import { normalizeResidentIdText, parseResidentId } from '../standards/index.ts';
import { SYSTEMS } from '../terminology/index.ts';
import type { UnitContext } from './context.ts';
import { EXT } from './ids.ts';

/** PRC resident identity number (公民身份号码) identifier system, the OID the EMPI module uses. */
export const RESIDENT_ID_SYSTEM = 'urn:oid:2.16.156.10011.1.3';

/** A patient's facts as any channel delivers them (PID segment, 患者基本信息/健康档案 row, FHIR Patient). */
export interface PatientFacts {
  mrn: string | undefined;
  name?: string;
  /** Structured name when the source has one (HL7 XPN). */
  family?: string;
  given?: string;
  /** Local sex code or HL7 table 0001 code, with its kind. */
  sex?: { code?: string; display?: string; hl7?: boolean };
  birthDate?: string;
  /** 01 resident ID, 03 passport, 99 other (WS 364.3 CV02.01.101); undefined = guess from the number. */
  idType?: string;
  idNumber?: string;
  phone?: string;
  address?: string;
  divisionCode?: string;
  nationality?: string;
  element: (field: string) => string;
}

const COMPOUND_SURNAMES = ['欧阳', '司马', '诸葛', '上官', '东方', '皇甫', '令狐', '慕容', '夏侯', '尉迟', '公孙', '长孙', '宇文', '司徒', '轩辕', '端木', '独孤', '南宫', '西门', '呼延'];

/** A Chinese full name split into family and given (compound surnames kept whole); Latin names kept as text. */
export function chineseName(text: string): HumanName {
  const t = text.trim();
  if (!/^[\u4e00-\u9fff·]{2,}$/.test(t) || /之[子女]$|^无名氏/.test(t)) return { use: 'official', text: t };
  const fam = COMPOUND_SURNAMES.find((s) => t.startsWith(s) && t.length > s.length) ?? t[0];
  return { use: 'official', text: t, family: fam, given: [t.slice(fam.length)] };
}

const HL7_SEX: Record<string, Patient['gender']> = { M: 'male', F: 'female', O: 'other', U: 'unknown', A: 'other', N: 'unknown' };
const GB_SEX: Record<string, Patient['gender']> = { '1': 'male', '2': 'female', '0': 'unknown', '9': 'unknown' };

/**
 * Builds the institution-level Patient (identifiers: local MRN first, then the resident ID or passport), validates
 * it (birth date plausible; resident ID per GB 11643) and registers it for referential integrity. An ID that fails
 * its check digit is KEPT — as an identifier marked unverified plus a data-quality tag — rather than quarantining
 * the registration, because holding the patient would also hold every record of theirs ("nothing is lost"), while
 * the tag puts it in front of an operator ("err toward review"); the EMPI does not use it as an exact key.
 */
export async function buildPatient(ctx: UnitContext, f: PatientFacts): Promise<Patient | undefined> {
  const mrn = ctx.required(f.mrn, f.element('mrn'));
  const name = f.name?.trim() || [f.family, f.given].filter(Boolean).join('');
  if (!name) ctx.fail('missing-required', 'patient name is empty', f.element('name'));
  const birth = ctx.date(f.birthDate, f.element('birthDate'));
  if (!mrn || !name) return undefined;
  const p: Patient = { ...ctx.frame('Patient', mrn), identifier: [{ ...ctx.mrnIdentifier(mrn), type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'MR' }] } }] };
  const tags: string[] = [];
  const idRaw = f.idNumber?.trim();
  if (idRaw) {
    const looksResident = /^[\d\uFF10-\uFF19]{15}$|^[\d\uFF10-\uFF19]{17}[\dxX\uFF38\uFF58]$/.test(normalizeResidentIdText(idRaw));
    const isPassport = f.idType === '03' || (f.idType === undefined && !looksResident && /^[A-Za-z0-9]{5,20}$/.test(idRaw));
    if (isPassport) {
      p.identifier!.push({ system: SYSTEMS.passport, value: idRaw.toUpperCase(), type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'PPN' }] } });
    } else {
      const parsed = parseResidentId(idRaw);
      const id: Identifier = { system: RESIDENT_ID_SYSTEM, value: parsed?.id ?? normalizeResidentIdText(idRaw) };
      if (!parsed) {
        id.extension = [{ url: EXT.unverified, valueString: 'fails GB 11643 structure, date or check digit' }];
        tags.push('resident-id-unverified');
      }
      p.identifier!.push(id);
    }
  }
  p.name = [f.family && !f.name ? { use: 'official', text: name, family: f.family, ...(f.given ? { given: [f.given] } : {}) } : chineseName(name)];
  const sex = await mapSex(ctx, f);
  if (sex) p.gender = sex;
  if (birth) p.birthDate = birth.date;
  if (f.phone?.trim()) p.telecom = [{ system: 'phone', value: f.phone.trim(), use: /^1\d{10}$/.test(f.phone.trim()) ? 'mobile' : 'home' }];
  const address = buildAddress(ctx, f);
  if (address) p.address = [address];
  p.managingOrganization = ctx.org();
  if (tags.length) p.meta = { ...p.meta, tag: [...(p.meta?.tag ?? []), ...tags.map((code) => ({ system: EXT.dataQuality, code }))] };
  await ctx.registerPatient(mrn, p);
  ctx.patientsToMatch.push(p);
  return p;
}

async function mapSex(ctx: UnitContext, f: PatientFacts): Promise<Patient['gender'] | undefined> {
  const code = f.sex?.code?.trim();
  if (!code && !f.sex?.display) return undefined;
  if (f.sex?.hl7 && code && HL7_SEX[code.toUpperCase()]) return HL7_SEX[code.toUpperCase()];
  if (code && GB_SEX[code]) return GB_SEX[code];
  // A local sex code: through the institution's map like any local code; unmapped → unknown + review, not quarantine.
  const r = await ctx.services.mapper.map(ctx.tx, { institutionId: ctx.institutionId, kind: 'sex', code, display: f.sex?.display ?? code });
  if (r.status === 'mapped') return GB_SEX[r.coding.code];
  return 'unknown';
}

function buildAddress(ctx: UnitContext, f: PatientFacts): Address | undefined {
  const text = f.address?.trim();
  const division = f.divisionCode?.trim();
  if (!text && !division) return undefined;
  const a: Address = { use: 'home', ...(text ? { text } : {}) };
  if (division && /^\d{6,12}$/.test(division)) {
    const county = ctx.terminology.lookup(SYSTEMS.division, division.slice(0, 6));
    if (county) {
      a.district = county.display;
      const city = county.parent ? ctx.terminology.lookup(SYSTEMS.division, county.parent) : undefined;
      if (city) a.city = city.display;
      const prov = city?.parent ? ctx.terminology.lookup(SYSTEMS.division, city.parent) : undefined;
      if (prov) a.state = prov.display;
    }
    a.extension = [{ url: EXT.divisionCode, valueCode: division }];
  }
  return a;
}
