/**
 * The EMPI's FHIR operations, registered with the FHIR module's operation registry (src/api/fhir-extensions.ts):
 * - `GET Patient/$ihe-pix?sourceIdentifier=system|value[&targetSystem=…]` — IHE PIXm ITI-83
 *   (https://profiles.ihe.net/ITI/PIXm/ITI-83.html): a Parameters of targetIdentifier / targetId; unknown source
 *   identifier → 404.
 * - `POST Patient/$match` — https://hl7.org/fhir/R4/patient-operation-match.html: a searchset Bundle of golden
 *   Patients with search.score and the match-grade extension.
 */
import { allOk, badRequest, notFound } from '@medplum/core';
import type { Bundle, Parameters, Patient } from '@medplum/fhirtypes';
import type { FhirServices } from '../fhir/index.ts';
import type { Db } from '../store/index.ts';
import { matchCandidates, pixLookup, pixParameters } from './pix-pdq.ts';

const MATCH_GRADE = 'http://hl7.org/fhir/StructureDefinition/match-grade';

/** Registers Patient/$ihe-pix and Patient/$match. */
export function registerEmpiOperations(services: FhirServices, db: Db): void {
  services.registerOperation(
    'Patient',
    'ihe-pix',
    async (req) => {
      const source = req.query.find(([k]) => k === 'sourceIdentifier')?.[1];
      const targets = req.query.filter(([k]) => k === 'targetSystem').flatMap(([, v]) => v.split(','));
      if (!source || !source.includes('|')) return { outcome: badRequest('sourceIdentifier=system|value is required') };
      const r = await pixLookup(db, source, targets.length ? targets : undefined);
      if (!r) return { outcome: notFound };
      return { outcome: allOk, resource: pixParameters(r) };
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
