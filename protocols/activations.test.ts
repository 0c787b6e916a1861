import { describe, expect, it } from 'vitest';
import { costOf, runTrio } from '../testing/trio.js';
import { GELU_SPECS, SILU_SPECS, gelu, silu } from './activations.js';
import { type PiecewiseSpec, piecewise, piecewiseCost } from './piecewise.js';
import { ltz } from './compare.js';
import { bitTimesSlicedBalanced, msbSlicedBalanced } from './balanced.js';
import { constant, revealFloat } from './sharing.js';
import { onGrid, randFloats, share } from '../testing/protocol-helpers.js';
import { geluRef, siluRef } from './fit/special.js';
import type { Context } from './context.js';
import type { ArithShare } from './types.js';

const F = 18;

/** the spec evaluated in float64 (what the protocol approximates) */
function plainSpec(spec: PiecewiseSpec, x: number): number {
  // breakpoints as the protocol sees them: rounded to the fixed-point grid
  let seg = 0;
  while (seg < spec.breakpoints.length && x >= Math.round(spec.breakpoints[seg] * 2 ** F) / 2 ** F) seg++;
  let out = 0;
  for (const p of spec.pieces) {
    for (const o of p.on) {
      if (o.segment !== seg) continue;
      const t = o.sign * x;
      out += p.coeffs.reduce((s, c, k) => s + c * t ** k, 0);
    }
  }
  return out;
}

function inputs(n: number, spec: PiecewiseSpec): Float64Array {
  const v = randFloats(n, -16, 16, 31);
  const edges = [0, 2 ** -18, -(2 ** -18), 16, -16, 1000, -1000, 3e5, -3e5];
  for (const b of spec.breakpoints) edges.push(b, b - 2 ** -18, b + 2 ** -18);
  edges.forEach((e, i) => (v[i] = e));
  return onGrid(v, F);
}

const cases = [
  { name: 'silu fit', spec: SILU_SPECS.fit, ref: siluRef, fn: silu, opts: {}, bound: 1e-2 },
  { name: 'gelu fit', spec: GELU_SPECS.fit, ref: geluRef, fn: gelu, opts: {}, bound: 1e-2 },
  { name: 'silu mpcache', spec: SILU_SPECS.mpcache, ref: siluRef, fn: silu, opts: { variant: 'mpcache' }, bound: 7.3e-2 },
  { name: 'gelu puma', spec: GELU_SPECS.puma, ref: geluRef, fn: gelu, opts: { variant: 'puma' }, bound: 2.0e-2 },
] as const;

