import { describe, expect, it } from 'vitest';
import { costOf, runTrio } from '../testing/trio.js';
import { rotated } from './rotate.js';
import { mul, trunc } from './mul.js';
import { ltz } from './compare.js';
import { reveal, revealFloat } from './sharing.js';
import { ArithShare } from './types.js';
import { ROTATE_MIN } from './rotate.js';
import { onGrid, randFloats, rotatedBytes, rotatedChunks, share } from '../testing/protocol-helpers.js';

const F = 18;

describe('rotated', () => {
  it('splits into word-aligned chunks covering [0, n)', () => {
    expect(rotatedChunks(0)).toEqual([0, 0, 0]);
    expect(rotatedChunks(1)).toEqual([1, 0, 0]);
    expect(rotatedChunks(130)).toEqual([64, 64, 2]);
    expect(rotatedChunks(192)).toEqual([64, 64, 64]);
    expect(rotatedChunks(1000)).toEqual([384, 320, 296]);
    for (const n of [5, 64, 200, 4097]) expect(rotatedChunks(n).reduce((a, b) => a + b)).toBe(n);
  });

  it('each chunk sees rotated party ids, and the physical streams stay in step afterwards', async () => {
    const n = 640;
    const a = onGrid(randFloats(n, -5, 5, 1), F);
    const b = onGrid(randFloats(n, -5, 5, 2), F);
    const res = await runTrio(async (ctx) => {
      const x = await share(ctx, 0, [n], a);
      const y = await share(ctx, 1, [n], b);
      const c = costOf(ctx);
      const roles = await rotated(ctx, n, async (v, lo, hi) => {
        // a protocol inside the chunk: the product of the chunk
        const xs = new ArithShare([hi - lo], x.s0.subarray(lo, hi), x.s1.subarray(lo, hi), x.scale);
        const ys = new ArithShare([hi - lo], y.s0.subarray(lo, hi), y.s1.subarray(lo, hi), y.scale);
        const z = await mul(v, xs, ys);
        return { party: v.party, z };
      });
      const cost = c();
      const z = new ArithShare([n], new BigUint64Array(n), new BigUint64Array(n), 2 * F);
      let off = 0;
      for (const r of roles) {
        z.s0.set(r.z.s0, off);
        z.s1.set(r.z.s1, off);
        off += r.z.size;
      }
      // a plain protocol after the rotated one still works (streams in step)
      const after = await mul(ctx, x, y);
      return { ids: roles.map((r) => r.party), cost, z: (await revealFloat(ctx, z))!, after: (await revealFloat(ctx, after))! };
    });
    expect(res.map((r) => r.ids)).toEqual([[0, 2, 1], [1, 0, 2], [2, 1, 0]]);
    for (const r of res) {
      expect(r.cost.rounds).toBe(1); // three chunks, one merged round
      expect(r.cost.bytesSent).toBe(8 * n + 24);
      for (let i = 0; i < n; i++) {
        expect(r.z[i]).toBe(a[i] * b[i]);
        expect(r.after[i]).toBe(a[i] * b[i]);
      }
    }
  });

  it('balances an asymmetric protocol: trunc traffic is spread over the three parties', async () => {
    const n = 3 * 64 * Math.ceil(ROTATE_MIN / (3 * 64)); // large enough that trunc rotates its roles
    const a = onGrid(randFloats(n, -100, 100, 3), F);
    const res = await runTrio(async (ctx) => {
      const x = await share(ctx, 2, [n], a);
      const c = costOf(ctx);
      const t = await trunc(ctx, x, 4, { scale: F - 4 });
      return { cost: c(), t: (await reveal(ctx, t))!.data };
    });
    for (const [p, r] of res.entries()) {
      expect(r.cost.bytesSent).toBe(rotatedBytes(n, [8, 0, 0], p) + 24);
      expect(r.cost.bytesSent).toBe((8 * n) / 3 + 24);
    }
    for (let i = 0; i < n; i++) {
      const d = BigInt.asIntN(64, res[0].t[i]) - (BigInt(Math.round(a[i] * 2 ** F)) >> 4n);
      expect(d === 0n || d === 1n).toBe(true);
    }
  });

  it('inputs on both sides of ROTATE_MIN (rolled below, rotated from it; costs in thresholds.test.ts) agree', async () => {
    for (const n of [1, 100, 191, 192, 193, ROTATE_MIN - 1, ROTATE_MIN]) {
      const a = onGrid(randFloats(n, -3, 3, n), F);
      const res = await runTrio(async (ctx) => {
        const x = await share(ctx, 1, [n], a);
        return (await reveal(ctx, await ltz(ctx, x)))!.data;
      });
      for (let i = 0; i < n; i++) expect(res[0][i]).toBe(a[i] < 0 ? 1n : 0n);
    }
  });
});

describe('rolled', () => {
  it('successive small truncations rotate the sending role over the parties; values and later protocols stay right', async () => {
    const n = 100;
    const a = onGrid(randFloats(n, -100, 100, 9), F);
    const res = await runTrio(async (ctx) => {
      const x = await share(ctx, 1, [n], a);
      const sent: number[] = [];
      const outs: bigint[][] = [];
      for (let i = 0; i < 3; i++) {
        const c = costOf(ctx);
        const t = await trunc(ctx, x, 4, { scale: F - 4 });
        sent.push(c().bytesSent);
        outs.push(Array.from((await reveal(ctx, t))!.data));
      }
      // the streams stay in step: a product and a comparison afterwards are right
      const y = await revealFloat(ctx, await mul(ctx, x, x));
      const l = await reveal(ctx, await ltz(ctx, x));
      return { sent, outs, y: y!, l: l!.data };
    });
    // call i: physical party i plays P0 and alone sends its 8 bytes per element
    for (let i = 0; i < 3; i++) expect(res.map((r) => r.sent[i])).toEqual([0, 1, 2].map((p) => (p === i ? 8 * n : 0)));
    for (const o of res[0].outs) {
      for (let j = 0; j < n; j++) {
        const d = BigInt.asIntN(64, o[j]) - (BigInt(Math.round(a[j] * 2 ** F)) >> 4n);
        expect(d === 0n || d === 1n).toBe(true);
      }
    }
    for (let j = 0; j < n; j++) {
      expect(res[0].y[j]).toBeCloseTo(a[j] * a[j], 6);
      expect(res[0].l[j]).toBe(a[j] < 0 ? 1n : 0n);
    }
  });
});
