import iconv from 'iconv-lite';
import { HttpError } from './errors.ts';

/**
 * Bad input is refused at the HTTP boundary with a 400/415 OperationOutcome naming the problem, never left to fail
 * deeper as a 500:
 * - NUL (U+0000) in a URL (path or query, percent-encoded as %00), a form or a JSON string or key: PostgreSQL rejects
 *   it in text and jsonb ("invalid byte sequence", "unsupported Unicode escape sequence"), so it cannot be searched
 *   for or stored; no FHIR or HL7 value may hold it. Likewise an unpaired surrogate (`"\ud800"`) in JSON: no character,
 *   and jsonb refuses it ("Unicode low surrogate must follow a high surrogate").
 * - JSON nested deeper than MAX_JSON_DEPTH: no FHIR resource comes near it (a Bundle of Questionnaires with nested
 *   items is under 30), and recursive code further on (validation, serialisation) would overflow the stack.
 * - A JSON body in a declared charset (`application/fhir+json; charset=gbk`) is decoded in it — GBK/GB 18030 and
 *   Big5 are what Chinese hospital systems send — and an unknown charset is 415; bytes that are not valid UTF-8 when
 *   no other charset is declared are 400 (decoding them anyway would store U+FFFD instead of the sender's text).
 */
export const MAX_JSON_DEPTH = 100;

/** Decoders by declared charset; the GB family is decoded as GB 18030, the superset of GB 2312 and GBK. */
const ALIASES: Record<string, string> = { utf8: 'utf-8', 'utf-8': 'utf-8', gbk: 'gb18030', gb2312: 'gb18030', cp936: 'gb18030', gb18030: 'gb18030' };

/** The charset a Content-Type declares, as the name the platform decodes it with ('utf-8' when none is declared). */
export function declaredCharset(contentType: string | undefined): string {
  const m = /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(contentType ?? '');
  if (!m) return 'utf-8';
  const name = m[1].toLowerCase();
  const known = ALIASES[name] ?? (iconv.encodingExists(name) ? name : undefined);
  if (!known) throw new HttpError('unsupported-media-type', `charset '${m[1]}' is not supported: send UTF-8, or declare GBK, GB18030 or Big5`);
  return known;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A body's text in its declared charset (a UTF-8 byte-order mark dropped). */
export function decodeBody(body: Buffer, contentType: string | undefined): string {
  const charset = declaredCharset(contentType);
  if (charset !== 'utf-8') return iconv.decode(body, charset);
  try {
    return utf8.decode(body);
  } catch {
    throw new HttpError('bad-request', 'the body is not valid UTF-8: declare its charset in Content-Type (e.g. application/fhir+json; charset=gbk)');
  }
}

/**
 * Walks a parsed JSON value without recursion (a hostile depth cannot overflow the stack here) and refuses it when
 * nested deeper than `maxDepth` or holding NUL in a string or key; the message names where.
 */
export function checkJson(value: unknown, maxDepth = MAX_JSON_DEPTH): void {
  const stack: Array<[unknown, number, string]> = [[value, 1, '']];
  while (stack.length) {
    const [v, depth, path] = stack.pop()!;
    if (typeof v === 'string') {
      if (v.includes('\u0000')) throw new HttpError('bad-request', `the JSON string at ${path || 'the top'} holds a NUL character (\\u0000), which no value may hold`);
      if (!v.isWellFormed()) throw new HttpError('bad-request', `the JSON string at ${path || 'the top'} holds an unpaired surrogate (e.g. \\ud800), which is no character`);
      continue;
    }
    if (typeof v !== 'object' || v === null) continue;
    if (depth > maxDepth) throw new HttpError('bad-request', `the JSON body is nested deeper than ${maxDepth} levels (at ${path})`);
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) stack.push([v[i], depth + 1, `${path}[${i}]`]);
      continue;
    }
    for (const [k, child] of Object.entries(v)) {
      if (k.includes('\u0000') || !k.isWellFormed()) throw new HttpError('bad-request', `a JSON key at ${path || 'the top'} holds a NUL character (\\u0000) or an unpaired surrogate`);
      stack.push([child, depth + 1, path ? `${path}.${k}` : k]);
    }
  }
}

/** Refuses a URL whose path or query decodes to NUL (`%00`; a raw NUL cannot reach us in an HTTP request line). */
export function checkUrl(url: string): void {
  if (/%00/i.test(url) || url.includes('\u0000')) {
    const where = url.indexOf('?') >= 0 && /%00/i.test(url.slice(url.indexOf('?'))) ? 'query' : 'path';
    throw new HttpError('bad-request', `the URL ${where} holds a NUL character (%00), which no value may hold`);
  }
}

/** Refuses a form body (already decoded to fields, or the raw text a route keeps) that holds NUL. */
export function checkForm(body: unknown): void {
  if (typeof body === 'string') {
    if (/%00/i.test(body) || body.includes('\u0000')) throw new HttpError('bad-request', 'the form holds a NUL character (%00), which no value may hold');
  } else if (body && typeof body === 'object') {
    for (const [k, v] of Object.entries(body)) {
      if (k.includes('\u0000') || (typeof v === 'string' && v.includes('\u0000'))) throw new HttpError('bad-request', `the form field '${k.replace(/\u0000/g, '')}' holds a NUL character (%00)`);
    }
  }
}
