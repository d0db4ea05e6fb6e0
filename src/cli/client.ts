import pino from 'pino';
import { readAdminCredential, type AdminCredential } from '../auth/index.ts';
import type { Platform } from '../api/index.ts';
import type { Config } from '../config/index.ts';

/** One HTTP exchange, whichever transport carried it. */
export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface RequestOptions {
  /** A JSON value (sent as application/json) or a string sent with `contentType`. */
  body?: unknown;
  contentType?: string;
  headers?: Record<string, string>;
  /** Bearer token to use instead of the admin's (e.g. an institution's, to submit data as it). */
  token?: string;
}

/** An error answer from the platform, with the text of its OperationOutcome or OAuth error. */
export class ApiError extends Error {
  readonly status: number;
  readonly body: string;
  constructor(method: string, path: string, res: RawResponse) {
    super(`${method} ${path} → ${res.status}: ${describeError(res.body)}`);
    this.status = res.status;
    this.body = res.body;
  }
}

function describeError(body: string): string {
  try {
    const j = JSON.parse(body);
    if (j.resourceType === 'OperationOutcome') return j.issue?.map((i: { details?: { text?: string }; diagnostics?: string; code?: string }) => i.details?.text ?? i.diagnostics ?? i.code).join('; ');
    if (j.error) return `${j.error}: ${j.error_description ?? ''}`;
  } catch {
    // not JSON: show it as it came
  }
  return body.slice(0, 500);
}

/**
 * The platform as CLI commands see it: the same HTTP API either over the network (a server answers at `--server`)
 * or in-process (no server: the CLI opens the database itself and drives the very same app with `inject`). PGlite
 * admits one process, so this is how commands keep working while `serve` holds the embedded database.
 * Every request is made as the platform admin (credential from `<data>/admin.json`) unless `token` says otherwise.
 */
export interface PlatformClient {
  readonly transport: 'http' | 'in-process';
  /** Where requests go: the server URL, or `in-process`. */
  readonly target: string;
  /** Sends a request; any status comes back (no throwing on 4xx/5xx). */
  raw(method: string, path: string, options?: RequestOptions): Promise<RawResponse>;
  /** Sends a request and parses the JSON answer; throws ApiError unless the status is 2xx. */
  request<T = unknown>(method: string, path: string, options?: RequestOptions): Promise<T>;
  /** The admin's bearer token (fetched once through /auth/token). */
  adminToken(): Promise<string>;
  close(): Promise<void>;
}

type Send = (method: string, path: string, headers: Record<string, string>, body: string | undefined) => Promise<RawResponse>;

async function serverAnswers(url: string, timeoutMs: number): Promise<boolean> {
  try {
    await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(timeoutMs) });
    return true;
  } catch (err) {
    // A refused connection means no server. A probe that times out reached one that is busy — on the embedded engine
    // `/healthz` waits for the worker's batch to finish — and opening its data directory in-process instead would
    // find it locked (or, with another --data, a different database): talk to the server.
    return err instanceof Error && err.name === 'TimeoutError';
  }
}

function httpSend(serverUrl: string): Send {
  return async (method, path, headers, body) => {
    const res = await fetch(serverUrl + path, { method, headers, body });
    return { status: res.status, headers: Object.fromEntries(res.headers), body: await res.text() };
  };
}

function makeClient(transport: PlatformClient['transport'], target: string, send: Send, admin: AdminCredential, close: () => Promise<void>): PlatformClient {
  let token: Promise<string> | undefined;
  const adminToken = () =>
    (token ??= (async () => {
      const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: admin.clientId, client_secret: admin.clientSecret });
      const res = await send('POST', '/auth/token', { 'content-type': 'application/x-www-form-urlencoded' }, form.toString());
      if (res.status !== 200) {
        throw new Error(`${target} refused the admin credential (${describeError(res.body)}): is --data the data directory of that server?`);
      }
      return JSON.parse(res.body).access_token as string;
    })());

  const client: PlatformClient = {
    transport,
    target,
    adminToken,
    async raw(method, path, options = {}) {
      const headers: Record<string, string> = { accept: 'application/fhir+json, application/json', ...options.headers };
      headers.authorization ??= `Bearer ${options.token ?? (await adminToken())}`;
      let body: string | undefined;
      if (typeof options.body === 'string') {
        body = options.body;
        headers['content-type'] ??= options.contentType ?? 'text/plain; charset=utf-8';
      } else if (options.body !== undefined) {
        body = JSON.stringify(options.body);
        headers['content-type'] ??= options.contentType ?? 'application/json';
      }
      return send(method, path, headers, body);
    },
    async request<T>(method: string, path: string, options?: RequestOptions): Promise<T> {
      const res = await client.raw(method, path, options);
      if (res.status < 200 || res.status >= 300) throw new ApiError(method, path, res);
      return (res.body ? JSON.parse(res.body) : undefined) as T;
    },
    close,
  };
  return client;
}

/**
 * Connects to the platform: over HTTP when a server answers `GET {serverUrl}/healthz` within `probeMs`, otherwise
 * in-process on the database configured for `--data` / DATABASE_URL. Notes which on stderr (stdout stays clean for
 * the command's output). Close the client when done: in-process it closes the app and the database.
 */
export async function connectPlatform(config: Config, options: { probeMs?: number; quiet?: boolean } = {}): Promise<PlatformClient> {
  const note = (s: string) => options.quiet || process.stderr.write(s + '\n');
  if (await serverAnswers(config.serverUrl, options.probeMs ?? 1500)) {
    const admin = readAdminCredential(config.dataDir);
    if (!admin) throw new Error(`no admin credential at ${config.dataDir}/admin.json: pass --data with the data directory of the server at ${config.serverUrl}`);
    return makeClient('http', config.serverUrl, httpSend(config.serverUrl), admin, async () => undefined);
  }
  note(`(no server answers at ${config.serverUrl}: working on the database of ${config.databaseUrl ? 'DATABASE_URL' : config.dataDir} in-process)`);
  const { openPlatform } = await import('../api/index.ts');
  // Logs to stderr, warnings only: the command's stdout is its output.
  const platform = await openPlatform(config, { logger: pino({ level: 'warn' }, pino.destination(2)) });
  return clientFor(platform, () => platform.close());
}

/** A client on a platform this process already runs (e.g. the demo command talking to its own server), via inject. */
export function clientFor(platform: Platform, close: () => Promise<void> = async () => undefined): PlatformClient {
  const admin = readAdminCredential(platform.deps.config.dataDir);
  if (!admin) throw new Error(`no admin credential in ${platform.deps.config.dataDir}`);
  const send: Send = async (method, path, headers, body) => {
    const res = await platform.app.inject({ method: method as 'GET', url: path, headers, payload: body });
    const h: Record<string, string> = {};
    for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) h[k] = Array.isArray(v) ? v.join(', ') : String(v);
    return { status: res.statusCode, headers: h, body: res.body };
  };
  return makeClient('in-process', 'in-process', send, admin, close);
}

/** Runs `fn` with a connected client and always closes it. */
export async function withPlatform<T>(config: Config, fn: (client: PlatformClient) => Promise<T>): Promise<T> {
  const client = await connectPlatform(config);
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}