describe('silu / gelu', () => {
  for (const c of cases) {
    it(`${c.name}: within ${c.bound} of float64 on [-16, 16] (and beyond), within 1e-3 of its own polynomial; cost per piecewiseCost`, async () => {
      const n = 3000;
      const X = inputs(n, c.spec);
      const plan = piecewiseCost(c.spec);
      const res = await runTrio(async (ctx) => {
        const x = await share(ctx, 0, [n], X);
        const c0 = costOf(ctx);
        await ltz(ctx, constant(ctx, [plan.comparisons * n], 0));
        const ltzCost = c0();
        // the comparison as piecewise runs it: msb, then the bits injected and times x
        const c1 = costOf(ctx);
        const e = await msbSlicedBalanced(ctx, constant(ctx, [plan.comparisons * n], 0), 'cmp', 64);
        await bitTimesSlicedBalanced(ctx, e, plan.comparisons * n, [constant(ctx, [plan.comparisons * n], 0)], true, 'select');
        const cmpCost = c1();
        const m = costOf(ctx);
        const y = await (c.fn as (ctx: Context, x: ArithShare, o: object) => Promise<ArithShare>)(ctx, x, c.opts);
        const cost = m();
        expect(y.scale).toBe(F);
        return { cost, ltzCost, cmpCost, y: (await revealFloat(ctx, y))! };
      });
      const y = res[0].y;
      let worst = 0;
      let worstOwn = 0;
      for (let i = 0; i < n; i++) {
        worstOwn = Math.max(worstOwn, Math.abs(y[i] - plainSpec(c.spec, X[i])));
        if (Math.abs(X[i]) <= 16) worst = Math.max(worst, Math.abs(y[i] - c.ref(X[i])));
        else expect(Math.abs(y[i] - c.ref(X[i]))).toBeLessThanOrEqual(1e-4);
      }
      expect(worst).toBeLessThanOrEqual(c.bound);
      expect(worstOwn).toBeLessThanOrEqual(1e-3); // top-coefficient rounding (piecewise.ts) + fixed point
      for (const r of res) expect(r.cost.rounds).toBe(r.ltzCost.rounds + plan.rounds);
      // over all parties beyond the comparison: fused outputs 40 bytes, stand-alone truncations
      // 8 bytes from one party (plus mul.ts's role-rotation framing: at most 24 bytes per message)
      const total = res.reduce((s, r) => s + r.cost.bytesSent - r.cmpCost.bytesSent, 0);
      const framing = 24 * res.reduce((s, r) => s + r.cost.messagesSent - r.cmpCost.messagesSent, 0);
      const formula = (40 * plan.fusedOutputs + 8 * plan.truncated) * n;
      expect(total).toBeGreaterThanOrEqual(formula);
      expect(total).toBeLessThanOrEqual(formula + framing);
      const mean = res.reduce((s, r) => s + r.cost.bytesSent, 0) / 3 / n;
      console.log(`${c.name}: max abs error ${worst.toExponential(3)} (vs own polynomial ${worstOwn.toExponential(2)}), ${res[0].cost.rounds} rounds, ${mean.toFixed(1)} bytes/element/party`);
    });
  }

  it('bounded comparison width (bitWidth 32, |x| < 2^12) gives the same values', async () => {
    const X = onGrid(randFloats(500, -16, 16, 8), F);
    const res = await runTrio(async (ctx) => {
      const x = await share(ctx, 2, [500], X);
      const a = await silu(ctx, x, { bitWidth: 32 });
      const b = await gelu(ctx, x, { variant: 'puma', bitWidth: 32 });
      return { a: (await revealFloat(ctx, a))!, b: (await revealFloat(ctx, b))! };
    });
    for (let i = 0; i < 500; i++) {
      expect(Math.abs(res[0].a[i] - siluRef(X[i]))).toBeLessThanOrEqual(1e-2);
      expect(Math.abs(res[0].b[i] - geluRef(X[i]))).toBeLessThanOrEqual(2e-2);
    }
  });

  it('documented round counts: silu fit ltz+4, gelu fit ltz+3, published variants ltz+4', () => {
    expect(piecewiseCost(SILU_SPECS.fit).rounds).toBe(4);
    expect(piecewiseCost(GELU_SPECS.fit).rounds).toBe(3);
    expect(piecewiseCost(SILU_SPECS.mpcache).rounds).toBe(4);
    expect(piecewiseCost(GELU_SPECS.puma).rounds).toBe(4);
  });

  it('piecewise: constant, non-integer linear and empty specs; bad specs are rejected', async () => {
    const spec: PiecewiseSpec = {
      breakpoints: [-1, 1],
      pieces: [
        { coeffs: [0.75], on: [{ segment: 0, sign: 1 }] },
        { coeffs: [0.5, -0.3], on: [{ segment: 1, sign: 1 }] },
        { coeffs: [0, 0, 2], on: [{ segment: 2, sign: 1 }] },
      ],
    };
    const X = onGrid(randFloats(200, -3, 3, 4), F);
    const res = await runTrio(async (ctx) => {
      const x = await share(ctx, 1, [200], X);
      const y = await piecewise(ctx, x, spec);
      await expect(piecewise(ctx, x, { breakpoints: [1, 0], pieces: [] })).rejects.toThrow(RangeError);
      await expect(piecewise(ctx, x, { breakpoints: [0], pieces: [{ coeffs: [1], on: [{ segment: 2, sign: 1 }] }] })).rejects.toThrow(RangeError);
      await expect(silu(ctx, x, { variant: 'nope' as 'fit' })).rejects.toThrow(RangeError);
      return (await revealFloat(ctx, y))!;
    });
    for (let i = 0; i < 200; i++) expect(Math.abs(res[0][i] - plainSpec(spec, X[i]))).toBeLessThanOrEqual(1e-4);
  });
});
