/**
 * Golden demographics (全员人口信息) of the summary: the EMPI's best-of-sources golden record with, per field, the
 * institution whose record won and when it last said so, plus every linked institution-level Patient (PIX).
 */
import { maskHealthCard, maskPhone, maskResidentId } from '../access/index.ts';
import type { LinkRow, PersonRow } from './facts.ts';
import type { FieldSource, GoldenDemographics, Sex } from './summary-types.ts';

type Address = { text?: string; state?: string; city?: string; district?: string } | undefined;

const FIELD: Record<string, keyof GoldenDemographics['sources']> = {
  name: 'name', sex: 'sex', birthDate: 'birthDate', residentId: 'residentId', phone: 'phone', village: 'address',
};

export function demographics(person: PersonRow, links: LinkRow[], address: Address, unmasked: boolean): GoldenDemographics {
  const g = person.golden ?? {};
  const byKey = new Map(links.map((l) => [l.patient_key, l]));
  const sources: GoldenDemographics['sources'] = {};
  for (const [field, slot] of Object.entries(FIELD)) {
    const link = g[field] ? byKey.get(g[field].source) : undefined;
    if (link) sources[slot] = source(link);
  }
  const sex: Sex = g.sex?.value === 'M' ? 'male' : g.sex?.value === 'F' ? 'female' : 'unknown';
  const residentId = g.residentId?.value ?? person.resident_id ?? undefined;
  const phone = g.phone?.value;
  const division = address ? [address.state, address.city, address.district].filter(Boolean).join('') : '';
  return {
    personId: person.person_id,
    name: g.name?.value ?? '',
    sex,
    ...(g.birthDate?.value ? { birthDate: g.birthDate.value } : {}),
    ...(residentId ? { residentIdMasked: maskResidentId(residentId) } : {}),
    ...(person.health_card ? { healthCardMasked: maskHealthCard(person.health_card) } : {}),
    ...(phone ? { phoneMasked: maskPhone(phone) } : {}),
    ...(unmasked && residentId ? { residentId } : {}),
    ...(unmasked && person.health_card ? { healthCard: person.health_card } : {}),
    ...(unmasked && phone ? { phone } : {}),
    ...(address?.text ? { address: address.text } : {}),
    ...(division ? { division } : {}),
    sources,
    links: links.map((l) => ({ institution: { id: l.institution_id, name: l.inst_name ?? l.institution_id }, mrn: l.mrn ?? '', patientId: l.patient_key })),
  };
}

function source(l: LinkRow): FieldSource {
  return { institution: { id: l.institution_id, name: l.inst_name ?? l.institution_id }, updated: new Date(l.updated_at).toISOString() };
}
