import { describe, expect, it } from 'vitest';
import { costOf, runTrio } from '../testing/trio.js';
import { rsqrt } from './rsqrt.js';
import { ltz } from './compare.js';
import { thresholdBitsTimes } from './range-normalize.js';
import { constant, revealFloat } from './sharing.js';
import { onGrid, share, logUniform } from '../testing/protocol-helpers.js';

const F = 18;


describe('rsqrt', () => {
  it('relative error <= 1e-3 on [1e-3, 2^24] and edges (output scale f + 8; f below 2^12); cost = ltz(34n) + 8 rounds (faithful)', async () => {
    const n = 2000;
    const v = logUniform(n, 1e-3, 2 ** 24, 7);
    // edges, incl. what the old range [2^-10, 2^12] got wrong: RMSNorm of d = 768 at RMS 90..4096
    const edges = [1e-3, 2 ** -10, 1 / 64, 0.25, 1, 2, 4 - 2 ** -18, 4, 5, 1024, 4095, 4096, 8100 * 1.5, 2e4, 1e6, 2 ** 23, 2 ** 24 - 1, 2 ** 24];
    edges.forEach((e, i) => (v[i] = e));
    const X = onGrid(v, F);
    const res = await runTrio(async (ctx) => {
      const x = await share(ctx, 1, [n], X);
      const c0 = costOf(ctx);
      await ltz(ctx, constant(ctx, [34 * n], 0), { bitWidth: 24 + F + 3 });
      const ltzCost = c0();
      // the comparison as rsqrt runs it: msb, then the bits injected and times x
      const c1 = costOf(ctx);
      await thresholdBitsTimes(ctx, x, Array.from({ length: 34 }, (_, i) => i - 9), 24 + F + 3);
      const cmpCost = c1();
      const c = costOf(ctx);
      const r = await rsqrt(ctx, x, { scale: F + 8 });
      const cost = c();
      expect(r.scale).toBe(F + 8);
      const r0 = await rsqrt(ctx, x);
      expect(r0.scale).toBe(F);
      return { cost, ltzCost, cmpCost, r: (await revealFloat(ctx, r))!, r0: (await revealFloat(ctx, r0))! };
    });
    let worst = 0;
    for (let i = 0; i < n; i++) {
      const ref = 1 / Math.sqrt(X[i]);
      worst = Math.max(worst, Math.abs(res[2].r[i] - ref) / ref);
    }
    expect(worst).toBeLessThanOrEqual(1e-3);
    // at the default output scale f: 1e-3 below 2^12, one output unit (2^-18) above
    for (let i = 0; i < n; i++) {
      const ref = 1 / Math.sqrt(X[i]);
      expect(Math.abs(res[2].r0[i] - ref)).toBeLessThanOrEqual(1e-3 * ref + 2 ** -F);
    }
    for (const r of res) expect(r.cost.rounds).toBe(r.ltzCost.rounds + 8);
    // beyond the comparison, over all parties: 4 faithful fused outputs (64 bytes each) + the x_n
    // and y0 faithful truncations (48 bytes each), plus the role-rotation framing
    const total = res.reduce((s, r) => s + r.cost.bytesSent - r.cmpCost.bytesSent, 0);
    const framing = 24 * res.reduce((s, r) => s + r.cost.messagesSent - r.cmpCost.messagesSent, 0);
    expect(total).toBeGreaterThanOrEqual(64 * 4 * n + 48 * 2 * n);
    expect(total).toBeLessThanOrEqual(64 * 4 * n + 48 * 2 * n + framing);
    console.log(`rsqrt: max rel error (scale f + 8) ${worst.toExponential(3)}, ${res[0].cost.rounds} rounds`);
  });
});
