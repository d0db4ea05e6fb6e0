import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { Unavailable } from '../store/index.ts';
import { Turns, UploadGate } from './admission.ts';

const later = () => {
  let open!: () => void;
  const p = new Promise<void>((r) => (open = r));
  return { p, open };
};

describe('upload admission', () => {
  it('serves `slots` uploads at once and the next in arrival order as each ends', async () => {
    const gate = new UploadGate({ slots: 2, queue: 4, maxWaitMs: 5_000 });
    const order: string[] = [];
    const holds = [later(), later()];
    const a = gate.run(async () => (order.push('a'), holds[0].p));
    const b = gate.run(async () => (order.push('b'), holds[1].p));
    const c = gate.run(async () => void order.push('c'));
    const d = gate.run(async () => void order.push('d'));
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(order, ['a', 'b']);
    assert.deepEqual(gate.load, { busy: 2, waiting: 2 });
    holds[1].open();
    await Promise.all([b, c, d]);
    assert.deepEqual(order, ['a', 'b', 'c', 'd']);
    holds[0].open();
    await a;
    assert.deepEqual(gate.load, { busy: 0, waiting: 0 });
  });

  it('refuses with Unavailable and a retry delay when the queue is full, and when the wait passes its bound', async () => {
    const gate = new UploadGate({ slots: 1, queue: 1, maxWaitMs: 50 });
    const hold = later();
    const first = gate.run(() => hold.p);
    const waiting = gate.run(async () => 'never');
    await assert.rejects(gate.run(async () => 'full'), (err: unknown) => err instanceof Unavailable && err.retryAfterSeconds >= 1 && /waiting/.test(err.message));
    await assert.rejects(waiting, (err: unknown) => err instanceof Unavailable && /within 0.05 s/.test(err.message));
    hold.open();
    await first;
    assert.equal(await gate.run(async () => 'served'), 'served');
  });

  it('refuses waiting and new uploads once closed, and tells running ones to stop', async () => {
    const gate = new UploadGate({ slots: 1, queue: 4, maxWaitMs: 5_000 });
    const hold = later();
    const running = gate.run(async () => {
      await hold.p;
      return gate.closed;
    });
    const waiting = gate.run(async () => 'never');
    gate.close();
    await assert.rejects(waiting, /shutting down/);
    await assert.rejects(gate.run(async () => 'new'), /shutting down/);
    hold.open();
    assert.equal(await running, true);
  });

  it('lets at most n bulk landings hold turns at once, handing each freed turn to the longest waiting', async () => {
    const turns = new Turns(2);
    let now = 0;
    let peak = 0;
    const order: number[] = [];
    await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        turns.run(async () => {
          peak = Math.max(peak, ++now);
          order.push(i);
          await new Promise((r) => setTimeout(r, 5));
          now--;
        }),
      ),
    );
    assert.equal(peak, 2);
    assert.deepEqual(order, [0, 1, 2, 3, 4, 5]);
  });
});
