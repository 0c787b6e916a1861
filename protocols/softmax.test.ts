import { describe, expect, it } from 'vitest';
import { costOf, runTrio } from '../testing/trio.js';
import { defaultMaxAbsLogit, softmax, softmaxBitWidth } from './softmax.js';
import { max } from './max.js';
import { exp } from './exp.js';
import { broadcastLast, sub, sumAxis } from './linear.js';
import { mulFixed } from './mul.js';
import { reciprocal } from './reciprocal.js';
import { revealFloat } from './sharing.js';
import { PublicTensor } from './types.js';
import { meanBytesPerElem, onGrid, randFloats, share } from '../testing/protocol-helpers.js';

const F = 18;

function refSoftmax(x: Float64Array, n: number, mask?: (r: number, j: number) => boolean): Float64Array {
  const out = new Float64Array(x.length);
  for (let r = 0; r < x.length / n; r++) {
    let m = -Infinity;
    for (let j = 0; j < n; j++) if (!mask || mask(r, j)) m = Math.max(m, x[r * n + j]);
    let s = 0;
    for (let j = 0; j < n; j++) if (!mask || mask(r, j)) s += Math.exp(x[r * n + j] - m);
    for (let j = 0; j < n; j++) out[r * n + j] = !mask || mask(r, j) ? Math.exp(x[r * n + j] - m) / s : 0;
  }
  return out;
}

describe('softmax', () => {
  it('within 2e-3 per probability on logits in [-64, 64] (plus hard rows); cost = max + exp + reciprocal + mulFixed, <= 400 bytes/element', async () => {
    const rows = 6;
    const n = 1000;
    const v = randFloats(rows * n, -64, 64, 21);
    // row 1: all equal (ties); row 2: many equal small logits and one larger; row 3: narrow range; row 4: one dominant
    for (let j = 0; j < n; j++) {
      v[n + j] = 3.25;
      v[2 * n + j] = j === 0 ? 0 : -6.9;
      v[3 * n + j] = randFloats(1, -1, 1, 100 + j)[0];
      v[4 * n + j] = j === 17 ? 64 : -64;
    }
    const X = onGrid(v, F);
    const res = await runTrio(async (ctx) => {
      const x = await share(ctx, 0, [rows, n], X);
      const c = costOf(ctx);
      const p = await softmax(ctx, x);
      const cost = c();
      // the documented composition, measured piece by piece on the same shapes
      const parts = costOf(ctx);
      const bitWidth = softmaxBitWidth(defaultMaxAbsLogit(F), F);
      const m = await max(ctx, x, { bitWidth });
      const e = await exp(ctx, sub(ctx, x, broadcastLast(ctx, m, n)), { bitWidth });
      const r = await reciprocal(ctx, sumAxis(ctx, e), { maxLog2: 10 });
      await mulFixed(ctx, e, broadcastLast(ctx, r, n));
      return { cost, parts: parts(), p: (await revealFloat(ctx, p))! };
    });
    const ref = refSoftmax(X, n);
    let worst = 0;
    for (let i = 0; i < rows * n; i++) worst = Math.max(worst, Math.abs(res[0].p[i] - ref[i]));
    expect(worst).toBeLessThanOrEqual(2e-3);
    for (const r of res) {
      expect(r.cost.rounds).toBe(r.parts.rounds);
      expect(r.cost.rounds).toBeLessThanOrEqual(134);
    }
    // bytes over the three parties (small calls rotate their roles from call to call, so a
    // party's share of the bytes depends on the call's position; the total does not)
    const sum = (f: (r: (typeof res)[number]) => number) => res.reduce((a, r) => a + f(r), 0);
    expect(sum((r) => r.cost.bytesSent)).toBe(sum((r) => r.parts.bytesSent));
    const perElem = meanBytesPerElem(res.map((r) => r.cost), rows * n);
    expect(perElem).toBeLessThanOrEqual(400);
    console.log(`softmax ${rows}x${n}: max error ${worst.toExponential(3)}, ${res[0].cost.rounds} rounds, ${perElem.toFixed(1)} bytes/element/party`);
  });

  it('causal mask: masked positions are exactly 0, broadcast over heads; odd widths and n = 1', async () => {
    const heads = 3;
    const T = 7;
    const X = onGrid(randFloats(heads * T * T, -10, 10, 5), F);
    const mask = new BigUint64Array(T * T);
    for (let i = 0; i < T; i++) for (let j = 0; j <= i; j++) mask[i * T + j] = 1n;
    const one = onGrid(randFloats(5, -3, 3, 6), F);
    const res = await runTrio(async (ctx) => {
      const x = await share(ctx, 1, [heads, T, T], X);
      const p = await softmax(ctx, x, { mask: new PublicTensor([T, T], mask, 0) });
      const q = await softmax(ctx, await share(ctx, 2, [5, 1], one));
      return { p: (await revealFloat(ctx, p))!, q: (await revealFloat(ctx, q))! };
    });
    const ref = refSoftmax(X, T, (r, j) => j <= r % T);
    for (let i = 0; i < X.length; i++) {
      const j = i % T;
      const row = Math.floor(i / T) % T;
      if (j > row) expect(res[0].p[i]).toBe(0);
      else expect(Math.abs(res[0].p[i] - ref[i])).toBeLessThanOrEqual(2e-3);
    }
    for (const q of res[0].q) expect(Math.abs(q - 1)).toBeLessThanOrEqual(2 ** -F * 4);
  });

  it('range: logits with pairwise differences far beyond 2^12 ([5000, -4000, 0], up to the bound 2^26) are exact; 48-bit comparisons', async () => {
    const B = defaultMaxAbsLogit(F);
    expect(B).toBe(2 ** 26);
    expect(softmaxBitWidth(B, F)).toBe(48);
    const X = Float64Array.from([5000, -4000, 0, B, -B, B - 3, 0, -B, -5, 1e6, 1e6 - 2, -1e6]);
    const res = await runTrio(async (ctx) => {
      const x = await share(ctx, 0, [4, 3], X);
      return (await revealFloat(ctx, await softmax(ctx, x)))!;
    });
    const ref = refSoftmax(X, 3);
    for (let i = 0; i < X.length; i++) expect(Math.abs(res[0][i] - ref[i])).toBeLessThanOrEqual(2e-3);
  });

  it('rejects a mask that empties a row, non-0/1 masks and wrong shapes', async () => {
    await runTrio(async (ctx) => {
      const x = await share(ctx, 0, [2, 3], new Float64Array(6));
      await expect(softmax(ctx, x, { mask: new PublicTensor([2, 3], new BigUint64Array([1n, 0n, 0n, 0n, 0n, 0n]), 0) })).rejects.toThrow(/excludes every position/);
      await expect(softmax(ctx, x, { mask: new PublicTensor([3], new BigUint64Array([1n, 2n, 0n]), 0) })).rejects.toThrow(RangeError);
      await expect(softmax(ctx, x, { mask: new PublicTensor([2], new BigUint64Array([1n, 1n]), 0) })).rejects.toThrow(RangeError);
    });
  });
});
