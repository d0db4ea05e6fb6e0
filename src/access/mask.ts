/**
 * Masking of identifiers in lists (脱敏, GB/T 35273-2020 Annex; the convention of Chinese health portals): a resident
 * ID keeps its region (6) and last 4 characters, a phone its first 3 and last 4 digits, a health card its prefix and
 * last 4.
 */
export function maskResidentId(id: string | undefined | null): string | undefined {
  if (!id) return undefined;
  return id.length > 10 ? id.slice(0, 6) + '*'.repeat(id.length - 10) + id.slice(-4) : '*'.repeat(id.length);
}

/**
 * A request's text as the audit trail keeps it (`Patient?identifier=…|330523********0011`): every identifier-like
 * value masked — a run of 7 or more digits (resident ID, phone, card, with a trailing X), a mobile written
 * 139-0572-1234 and a passport-shaped token (1–2 letters and 7–8 digits) — so the AuditEvents do not become the clear
 * copy the store no longer holds. Runs inside a longer token (a UUID, an OID's arcs, a person id P0000000001) are
 * left as they are: they name records, not people.
 */
export function maskQueryText(text: string): string {
  let s = text;
  try {
    s = decodeURIComponent(text);
  } catch {
    // not URL-encoded as a whole: masked as it is
  }
  return s
    .replace(/(?<![0-9A-Za-z-])(1\d{2})[- ](\d{4})[- ](\d{4})(?![0-9A-Za-z-])/g, (_v, a: string, _b: string, c: string) => `${a}-****-${c}`)
    .replace(/(?<![0-9A-Za-z-])\d{6,}[\dXx](?![0-9A-Za-z-])/g, (v) =>
      v.length === 18 || v.length === 15 ? maskResidentId(v)! : v.length === 11 ? maskPhone(v)! : '*'.repeat(v.length - 4) + v.slice(-4))
    .replace(/(?<![0-9A-Za-z-])[A-Za-z]{1,2}\d{7,8}(?![0-9A-Za-z-])/g, (v) => v.slice(0, 1) + '*'.repeat(v.length - 5) + v.slice(-4));
}

export function maskPhone(phone: string | undefined | null): string | undefined {
  if (!phone) return undefined;
  return phone.length >= 7 ? phone.slice(0, 3) + '*'.repeat(phone.length - 7) + phone.slice(-4) : '*'.repeat(phone.length);
}

export function maskHealthCard(card: string | undefined | null): string | undefined {
  if (!card) return undefined;
  return card.length > 12 ? card.slice(0, 8) + '*'.repeat(card.length - 12) + card.slice(-4) : '*'.repeat(card.length);
}

const RESIDENT_ID_SYSTEM = 'urn:oid:2.16.156.10011.1.3';
const HEALTH_CARD_SYSTEM = 'urn:healthbrain:ehc';

interface PatientLike {
  resourceType: string;
  identifier?: Array<{ system?: string; value?: string }>;
  telecom?: Array<{ system?: string; value?: string }>;
  address?: Array<{ text?: string; line?: string[]; postalCode?: string; district?: string; city?: string; state?: string }>;
}

/**
 * A FHIR Patient as a list shows it (the same masks as `/api/patients`): resident ID, health card and phone masked,
 * the address kept to its region (state, city, district: no street, house or postcode). Record numbers (MRNs) stay:
 * they name the institution's own record, not the person. Returns a copy; other resources are returned as they are.
 */
export function maskPatient<T extends PatientLike>(p: T): T {
  if (p.resourceType !== 'Patient') return p;
  const masked: T = { ...p };
  if (p.identifier) {
    masked.identifier = p.identifier.map((i) =>
      i.system === RESIDENT_ID_SYSTEM ? { ...i, value: maskResidentId(i.value) } : i.system === HEALTH_CARD_SYSTEM ? { ...i, value: maskHealthCard(i.value) } : i,
    );
  }
  if (p.telecom) masked.telecom = p.telecom.map((t) => (t.system === 'phone' || t.system === 'sms' ? { ...t, value: maskPhone(t.value) } : t));
  if (p.address) {
    masked.address = p.address.map(({ text: _t, line: _l, postalCode: _p, ...region }) => {
      const text = [region.state, region.city, region.district].filter(Boolean).join('');
      return text ? { ...region, text } : region;
    });
  }
  return masked;
}
