import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { findInstitution } from '../auth/index.ts';
import { confirmMapping, exportConceptMap, importFormat, importTerminologyCsv, IMPORT_FORMATS, listUnmapped, resolveSystem, type ImportFormat } from '../terminology/index.ts';
import { requireOperator } from './authenticate.ts';
import type { AppDeps } from './deps.ts';
import { HttpError } from './errors.ts';
import { ingestFor } from './ingest-runtime.ts';
import { standardizationFor } from './standardization-runtime.ts';

// ingest-runtime.ts takes the worker's standardizer from here (imported lazily there to avoid a cycle).
export { standardizationFor };

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() ? v.trim() : undefined);

/**
 * Terminology operator API (issue 4). Thin: the logic is in src/terminology.
 *
 *   GET  /admin/terminology/unmapped?institution=&limit=   local codes without a map, with top-3 suggestions
 *   POST /admin/terminology/confirm {institution, localSystem, localCode, targetCode, targetSystem?} → {requeued}
 *   POST /admin/terminology/import?system=S  (text/csv body: code,display[,parent])       → {imported}
 *   POST /admin/terminology/import/:format?version=V[&system=S]  (loinc | icd10 | snomed-icd10-map | rxnorm; the
 *        publisher's file as application/octet-stream, streamed into the importer)           → ImportResult
 *   GET  /admin/terminology/conceptmap?institution=I                                       → FHIR ConceptMap
 *   GET  /admin/terminology/lookup?system=S&code=C                                         → concept
 */
export function terminologyRoutes(app: FastifyInstance, deps: AppDeps): void {
  const preHandler = requireOperator(deps);
  const runtime = standardizationFor(deps);
  app.addContentTypeParser(['text/csv', 'application/csv'], { parseAs: 'buffer', bodyLimit: 512 * 1024 * 1024 }, (_r, body, done) => done(null, body));
  // A publisher's distribution file (LOINC's ~100 MB Loinc.csv, RXNCONSO.RRF): the request stream itself, never buffered.
  app.addContentTypeParser('application/octet-stream', (_r, payload, done) => done(null, payload));

  app.post<{ Params: { format: string }; Querystring: { version?: string; system?: string } }>('/admin/terminology/import/:format', { preHandler }, async (request) => {
    const format = request.params.format as ImportFormat;
    if (!IMPORT_FORMATS.includes(format)) throw new HttpError('bad-request', `format must be one of ${IMPORT_FORMATS.join(', ')}`);
    const body = request.body;
    const input = body instanceof Readable ? body : Buffer.isBuffer(body) ? Readable.from([body]) : undefined;
    if (!input) throw new HttpError('unsupported-media-type', 'send the file as application/octet-stream');
    const services = await runtime.services(deps.db);
    const system = str(request.query.system);
    try {
      const r = await importFormat(deps.db, format, input, { version: str(request.query.version), system: system ? resolveSystem(system) : undefined });
      await services.terminology.reload(deps.db);
      return r;
    } catch (err) {
      // A file that is not what the format says (csv-parse's CSV_* errors): the sender's to fix, not a server error.
      if (err instanceof Error && /^CSV_/.test(String((err as { code?: unknown }).code ?? ''))) throw new HttpError('bad-request', `${format}: ${err.message}`);
      throw err;
    }
  });

  app.get<{ Querystring: { institution?: string; limit?: string } }>('/admin/terminology/unmapped', { preHandler }, async (request) => {
    const ref = str(request.query.institution);
    const services = await runtime.services(deps.db);
    const institution = ref ? (await findInstitution(deps.db, ref)).id : undefined;
    return listUnmapped(deps.db, services.terminology, { institution, limit: Math.min(Number(request.query.limit ?? 200) || 200, 10_000) });
  });

  app.post('/admin/terminology/confirm', { preHandler }, async (request) => {
    const b = (request.body ?? {}) as Record<string, unknown>;
    const ref = str(b.institution);
    const localSystem = str(b.localSystem);
    const localCode = str(b.localCode);
    const targetCode = str(b.targetCode);
    if (!ref || !localSystem || !localCode || !targetCode) throw new HttpError('bad-request', 'institution, localSystem, localCode and targetCode are required');
    const services = await runtime.services(deps.db);
    const institutionId = (await findInstitution(deps.db, ref)).id;
    try {
      const r = await confirmMapping(deps.db, services.mapper, {
        institutionId, localSystem, localCode, targetCode, targetSystem: str(b.targetSystem) ? resolveSystem(str(b.targetSystem)!) : undefined,
        decidedBy: request.actor?.subject ?? 'operator',
      });
      ingestFor(deps).worker.notify();
      return r;
    } catch (err) {
      if (err instanceof Error && /not a code of|no target system/.test(err.message)) throw new HttpError('bad-request', err.message);
      throw err;
    }
  });

  app.post<{ Querystring: { system?: string } }>('/admin/terminology/import', { preHandler }, async (request) => {
    const system = str(request.query.system);
    if (!system) throw new HttpError('bad-request', 'system is required (icd-10, loinc, atc … or a URI)');
    if (!Buffer.isBuffer(request.body)) throw new HttpError('unsupported-media-type', 'send the table as text/csv');
    const services = await runtime.services(deps.db);
    let imported: number;
    try {
      imported = await importTerminologyCsv(deps.db, system, request.body);
    } catch (err) {
      if (err instanceof Error && /^row \d+/.test(err.message)) throw new HttpError('bad-request', err.message);
      throw err;
    }
    await services.terminology.reload(deps.db);
    return { imported, system: resolveSystem(system) };
  });

  app.get<{ Querystring: { institution?: string } }>('/admin/terminology/conceptmap', { preHandler }, async (request) => {
    const ref = str(request.query.institution);
    if (!ref) throw new HttpError('bad-request', 'institution is required');
    return exportConceptMap(deps.db, (await findInstitution(deps.db, ref)).id);
  });

  app.get<{ Querystring: { system?: string; code?: string } }>('/admin/terminology/lookup', { preHandler }, async (request) => {
    const services = await runtime.services(deps.db);
    const system = resolveSystem(str(request.query.system) ?? '');
    const c = services.terminology.lookup(system, str(request.query.code) ?? '');
    if (!c) throw new HttpError('not-found', `${request.query.code} is not a code of ${system}`);
    return c;
  });
}
