/**
 * `Patient/[id]/$everything` (https://hl7.org/fhir/R4/patient-operation-everything.html) for the regional record: the
 * id is an institution-level Patient (or a golden person id); the answer is everything in the Patient compartment of
 * EVERY institution-level Patient the EMPI links to the same person, resolved at query time. Paging per the spec:
 * `_count` sets the page size, the Bundle's `next` link fetches the following page; `_since` and `_type` filter.
 * Same access rules and audit as the record summary. Referenced shared resources (Organization …) are not added.
 */
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { personOfKey } from '../access/index.ts';
import type { FhirRequest, FhirResponse, RequestContext } from '../fhir/context.ts';
import { openResource, type OperationHandler } from '../fhir/index.ts';
import { allOk, badRequest, fail } from '../fhir/outcomes.ts';
import { openRecord, type RecordDeps } from './summary.ts';

const MAX_COUNT = 1000;

/** Resolves the operation's id to a person id: a golden person id as is, an institution-level Patient via the EMPI. */
async function personOf(deps: RecordDeps, id: string): Promise<string> {
  if (/^P\d{10}$/.test(id)) return id;
  return (await personOfKey(deps.db, id)) ?? id;
}

export function everythingOperation(deps: RecordDeps): OperationHandler {
  return async (req: FhirRequest, ctx: RequestContext, _services, target): Promise<FhirResponse> => {
    if (!target.id) fail(badRequest('Patient/$everything needs a Patient id (Patient/[id]/$everything)'));
    const params = new Map(req.query);
    const count = Math.min(Math.max(Number(params.get('_count') ?? 100) || 100, 1), MAX_COUNT);
    const offset = Math.max(Number(params.get('_offset') ?? 0) || 0, 0);
    const since = params.get('_since');
    if (since && Number.isNaN(Date.parse(since))) fail(badRequest(`Invalid _since "${since}"`, '_since'));
    const types = params.get('_type')?.split(',').map((t) => t.trim()).filter(Boolean);
    const personId = await personOf(deps, target.id);
    const { person, audit } = await openRecord(deps, ctx.actor, personId, { purpose: ctx.actor.purposeOfUse, reason: ctx.actor.purposeReason, requestId: ctx.requestId }, {
      subtype: 'operation', query: `Patient/${target.id}/$everything`, action: 'E',
    });
    const keys = person.patientKeys.length ? person.patientKeys : [target.id];
    const args: unknown[] = [keys];
    let where = 'patient_key = ANY($1::text[]) AND NOT deleted AND resource_type <> \'AuditEvent\'';
    if (since) where += ` AND last_updated >= $${args.push(since)}::timestamptz`;
    if (types?.length) where += ` AND resource_type = ANY($${args.push(types)}::text[])`;
    const [{ rows }] = await Promise.all([
      deps.db.query<{ content: Resource; total: number }>(
        `SELECT content, count(*) OVER () AS total FROM fhir_resource WHERE ${where}
         ORDER BY resource_type = 'Patient' DESC, resource_type, id LIMIT ${count} OFFSET ${offset}`,
        args,
      ),
      audit(),
    ]);
    const total = rows.length ? Number(rows[0].total) : offset ? undefined : 0;
    const self = pageUrl(ctx.baseUrl, target.id, req.query, count, offset);
    const bundle: Bundle = {
      resourceType: 'Bundle',
      type: 'searchset',
      ...(total !== undefined ? { total } : {}),
      link: [{ relation: 'self', url: self }],
      entry: rows.map((r) => ({ fullUrl: `${ctx.baseUrl}/${r.content.resourceType}/${r.content.id}`, resource: openResource(deps.db.crypto, r.content), search: { mode: 'match' as const } })),
    };
    if (total !== undefined && offset + rows.length < total) bundle.link!.push({ relation: 'next', url: pageUrl(ctx.baseUrl, target.id, req.query, count, offset + count) });
    if (offset > 0) bundle.link!.push({ relation: 'previous', url: pageUrl(ctx.baseUrl, target.id, req.query, count, Math.max(offset - count, 0)) });
    return { outcome: allOk, resource: bundle };
  };
}

function pageUrl(base: string, id: string, query: Array<[string, string]>, count: number, offset: number): string {
  const q = new URLSearchParams(query.filter(([k]) => k !== '_count' && k !== '_offset'));
  q.set('_count', String(count));
  if (offset) q.set('_offset', String(offset));
  return `${base}/Patient/${encodeURIComponent(id)}/$everything?${q}`;
}
