import type { OperationOutcome } from '@medplum/fhirtypes';
import type { FastifyError, FastifyInstance } from 'fastify';
import { AuthError, InstitutionError } from '../auth/index.ts';
import { Unavailable } from '../store/index.ts';

/**
 * The HTTP layer's error catalogue: a stable code, the HTTP status and the FHIR IssueType of each error the layer
 * itself raises (https://hl7.org/fhir/R4/valueset-issue-type.html). The code is the OperationOutcome's id, so clients
 * and logs can match on it. Errors from the FHIR router carry their own outcome and go through its status mapping.
 */
export const HTTP_ERRORS = {
  'malformed-json': { status: 400, issue: 'structure', text: 'Request body is not valid JSON' },
  'bad-request': { status: 400, issue: 'invalid', text: 'Bad request' },
  unauthorized: { status: 401, issue: 'login', text: 'Authentication required' },
  forbidden: { status: 403, issue: 'forbidden', text: 'Forbidden' },
  'not-found': { status: 404, issue: 'not-found', text: 'Not found' },
  'method-not-allowed': { status: 405, issue: 'not-supported', text: 'Method not allowed' },
  conflict: { status: 409, issue: 'duplicate', text: 'Conflict' },
  'body-too-large': { status: 413, issue: 'too-long', text: 'Request body is too large' },
  'unsupported-media-type': { status: 415, issue: 'not-supported', text: 'Unsupported content type' },
  internal: { status: 500, issue: 'exception', text: 'Internal server error' },
  unavailable: { status: 503, issue: 'transient', text: 'Service unavailable: try again later' },
} as const;

export type HttpErrorCode = keyof typeof HTTP_ERRORS;

/** The OperationOutcome for a catalogued error; `text` replaces the generic message when given. */
export function httpOutcome(code: HttpErrorCode, text?: string): OperationOutcome {
  const e = HTTP_ERRORS[code];
  return { resourceType: 'OperationOutcome', id: code, issue: [{ severity: 'error', code: e.issue, details: { text: text ?? e.text } }] };
}

/** An error the HTTP layer throws on purpose; the error handler answers it with its catalogue entry. */
export class HttpError extends Error {
  readonly code: HttpErrorCode;
  readonly statusCode: number;
  constructor(code: HttpErrorCode, text?: string) {
    super(text ?? HTTP_ERRORS[code].text);
    this.code = code;
    this.statusCode = HTTP_ERRORS[code].status;
  }
}

const FASTIFY_CODES: Record<string, HttpErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'body-too-large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported-media-type',
  FST_ERR_CTP_INVALID_JSON_BODY: 'malformed-json',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'malformed-json',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'bad-request',
};

function isOutcomeError(err: unknown): err is { outcome: OperationOutcome } {
  return typeof err === 'object' && err !== null && (err as { outcome?: { resourceType?: string } }).outcome?.resourceType === 'OperationOutcome';
}

/** Any thrown value as [status, outcome]. Unknown errors become 500 with the request id and never a stack trace. */
export function errorResponse(err: unknown, statusOf: (o: OperationOutcome) => number, requestId: string): [number, OperationOutcome] {
  if (err instanceof AuthError) return [err.status, err.outcome];
  if (err instanceof HttpError) return [err.statusCode, httpOutcome(err.code, err.message)];
  if (err instanceof Unavailable) return [503, httpOutcome('unavailable', err.message)];
  if (err instanceof InstitutionError) {
    const code = err.code === 'not-found' ? 'not-found' : err.code === 'duplicate' ? 'conflict' : 'bad-request';
    return [HTTP_ERRORS[code].status, httpOutcome(code, err.message)];
  }
  if (isOutcomeError(err)) return [statusOf(err.outcome), err.outcome];
  const f = err as Partial<FastifyError>;
  const known = f.code ? FASTIFY_CODES[f.code] : undefined;
  if (known) return [HTTP_ERRORS[known].status, httpOutcome(known)];
  if (f.validation) return [400, httpOutcome('bad-request', f.message)];
  if (typeof f.statusCode === 'number' && f.statusCode >= 400 && f.statusCode < 500) {
    // Fastify's own 4xx messages describe the request, not our internals.
    return [f.statusCode, httpOutcome(f.statusCode === 404 ? 'not-found' : 'bad-request', f.message)];
  }
  return [500, httpOutcome('internal', `Internal server error (request ${requestId})`)];
}

/** Installs the error and not-found handlers: every error leaves as an OperationOutcome in `application/fhir+json`. */
export function installErrorHandlers(app: FastifyInstance, statusOf: (o: OperationOutcome) => number): void {
  app.setErrorHandler((err, request, reply) => {
    const [status, outcome] = errorResponse(err, statusOf, request.id);
    if (status >= 500) request.log.error({ err }, 'request failed');
    else request.log.info({ status, code: outcome.id ?? outcome.issue[0]?.code }, 'request rejected');
    if (status === 401) reply.header('www-authenticate', 'Bearer realm="healthbrain"');
    // Nothing of the request was done: when to try again (RFC 9110 §10.2.3).
    if (status === 503) reply.header('retry-after', String(err instanceof Unavailable ? err.retryAfterSeconds : 5));
    return reply.code(status).type('application/fhir+json; charset=utf-8').send(JSON.stringify(outcome));
  });
  app.setNotFoundHandler((request, reply) =>
    reply
      .code(404)
      .type('application/fhir+json; charset=utf-8')
      .send(JSON.stringify(httpOutcome('not-found', `No route for ${request.method} ${request.url.split('?')[0]}`))),
  );
}
