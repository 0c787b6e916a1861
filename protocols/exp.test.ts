import { describe, expect, it } from 'vitest';
import { costOf, runTrio } from '../testing/trio.js';
import { exp } from './exp.js';
import { ltz } from './compare.js';
import { bitTimesSlicedBalanced, msbSlicedBalanced } from './balanced.js';
import { revealFloat } from './sharing.js';
import { meanBytesPerElem, onGrid, randFloats, share } from '../testing/protocol-helpers.js';

const F = 18;

describe('exp', () => {
  it('is within 3e-4 of float64 on [-14, 0] and edges, exactly 0 below -14; cost = ltz + 7 rounds', async () => {
    const n = 4096;
    const v = randFloats(n, -16, 0, 11);
    const edges = [0, -0, -(2 ** -18), -1e-3, -1, -2, -13.99, -14, -14 - 2 ** -18, -14.5, -20, -1000, -1e6, -3e7];
    edges.forEach((e, i) => (v[i] = e));
    const X = onGrid(v, F);
    const res = await runTrio(async (ctx) => {
      const x = await share(ctx, 1, [n], X);
      // a bounded variant (|x + 14| < 2^39 ring units here) gives the same values
      const yb = await exp(ctx, x, { bitWidth: 40 });
      const c0 = costOf(ctx);
      await ltz(ctx, x);
      const ltzCost = c0();
      const c1 = costOf(ctx);
      const e = await msbSlicedBalanced(ctx, x, 'clip', 64);
      await bitTimesSlicedBalanced(ctx, e, n, [x], true, 'select');
      const clipCost = c1();
      const c = costOf(ctx);
      const y = await exp(ctx, x);
      const cost = c();
      expect(y.scale).toBe(F);
      return { cost, ltzCost, clipCost, y: (await revealFloat(ctx, y))!, yb: (await revealFloat(ctx, yb))! };
    });
    const y = res[0].y;
    let worst = 0;
    for (let i = 0; i < n; i++) if (Math.abs(X[i]) < 2 ** 20) expect(Math.abs(res[0].yb[i] - y[i])).toBeLessThanOrEqual(1e-3);
    for (let i = 0; i < n; i++) {
      if (X[i] < -14) {
        expect(y[i]).toBe(0);
        continue;
      }
      const err = Math.abs(y[i] - Math.exp(X[i]));
      worst = Math.max(worst, err);
    }
    expect(worst).toBeLessThanOrEqual(3e-4);
    expect(y[0]).toBe(1); // exp(0) = 1 exactly
    for (const r of res) {
      expect(r.cost.rounds).toBe(r.ltzCost.rounds + 7);
    }
    // bytes beyond the clip (msb + the bitTimes round), summed over the parties: 3 values
    // truncated stand-alone (8 bytes from one party; mul.ts rotates that role over chunks)
    // and 7 fused product-truncations (40 bytes each), plus mul.ts's role-rotation framing
    // (at most 24 bytes per message)
    const total = res.reduce((s, r) => s + r.cost.bytesSent - r.clipCost.bytesSent, 0);
    const framing = 24 * res.reduce((s, r) => s + r.cost.messagesSent - r.clipCost.messagesSent, 0);
    expect(total).toBeGreaterThanOrEqual((8 * 3 + 40 * 7) * n);
    expect(total).toBeLessThanOrEqual((8 * 3 + 40 * 7) * n + framing);
    const mean = meanBytesPerElem(res.map((r) => r.cost), n);
    expect(mean).toBeLessThan(160);
    console.log(`exp: max abs error ${worst.toExponential(3)}, ${res[0].cost.rounds} rounds, ${mean.toFixed(1)} bytes/element/party`);
  });
});
