import type { FastifyInstance } from 'fastify';
import { auditLogFor, checkpointFilePath, verifyAudit } from '../audit/index.ts';
import { requireRoles } from './authenticate.ts';
import type { AppDeps } from './deps.ts';

/**
 * The audit trail's operator API (issue 10), thin over src/audit:
 *
 *   GET  /admin/audit/verify      → AuditVerification: every link under the audit key, every checkpoint's SM2
 *                                   signature, the chain against the table's and the data directory's checkpoints
 *                                   (200 either way: `ok` says whether it holds; `brokenAt` the first problem)
 *   POST /admin/audit/checkpoint  → 201 the signed checkpoint of the head now (200 {checkpoint: null}: empty chain)
 *
 * Auditors, operators and the admin. Queued events are flushed first, so a verify sees every read answered before it.
 */
export function auditRoutes(app: FastifyInstance, deps: AppDeps): void {
  const preHandler = requireRoles(deps, ['auditor', 'operator', 'admin']);
  const log = auditLogFor(deps.db);

  app.get('/admin/audit/verify', { preHandler }, async () => {
    await log.flushed();
    return verifyAudit(deps.db, { checkpointFile: checkpointFilePath(deps.config.dataDir) });
  });

  app.post('/admin/audit/checkpoint', { preHandler }, async (request, reply) => {
    await log.flushed();
    const checkpoint = await log.checkpoint('manual');
    request.log.info({ seq: checkpoint?.seq }, 'audit checkpoint written on request');
    return reply.code(checkpoint ? 201 : 200).send({ checkpoint: checkpoint ?? null });
  });
}
