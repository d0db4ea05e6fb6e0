import type { FastifyInstance } from 'fastify';
import { keyStatus, rotateFieldKeys } from '../store/index.ts';
import { requireAccess } from './authenticate.ts';
import type { AppDeps } from './deps.ts';
import { HttpError } from './errors.ts';

/**
 * The key ring's operator API (issue 10, 密评 密钥管理), the platform admin's alone (whoever holds `<data>/admin.json`:
 * the CLI's `healthbrain keys`), run inside the server that holds the database and its key ring:
 *
 *   GET  /admin/keys          → {current, versions, columns: [{table, column, versions: {v: ciphertexts}}]}
 *   POST /admin/keys/rotate   {resume?, batch?} → {current, retired, rewritten: [{table, column, rows}]}
 */
export function keyRoutes(app: FastifyInstance, deps: AppDeps): void {
  const preHandler = requireAccess(deps, { kind: 'admin', area: 'credentials' });

  app.get('/admin/keys', { preHandler }, async () => keyStatus(deps.db, deps.config.dataDir));

  app.post('/admin/keys/rotate', { preHandler }, async (request) => {
    const body = (request.body ?? {}) as { resume?: unknown; batch?: unknown };
    const batch = body.batch === undefined ? undefined : Number(body.batch);
    if (batch !== undefined && !(Number.isInteger(batch) && batch >= 1 && batch <= 10_000)) throw new HttpError('bad-request', 'batch must be an integer from 1 to 10000');
    const r = await rotateFieldKeys(deps.db, deps.config.dataDir, { resume: body.resume === true, batch });
    request.log.info({ current: r.current, retired: r.retired, rows: r.rewritten.reduce((n, x) => n + x.rows, 0), by: request.actor?.subject }, 'field keys rotated');
    return r;
  });
}
