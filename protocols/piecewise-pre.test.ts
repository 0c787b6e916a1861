import { describe, expect, it } from 'vitest';
import { costOf, runTrio } from '../testing/trio.js';
import { SILU_SPECS, silu } from './activations.js';
import { ltz } from './compare.js';
import { mul } from './mul.js';
import { subPublic } from './linear.js';
import { revealFloat } from './sharing.js';
import { onGrid, randFloats, share } from '../testing/protocol-helpers.js';

const F = 18;

describe('piecewise with precomputed comparisons', () => {
  it('silu(x) from the caller\'s bits equals silu(x) within its fixed-point rounding (32 units, 1.2e-4), at and beyond the breakpoints, and skips the comparison rounds', async () => {
    const v = onGrid(randFloats(300, -16, 16, 8), F);
    [-8, 0, 8, -8 - 2 ** -F, 8 - 2 ** -F, 2 ** -F, -(2 ** -F), 20, -20].forEach((x, i) => (v[i] = x));
    const res = await runTrio(async (ctx) => {
      const x = await share(ctx, 0, [v.length], v);
      const bits = [];
      const timesX = [];
      for (const b of SILU_SPECS.fit.breakpoints) {
        const c = await ltz(ctx, subPublic(ctx, x, b));
        bits.push(c);
        timesX.push(await mul(ctx, c, x));
      }
      let t = costOf(ctx);
      const a = await silu(ctx, x);
      const ra = t().rounds;
      t = costOf(ctx);
      const b = await silu(ctx, x, { comparisons: { bits, timesX } });
      const rb = t().rounds;
      return { a: (await revealFloat(ctx, a))!, b: (await revealFloat(ctx, b))!, ra, rb };
    });
    for (let i = 0; i < v.length; i++) {
      expect(Math.abs(res[0].a[i] - res[0].b[i])).toBeLessThanOrEqual(32 * 2 ** -F);
      expect(Math.abs(res[0].b[i] - v[i] / (1 + Math.exp(-v[i])))).toBeLessThan(1e-2);
    }
    expect(res[0].rb).toBe(res[0].ra - 7); // ltz's 7 rounds skipped
  });

  it('rejects comparisons of the wrong count or scale', async () => {
    await expect(runTrio(async (ctx) => {
      const x = await share(ctx, 0, [4], new Float64Array(4));
      return silu(ctx, x, { comparisons: { bits: [x], timesX: [x] } });
    })).rejects.toThrow(/comparisons/);
  });
});
