import { describe, expect, it } from 'vitest';
import { costOf, runTrio } from '../testing/trio.js';
import { exp } from './exp.js';
import { broadcastLast, sub, sumAxis } from './linear.js';
import { max } from './max.js';
import { matmulFixed } from './mul.js';
import { reciprocal } from './reciprocal.js';
import { revealFloat } from './sharing.js';
import { DEFERRED_CMP_BITS, deferredPlan, deferredReciprocalPlan, softmaxDeferred } from './softmax-deferred.js';
import { msbPlanCost } from './msb.js';
import { randFloats, share } from '../testing/protocol-helpers.js';

const F = 18;

describe('softmaxDeferred', () => {
  // the default bound (defaultMaxAbsLogit(18) = 2^26: 48-bit comparisons, exp's clip on 33) and a promised 1024 (32, clip on 17)
  it.each([
    { name: 'default bound', B: undefined, near: 2 ** 20 },
    { name: 'promised bound 1024', B: 1024, near: 1024 },
  ])('(softmax x) V vs float64, logits up to the bound; rounds = max + exp + max(reciprocal, e V) + 1 ($name)', async ({ B, near }) => {
    const rows = 6;
    const n = 33;
    const hd = 8;
    const x0 = randFloats(rows * n, -20, 20, 3);
    // near the bound: a row near +near, a row near -near, a row of ties, a row with [5000, -4000, 0] (within 1024: +-1000)
    const wide = Math.min(near, 5000) / 5000;
    for (let j = 0; j < n; j++) {
      x0[j] = near - j * 0.5;
      x0[n + j] = -near + j * 0.25;
      x0[2 * n + j] = 7;
      x0[3 * n + j] = [5000, -4000, 0][j % 3] * wide - j * 0.01;
    }
    const v0 = randFloats(rows * n * hd, -3, 3, 4);
    const res = await runTrio(async (ctx) => {
      const x = await share(ctx, 0, [rows, n], x0);
      const V = await share(ctx, 1, [rows, n, hd], v0);
      const t = costOf(ctx);
      const o = await softmaxDeferred(ctx, x.reshape([rows, 1, n]), (lane, e) => matmulFixed(lane, e, V), { maxAbsLogit: B });
      const cost = t();
      // the parts on their own
      const { width, drop } = deferredPlan(ctx.f, B);
      let c = costOf(ctx);
      const m = await max(ctx, x, { bitWidth: width });
      const rMax = c().rounds;
      c = costOf(ctx);
      const e = await exp(ctx, sub(ctx, x, broadcastLast(ctx, m, n)), { bitWidth: width, dropBits: drop });
      const rExp = c().rounds;
      c = costOf(ctx);
      await reciprocal(ctx, sumAxis(ctx, e), { maxLog2: 6, dropBits: deferredReciprocalPlan(F, n).drop });
      const rRec = c().rounds;
      return { o: (await revealFloat(ctx, o))!, cost, rMax, rExp, rRec };
    });
    let worst = 0;
    for (let r = 0; r < rows; r++) {
      const s = x0.subarray(r * n, (r + 1) * n);
      const mx = Math.max(...s);
      const e = Array.from(s, (v) => Math.exp(v - mx));
      const sum = e.reduce((a, b) => a + b, 0);
      for (let i = 0; i < hd; i++) {
        let want = 0;
        for (let j = 0; j < n; j++) want += (e[j] / sum) * v0[(r * n + j) * hd + i];
        worst = Math.max(worst, Math.abs(res[0].o[r * hd + i] - want));
      }
    }
    expect(worst).toBeLessThan(2e-3);
    for (const p of res) expect(p.cost.rounds).toBe(p.rMax + p.rExp + Math.max(p.rRec, 1) + 1);
    // exp's clip runs one carry round fewer than the exact circuit: 48 -> 33 bits (default), 32 -> 17 (1024)
    const plan = deferredPlan(F, B);
    expect([plan.width, plan.width - plan.drop]).toEqual(B === undefined ? [48, 33] : [32, 17]);
    expect(msbPlanCost(plan.width - plan.drop).rounds).toBe(msbPlanCost(plan.width).rounds - 1);
  });

  // rows of 1023 / 1024 / 2100 / 4500 entries (a decode step after a long prompt): the reciprocal's
  // range grows to maxLog2 11..13, where its drop would exceed the band (dropBits <= f - 4 = 14)
  // without the cap; the values stay right
  it.each([1023, 1024, 2100, 4500])('a row of %i entries: the reciprocal plan stays in its band and the value is right', async (n) => {
    const plan = deferredReciprocalPlan(F, n);
    expect(plan.maxLog2).toBe(Math.ceil(Math.log2(n + 1)));
    expect(plan.drop).toBe(Math.min(F - 4, plan.maxLog2 + F + 3 - DEFERRED_CMP_BITS));
    expect(plan.drop).toBeLessThanOrEqual(F - 4);
    const hd = 4;
    const x0 = randFloats(n, -12, 12, 5);
    x0[7] = 30; // one dominant entry, the rest spread
    const v0 = randFloats(n * hd, -3, 3, 6);
    const res = await runTrio(async (ctx) => {
      const x = await share(ctx, 0, [1, 1, n], x0);
      const V = await share(ctx, 1, [1, n, hd], v0);
      const o = await softmaxDeferred(ctx, x, (lane, e) => matmulFixed(lane, e, V));
      return (await revealFloat(ctx, o))!;
    });
    const mx = Math.max(...x0);
    const e = Array.from(x0, (v) => Math.exp(v - mx));
    const sum = e.reduce((a, b) => a + b, 0);
    for (let i = 0; i < hd; i++) {
      let want = 0;
      for (let j = 0; j < n; j++) want += (e[j] / sum) * v0[j * hd + i];
      expect(Math.abs(res[0][i] - want)).toBeLessThan(2e-3);
    }
  });

  it('rejects a bad bound and an apply of the wrong shape', async () => {
    await expect(runTrio(async (ctx) => softmaxDeferred(ctx, await share(ctx, 0, [2, 3], new Float64Array(6)), async (_l, e) => e, { maxAbsLogit: 0 }))).rejects.toThrow(/maxAbsLogit/);
    await expect(runTrio(async (ctx) => softmaxDeferred(ctx, await share(ctx, 0, [2, 3], new Float64Array(6)), async (_l, e) => e.reshape([6, 1])))).rejects.toThrow(/leading shape/);
  });
});
