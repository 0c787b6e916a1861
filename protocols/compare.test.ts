import { describe, expect, it } from 'vitest';
import { costOf, runTrio } from '../testing/trio.js';
import { ROTATE_MIN } from './rotate.js';
import { eq, ge, gt, le, lt, ltz, mux, relu } from './compare.js';
import { max } from './max.js';
import { constant, input, reveal, revealFloat } from './sharing.js';
import { framingOf, meanBytesPerElem, msbCost, onGrid, randFloats, roleBytes, rolledBytes, share } from '../testing/protocol-helpers.js';

const F = 18;
const ulp = 2 ** -F;

const big = (v: Float64Array): bigint[] => Array.from(v, (x) => BigInt(Math.round(x * 2 ** F)));

describe('ltz / lt / le / gt / ge', () => {
  it('match float64 on random values, ties and edges; lt: 7 rounds, <= 48 bytes/element', async () => {
    const n = 1280;
    const a = onGrid(randFloats(n, -1000, 1000, 1), F);
    const b = onGrid(randFloats(n, -1000, 1000, 2), F);
    // edges: ties, one ulp apart, zero, large magnitudes
    const ea = [0, 0, ulp, -ulp, 5, -5, 2 ** 40, -(2 ** 40), 2 ** 40, 1e-3];
    const eb = [0, ulp, 0, 0, 5, -5, -(2 ** 40), 2 ** 40, 2 ** 40 - ulp, 1e-3 + ulp];
    ea.forEach((v, i) => {
      a[i] = v;
      b[i] = v === 1e-3 ? a[i] + ulp : eb[i];
    });
    const A = onGrid(a, F);
    const B = onGrid(b, F);
    const res = await runTrio(async (ctx) => {
      const x = await share(ctx, 0, [n], A);
      const y = await share(ctx, 1, [n], B);
      const c = costOf(ctx);
      const l = await lt(ctx, x, y);
      const cost = c();
      const out = { l, le: await le(ctx, x, y), gt: await gt(ctx, x, y), ge: await ge(ctx, x, y), z: await ltz(ctx, x) };
      const o: Record<string, BigUint64Array> = {};
      for (const [key, v] of Object.entries(out)) {
        expect(v.scale).toBe(0);
        o[key] = (await reveal(ctx, v))!.data;
      }
      return { cost, o };
    });
    const costs = res.map((r) => r.cost);
    expect(costs.map((c) => c.rounds)).toEqual([7, 7, 7]);
    // per element, by role: msb (P0 247 bits, P1/P2 119 bits) + bit injection (P0 16 B, P1/P2 8 B);
    // two calls, the second with the roles rotated by one (rotate.ts rolled)
    const mc = msbCost(64).roleBits;
    expect(mc).toEqual([247, 119, 119]);
    const msbRoles = [mc[0] / 8, mc[1] / 8, mc[2] / 8] as const;
    const b2aRoles = [16, 8, 8] as const;
    expect(costs.map((c) => c.bytesSent)).toEqual([0, 1, 2].map((p) => rolledBytes(n, [msbRoles, b2aRoles], p)));
    // <= 320 bits per party on average (every party, once the roles rotate: next test)
    expect(meanBytesPerElem(costs, n)).toBeLessThanOrEqual(40);
    const r = res[1].o;
    for (let i = 0; i < n; i++) {
      expect(r.l[i]).toBe(A[i] < B[i] ? 1n : 0n);
      expect(r.le[i]).toBe(A[i] <= B[i] ? 1n : 0n);
      expect(r.gt[i]).toBe(A[i] > B[i] ? 1n : 0n);
      expect(r.ge[i]).toBe(A[i] >= B[i] ? 1n : 0n);
      expect(r.z[i]).toBe(A[i] < 0 ? 1n : 0n);
    }
  });

  it('ltz on the ring extremes (|x| up to 2^63 - 1)', async () => {
    const vals = [0n, 1n, -1n, (1n << 63n) - 1n, -(1n << 63n), -(1n << 63n) + 1n, 1n << 62n, -(1n << 62n)];
    const res = await runTrio(async (ctx) => {
      const x = await input(ctx, 2, [vals.length], ctx.party === 2 ? BigUint64Array.from(vals.map((v) => BigInt.asUintN(64, v))) : undefined, 0);
      return (await reveal(ctx, await ltz(ctx, x)))!.data;
    });
    expect(Array.from(res[0])).toEqual(vals.map((v) => (v < 0n ? 1n : 0n)));
  });
});

