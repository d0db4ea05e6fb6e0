import type { FastifyInstance } from 'fastify';
import type { AppDeps } from './deps.ts';

/** Liveness and readiness in one: answers 200 only when the database answers (load balancers, the CLI's probe). */
export function healthRoutes(app: FastifyInstance, deps: AppDeps): void {
  app.get('/healthz', async () => {
    await deps.db.query('SELECT 1');
    return { status: 'ok', engine: deps.db.engine };
  });
}
