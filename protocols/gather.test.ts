import { describe, expect, it } from 'vitest';
import { costOf, runTrio } from '../testing/trio.js';
import { gather, oneHot } from './gather.js';
import { eq } from './compare.js';
import { constant, input, reveal, revealFloat } from './sharing.js';
import { onGrid, randFloats, share } from '../testing/protocol-helpers.js';

const F = 18;

describe('oneHot / gather', () => {
  it('oneHot is exact (edges 0, n-1, out of range -> zero row) and costs one eq over m*n', async () => {
    const n = 37;
    const idx = [0n, 36n, 5n, 5n, 17n, 37n, BigInt.asUintN(64, -1n), 1000n];
    const m = idx.length;
    const res = await runTrio(async (ctx) => {
      const i = await input(ctx, 1, [2, m / 2], ctx.party === 1 ? BigUint64Array.from(idx) : undefined, 0);
      const c0 = costOf(ctx);
      await eq(ctx, constant(ctx, [m * n], 0, 0), constant(ctx, [m * n], 0, 0));
      const eqCost = c0();
      const c = costOf(ctx);
      const h = await oneHot(ctx, i, n);
      const cost = c();
      expect(h.shape).toEqual([2, m / 2, n]);
      expect(h.scale).toBe(0);
      return { eqCost, cost, h: (await reveal(ctx, h))!.data };
    });
    for (const r of res) expect(r.cost).toEqual(r.eqCost);
    for (let a = 0; a < m; a++) {
      for (let j = 0; j < n; j++) expect(res[0].h[a * n + j]).toBe(BigInt.asUintN(64, idx[a]) === BigInt(j) ? 1n : 0n);
    }
  });

  it('gather = oneHot @ table in one round (8 bytes per output element), values exact', async () => {
    const n = 12;
    const d = 5;
    const T = onGrid(randFloats(n * d, -8, 8, 3), F);
    const idx = [3n, 0n, 11n, 3n];
    const res = await runTrio(async (ctx) => {
      const table = await share(ctx, 0, [n, d], T);
      const i = await input(ctx, 2, [idx.length], ctx.party === 2 ? BigUint64Array.from(idx) : undefined, 0);
      const h = await oneHot(ctx, i, n);
      const c = costOf(ctx);
      const g = await gather(ctx, table, h);
      const cost = c();
      expect(g.shape).toEqual([idx.length, d]);
      expect(g.scale).toBe(F);
      await expect(gather(ctx, table, constant(ctx, [2, n + 1], 0, 0))).rejects.toThrow(RangeError);
      return { cost, g: (await revealFloat(ctx, g))! };
    });
    for (const r of res) {
      expect(r.cost.rounds).toBe(1);
      expect(r.cost.bytesSent).toBe(8 * idx.length * d);
    }
    idx.forEach((ix, a) => {
      for (let j = 0; j < d; j++) expect(res[0].g[a * d + j]).toBe(T[Number(ix) * d + j]);
    });
  });
});
