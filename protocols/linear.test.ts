import { describe, expect, it } from 'vitest';
import { costOf, runTrio } from '../testing/trio.js';
import { add, addPublic, broadcastLast, concat, mulPublic, mulPublicFloat, mulPublicInt, neg, publicSub, slice, sub, subPublic, sumAxis, transpose, withScale } from './linear.js';
import { publicTensor, revealFloat } from './sharing.js';
import { onGrid, randFloats, roleBytes, share } from '../testing/protocol-helpers.js';

const F = 18;
const ulp = 2 ** -F;

describe('linear ops (local, 0 rounds)', () => {
  it('add/sub/neg/public ops match float64 and cost nothing', async () => {
    const n = 500;
    const a = onGrid(randFloats(n, -100, 100, 1), F);
    const b = onGrid(randFloats(n, -100, 100, 2), F);
    const res = await runTrio(async (ctx) => {
      const x = await share(ctx, 0, [n], a);
      const y = await share(ctx, 1, [n], b);
      const c = costOf(ctx);
      const outs = [
        add(ctx, x, y),
        sub(ctx, x, y),
        neg(ctx, x),
        addPublic(ctx, x, 2.5),
        subPublic(ctx, x, publicTensor(ctx, [n], b)),
        publicSub(ctx, 1, x),
        mulPublicInt(ctx, x, -3),
        withScale(mulPublic(ctx, x, publicTensor(ctx, [1], new Float64Array([4]), 0)), F),
      ];
      const cost = c();
      const vals = [];
      for (const o of outs) vals.push((await revealFloat(ctx, o))!);
      return { cost, vals };
    });
    const refs = [
      (i: number) => a[i] + b[i],
      (i: number) => a[i] - b[i],
      (i: number) => -a[i],
      (i: number) => a[i] + 2.5,
      (i: number) => a[i] - b[i],
      (i: number) => 1 - a[i],
      (i: number) => -3 * a[i],
      (i: number) => 4 * a[i],
    ];
    for (const r of res) {
      expect(r.cost.rounds).toBe(0);
      expect(r.cost.bytesSent).toBe(0);
      refs.forEach((f, k) => {
        for (let i = 0; i < n; i++) expect(r.vals[k][i]).toBe(f(i));
      });
    }
  });

  it('linearity property: reveal(a*x + b*y + c) == a*X + b*Y + c over many seeds', async () => {
    for (let seed = 1; seed <= 5; seed++) {
      const n = 64;
      const X = onGrid(randFloats(n, -1e3, 1e3, 10 + seed), F);
      const Y = onGrid(randFloats(n, -1e3, 1e3, 20 + seed), F);
      const A = (seed % 7) - 3;
      const B = 5 - seed;
      const res = await runTrio(
        async (ctx) => {
          const x = await share(ctx, (seed % 3) as 0 | 1 | 2, [n], X);
          const y = await share(ctx, ((seed + 1) % 3) as 0 | 1 | 2, [n], Y);
          return (await revealFloat(ctx, addPublic(ctx, add(ctx, mulPublicInt(ctx, x, A), mulPublicInt(ctx, y, B)), 0.75)))!;
        },
        { seed },
      );
      for (let i = 0; i < n; i++) expect(res[1][i]).toBe(A * X[i] + B * Y[i] + 0.75);
    }
  });

  it('broadcast public operands over the last axis', async () => {
    const a = onGrid(randFloats(6, -4, 4, 3), F);
    const res = await runTrio(async (ctx) => {
      const x = await share(ctx, 2, [2, 3], a);
      const p = publicTensor(ctx, [3], new Float64Array([1, -2, 3]), 0);
      return (await revealFloat(ctx, addPublic(ctx, withScale(mulPublic(ctx, x, p), F), publicTensor(ctx, [3], new Float64Array([0.5, 0, -0.5])))))!;
    });
    const m = [1, -2, 3];
    const c = [0.5, 0, -0.5];
    for (let i = 0; i < 6; i++) expect(res[0][i]).toBe(a[i] * m[i % 3] + c[i % 3]);
  });

  it('sumAxis, broadcastLast, concat, slice, transpose', async () => {
    const a = onGrid(randFloats(12, -10, 10, 4), F);
    const res = await runTrio(async (ctx) => {
      const x = await share(ctx, 0, [3, 4], a);
      const c = costOf(ctx);
      const s = sumAxis(ctx, x);
      const bl = broadcastLast(ctx, s, 2);
      const cc = concat(ctx, [x, bl]);
      const c0 = concat(ctx, [x, x], 0);
      const sl = slice(ctx, x, 1, 3);
      const t = transpose(ctx, x);
      const cost = c();
      const out = [];
      for (const v of [s, bl, cc, c0, sl, t]) out.push({ shape: v.shape, v: Array.from((await revealFloat(ctx, v))!) });
      return { cost, out };
    });
    const A = (i: number, j: number): number => a[i * 4 + j];
    const sums = [0, 1, 2].map((i) => A(i, 0) + A(i, 1) + A(i, 2) + A(i, 3));
    const r = res[2];
    expect(r.cost.rounds).toBe(0);
    expect(r.out[0]).toEqual({ shape: [3, 1], v: sums });
    expect(r.out[1]).toEqual({ shape: [3, 2], v: sums.flatMap((s) => [s, s]) });
    expect(r.out[2].shape).toEqual([3, 6]);
    expect(r.out[2].v).toEqual([0, 1, 2].flatMap((i) => [A(i, 0), A(i, 1), A(i, 2), A(i, 3), sums[i], sums[i]]));
    expect(r.out[3]).toEqual({ shape: [6, 4], v: [...a, ...a] });
    expect(r.out[4]).toEqual({ shape: [3, 2], v: [0, 1, 2].flatMap((i) => [A(i, 1), A(i, 2)]) });
    expect(r.out[5]).toEqual({ shape: [4, 3], v: [0, 1, 2, 3].flatMap((j) => [A(0, j), A(1, j), A(2, j)]) });
  });

  it('mulPublicFloat truncates once (1 round, the P0 role sends 8 bytes/element, roles rotated)', async () => {
    const n = 256;
    const a = onGrid(randFloats(n, -50, 50, 5), F);
    const res = await runTrio(async (ctx) => {
      const x = await share(ctx, 1, [n], a);
      const c = costOf(ctx);
      const y = await mulPublicFloat(ctx, x, 0.3);
      return { cost: c(), y: (await revealFloat(ctx, y))! };
    });
    expect(res.map((r) => r.cost.rounds)).toEqual([1, 1, 1]);
    expect(res.map((r) => r.cost.bytesSent)).toEqual([0, 1, 2].map((p) => roleBytes(n, [8, 0, 0], p, 24)));
    const c = Math.round(0.3 * 2 ** F) / 2 ** F;
    for (let i = 0; i < n; i++) expect(Math.abs(res[0].y[i] - a[i] * c)).toBeLessThanOrEqual(ulp);
  });

  it('rejects mismatched scales and shapes', async () => {
    await expect(
      runTrio(async (ctx) => {
        const x = await share(ctx, 0, [2], new Float64Array(2));
        return add(ctx, x, withScale(x, 3));
      }),
    ).rejects.toThrow(RangeError);
    await expect(
      runTrio(async (ctx) => {
        const x = await share(ctx, 0, [2], new Float64Array(2));
        return sub(ctx, x, x.reshape([1, 2]));
      }),
    ).rejects.toThrow(RangeError);
  });
});
