/**
 * Sends with `send` again while the server answers 503 (it could not take the request now and did none of it), waiting
 * what its Retry-After says (RFC 9110 §10.2.3; seconds, at most `maxWaitS` each), up to `attempts` sends in all.
 * The last answer is returned whatever it is. `send` must build a fresh request each time (a streamed body is used up).
 */
export async function sendRetryingUnavailable(send: () => Promise<Response>, options: { attempts?: number; maxWaitS?: number } = {}): Promise<Response> {
  const attempts = options.attempts ?? 6;
  for (let i = 1; ; i++) {
    const res = await send();
    if (res.status !== 503 || i >= attempts) return res;
    const wait = Math.min(options.maxWaitS ?? 30, Math.max(1, Number(res.headers.get('retry-after')) || 5));
    await res.arrayBuffer();
    await new Promise((r) => setTimeout(r, wait * 1000));
  }
}
