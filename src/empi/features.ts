/**
 * From an institution-level FHIR R4 Patient to the normalised features the matcher compares. One row of
 * `empi_record` per Patient (patient_key = Patient.id at its institution).
 */
import type { Address, HumanName, Identifier, Patient } from '@medplum/fhirtypes';
import type { FieldCrypto } from '../crypto/index.ts';
import { normalizeAddress } from './normalize/address.ts';
import { normalizeBirthDate } from './normalize/date.ts';
import { normalizePassport, normalizeResidentId } from './normalize/identifier.ts';
import { normalizeName, type NameKind } from './normalize/name.ts';
import { normalizePhone } from './normalize/phone.ts';
import { normalizeSex } from './normalize/sex.ts';
import { encryptIdentifier, identifierIndex, passportVariants, residentIdVariants } from './protect.ts';

/** OID of the PRC resident identity card number (公民身份号码) in the national health information identifiers. */
export const RESIDENT_ID_SYSTEM = 'urn:oid:2.16.156.10011.1.3';
/**
 * Exact OIDs senders use for the resident ID (exact match: a local MRN system such as 2.16.156.10011.1.330523A001.mrn
 * shares the prefix). The synthetic county's FHIR feeds use …1.1; the platform's standardization writes …1.3.
 */
const RESIDENT_ID_OIDS = new Set(['2.16.156.10011.1.3', '2.16.156.10011.1.1']);
/** Our electronic health card (电子健康卡) numbers and golden person ids. */
export const HEALTH_CARD_SYSTEM = 'urn:healthbrain:ehc';
export const PERSON_ID_SYSTEM = 'urn:healthbrain:person';

export interface MatchInput {
  patient: Patient;
  /** The stored Patient's id (its key in the FHIR store and in every clinical row). */
  patientKey: string;
  institutionId: string;
}

/** The comparable facts of one source record. Nullable fields are "not known", never "disagrees". */
export interface RecordFeatures {
  patientKey: string;
  institutionId: string;
  localSystem: string | null;
  localValue: string | null;
  residentId: string | null;
  residentIdValid: boolean;
  name: string | null;
  nameKind: NameKind | null;
  namePinyin: string | null;
  nameInitials: string | null;
  motherName: string | null;
  birthDate: string | null;
  sex: 'M' | 'F' | null;
  phone: string | null;
  village: string | null;
  township: string | null;
  passport: string | null;
  /** Every identifier as `system|value`, for PIX. */
  identifiers: string[];
  // The keyed forms the matcher compares and looks up (protect.ts): the resident ID, phone, passport and identifier
  // values above are SM4 ciphertexts (display only) once features are computed — in memory as in empi_record.
  /** Blind index of the resident ID (exact level, blocking, lookups). */
  ridBi: string | null;
  /** Keyed one-position-masked variants of the resident ID (one-digit level), by position. */
  ridNear: string[] | null;
  /** Keyed form of the resident ID itself, then of its 17 adjacent swaps (transposition level). */
  ridSwaps: string[] | null;
  /** The birth date is the one the (valid) resident ID encodes (golden record quality). */
  ridDob: boolean;
  phoneBi: string | null;
  passportBi: string | null;
  /** Keyed one-position-masked variants of the passport number (one-character level). */
  passportNear: string[] | null;
  /** Blind indexes of `identifiers` (PIX lookups by identifier). */
  identifierBis: string[];
  /** In memory only, for an incoming Patient: region code of its valid resident ID (a new person's health card). */
  region?: string;
}

export function isResidentIdIdentifier(id: Identifier): boolean {
  const sys = (id.system ?? '').toLowerCase();
  const codes = (id.type?.coding ?? []).map((c) => (c.code ?? '').toUpperCase());
  return (
    RESIDENT_ID_OIDS.has(sys.replace(/^urn:oid:/, '')) ||
    /resident|id-?card|sfz|shenfenzheng|citizen|nnchn/.test(sys) ||
    codes.includes('NNCHN') ||
    codes.includes('CZ') ||
    codes.includes('NI')
  );
}

export function isPassportIdentifier(id: Identifier): boolean {
  const sys = (id.system ?? '').toLowerCase();
  const codes = (id.type?.coding ?? []).map((c) => (c.code ?? '').toUpperCase());
  return sys.includes('passport') || codes.includes('PPN') || /permanent-resident|foreigner|\bprc-pr\b/.test(sys);
}

function nameText(n: HumanName): string {
  if (n.text) return n.text;
  const family = n.family ?? '';
  const given = (n.given ?? []).join(' ');
  // Chinese names are written family-first without a space; Latin ones keep a space (the key sorts tokens anyway).
  return /[\u3400-\u9fff]/.test(family + given) ? family + given.replace(/\s+/g, '') : `${family} ${given}`.trim();
}

function pickName(names: HumanName[] | undefined): string | undefined {
  if (!names?.length) return undefined;
  const live = names.filter((n) => n.use !== 'old');
  const best = live.find((n) => n.use === 'official') ?? live.find((n) => n.use === 'usual') ?? live[0] ?? names[0];
  return nameText(best);
}

function addressCodes(a: Address): string[] {
  const codes: string[] = [];
  for (const e of a.extension ?? []) {
    const v = e.valueCode ?? e.valueString ?? e.valueCoding?.code;
    if (v) codes.push(v);
  }
  for (const v of [a.district, a.postalCode, a.city]) if (v && /^\d{9,12}$/.test(v)) codes.push(v);
  return codes;
}

/**
 * Normalises every compared field of a FHIR Patient and derives, with the database's crypto, the keyed forms the
 * matcher compares (the clear values never leave this function: see protect.ts).
 */