describe('lt on a large tensor (roles rotated over chunks)', () => {
  it('every party sends <= 320 bits per element', async () => {
    const n = ROTATE_MIN + 1000;
    const A = onGrid(randFloats(n, -1000, 1000, 91), F);
    const B = onGrid(randFloats(n, -1000, 1000, 92), F);
    const res = await runTrio(async (ctx) => {
      const x = await share(ctx, 0, [n], A);
      const y = await share(ctx, 1, [n], B);
      const c = costOf(ctx);
      const l = await lt(ctx, x, y);
      return { cost: c(), l: (await reveal(ctx, l))!.data };
    });
    for (const r of res) expect(r.cost.bytesSent / n).toBeLessThanOrEqual(40);
    for (let i = 0; i < n; i += 97) expect(res[0].l[i]).toBe(A[i] < B[i] ? 1n : 0n);
  });
});

describe('comparisons with a promised bit width', () => {
  it('bitWidth 32: exact inside the range, 6 rounds, fewer bytes', async () => {
    const n = 640;
    const a = onGrid(randFloats(n, -4000, 4000, 8), F);
    const b = onGrid(randFloats(n, -4000, 4000, 9), F);
    a[0] = 4095.99;
    b[0] = -4095.99; // difference just under 2^13 = 2^31 ulps
    a[1] = b[1] = 7;
    a[2] = -1;
    b[2] = -1 + ulp;
    const A = onGrid(a, F);
    const B = onGrid(b, F);
    const res = await runTrio(async (ctx) => {
      const x = await share(ctx, 0, [n], A);
      const y = await share(ctx, 2, [n], B);
      const c = costOf(ctx);
      const l = await lt(ctx, x, y, { bitWidth: 32 });
      const cost = c();
      const m = await max(ctx, x.reshape([64, 10]), { bitWidth: 32 });
      return { cost, l: (await reveal(ctx, l))!.data, m: (await revealFloat(ctx, m))! };
    });
    // msb at 32 bits (P0 2 x 47 factor slices + 26 ANDs, P1/P2 30 outputs + 26 ANDs), then bit injection
    const mc = msbCost(32).roleBits;
    expect(mc).toEqual([2 * 47 + 26, 30 + 26, 30 + 26]);
    expect(res.map((r) => r.cost.bytesSent)).toEqual([0, 1, 2].map((p) => rolledBytes(n, [[mc[0] / 8, mc[1] / 8, mc[2] / 8], [16, 8, 8]], p)));
    expect(res.map((r) => r.cost.rounds)).toEqual([6, 6, 6]);
    for (let i = 0; i < n; i++) expect(res[0].l[i]).toBe(A[i] < B[i] ? 1n : 0n);
    for (let r = 0; r < 64; r++) expect(res[1].m[r]).toBe(Math.max(...A.subarray(r * 10, r * 10 + 10)));
  });

  it('rejects a bad bit width', async () => {
    await expect(runTrio(async (ctx) => ltz(ctx, constant(ctx, [1], 1), { bitWidth: 65 }))).rejects.toThrow(RangeError);
  });
});

