/**
 * Masking of identifiers in lists (脱敏, GB/T 35273-2020 Annex; the convention of Chinese health portals): a resident
 * ID keeps its region (6) and last 4 characters, a phone its first 3 and last 4 digits, a health card its prefix and
 * last 4.
 */
export function maskResidentId(id: string | undefined | null): string | undefined {
  if (!id) return undefined;
  return id.length > 10 ? id.slice(0, 6) + '*'.repeat(id.length - 10) + id.slice(-4) : '*'.repeat(id.length);
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