export function featuresOf(input: MatchInput, crypto: FieldCrypto): RecordFeatures {
  return protectFeatures(plainFeaturesOf(input), crypto);
}

export type PlainFeatures = Omit<RecordFeatures, 'ridBi' | 'ridNear' | 'ridSwaps' | 'ridDob' | 'phoneBi' | 'passportBi' | 'passportNear' | 'identifierBis'>;

/** The stored form of clear features: ciphertexts for display, blind indexes and keyed variants for matching. */
export function protectFeatures(p: PlainFeatures, crypto: FieldCrypto): RecordFeatures {
  const rid = p.residentId;
  const v = rid ? residentIdVariants(crypto, rid) : undefined;
  // An identifier without a system that carries the resident ID is not a record number: not kept in clear as one.
  const localIsId = p.localValue !== null && !!rid && normalizeResidentId(p.localValue)?.id === rid;
  return {
    ...p,
    ...(localIsId ? { localSystem: null, localValue: null } : {}),
    residentId: rid ? crypto.encrypt(rid) : null,
    ...phoneFields(crypto, p.phone),
    passport: p.passport ? crypto.encrypt(p.passport) : null,
    // The record's own number (local_system|local_value, in clear in those columns for record search and A40) is
    // left as it is; every other identifier value — resident ID, passport, other numbers — is encrypted.
    identifiers: p.identifiers.map((i) => (!localIsId && p.localValue !== null && i === `${p.localSystem ?? ''}|${p.localValue}` ? i : encryptIdentifier(crypto, i))),
    ridBi: rid ? crypto.blindIndex('resident-id', rid) : null,
    ridNear: v?.near ?? null,
    ridSwaps: v?.swaps ?? null,
    ridDob: !!rid && p.residentIdValid && p.birthDate?.replace(/-/g, '') === rid.slice(6, 14),
    passportBi: p.passport ? crypto.blindIndex('passport', p.passport) : null,
    passportNear: p.passport ? passportVariants(crypto, p.passport) : null,
    identifierBis: p.identifiers.map((i) => identifierIndex(crypto, i)),
    region: rid && p.residentIdValid ? rid.slice(0, 6) : '000000',
  };
}

/** The stored phone fields of a normalised phone number: its ciphertext and blind index. */
export function phoneFields(crypto: FieldCrypto, phone: string | null): Pick<RecordFeatures, 'phone' | 'phoneBi'> {
  return phone ? { phone: crypto.encrypt(phone), phoneBi: crypto.blindIndex('phone', phone) } : { phone: null, phoneBi: null };
}

/** The clear normalised features (never stored). */
function plainFeaturesOf(input: MatchInput): PlainFeatures {
  const p = input.patient;
  const ids = p.identifier ?? [];
  let resident = undefined as ReturnType<typeof normalizeResidentId>;
  for (const id of ids) if (isResidentIdIdentifier(id)) resident ??= normalizeResidentId(id.value);
  // A sender that forgot the system still often puts the ID number in an identifier: accept a valid one.
  for (const id of ids) {
    if (resident) break;
    const r = normalizeResidentId(id.value);
    if (r?.valid) resident = r;
  }
  let passport: string | undefined;
  for (const id of ids) if (isPassportIdentifier(id)) passport ??= normalizePassport(id.value);
  const local = ids.find((id) => !isResidentIdIdentifier(id) && !isPassportIdentifier(id) && id.value);
  const name = normalizeName(pickName(p.name));
  const phones = (p.telecom ?? [])
    .filter((t) => t.system === 'phone' || t.system === 'sms' || t.system === undefined)
    .map((t) => normalizePhone(t.value))
    .filter((x) => x !== undefined);
  const phone = phones.find((x) => x.kind === 'mobile') ?? phones[0];
  const addr = (p.address ?? []).find((a) => a.use === 'home') ?? p.address?.[0];
  const keys = normalizeAddress(addr ? { text: addr.text, line: addr.line, city: addr.city, district: addr.district, state: addr.state, codes: addressCodes(addr) } : undefined);
  // Newborns registered under the mother's ID: the ID is the mother's, so it is no evidence about the child.
  const residentUsable = resident && name?.kind !== 'newborn' ? resident : undefined;
  return {
    patientKey: input.patientKey,
    institutionId: input.institutionId,
    localSystem: local?.system ?? null,
    localValue: local?.value ?? null,
    residentId: residentUsable?.id ?? null,
    residentIdValid: residentUsable?.valid ?? false,
    name: name && name.kind !== 'unknown' ? name.key : null,
    nameKind: name?.kind ?? null,
    namePinyin: name && name.kind !== 'unknown' ? name.pinyin || null : null,
    nameInitials: name && name.kind !== 'unknown' ? name.initials || null : null,
    motherName: name?.motherName ?? null,
    birthDate: normalizeBirthDate(p.birthDate) ?? null,
    sex: normalizeSex(p.gender) ?? sexFromExtension(p) ?? null,
    phone: phone?.value ?? null,
    village: keys.village ?? null,
    township: keys.township ?? null,
    passport: passport ?? null,
    identifiers: ids.filter((i) => i.value).map((i) => `${i.system ?? ''}|${i.value}`),
  };
}

/** GB/T 2261.1 sex code carried in an extension (senders that do not map to FHIR gender). */
function sexFromExtension(p: Patient): 'M' | 'F' | undefined {
  for (const e of p.extension ?? []) {
    const v = e.valueCode ?? e.valueCoding?.code ?? e.valueString ?? e.valueCodeableConcept?.coding?.[0]?.code;
    if (/sex|gender|2261/i.test(e.url) && v) return normalizeSex(v);
  }
  return undefined;
}
