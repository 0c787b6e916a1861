import { describe, expect, it } from 'vitest';
import { costOf, runTrio } from '../testing/trio.js';
import { rsqrt } from './rsqrt.js';
import { ltz } from './compare.js';
import { thresholdBitsTimes } from './range-normalize.js';
import { constant, revealFloat } from './sharing.js';
import { onGrid, share, logUniform } from '../testing/protocol-helpers.js';

const F = 18;


describe('rsqrt', () => {
  it('relative error <= 1e-3 on [1e-3, 2^12] and edges; cost = ltz(22n) + 4 rounds', async () => {
    const n = 2000;
    const v = logUniform(n, 1e-3, 2 ** 12, 7);
    const edges = [1e-3, 2 ** -10, 1 / 64, 0.25, 1, 2, 4 - 2 ** -18, 4, 5, 1024, 4095, 4096];
    edges.forEach((e, i) => (v[i] = e));
    const X = onGrid(v, F);
    const res = await runTrio(async (ctx) => {
      const x = await share(ctx, 1, [n], X);
      const c0 = costOf(ctx);
      await ltz(ctx, constant(ctx, [22 * n], 0), { bitWidth: 12 + F + 3 });
      const ltzCost = c0();
      // the comparison as rsqrt runs it: msb, then the bits injected and times x
      const c1 = costOf(ctx);
      await thresholdBitsTimes(ctx, x, Array.from({ length: 22 }, (_, i) => i - 9), 12 + F + 3);
      const cmpCost = c1();
      const c = costOf(ctx);
      const r = await rsqrt(ctx, x);
      const cost = c();
      expect(r.scale).toBe(F);
      return { cost, ltzCost, cmpCost, r: (await revealFloat(ctx, r))! };
    });
    let worst = 0;
    for (let i = 0; i < n; i++) {
      const ref = 1 / Math.sqrt(X[i]);
      worst = Math.max(worst, Math.abs(res[2].r[i] - ref) / ref);
    }
    expect(worst).toBeLessThanOrEqual(1e-3);
    for (const r of res) expect(r.cost.rounds).toBe(r.ltzCost.rounds + 4);
    // beyond the comparison, over all parties: 4 fused outputs (40 bytes each) + the x_n and y0
    // truncations (8 bytes each from one party), plus mul.ts's role-rotation framing
    const total = res.reduce((s, r) => s + r.cost.bytesSent - r.cmpCost.bytesSent, 0);
    const framing = 24 * res.reduce((s, r) => s + r.cost.messagesSent - r.cmpCost.messagesSent, 0);
    expect(total).toBeGreaterThanOrEqual(40 * 4 * n + 8 * 2 * n);
    expect(total).toBeLessThanOrEqual(40 * 4 * n + 8 * 2 * n + framing);
    console.log(`rsqrt: max rel error ${worst.toExponential(3)}, ${res[0].cost.rounds} rounds`);
  });
});
