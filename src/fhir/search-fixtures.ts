/** A small, known record for the search tests: two patients at one hospital, with a record-viewer's worth of data. */
const LOINC = 'http://loinc.org';
const ID_SYS = 'urn:oid:2.16.156.10011.1.1';

const entry = (fullUrl: string, resource: Record<string, unknown>) => ({ fullUrl, resource, request: { method: 'POST', url: resource.resourceType } });

export function recordBundle(): Record<string, unknown> {
  return {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [
      entry('urn:uuid:org', { resourceType: 'Organization', identifier: [{ system: 'urn:uscc', value: '12330523MB0000001' }], name: '安吉县人民医院', active: true }),
      entry('urn:uuid:dr', { resourceType: 'Practitioner', identifier: [{ system: 'urn:staff', value: 'D001' }], name: [{ family: '李', given: ['医生'] }] }),
      entry('urn:uuid:p1', {
        resourceType: 'Patient', identifier: [{ system: ID_SYS, value: '330523198001010011' }],
        name: [{ family: '张', given: ['三'], text: '张三' }, { family: 'Zhang', given: ['San'] }],
        gender: 'male', birthDate: '1980-01-01', telecom: [{ system: 'phone', value: '13800000001' }],
        managingOrganization: { reference: 'urn:uuid:org' },
        address: [{ text: '浙江省湖州市安吉县递铺街道', state: '浙江省', city: '湖州市', district: '安吉县', line: ['递铺街道'] }],
      }),
      entry('urn:uuid:p2', {
        resourceType: 'Patient', identifier: [{ system: ID_SYS, value: '330523199203040022' }],
        name: [{ family: '王', given: ['小红'], text: '王小红' }, { family: 'Wang', given: ['Xiaohong'] }],
        gender: 'female', birthDate: '1992-03-04', telecom: [{ system: 'email', value: 'w@example.cn' }],
      }),
      entry('urn:uuid:e1', {
        resourceType: 'Encounter', status: 'finished', class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
        subject: { reference: 'urn:uuid:p1' }, period: { start: '2024-03-05T09:00:00+08:00', end: '2024-03-05T10:00:00+08:00' },
        participant: [{ individual: { reference: 'urn:uuid:dr' } }], serviceProvider: { reference: 'urn:uuid:org' },
      }),
      entry('urn:uuid:e2', {
        resourceType: 'Encounter', status: 'in-progress', class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'IMP' },
        subject: { reference: 'urn:uuid:p2' }, period: { start: '2023-11-20' },
      }),
      entry('urn:uuid:c1', {
        resourceType: 'Condition',
        clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
        verificationStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: 'confirmed' }] },
        category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-category', code: 'problem-list-item' }] }],
        code: { coding: [{ system: 'http://hl7.org/fhir/sid/icd-10', code: 'I10' }] }, subject: { reference: 'urn:uuid:p1' },
        encounter: { reference: 'urn:uuid:e1' }, onsetDateTime: '2019-06',
      }),
      entry('urn:uuid:o1', {
        resourceType: 'Observation', status: 'final',
        category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }],
        code: { coding: [{ system: LOINC, code: '8480-6' }] }, subject: { reference: 'urn:uuid:p1' }, encounter: { reference: 'urn:uuid:e1' },
        effectiveDateTime: '2024-03-05T09:10:00+08:00', performer: [{ reference: 'urn:uuid:dr' }], valueQuantity: { value: 150, unit: 'mm[Hg]' },
      }),
      entry('urn:uuid:o2', {
        resourceType: 'Observation', status: 'final',
        category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory' }] }],
        code: { coding: [{ system: LOINC, code: '2345-7' }] }, subject: { reference: 'urn:uuid:p1' },
        effectiveDateTime: '2024-01-15', valueQuantity: { value: 7.9, unit: 'mmol/L' },
      }),
      entry('urn:uuid:o3', {
        resourceType: 'Observation', status: 'preliminary', code: { coding: [{ system: LOINC, code: '2345-7' }] },
        subject: { reference: 'urn:uuid:p2' }, effectiveDateTime: '2023-12-31T12:00:00Z',
      }),
      entry('urn:uuid:dr1', {
        resourceType: 'DiagnosticReport', status: 'final', code: { coding: [{ system: LOINC, code: '24323-8' }] },
        category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0074', code: 'LAB' }] }],
        subject: { reference: 'urn:uuid:p1' }, effectiveDateTime: '2024-01-15', result: [{ reference: 'urn:uuid:o2' }],
        performer: [{ reference: 'urn:uuid:org' }],
      }),
      entry('urn:uuid:med', { resourceType: 'Medication', code: { coding: [{ system: 'urn:nmpa', code: 'H10940000' }], text: '氨氯地平' } }),
      entry('urn:uuid:mr1', {
        resourceType: 'MedicationRequest', status: 'active', intent: 'order', subject: { reference: 'urn:uuid:p1' },
        medicationReference: { reference: 'urn:uuid:med' }, authoredOn: '2024-03-05', requester: { reference: 'urn:uuid:dr' },
      }),
      entry('urn:uuid:pr1', {
        resourceType: 'Procedure', status: 'completed', code: { coding: [{ system: 'urn:icd9cm3', code: '88.72' }] },
        subject: { reference: 'urn:uuid:p2' }, performedDateTime: '2023-11-21', performer: [{ actor: { reference: 'urn:uuid:dr' } }],
      }),
      entry('urn:uuid:im1', {
        resourceType: 'Immunization', status: 'completed', vaccineCode: { coding: [{ system: 'urn:cn-vaccine', code: '0101' }] },
        patient: { reference: 'urn:uuid:p2' }, occurrenceDateTime: '1992-05-01',
      }),
    ],
  };
}
