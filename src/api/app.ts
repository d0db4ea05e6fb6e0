import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from 'fastify';
import type { AppDeps, RoutePlugin } from './deps.ts';
import { HttpError, httpOutcome, installErrorHandlers } from './errors.ts';
import { checkForm, checkJson, checkUrl, decodeBody } from './input-guards.ts';
import { routePlugins } from './routes.ts';

// JSON in both of FHIR's spellings (R4 `application/fhir+json`, DSTU2's `application/json+fhir`), plain JSON and
// JSON Patch (FHIR `patch` interaction); the router decides what it supports.
const JSON_TYPES = ['application/json', 'application/fhir+json', 'application/json+fhir', 'application/json-patch+json'];

function requestId(raw: { headers: Record<string, string | string[] | undefined> }): string {
  const given = raw.headers['x-request-id'];
  return typeof given === 'string' && /^[\w.:-]{1,64}$/.test(given) ? given : randomUUID();
}

/**
 * Builds the HTTP app (fastify) from its deps, without listening: tests use `app.inject()`, `serve` calls `listen`.
 * Registers `plugins` (default: routes.ts) each in its own scope.
 */
export async function buildApp(deps: AppDeps, plugins: readonly RoutePlugin[] = routePlugins): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    bodyLimit: deps.config.bodyLimitBytes,
    genReqId: requestId,
    // Routes are matched on the path only; '/fhir' and '/fhir/' are registered explicitly in fhir-routes.ts.
    routerOptions: { maxParamLength: 500 },
    // The router's own refusals (a path with malformed percent-encoding) leave as OperationOutcomes too.
    frameworkErrors: (err, _request, reply) =>
      void (reply as FastifyReply).code(400).type('application/fhir+json; charset=utf-8').send(JSON.stringify(httpOutcome('bad-request', err.message))),
  });
  app.decorateRequest('actor', undefined);

  app.removeContentTypeParser('application/json');
  // Bytes, decoded in the declared charset; a body too deep or holding NUL is refused here (input-guards.ts).
  app.addContentTypeParser(JSON_TYPES, { parseAs: 'buffer' }, (request, body, done) => {
    let text: string;
    try {
      text = decodeBody(body as Buffer, request.headers['content-type']);
    } catch (err) {
      return done(err as Error, undefined);
    }
    if (!text.trim()) return done(null, undefined);
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      return done(new HttpError('malformed-json', `Request body is not valid JSON: ${(err as Error).message}`), undefined);
    }
    try {
      checkJson(value);
    } catch (err) {
      return done(err as Error, undefined);
    }
    done(null, value);
  });
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(String(body))));
  });

  // NUL in a URL or a form never reaches the database (PostgreSQL refuses it in text: a 500 otherwise).
  app.addHook('onRequest', async (request) => checkUrl(request.url));
  app.addHook('preValidation', async (request) => {
    if (/^application\/x-www-form-urlencoded/i.test(request.headers['content-type'] ?? '')) checkForm(request.body);
  });
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  installErrorHandlers(app, (o) => deps.fhir.status(o));

  for (const plugin of plugins) await app.register(async (scope) => plugin(scope, deps));
  await app.ready();
  return app;
}
