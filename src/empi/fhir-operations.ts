/**
 * The EMPI's FHIR operations, registered with the FHIR module's operation registry (src/api/fhir-extensions.ts):
 * - `GET Patient/$ihe-pix?sourceIdentifier=system|value[&targetSystem=…]` — IHE PIXm ITI-83
 *   (https://profiles.ihe.net/ITI/PIXm/ITI-83.html): a Parameters of targetIdentifier / targetId; failures as the
 *   profile's cases: unknown source identifier → 404, unknown targetSystem → 403, each an OperationOutcome with the
 *   profile's issue code and diagnostics. An unknown source DOMAIN is answered 404 too (the profile says 400), with
 *   the profile's code-invalid and "sourceIdentifier Assigning Authority not found" so a client can tell it apart: the
 *   platform's pinned HTTP contract (shared/checks/contract.sh) is "an identifier the region does not know → 200|404",
 *   and users' scripts rely on it.
 * - `POST Patient/$match` — https://hl7.org/fhir/R4/patient-operation-match.html: a searchset Bundle of golden
 *   Patients with search.score and the match-grade extension.
 */
import { allOk, badRequest } from '@medplum/core';
import type { Bundle, OperationOutcome, Parameters, Patient } from '@medplum/fhirtypes';
import type { FhirServices } from '../fhir/index.ts';
import type { Db } from '../store/index.ts';
import { matchCandidates, pixParameters, pixQuery, type PixFailure } from './pix-pdq.ts';

const MATCH_GRADE = 'http://hl7.org/fhir/StructureDefinition/match-grade';

/** ITI-83 failure cases: the outcome id sets the HTTP status (outcomeStatus), the issue code and text are the profile's. */
const PIX_FAILURES: Record<PixFailure, { id?: string; code: 'code-invalid' | 'not-found'; diagnostics: string }> = {
  'unknown-source-domain': { id: 'not-found', code: 'code-invalid', diagnostics: 'sourceIdentifier Assigning Authority not found' },
  'source-not-found': { id: 'not-found', code: 'not-found', diagnostics: 'sourceIdentifier Patient Identifier not found' },
  'unknown-target-domain': { id: 'forbidden', code: 'code-invalid', diagnostics: 'targetSystem not found' },
};

function pixFailure(failure: PixFailure, system: string): OperationOutcome {
  const f = PIX_FAILURES[failure];
  return { resourceType: 'OperationOutcome', ...(f.id ? { id: f.id } : {}), issue: [{ severity: 'error', code: f.code, diagnostics: f.diagnostics, details: { text: system } }] };
}

/** Registers Patient/$ihe-pix and Patient/$match. */
export function registerEmpiOperations(services: FhirServices, db: Db): void {
  services.registerOperation(
    'Patient',
    'ihe-pix',
    async (req) => {
      const source = req.query.find(([k]) => k === 'sourceIdentifier')?.[1];
      const targets = req.query.filter(([k]) => k === 'targetSystem').flatMap(([, v]) => v.split(','));
      const sources = req.query.filter(([k]) => k === 'sourceIdentifier');
      if (sources.length !== 1 || !source || !source.includes('|')) return { outcome: badRequest('exactly one sourceIdentifier=system|value is required') };
      const r = await pixQuery(db, source, targets.length ? targets : undefined);
      if (r.failure) return { outcome: pixFailure(r.failure, r.system) };
      return { outcome: allOk, resource: pixParameters(r.result) };
    },
    { definition: 'https://profiles.ihe.net/ITI/PIXm/OperationDefinition/IHE.PIXm.pix', access: 'read' },
  );

  services.registerOperation(
    'Patient',
    'match',
    async (req) => {
      const params = req.body as Parameters | undefined;
      const patient = params?.parameter?.find((p) => p.name === 'resource')?.resource as Patient | undefined;
      if (params?.resourceType !== 'Parameters' || patient?.resourceType !== 'Patient') {
        return { outcome: badRequest('a Parameters body with a Patient in parameter "resource" is required') };
      }
      const onlyCertain = params.parameter?.find((p) => p.name === 'onlyCertainMatches')?.valueBoolean ?? false;
      const count = params.parameter?.find((p) => p.name === 'count')?.valueInteger ?? 10;
      const found = await matchCandidates(db, patient, { count, onlyCertain });
      const bundle: Bundle = {
        resourceType: 'Bundle',
        type: 'searchset',
        total: found.length,
        entry: found.map((c) => ({
          fullUrl: `Patient/${c.personId}`,
          resource: c.patient,
          search: { mode: 'match', score: Math.round(c.probability * 1e6) / 1e6, extension: [{ url: MATCH_GRADE, valueCode: c.grade }] },
        })),
      };
      return { outcome: allOk, resource: bundle };
    },
    { definition: 'http://hl7.org/fhir/OperationDefinition/Patient-match', access: 'read' },
  );
}
