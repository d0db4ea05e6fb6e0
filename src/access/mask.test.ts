import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { toAuditEvent } from '../audit/audit-event.ts';
import { maskQueryText } from './mask.ts';

describe('masking identifiers in the audit trail’s query text', () => {
  it('masks a resident ID, a phone, a health card and a passport in a search, encoded or not', () => {
    assert.equal(maskQueryText('Patient?identifier=urn:oid:2.16.156.10011.1.1|33052319800101001X'), 'Patient?identifier=urn:oid:2.16.156.10011.1.1|330523********001X');
    assert.equal(maskQueryText('Patient?identifier=urn%3Aoid%3A2.16.156.10011.1.3%7C330523198001010011'), 'Patient?identifier=urn:oid:2.16.156.10011.1.3|330523********0011');
    assert.equal(maskQueryText('Patient?phone=13905721234&telecom=139-0572-1234'), 'Patient?phone=139****1234&telecom=139-****-1234');
    assert.equal(maskQueryText('Patient?identifier=urn:healthbrain:ehc|3305230000012345'), 'Patient?identifier=urn:healthbrain:ehc|************2345');
    assert.equal(maskQueryText('Patient?identifier=E12345678'), 'Patient?identifier=E****5678');
  });

  it('leaves record ids, person ids, OIDs, dates and short numbers as they are', () => {
    for (const q of [
      'Observation?patient=Patient/1234567a-89ab-4cde-8f01-234567890123', 'Patient/P0000000042/$everything', 'record-summary',
      'Observation?date=ge2024-03-01&_count=100', 'Patient?identifier=urn:oid:2.16.156.10011.1.330523A001.mrn|MRN-4711',
    ]) assert.equal(maskQueryText(q), q);
  });

  it('puts the masked text, never the clear one, into the AuditEvent', () => {
    const ev = toAuditEvent('a1', {
      actor: { kind: 'user', subject: 'u1', role: 'clinician', scopes: [] }, action: 'E', subtype: 'search-type',
      query: 'Patient?identifier=330523198001010011&phone=13905721234', purpose: 'TREAT', outcome: 'success', recorded: new Date(0),
    });
    const text = JSON.stringify(ev);
    assert.ok(!text.includes('330523198001010011') && !text.includes('13905721234'));
    assert.ok(text.includes('Patient?identifier=330523********0011&phone=139****1234'));
  });
});
