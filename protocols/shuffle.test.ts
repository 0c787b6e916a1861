import { describe, expect, it } from 'vitest';
import { costOf, runTrio } from '../testing/trio.js';
import { shuffle, unshuffle, unshufflePublic } from './shuffle.js';
import { input, reveal } from './sharing.js';
import { PublicTensor } from './types.js';

describe('secret shuffle', () => {
  it('permutes each row (payload travels with its key), unshuffle restores, costs 3 rounds and 16 bytes/element/party', async () => {
    const rows = 4;
    const n = 300;
    const vals = BigUint64Array.from({ length: rows * n }, (_, i) => BigInt(i * 7 + 3));
    const pay = BigUint64Array.from({ length: rows * n }, (_, i) => BigInt(i) * 1000003n);
    const res = await runTrio(async (ctx) => {
      const x = await input(ctx, 0, [rows, n], ctx.party === 0 ? vals : undefined, 0);
      const p = await input(ctx, 1, [rows, n], ctx.party === 1 ? pay : undefined, 0);
      const c = costOf(ctx);
      const { out, handle } = await shuffle(ctx, [x, p]);
      const cost = c();
      const back = await unshuffle(ctx, handle, out);
      const sx = (await reveal(ctx, out[0]))!.data;
      const sp = (await reveal(ctx, out[1]))!.data;
      const c2 = costOf(ctx);
      const pub = await unshufflePublic(ctx, handle, new PublicTensor([rows, n], sx, 0));
      const pubCost = c2();
      return {
        cost,
        pubCost,
        sx,
        sp,
        bx: (await reveal(ctx, back[0]))!.data,
        bp: (await reveal(ctx, back[1]))!.data,
        pub: (await reveal(ctx, pub))!.data,
      };
    });
    const { sx, sp } = res[0];
    let moved = 0;
    for (let r = 0; r < rows; r++) {
      const seen = new Set<bigint>();
      for (let i = 0; i < n; i++) {
        const v = sx[r * n + i];
        const orig = Number((v - 3n) / 7n);
        expect(Math.floor(orig / n)).toBe(r); // stays in its row
        expect(sp[r * n + i]).toBe(BigInt(orig) * 1000003n); // payload still attached
        seen.add(v);
        if (orig !== r * n + i) moved++;
      }
      expect(seen.size).toBe(n);
    }
    expect(moved).toBeGreaterThan(rows * n * 0.9);
    expect(Array.from(res[1].bx)).toEqual(Array.from(vals));
    expect(Array.from(res[2].bp)).toEqual(Array.from(pay));
    expect(Array.from(res[0].pub)).toEqual(Array.from(vals));
    for (const r of res) {
      expect(r.cost.rounds).toBe(3);
      expect(r.cost.bytesSent).toBe(16 * 2 * rows * n);
      expect(r.pubCost.rounds).toBe(2);
    }
    expect(res.map((r) => r.pubCost.bytesSent)).toEqual([8 * rows * n, 8 * rows * n, 8 * rows * n]);
  });

  it('different sessions draw different permutations; rejects mismatched items', async () => {
    const n = 64;
    const vals = BigUint64Array.from({ length: n }, (_, i) => BigInt(i));
    const run = (seed: number) =>
      runTrio(
        async (ctx) => {
          const x = await input(ctx, 0, [1, n], ctx.party === 0 ? vals : undefined, 0);
          const bad = await input(ctx, 0, [1, n - 1], ctx.party === 0 ? vals.subarray(1) : undefined, 0);
          await expect(shuffle(ctx, [x, bad])).rejects.toThrow(RangeError);
          const { out } = await shuffle(ctx, [x]);
          return (await reveal(ctx, out[0]))!.data;
        },
        { seed },
      );
    const a = (await run(1))[0];
    const b = (await run(2))[0];
    expect(Array.from(a)).not.toEqual(Array.from(b));
  });
});
