import { describe, expect, it } from 'vitest';
import { costOf, runTrio } from '../testing/trio.js';
import { ltz } from './compare.js';
import { exp } from './exp.js';
import { reciprocal } from './reciprocal.js';
import { max } from './max.js';
import { msbPlanCost } from './msb.js';
import { reveal, revealFloat } from './sharing.js';
import { onGrid, randFloats, share } from '../testing/protocol-helpers.js';

const F = 18;
const ulp = 2 ** -F;

describe('approximate comparisons (dropBits)', () => {
  it('ltz with dropBits k: exact outside [0, 2^(k+1)) ulps, rounds of the (L - k)-bit circuit; at and beyond the band and the width', async () => {
    const L = 31;
    const k = 14;
    const band = 2 ** (k + 1) * ulp; // 1/8
    const n = 2000;
    const v = onGrid(randFloats(n, -2000, 2000, 5), F);
    // at and around the band's edges, zero, and the promised range's ends
    const edges = [0, ulp, -ulp, band, band - ulp, band + ulp, band / 2, -band, 2 ** (L - 1 - F) - ulp, -(2 ** (L - 1 - F)) + band];
    edges.forEach((e, i) => (v[i] = e));
    const res = await runTrio(async (ctx) => {
      const x = await share(ctx, 2, [n], v);
      const c = costOf(ctx);
      const b = await ltz(ctx, x, { bitWidth: L, dropBits: k });
      return { cost: c(), b: (await reveal(ctx, b))!.data };
    });
    let inBand = 0;
    for (let i = 0; i < n; i++) {
      const got = res[0].b[i];
      if (v[i] < 0) expect(got, `x = ${v[i]}`).toBe(1n);
      else if (v[i] >= band) expect(got, `x = ${v[i]}`).toBe(0n);
      else inBand++;
    }
    expect(inBand).toBeGreaterThan(3);
    // 31 - 14 = 17 bits: msb 4 rounds, + the injection round
    expect(msbPlanCost(L - k).rounds).toBe(4);
    for (const r of res) expect(r.cost.rounds).toBe(msbPlanCost(L - k).rounds + 1);
  });

  it('rejects dropBits outside [0, L - 2]', async () => {
    await expect(runTrio(async (ctx) => ltz(ctx, await share(ctx, 0, [3], new Float64Array(3)), { bitWidth: 20, dropBits: 19 }))).rejects.toThrow(/dropBits/);
  });

  it('max (binary) with dropBits: within levels x 2^(k+1) ulps below the true max, never above; rounds follow the narrower plan', async () => {
    const rows = 6;
    const n = 257;
    const k = 14;
    const v = onGrid(randFloats(rows * n, -30, 30, 9), F);
    // near-ties within the band
    for (let j = 0; j < 40; j++) v[n + j] = 10 + j * 2 ** -8;
    const res = await runTrio(async (ctx) => {
      const x = await share(ctx, 1, [rows, n], v);
      const c = costOf(ctx);
      const m = await max(ctx, x, { bitWidth: 31, dropBits: k, arity: 'binary' });
      return { cost: c(), m: (await revealFloat(ctx, m))! };
    });
    const levels = Math.ceil(Math.log2(n));
    const tol = levels * 2 ** (k + 1) * ulp;
    for (let i = 0; i < rows; i++) {
      let best = -Infinity;
      for (let j = 0; j < n; j++) best = Math.max(best, v[i * n + j]);
      expect(res[0].m[i]).toBeLessThanOrEqual(best);
      expect(res[0].m[i]).toBeGreaterThanOrEqual(best - tol);
      // the result is one of the row's values
      expect(Array.from(v.subarray(i * n, (i + 1) * n))).toContain(res[0].m[i]);
    }
    const exact = await runTrio(async (ctx) => {
      const x = await share(ctx, 1, [rows, n], v);
      const c = costOf(ctx);
      await max(ctx, x, { bitWidth: 31, arity: 'binary' });
      return c().rounds;
    });
    expect(res[0].cost.rounds).toBe(exact[0] - levels); // one msb round fewer per level
  });

  it('the g-ary tournament refuses dropBits (approximate comparisons are not transitive)', async () => {
    await expect(runTrio(async (ctx) => max(ctx, await share(ctx, 0, [2, 9], new Float64Array(18)), { dropBits: 4 }))).rejects.toThrow(/binary/);
  });

  it('exp with an approximate clip: e^x within 3e-4 on [-14 + band, 0.5], exactly 0 below -14, at most e^-14 wrong inside the band', async () => {
    const k = 14;
    const band = 2 ** (k + 1 - F);
    const xs = Float64Array.from({ length: 400 }, (_, i) => -16 + i * 0.04125);
    const res = await runTrio(async (ctx) => {
      const x = await share(ctx, 0, [xs.length], onGrid(xs, F));
      const c = costOf(ctx);
      const e = await exp(ctx, x, { bitWidth: 31, dropBits: k });
      return { cost: c(), e: (await revealFloat(ctx, e))! };
    });
    const xg = onGrid(xs, F);
    for (let i = 0; i < xs.length; i++) {
      const want = Math.exp(xg[i]);
      if (xg[i] < -14) expect(res[0].e[i]).toBe(0);
      else if (xg[i] < -14 + band) expect(Math.abs(res[0].e[i] - want)).toBeLessThan(1e-6 + 3e-4);
      else expect(Math.abs(res[0].e[i] - want)).toBeLessThan(3e-4 * Math.max(1, want));
    }
    // the clip's 17-bit circuit: msb 4 rounds + 8 (exp.ts)
    for (const r of res) expect(r.cost.rounds).toBe(msbPlanCost(17).rounds + 8);
  });

  it('reciprocal with approximate range bits: relative error <= 1e-4 + one unit on [1, 2^9], at the band edges; dropBits beyond the bound refused', async () => {
    const k = 13;
    const band = 2 ** (k + 1 - F);
    const xs: number[] = [];
    for (let i = 1; i <= 4; i++) for (const d of [0, ulp, band / 2, band - ulp, band, -ulp]) xs.push(4 ** i + d);
    for (let i = 0; i < 200; i++) xs.push(1 + i * 2.5);
    const v = onGrid(Float64Array.from(xs.filter((x) => x >= 1 && x <= 512)), F);
    const res = await runTrio(async (ctx) => {
      const x = await share(ctx, 1, [v.length], v);
      const c = costOf(ctx);
      const r = await reciprocal(ctx, x, { maxLog2: 9, dropBits: k });
      return { cost: c(), r: (await revealFloat(ctx, r))! };
    });
    for (let i = 0; i < v.length; i++) expect(Math.abs(res[0].r[i] - 1 / v[i])).toBeLessThan(1e-4 / v[i] + 2 * ulp);
    // 9 + 18 + 3 = 30 bits less 13: the 17-bit circuit, + injection + 6 (reciprocal.ts)
    for (const r of res) expect(r.cost.rounds).toBe(msbPlanCost(17).rounds + 1 + 6);
    await expect(runTrio(async (ctx) => reciprocal(ctx, await share(ctx, 0, [2], Float64Array.of(2, 3)), { maxLog2: 9, dropBits: F - 3 }))).rejects.toThrow(/dropBits/);
  });
});
