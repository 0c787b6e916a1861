import { describe, expect, it } from 'vitest';
import { costOf, runTrio } from '../testing/trio.js';
import { rsqrt } from './rsqrt.js';
import { rsqrtRange, scaleByRsqrt } from './rsqrt-scale.js';
import { RSQRT_MAX_LOG2 } from './rsqrt.js';
import { revealFloat } from './sharing.js';
import { msbPlanCost } from './msb.js';
import { logUniform, onGrid, randFloats, share } from '../testing/protocol-helpers.js';

const F = 18;

describe('scaleByRsqrt', () => {
  it('u / sqrt(x) vs float64 over [2^-10, 2^24] (ends included), ltz + 8 rounds (faithful), as rsqrt alone', async () => {
    const T = 64;
    const w = 5;
    const xs = logUniform(T, 2 ** -10, 2 ** 24, 3);
    xs[0] = 2 ** -10;
    xs[1] = 2 ** 24;
    xs[4] = 2 ** 12;
    xs[2] = 1;
    xs[3] = 1e-3;
    const us = randFloats(T * w, -20, 20, 4);
    // columns 3, 4 as the decode norm uses it: u grows with sqrt(x) (u / sqrt(x) within +-5)
    for (let t = 0; t < T; t++) for (let j = 3; j < w; j++) us[t * w + j] *= Math.sqrt(xs[t]) / 4;
    const x0 = onGrid(xs, F);
    const u0 = onGrid(us, F);
    const res = await runTrio(async (ctx) => {
      const x = await share(ctx, 0, [T, 1], x0);
      const u = await share(ctx, 1, [T, w], u0);
      let c = costOf(ctx);
      const out = await scaleByRsqrt(ctx, x, await rsqrtRange(ctx, x), u);
      const rounds = c().rounds;
      c = costOf(ctx);
      await rsqrt(ctx, x);
      const rsqrtRounds = c().rounds;
      return { out: (await revealFloat(ctx, out))!, rounds, rsqrtRounds };
    });
    let worst = 0;
    let worstOfBound = 0;
    for (let t = 0; t < T; t++) for (let j = 0; j < w; j++) {
      const want = u0[t * w + j] / Math.sqrt(x0[t]);
      const err = Math.abs(res[0].out[t * w + j] - want);
      // rsqrt's relative bound (< 1e-3) on the product, plus four units of 2^-f
      const bound = 1e-3 * Math.abs(want) + 4 * 2 ** -F;
      expect(err, `x ${x0[t]} u ${u0[t * w + j]}`).toBeLessThan(bound);
      if (Math.abs(want) >= 0.1) worst = Math.max(worst, err / Math.abs(want));
      worstOfBound = Math.max(worstOfBound, err / bound);
    }
    // ltz over 24 + 18 + 3 = 45 bits (msb + injection) + 4 faithful steps of 2 rounds, as rsqrt.ts documents for rsqrt alone
    for (const r of res) expect(r.rounds).toBe(msbPlanCost(RSQRT_MAX_LOG2 + F + 3).rounds + 1 + 8);
    for (const r of res) expect(r.rounds).toBe(r.rsqrtRounds);
    console.log(`scaleByRsqrt: worst relative error ${worst.toExponential(2)} (|result| >= 0.1), worst error / bound ${worstOfBound.toFixed(3)}`);
  });

  it('rejects mismatched shapes', async () => {
    await expect(runTrio(async (ctx) => {
      const x = await share(ctx, 0, [2, 1], Float64Array.of(1, 2));
      return scaleByRsqrt(ctx, x, await rsqrtRange(ctx, x), await share(ctx, 0, [3, 2], new Float64Array(6)));
    })).rejects.toThrow(/x must be/);
  });
});
