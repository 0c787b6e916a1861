import { describe, expect, it } from 'vitest';
import { costOf, runTrio } from './testing.js';
import { rsqrt } from './rsqrt.js';
import { ltz } from './compare.js';
import { constant, revealFloat } from './sharing.js';
import { onGrid, share, logUniform } from './test-util.js';

const F = 18;


describe('rsqrt', () => {
  it('relative error <= 1e-3 on [1e-3, 2^12] and edges; cost = ltz(11n) + 8 rounds', async () => {
    const n = 2000;
    const v = logUniform(n, 1e-3, 2 ** 12, 7);
    const edges = [1e-3, 2 ** -10, 1 / 64, 0.25, 1, 2, 4 - 2 ** -18, 4, 5, 1024, 4095, 4096];
    edges.forEach((e, i) => (v[i] = e));
    const X = onGrid(v, F);
    const res = await runTrio(async (ctx) => {
      const x = await share(ctx, 1, [n], X);
      const c0 = costOf(ctx);
      await ltz(ctx, constant(ctx, [11 * n], 0), { bitWidth: 12 + F + 2 });
      const ltzCost = c0();
      const c = costOf(ctx);
      const r = await rsqrt(ctx, x);
      const cost = c();
      expect(r.scale).toBe(F);
      return { cost, ltzCost, r: (await revealFloat(ctx, r))! };
    });
    let worst = 0;
    for (let i = 0; i < n; i++) {
      const ref = 1 / Math.sqrt(X[i]);
      worst = Math.max(worst, Math.abs(res[2].r[i] - ref) / ref);
    }
    expect(worst).toBeLessThanOrEqual(1e-3);
    // beyond ltz, over all parties: 9 products in fused mulFixed rounds (40 bytes each) + the y0 truncation (8 bytes from one party)
    for (const r of res) expect(r.cost.rounds).toBe(r.ltzCost.rounds + 8);
    // (plus mul.ts's role-rotation framing: at most 24 bytes per message)
    const total = res.reduce((s, r) => s + r.cost.bytesSent - r.ltzCost.bytesSent, 0);
    const framing = 24 * res.reduce((s, r) => s + r.cost.messagesSent - r.ltzCost.messagesSent, 0);
    expect(total).toBeGreaterThanOrEqual(40 * 9 * n + 8 * n);
    expect(total).toBeLessThanOrEqual(40 * 9 * n + 8 * n + framing);
    console.log(`rsqrt: max rel error ${worst.toExponential(3)}, ${res[0].cost.rounds} rounds`);
  });
});
