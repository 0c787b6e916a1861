import { describe, expect, it } from 'vitest';
import { costOf, runTrio } from '../testing/trio.js';
import { clampRing, topk, topkClampBound } from './topk.js';
import { msbSliced } from './msb.js';
import { constant, reveal, revealFloat } from './sharing.js';
import { onGrid, randFloats, share } from '../testing/protocol-helpers.js';

const F = 18;

/** plaintext reference: per row, indices sorted by value desc, ties to the lower index */
function refTopk(x: Float64Array, rows: number, n: number, k: number): number[][] {
  const out: number[][] = [];
  for (let r = 0; r < rows; r++) {
    const idx = Array.from({ length: n }, (_, i) => i);
    idx.sort((a, b) => x[r * n + b] - x[r * n + a] || a - b);
    out.push(idx.slice(0, k));
  }
  return out;
}

function makeRows(rows: number, n: number, seed: number): Float64Array {
  const v = randFloats(rows * n, -50, 50, seed);
  // row 1: many ties; row 2: all equal; row 3: ascending (worst case for naive pivots)
  for (let j = 0; j < n; j++) {
    if (rows > 1) v[n + j] = Math.floor(randFloats(1, 0, 4, seed + j)[0]);
    if (rows > 2) v[2 * n + j] = -3.5;
    if (rows > 3) v[3 * n + j] = j;
  }
  return onGrid(v, F);
}

async function check(method: 'shuffle' | 'argmax', rows: number, n: number, k: number, seed: number, bitWidth?: number): Promise<void> {
  const X = makeRows(rows, n, seed);
  const res = await runTrio(async (ctx) => {
    const x = await share(ctx, 0, [rows, n], X);
    const r = await topk(ctx, x, k, bitWidth === undefined ? { method } : { method, bitWidth });
    expect(r.values.shape).toEqual([rows, k]);
    expect(r.indices.shape).toEqual([rows, k]);
    expect(r.oneHot.shape).toEqual([rows, k, n]);
    return {
      v: (await revealFloat(ctx, r.values))!,
      i: (await reveal(ctx, r.indices))!.data,
      h: (await reveal(ctx, r.oneHot))!.data,
    };
  });
  const ref = refTopk(X, rows, n, k);
  for (let r = 0; r < rows; r++) {
    for (let t = 0; t < k; t++) {
      const want = ref[r][t];
      expect(Number(res[0].i[r * k + t])).toBe(want);
      expect(res[0].v[r * k + t]).toBe(X[r * n + want]);
      for (let j = 0; j < n; j++) expect(res[1].h[(r * k + t) * n + j]).toBe(j === want ? 1n : 0n);
    }
  }
}

