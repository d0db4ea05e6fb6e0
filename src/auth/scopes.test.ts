import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import type { Actor, FhirRequest } from '../fhir/context.ts';
import { accessNeeds, scopePolicy } from './policy.ts';
import { narrowScopes, scopeAllows } from './scopes.ts';

const req = (method: FhirRequest['method'], path: string, body?: unknown): FhirRequest => ({ method, path, query: [], headers: {}, body });
const actor = (scopes: string[]): Actor => ({ kind: 'system', subject: 'c', scopes });

describe('SMART scopes', () => {
  it('grants read and write by type or wildcard, in v1 and v2 forms', () => {
    assert.equal(scopeAllows(['system/*.read'], 'Patient', 'read'), true);
    assert.equal(scopeAllows(['system/*.read'], 'Patient', 'write'), false);
    assert.equal(scopeAllows(['user/Observation.write'], 'Observation', 'write'), true);
    assert.equal(scopeAllows(['user/Observation.write'], 'Patient', 'write'), false);
    assert.equal(scopeAllows(['patient/Observation.rs'], 'Observation', 'read'), true);
    assert.equal(scopeAllows(['patient/Observation.rs'], 'Observation', 'write'), false);
    assert.equal(scopeAllows(['user/Patient.read'], '*', 'read'), false, 'a single-type scope does not open the whole server');
    assert.equal(scopeAllows(['garbage', 'openid'], 'Patient', 'read'), false);
  });

  it('narrows a token to the requested scopes the registration covers, ignoring others', () => {
    const reg = ['system/*.read', 'system/*.write'];
    assert.deepEqual(narrowScopes(reg, undefined), reg);
    assert.deepEqual(narrowScopes(reg, 'system/Patient.read user/*.write system/Observation.cruds'), ['system/Patient.read', 'system/Observation.cruds']);
    assert.deepEqual(narrowScopes(['system/*.read'], 'system/*.write'), []);
  });
});

describe('scope policy', () => {
  it('derives what each interaction needs from method and path', () => {
    assert.deepEqual(accessNeeds(req('GET', 'Patient/1')), [{ resourceType: 'Patient', mode: 'read' }]);
    assert.deepEqual(accessNeeds(req('POST', 'Patient/_search')), [{ resourceType: 'Patient', mode: 'read' }]);
    assert.deepEqual(accessNeeds(req('POST', 'Patient/$match')), [], 'operations declare their own access to the FHIR module');
    assert.deepEqual(accessNeeds(req('DELETE', 'Observation/9')), [{ resourceType: 'Observation', mode: 'write' }]);
    assert.deepEqual(accessNeeds(req('GET', '_history')), [{ resourceType: '*', mode: 'read' }]);
  });

  it('checks each entry of a Bundle posted to the base', () => {
    const bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [{ request: { method: 'POST', url: 'Patient' } }, { request: { method: 'GET', url: 'Observation?code=x' } }],
    };
    assert.deepEqual(accessNeeds(req('POST', '', bundle)), [
      { resourceType: 'Patient', mode: 'write' },
      { resourceType: 'Observation', mode: 'read' },
    ]);
    assert.equal(scopePolicy(actor(['system/Patient.write', 'system/Observation.read']), req('POST', '', bundle)), undefined);
    const denied = scopePolicy(actor(['system/Patient.write']), req('POST', '', bundle));
    assert.equal((denied as { issue: Array<{ code: string }> }).issue[0].code, 'forbidden');
  });
});
