import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { extname, join, resolve, sep } from 'node:path';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { RoutePlugin } from './deps.ts';

/** Where `npm run build:web` writes the console (web/vite.config.ts). */
export const DEFAULT_WEB_ROOT = resolve(import.meta.dirname, '../../web/dist');

/** Paths owned by the API: never answered with the SPA's index.html, so a wrong API path is a real 404. */
const API_PREFIXES = ['/api/', '/fhir', '/auth/', '/admin/', '/ingest', '/health', '/metadata', '/.well-known/'];

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};

const NOT_BUILT = `<!doctype html><meta charset="utf-8"><title>HealthBrain</title>
<body style="font:14px sans-serif;margin:48px;color:#1d2b3a">
<h1>HealthBrain web console not built / 网页控制台尚未构建</h1>
<p>Run <code>npm run build:web</code> to build it into <code>web/dist/</code>, then reload. The API is running.</p>
<p>请先运行 <code>npm run build:web</code> 构建网页控制台，然后刷新本页。接口服务已正常运行。</p></body>`;

async function fileIn(root: string, urlPath: string): Promise<string | undefined> {
  let rel: string;
  try {
    rel = decodeURIComponent(urlPath.split('?')[0]!);
  } catch {
    return undefined;
  }
  const full = resolve(join(root, rel));
  if (full !== root && !full.startsWith(root + sep)) return undefined; // no escaping the root with ../
  const s = await stat(full).catch(() => undefined);
  return s?.isFile() ? full : undefined;
}

function send(reply: FastifyReply, file: string, cache: string): FastifyReply {
  return reply
    .header('content-type', TYPES[extname(file)] ?? 'application/octet-stream')
    .header('cache-control', cache)
    .header('x-content-type-options', 'nosniff')
    .send(createReadStream(file));
}

/**
 * Serves the built web console (a single-page app) at `/`: files from `root`; hashed files under `/assets/`
 * cached for a year as immutable; `index.html` revalidated on every load; any other non-API GET that wants HTML
 * and asks for HTML (a browser) gets `index.html`; anything else unknown stays the app's usual 404. When the console was not built,
 * `/` says how to build it instead of a bare 404.
 */
export function createWebRoutes(root: string = DEFAULT_WEB_ROOT): RoutePlugin {
  const absRoot = resolve(root);
  return (app: FastifyInstance) => {
    app.get('/*', async (request, reply) => {
      const path = request.url.split('?')[0]!;
      if (API_PREFIXES.some((p) => path.startsWith(p))) return reply.callNotFound();
      const file = path === '/' ? undefined : await fileIn(absRoot, path);
      if (file) {
        const hashed = path.startsWith('/assets/');
        return send(reply, file, hashed ? 'public, max-age=31536000, immutable' : 'no-cache');
      }
      const wantsHtml = path === '/' || String(request.headers.accept ?? '').includes('text/html');
      if (path.startsWith('/assets/') || extname(path) !== '' || !wantsHtml) return reply.callNotFound();
      const index = await fileIn(absRoot, '/index.html');
      if (!index) return reply.code(503).header('content-type', TYPES['.html']!).header('cache-control', 'no-store').send(NOT_BUILT);
      return send(reply, index, 'no-cache');
    });
  };
}

/** The console from `web/dist`, as `healthbrain serve` registers it. */
export const webRoutes: RoutePlugin = createWebRoutes();
