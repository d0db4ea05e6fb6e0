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
 * Both only for the roles src/access/identity-operations.ts admits, cut to their output level and always audited:
 * an institution system is answered in the golden person id and its own record numbers only; a targetSystem of
 * another institution's domain (or a person-level one) is refused to it with 403 `target-domain-not-permitted`.
 */
import { allOk, badRequest } from '@medplum/core';
import type { Bundle, OperationOutcome, Parameters, Patient } from '@medplum/fhirtypes';
import type { FhirResponse, RequestContext } from '../fhir/context.ts';
import type { FhirServices } from '../fhir/index.ts';
import type { Db } from '../store/index.ts';
import { PERSON_ID_SYSTEM } from './features.ts';
import { guardIdentity, refuseIdentity, type IdentityCaller, type IdentityResult } from './identity-guard.ts';
import { auditedIdentifier, linkedKeys, viewPix } from './identity-output.ts';
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

/** Whether `system` is a domain the caller's institution may be answered in: the golden person id, or its own record numbers. */
async function ownDomain(db: Db, institutionId: string | undefined, system: string): Promise<boolean> {
  if (system === PERSON_ID_SYSTEM) return true;
  if (!institutionId) return false;
  const { rows } = await db.query('SELECT 1 FROM empi_record WHERE local_system = $1 AND institution_id = $2 LIMIT 1', [system, institutionId]);
  return rows.length > 0;
}

const MAX_MATCH_COUNT = 100;

/**
 * Registers Patient/$ihe-pix and Patient/$match, each behind the identity-operation rules and audited
 * (identity-guard.ts); the answer is cut to the caller's output level (identity-output.ts).
 */
export function registerEmpiOperations(services: FhirServices, db: Db): void {
  const callerOf = (ctx: RequestContext): IdentityCaller => ({ actor: ctx.actor, now: services.repo.clock(), requestId: ctx.requestId });

  services.registerOperation(
    'Patient',
    'ihe-pix',
    async (req, ctx) => {
      const source = req.query.find(([k]) => k === 'sourceIdentifier')?.[1];
      const targets = req.query.filter(([k]) => k === 'targetSystem').flatMap(([, v]) => v.split(','));
      const sources = req.query.filter(([k]) => k === 'sourceIdentifier');
      const asked = new URLSearchParams([...sources.map(([k, v]) => [k, auditedIdentifier(v)]), ...targets.map((t) => ['targetSystem', t])]).toString();
      const caller = callerOf(ctx);
      const call = { op: 'pix', query: `Patient/$ihe-pix?${asked}`, subtype: 'operation', action: 'E' } as const;
      return guardIdentity(db, caller, call, async (view, purpose): Promise<IdentityResult<FhirResponse>> => {
        if (sources.length !== 1 || !source || !source.includes('|')) {
          return { value: { outcome: badRequest('exactly one sourceIdentifier=system|value is required') }, disclosed: [], failure: 'bad request' };
        }
        const r = await pixQuery(db, source, targets.length ? targets : undefined);
        if (r.failure) return { value: { outcome: pixFailure(r.failure, r.system) }, disclosed: [], failure: PIX_FAILURES[r.failure].diagnostics };
        if (view.output !== 'full') {
          for (const t of targets) {
            if (!(await ownDomain(db, view.institutionId, t))) {
              await refuseIdentity(db, caller, call, purpose, { code: 'target-domain-not-permitted', text: `targetSystem ${t} is not a domain of the caller's institution` });
            }
          }
        }
        const shown = viewPix(r.result, view);
        return { value: { outcome: allOk, resource: pixParameters(shown) }, disclosed: [{ personId: shown.personId, patientKeys: shown.patientKeys }] };
      });
    },
    { definition: 'https://profiles.ihe.net/ITI/PIXm/OperationDefinition/IHE.PIXm.pix', access: 'read' },
  );

  services.registerOperation(
    'Patient',
    'match',
    async (req, ctx) => {
      const params = req.body as Parameters | undefined;
      const onlyCertain = params?.parameter?.find((p) => p.name === 'onlyCertainMatches')?.valueBoolean ?? false;
      const count = Math.min(Math.max(params?.parameter?.find((p) => p.name === 'count')?.valueInteger ?? 10, 1), MAX_MATCH_COUNT);
      const call = { op: 'match', query: `Patient/$match?onlyCertainMatches=${onlyCertain}&count=${count}`, subtype: 'operation', action: 'E' } as const;
      return guardIdentity(db, callerOf(ctx), call, async (view): Promise<IdentityResult<FhirResponse>> => {
        const patient = params?.parameter?.find((p) => p.name === 'resource')?.resource as Patient | undefined;
        if (params?.resourceType !== 'Parameters' || patient?.resourceType !== 'Patient') {
          return { value: { outcome: badRequest('a Parameters body with a Patient in parameter "resource" is required') }, disclosed: [], failure: 'bad request' };
        }
        const found = await matchCandidates(db, patient, { count, onlyCertain, view });
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
        return { value: { outcome: allOk, resource: bundle }, disclosed: found.map((c) => ({ personId: c.personId, patientKeys: linkedKeys(c.patient) })) };
      });
    },
    { definition: 'http://hl7.org/fhir/OperationDefinition/Patient-match', access: 'read' },
  );
}