describe('eq', () => {
  it('exact equality with 7 rounds and the documented bytes', async () => {
    const n = 640;
    const a = onGrid(randFloats(n, -10, 10, 3), F);
    const b = a.slice();
    for (let i = 0; i < n; i += 3) b[i] = a[i] + (i % 2 === 0 ? ulp : -ulp * 7);
    b[1] = -0;
    a[1] = 0;
    const res = await runTrio(async (ctx) => {
      const x = await share(ctx, 2, [n], a);
      const y = await share(ctx, 0, [n], b);
      const c = costOf(ctx);
      const e = await eq(ctx, x, y);
      return { cost: c(), e: (await reveal(ctx, e))!.data };
    });
    // by role: product round (P0 2 x 96 factor slices, P1/P2 32 outputs), 31 AND slices each,
    // then bit injection (P0 16 B, others 8 B); roles rotate over three chunks (+ 24 B per message)
    const roles = [(192 + 31) / 8 + 16, (32 + 31) / 8 + 8, (32 + 31) / 8 + 8] as const;
    expect(res.map((r) => r.cost.bytesSent - framingOf(n, r.cost.messagesSent))).toEqual([0, 1, 2].map((p) => roleBytes(n, roles, p, 0)));
    expect(res.map((r) => r.cost.rounds)).toEqual([7, 7, 7]);
    const A = big(a);
    const B = big(b);
    for (let i = 0; i < n; i++) expect(res[0].e[i]).toBe(A[i] === B[i] ? 1n : 0n);
  });
});

describe('eq on the ring', () => {
  it('differences in any single bit position are detected; equal words give 1', async () => {
    const base: bigint[] = [];
    const other: bigint[] = [];
    let w = 0x243f6a8885a308d3n;
    for (let j = 0; j < 64; j++) {
      w = BigInt.asUintN(64, w * 6364136223846793005n + 1442695040888963407n);
      base.push(w, w);
      other.push(w ^ (1n << BigInt(j)), w);
    }
    const n = base.length;
    const res = await runTrio(async (ctx) => {
      const x = await input(ctx, 0, [n], ctx.party === 0 ? BigUint64Array.from(base) : undefined, 0);
      const y = await input(ctx, 2, [n], ctx.party === 2 ? BigUint64Array.from(other) : undefined, 0);
      return (await reveal(ctx, await eq(ctx, x, y)))!.data;
    });
    for (let i = 0; i < n; i++) expect(res[1][i]).toBe(i % 2 === 1 ? 1n : 0n);
  });
});

describe('mux / relu', () => {
  it('mux: 1 round, 8 bytes/element; relu: 7 rounds', async () => {
    const n = 256;
    const a = onGrid(randFloats(n, -20, 20, 4), F);
    const b = onGrid(randFloats(n, -20, 20, 5), F);
    a[0] = 0;
    a[1] = -ulp;
    a[2] = ulp;
    const res = await runTrio(async (ctx) => {
      const x = await share(ctx, 0, [n], a);
      const y = await share(ctx, 1, [n], b);
      const c = await lt(ctx, x, y);
      const c1 = costOf(ctx);
      const m = await mux(ctx, c, x, y); // min(x, y)
      const muxCost = c1();
      const c2 = costOf(ctx);
      const r = await relu(ctx, x);
      const reluCost = c2();
      return { muxCost, reluCost, m: (await revealFloat(ctx, m))!, r: (await revealFloat(ctx, r))! };
    });
    for (const r of res) {
      expect(r.muxCost).toMatchObject({ rounds: 1, bytesSent: 8 * n });
      expect(r.reluCost.rounds).toBe(msbCost(64).rounds + 1);
      for (let i = 0; i < n; i++) {
        expect(r.m[i]).toBe(Math.min(a[i], b[i]));
        expect(r.r[i]).toBe(Math.max(a[i], 0));
      }
    }
  });

  it('mux rejects a fixed-point selector', async () => {
    await expect(
      runTrio(async (ctx) => {
        const x = constant(ctx, [2], 1);
        return mux(ctx, x, x, x);
      }),
    ).rejects.toThrow(RangeError);
  });
});
