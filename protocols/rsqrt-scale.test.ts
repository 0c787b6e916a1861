import { describe, expect, it } from 'vitest';
import { costOf, runTrio } from '../testing/trio.js';
import { rsqrt } from './rsqrt.js';
import { rsqrtRange, scaleByRsqrt } from './rsqrt-scale.js';
import { revealFloat } from './sharing.js';
import { msbPlanCost } from './msb.js';
import { logUniform, onGrid, randFloats, share } from '../testing/protocol-helpers.js';

const F = 18;

describe('scaleByRsqrt', () => {
  it('u / sqrt(x) vs float64 over [2^-10, 2^12] (ends included), ltz + 4 rounds, as rsqrt alone', async () => {
    const T = 64;
    const w = 5;
    const xs = logUniform(T, 2 ** -10, 2 ** 12, 3);
    xs[0] = 2 ** -10;
    xs[1] = 2 ** 12;
    xs[2] = 1;
    xs[3] = 1e-3;
    const us = randFloats(T * w, -20, 20, 4);
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
      return { out: (await revealFloat(ctx, out))!, rounds, rsqrtRounds: c().rounds };
    });
    let worst = 0;
    for (let t = 0; t < T; t++) for (let j = 0; j < w; j++) {
      const want = u0[t * w + j] / Math.sqrt(x0[t]);
      const err = Math.abs(res[0].out[t * w + j] - want);
      // rsqrt's relative bound (< 1e-3 with its output unit) on the product, plus two units
      expect(err, `x ${x0[t]} u ${u0[t * w + j]}`).toBeLessThan(1e-3 * Math.abs(want) + 4 * 2 ** -F);
      worst = Math.max(worst, err / Math.max(1e-9, Math.abs(want)));
    }
    // ltz over 12 + 18 + 3 = 33 bits (msb + injection) + 4, as rsqrt.ts documents for rsqrt alone
    for (const r of res) expect(r.rounds).toBe(msbPlanCost(33).rounds + 1 + 4);
    console.log(`rsqrt alone, measured after it: ${res[0].rsqrtRounds} rounds`);
    console.log(`scaleByRsqrt: worst relative error ${worst.toExponential(2)}`);
  });

  it('rejects mismatched shapes', async () => {
    await expect(runTrio(async (ctx) => {
      const x = await share(ctx, 0, [2, 1], Float64Array.of(1, 2));
      return scaleByRsqrt(ctx, x, await rsqrtRange(ctx, x), await share(ctx, 0, [3, 2], new Float64Array(6)));
    })).rejects.toThrow(/x must be/);
  });
});
