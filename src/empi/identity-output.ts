/**
 * The identity operations' answers cut to the caller's output level (src/access/identity-operations.ts): what of a
 * PIXm cross-reference and of a golden Patient a `full`, `own-institution` or `masked` view may see. Pure functions:
 * the decision says which level, these say what each level contains, so $match, $ihe-pix and the PDQ search agree.
 */
import type { Identifier, Patient } from '@medplum/fhirtypes';
import { maskHealthCard, maskPhone, maskResidentId, type IdentityOutput } from '../access/index.ts';
import { HEALTH_CARD_SYSTEM, isPassportIdentifier, isResidentIdIdentifier, PERSON_ID_SYSTEM, RESIDENT_ID_SYSTEM } from './features.ts';
import type { PixIdentifier, PixResult } from './pix-pdq.ts';
import type { PersonView } from './registry.ts';

export interface IdentityView {
  output: IdentityOutput;
  /** The caller's institution (own-institution: whose record numbers and Patients it sees). */
  institutionId?: string;
}

export const FULL_VIEW: IdentityView = { output: 'full' };

/** HL7 security label on a resource some of whose elements were withheld or masked (v3-ObservationValue REDACTED). */
export const REDACTED = { system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue', code: 'REDACTED', display: 'redacted' };
/** Marks a masked identifier value: not an identifier a client may match on (data-absent-reason `masked`). */
const MASKED_VALUE = [{ url: 'http://hl7.org/fhir/StructureDefinition/data-absent-reason', valueCode: 'masked' }];

/** Person-level identifiers (resident ID, passport, health card): never given whole below `full`. */
function personLevel(i: PixIdentifier): boolean {
  return i.system === HEALTH_CARD_SYSTEM || isResidentIdIdentifier({ system: i.system }) || isPassportIdentifier({ system: i.system });
}

/**
 * The part of a PIXm result a view may see: `full` all of it; `own-institution` the golden person id and the
 * record numbers and Patients of the caller's institution (never another institution's, never a person-level
 * identifier); `masked` only the golden person id.
 */
export function viewPix(r: PixResult, view: IdentityView): PixResult {
  if (view.output === 'full') return r;
  const mine = (key: string | undefined) => view.output === 'own-institution' && !!key && !!view.institutionId && r.patientInstitutions[key] === view.institutionId;
  const patientKeys = r.patientKeys.filter(mine);
  return {
    personId: r.personId,
    identifiers: r.identifiers.filter((i) => i.system === PERSON_ID_SYSTEM || (mine(i.patientKey) && !personLevel(i))),
    patientKeys,
    patientInstitutions: Object.fromEntries(patientKeys.map((k) => [k, r.patientInstitutions[k]])),
  };
}

/**
 * A person as one FHIR Patient for a view. `full`: golden values, every identifier, `seealso` links to every source
 * Patient. Below it: the golden person id, the identifiers and links `viewPix` leaves, the resident ID, health card
 * and phone masked (GB/T 35273 Annex forms, src/access/mask.ts), and the REDACTED security label.
 */
export function goldenPatientResource(person: PersonView, pix: PixResult | undefined, view: IdentityView): Patient {
  const g = person.golden;
  const full = view.output === 'full';
  const shown = pix ? viewPix(pix, view) : undefined;
  const others = (shown?.identifiers ?? []).filter((i) => !(i.system === PERSON_ID_SYSTEM && i.value === person.personId));
  const identifier: Identifier[] = [{ system: PERSON_ID_SYSTEM, value: person.personId }, ...others.map((i) => ({ system: i.system || undefined, value: i.value }))];
  if (!full) {
    const rid = maskResidentId(person.residentId ?? g.residentId?.value);
    if (rid) identifier.push({ system: RESIDENT_ID_SYSTEM, value: rid, extension: MASKED_VALUE });
    const card = maskHealthCard(person.healthCard);
    if (card) identifier.push({ system: HEALTH_CARD_SYSTEM, value: card, extension: MASKED_VALUE });
  }
  const phone = g.phone ? (full ? g.phone.value : maskPhone(g.phone.value)) : undefined;
  const links = full ? person.patientKeys : (shown?.patientKeys ?? []);
  return {
    resourceType: 'Patient',
    id: person.personId,
    ...(full ? {} : { meta: { security: [REDACTED] } }),
    identifier,
    ...(g.name ? { name: [{ text: g.name.value }] } : {}),
    ...(g.sex ? { gender: g.sex.value === 'M' ? ('male' as const) : ('female' as const) } : {}),
    ...(g.birthDate ? { birthDate: g.birthDate.value } : {}),
    ...(phone ? { telecom: [{ system: 'phone' as const, value: phone }] } : {}),
    ...(full || links.length ? { link: links.map((k) => ({ other: { reference: `Patient/${k}` }, type: 'seealso' as const })) } : {}),
  };
}

/** A `system|value` identifier as the audit trail records what was asked: person-level values masked. */
export function auditedIdentifier(identifier: string): string {
  const bar = identifier.indexOf('|');
  if (bar < 0) return maskResidentId(identifier) ?? '';
  const system = identifier.slice(0, bar);
  const value = identifier.slice(bar + 1);
  if (system === HEALTH_CARD_SYSTEM) return `${system}|${maskHealthCard(value) ?? ''}`;
  if (isResidentIdIdentifier({ system }) || isPassportIdentifier({ system })) return `${system}|${maskResidentId(value) ?? ''}`;
  return identifier;
}

/** The institution-level Patients a (golden) Patient names in its links. */
export function linkedKeys(p: Patient): string[] {
  return (p.link ?? []).flatMap((l) => (l.other.reference?.startsWith('Patient/') ? [l.other.reference.slice(8)] : []));
}
