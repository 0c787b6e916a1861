import { describe, expect, it } from 'vitest';
import { costOf, runTrio } from '../testing/trio.js';
import { exp } from './exp.js';
import { broadcastLast, sub, sumAxis } from './linear.js';
import { max } from './max.js';
import { matmulFixed } from './mul.js';
import { reciprocal } from './reciprocal.js';
import { revealFloat } from './sharing.js';
import { DEFERRED_CMP_BITS, deferredPlan, softmaxDeferred } from './softmax-deferred.js';
import { msbPlanCost } from './msb.js';
import { randFloats, share } from '../testing/protocol-helpers.js';

const F = 18;

describe('softmaxDeferred', () => {
  it('(softmax x) V vs float64, logits up to the bound; rounds = max + exp + max(reciprocal, e V) + 1', async () => {
    const rows = 6;
    const n = 33;
    const hd = 8;
    const B = 1024;
    const x0 = randFloats(rows * n, -20, 20, 3);
    // at the bound: a row near +B, a row near -B, a row of ties
    for (let j = 0; j < n; j++) {
      x0[j] = B - j * 0.5;
      x0[n + j] = -B + j * 0.25;
      x0[2 * n + j] = 7;
    }
    const v0 = randFloats(rows * n * hd, -3, 3, 4);
    const res = await runTrio(async (ctx) => {
      const x = await share(ctx, 0, [rows, n], x0);
      const V = await share(ctx, 1, [rows, n, hd], v0);
      const t = costOf(ctx);
      const o = await softmaxDeferred(ctx, x.reshape([rows, 1, n]), (lane, e) => matmulFixed(lane, e, V));
      const cost = t();
      // the parts on their own
      const { width, drop } = deferredPlan(ctx.f);
      let c = costOf(ctx);
      const m = await max(ctx, x, { bitWidth: width });
      const rMax = c().rounds;
      c = costOf(ctx);
      const e = await exp(ctx, sub(ctx, x, broadcastLast(ctx, m, n)), { bitWidth: width, dropBits: drop });
      const rExp = c().rounds;
      c = costOf(ctx);
      await reciprocal(ctx, sumAxis(ctx, e), { maxLog2: 6, dropBits: Math.max(0, 6 + F + 3 - DEFERRED_CMP_BITS) });
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
    // exp's clip runs the 17-bit circuit: one carry round fewer than the 31-bit one
    expect(msbPlanCost(deferredPlan(F).width - deferredPlan(F).drop).rounds).toBe(msbPlanCost(31).rounds - 1);
  });

  it('rejects a bad bound and an apply of the wrong shape', async () => {
    await expect(runTrio(async (ctx) => softmaxDeferred(ctx, await share(ctx, 0, [2, 3], new Float64Array(6)), async (_l, e) => e, { maxAbsLogit: 0 }))).rejects.toThrow(/maxAbsLogit/);
    await expect(runTrio(async (ctx) => softmaxDeferred(ctx, await share(ctx, 0, [2, 3], new Float64Array(6)), async (_l, e) => e.reshape([6, 1])))).rejects.toThrow(/leading shape/);
  });
});
