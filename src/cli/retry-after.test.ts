import { strict as assert } from 'node:assert';
import { createServer } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { sendRetryingUnavailable } from './retry-after.ts';

describe('clients of the platform', () => {
  let refuse = 0;
  let seen = 0;
  const server = createServer((req, res) => {
    seen++;
    req.resume();
    if (refuse-- > 0) res.writeHead(503, { 'retry-after': '1' }).end('busy');
    else res.writeHead(200).end('ok');
  });
  let url: string;
  before(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}/`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  it('send a request again after the Retry-After of each 503, until it is answered', async () => {
    refuse = 2;
    seen = 0;
    const t0 = Date.now();
    const res = await sendRetryingUnavailable(() => fetch(url, { method: 'POST', body: 'x' }));
    assert.equal(res.status, 200);
    assert.equal(seen, 3);
    assert.ok(Date.now() - t0 >= 1900, `waited ${Date.now() - t0} ms`);
  });

  it('give the last 503 back once their attempts are spent', async () => {
    refuse = 5;
    seen = 0;
    const res = await sendRetryingUnavailable(() => fetch(url), { attempts: 2 });
    assert.equal(res.status, 503);
    assert.equal(seen, 2);
  });
});
