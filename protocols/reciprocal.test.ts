import { describe, expect, it } from 'vitest';
import { costOf, runTrio } from '../testing/trio.js';
import { reciprocal } from './reciprocal.js';
import { ltz } from './compare.js';
import { constant, revealFloat } from './sharing.js';
import { onGrid, share, logUniform } from '../testing/protocol-helpers.js';

const F = 18;


describe('reciprocal', () => {
  it('relative error <= 1e-3 on [1, 2^14] at scale f + 14, abs <= 1e-3/x + 2^-f at scale f; cost = ltz(7n) + 6 rounds', async () => {
    const n = 2000;
    const v = logUniform(n, 1, 2 ** 14, 5);
    const edges = [1, 1 + 2 ** -18, 2 - 2 ** -18, 2, 3, 4, 2 ** 7, 2 ** 13 - 2 ** -18, 2 ** 13, 2 ** 14 - 1, 2 ** 14];
    edges.forEach((e, i) => (v[i] = e));
    const X = onGrid(v, F);
    const res = await runTrio(async (ctx) => {
      const x = await share(ctx, 2, [n], X);
      const c0 = costOf(ctx);
      await ltz(ctx, constant(ctx, [7 * n], 0), { bitWidth: 14 + F + 3 });
      const ltzCost = c0();
      const c = costOf(ctx);
      const r = await reciprocal(ctx, x);
      const cost = c();
      const fine = await reciprocal(ctx, x, { scale: F + 14 });
      expect(r.scale).toBe(F);
      expect(fine.scale).toBe(F + 14);
      return { cost, ltzCost, r: (await revealFloat(ctx, r))!, fine: (await revealFloat(ctx, fine))! };
    });
    let worstRel = 0;
    let worstAbs = 0;
    for (let i = 0; i < n; i++) {
      const ref = 1 / X[i];
      worstRel = Math.max(worstRel, Math.abs(res[0].fine[i] - ref) / ref);
      const a = Math.abs(res[0].r[i] - ref);
      expect(a).toBeLessThanOrEqual(1e-3 * ref + 2 ** -F);
      worstAbs = Math.max(worstAbs, a);
    }
    expect(worstRel).toBeLessThanOrEqual(1e-4);
    for (const r of res) expect(r.cost.rounds).toBe(r.ltzCost.rounds + 6);
    // 9 products in fused mulFixed rounds: 40 bytes per element over the three parties (+ at
    // most 24 bytes of rotation framing per message)
    const extra = res.reduce((s, r) => s + r.cost.bytesSent - r.ltzCost.bytesSent, 0);
    const framing = 24 * res.reduce((s, r) => s + r.cost.messagesSent - r.ltzCost.messagesSent, 0);
    expect(extra).toBeGreaterThanOrEqual(40 * 9 * n);
    expect(extra).toBeLessThanOrEqual(40 * 9 * n + framing);
    console.log(`reciprocal: max rel error (scale f+14) ${worstRel.toExponential(3)}, max abs error (scale f) ${worstAbs.toExponential(3)}, ${res[0].cost.rounds} rounds`);
  });

  it('supports other ranges (maxLog2) and intermediate output scales', async () => {
    const n = 200;
    const X = onGrid(logUniform(n, 1, 2 ** 20, 9), F);
    const res = await runTrio(async (ctx) => {
      const x = await share(ctx, 0, [4, 50], X);
      const r = await reciprocal(ctx, x, { maxLog2: 20, scale: F + 10 });
      expect(r.shape).toEqual([4, 50]);
      return (await revealFloat(ctx, r))!;
    });
    for (let i = 0; i < n; i++) expect(Math.abs(res[1][i] * X[i] - 1)).toBeLessThanOrEqual(1e-3 + X[i] * 2 ** -(F + 10));
  });

  it('rejects bad arguments', async () => {
    await runTrio(async (ctx) => {
      const x = constant(ctx, [2], 1);
      await expect(reciprocal(ctx, x, { maxLog2: 0 })).rejects.toThrow(RangeError);
      await expect(reciprocal(ctx, x, { scale: F - 1 })).rejects.toThrow(RangeError);
      await expect(reciprocal(ctx, constant(ctx, [2], 1, 0))).rejects.toThrow(RangeError);
    });
  });
});
