import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { expectationMaximisation, type Pattern } from './em.ts';
import { levelWeight, scoreVector, DEFAULT_PARAMS, type ModelParams } from './model.ts';

/** Deterministic PRNG (mulberry32) so the test is reproducible. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function draw(r: () => number, probs: number[]): number {
  let x = r();
  for (let i = 0; i < probs.length; i++) {
    x -= probs[i];
    if (x < 0) return i;
  }
  return probs.length - 1;
}

describe('expectation-maximisation', () => {
  it('recovers m, u and λ from pairs generated with known probabilities (Splink’s test idea)', () => {
    const truth = {
      lambda: 0.2,
      m: [[0.85, 0.1, 0.05], [0.9, 0.06, 0.04], [0.7, 0.3], [0.8, 0.15, 0.05]],
      u: [[0.01, 0.09, 0.9], [0.02, 0.08, 0.9], [0.1, 0.9], [0.05, 0.25, 0.7]],
    };
    const r = rng(7);
    const counts = new Map<string, number>();
    for (let i = 0; i < 200_000; i++) {
      const match = r() < truth.lambda;
      const g = (match ? truth.m : truth.u).map((p) => draw(r, p));
      const k = g.join(',');
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    const patterns: Pattern[] = [...counts].map(([k, count]) => ({ gammas: k.split(',').map(Number), count }));
    const flat = (n: number[]) => n.map(() => 1 / n.length);
    const res = expectationMaximisation({
      patterns,
      levelCounts: truth.m.map((x) => x.length),
      lambda: 0.5,
      m: truth.m.map((x) => x.map((_, i) => (i === 0 ? 0.6 : 0.4 / (x.length - 1)))),
      u: truth.u.map(flat),
      estimateU: true,
      maxIterations: 500,
      tolerance: 1e-7,
    });
    assert.ok(res.converged);
    assert.ok(Math.abs(res.lambda - truth.lambda) < 0.01, `λ ${res.lambda}`);
    for (let k = 0; k < truth.m.length; k++) {
      for (let l = 0; l < truth.m[k].length; l++) {
        assert.ok(Math.abs(res.m[k][l] - truth.m[k][l]) < 0.02, `m[${k}][${l}] ${res.m[k][l]} vs ${truth.m[k][l]}`);
        assert.ok(Math.abs(res.u[k][l] - truth.u[k][l]) < 0.02, `u[${k}][${l}] ${res.u[k][l]} vs ${truth.u[k][l]}`);
      }
    }
  });

  it('uses labelled pairs with their known class', () => {
    const res = expectationMaximisation({
      patterns: [
        { gammas: [0], count: 10, label: true },
        { gammas: [1], count: 10, label: false },
      ],
      levelCounts: [2],
      lambda: 0.5,
      m: [[0.5, 0.5]],
      u: [[0.5, 0.5]],
      estimateU: true,
    });
    assert.ok(res.m[0][0] > 0.99 && res.u[0][1] > 0.99);
  });
});

describe('term-frequency adjustment', () => {
  it('makes agreement on a rare name worth more than agreement on 王伟', () => {
    const p: ModelParams = DEFAULT_PARAMS;
    const gammas = [-1, 0, 0, 0, -1, 1, -1];
    const common = scoreVector(p, gammas, 0.004); // 王伟: about 4 in 1,000 registrations
    const rare = scoreVector(p, gammas, 0.00002);
    assert.ok(rare.weight > common.weight + 7, `${rare.weight} vs ${common.weight}`);
    assert.equal(common.evidence.find((e) => e.field === 'name')?.tf, 0.004);
    assert.ok(levelWeight(p, 'name', 0, 0.00002) > levelWeight(p, 'name', 0));
  });
});