describe('topk', () => {
  it('shuffle method: exact on random rows, ties, constant and sorted rows (k < n, k = n, k = 1)', async () => {
    await check('shuffle', 4, 100, 10, 1);
    await check('shuffle', 4, 37, 37, 2);
    await check('shuffle', 4, 20, 1, 3);
    await check('shuffle', 3, 2, 2, 4);
  });

  it('shuffle method with a bounded comparison width (|x| < 2^7 real = 2^25 ring units)', async () => {
    await check('shuffle', 4, 64, 12, 6, 26);
  });

  it('argmax method (data-oblivious reference): exact, same answers', async () => {
    await check('argmax', 4, 16, 5, 5);
  });

  it('shuffle method cost: 3 + (msb + 1) * iterations + 2 rounds; bytes = shuffle + msb per iteration + opened bits + one-hot', async () => {
    const rows = 8;
    const n = 256;
    const k = 16;
    const X = makeRows(rows, n, 9);
    const res = await runTrio(async (ctx) => {
      const x = await share(ctx, 1, [rows, n], X);
      const c = costOf(ctx);
      const r = await topk(ctx, x, k);
      const cost = c();
      // the clamp (step 0), measured on the same size
      const cc = costOf(ctx);
      await clampRing(ctx, x, topkClampBound(n, undefined));
      const clamp = cc();
      // the msb part of each iteration, measured on the same sizes
      let msbBytes = 0;
      let msbRounds = 0;
      for (const C of r.stats!.comparisons) {
        const m = costOf(ctx);
        await msbSliced(ctx, constant(ctx, [C], 0, 0));
        const mc = m();
        msbBytes += mc.bytesSent;
        msbRounds += mc.rounds;
      }
      return { cost, stats: r.stats!, msbBytes, msbRounds, clamp };
    });
    const st = res[0].stats;
    expect(res[1].stats).toEqual(st);
    const N = rows * n;
    const hot = rows * k * n;
    const opened = st.comparisons.reduce((s, C) => s + 8 * Math.ceil(C / 64), 0);
    const hotBytes = [8 * hot, 8 * hot, 8 * hot];
    res.forEach((r, p) => {
      expect(r.clamp.rounds).toBe(7); // msb(64) + 1
      expect(r.cost.rounds).toBe(r.clamp.rounds + 3 + r.msbRounds + st.iterations + 2); // clamp, shuffle, per iteration msb + opening, one-hot
    });
    // the clamp's small calls rotate their roles from call to call, so compare totals over the parties
    const tot = (f: (r: (typeof res)[number], p: number) => number) => res.reduce((a, r, p) => a + f(r, p), 0);
    expect(tot((r) => r.cost.bytesSent)).toBe(tot((r, p) => r.clamp.bytesSent + 32 * N + r.msbBytes + opened + hotBytes[p]));
    const comps = st.comparisons.reduce((a, b) => a + b, 0);
    expect(comps).toBeLessThan(rows * (3 * n + k * Math.log2(k) * 2));
    console.log(`topk ${k} of ${n} x ${rows}: ${st.iterations} iterations, ${(comps / rows).toFixed(0)} comparisons per row, ${res[0].cost.rounds} rounds`);
  });

  it('range: inputs beyond the bitWidth promise are clamped before any comparison is opened (at and beyond the bound)', async () => {
    const n = 40;
    const k = 12;
    const bitWidth = 31; // promise |x| < 2^30 ring units = 2^12 at f = 18
    const L = Number(topkClampBound(n, bitWidth)) / 2 ** F; // just below 4096
    const v = onGrid(randFloats(n, -50, 50, 4), F);
    // far beyond the bound (2^20, -2^21, 3e5), at it (L, -L) and just beyond (L + 1)
    const big = [2 ** 20, -(2 ** 21), 3e5, L, -L, L + 1, 2 ** 25];
    big.forEach((b, i) => (v[3 * i + 1] = b));
    const res = await runTrio(async (ctx) => {
      const x = await share(ctx, 0, [1, n], v);
      const r = await topk(ctx, x, k, { bitWidth });
      return { idx: (await reveal(ctx, r.indices))!.data, val: (await revealFloat(ctx, r.values))! };
    });
    const clamped = v.map((t) => Math.max(-L, Math.min(L, t)));
    const want = refTopk(clamped, 1, n, k)[0];
    expect(Array.from(res[0].idx, Number)).toEqual(want);
    want.forEach((j, t) => expect(Math.abs(res[0].val[t] - clamped[j])).toBeLessThanOrEqual(2 ** -F));
  });

  it('without oneHot, other leading shapes; rejects bad k', async () => {
    const X = onGrid(randFloats(2 * 3 * 30, -5, 5, 12), F);
    const res = await runTrio(async (ctx) => {
      const x = await share(ctx, 2, [2, 3, 30], X);
      await expect(topk(ctx, x, 0)).rejects.toThrow(RangeError);
      await expect(topk(ctx, x, 31)).rejects.toThrow(RangeError);
      const r = await topk(ctx, x, 4, { oneHot: false });
      expect(r.values.shape).toEqual([2, 3, 4]);
      expect('oneHot' in r).toBe(false);
      return (await reveal(ctx, r.indices))!.data;
    });
    const ref = refTopk(X, 6, 30, 4);
    for (let r = 0; r < 6; r++) for (let t = 0; t < 4; t++) expect(Number(res[0][r * 4 + t])).toBe(ref[r][t]);
  });

  it('mask option: the 0/1 membership of the top k equals the reference set (both methods, with and without one-hot rows)', async () => {
    const rows = 4;
    const n = 37;
    const k = 9;
    const x = makeRows(rows, n, 77);
    const want = refTopk(x, rows, n, k);
    for (const opts of [{ mask: true, oneHot: false }, { mask: true }, { mask: true, method: 'argmax' as const }]) {
      const [got] = await runTrio(async (ctx) => {
        const r = await topk(ctx, await share(ctx, 0, [rows, n], x), k, opts);
        return reveal(ctx, r.mask!);
      });
      for (let r = 0; r < rows; r++) {
        const set = new Set(want[r]);
        for (let j = 0; j < n; j++) expect(got!.data[r * n + j], `${JSON.stringify(opts)} row ${r} col ${j}`).toBe(set.has(j) ? 1n : 0n);
      }
    }
  });
});
