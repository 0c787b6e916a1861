import { describe, expect, it } from 'vitest';
import { costOf, runTrio } from '../testing/trio.js';
import { andB, notB, xorB, xorPublicB } from './bool-ops.js';
import { a2b, b2a, bitTimes, bitTimesSliced } from './conversions.js';
import { msb, msbSliced } from './msb.js';
import { input, revealBool, reveal, constant } from './sharing.js';
import { BoolShare } from './types.js';
import { meanBytesPerElem, msbCost } from '../testing/protocol-helpers.js';

const U = (v: bigint): bigint => BigInt.asUintN(64, v);

/** ANDs of the (G,P) carry tree over L leaves (the lowest group has no P). */
function treeAnds(L: number): { ands: number; levels: number } {
  let cnt = L;
  let ands = 0;
  let levels = 0;
  while (cnt > 1) {
    const pairs = cnt >> 1;
    ands += 2 * pairs - 1;
    cnt = Math.ceil(cnt / 2);
    levels++;
  }
  return { ands, levels };
}

/** Deterministic 64-bit test words (splitmix64). */
function words(n: number, seed: bigint): bigint[] {
  let s = seed;
  const out: bigint[] = [];
  for (let i = 0; i < n; i++) {
    s = U(s + 0x9e3779b97f4a7c15n);
    let z = s;
    z = U((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n);
    z = U((z ^ (z >> 27n)) * 0x94d049bb133111ebn);
    out.push(z ^ (z >> 31n));
  }
  return out;
}

const EDGES = [0n, 1n, U(-1n), 1n << 63n, (1n << 63n) - 1n, 1n << 62n, U(-(1n << 62n)), 0x8000000000000001n, 0x7ffffffffffffffen, 2n, U(-2n)];

function shareBool(ctx: Parameters<Parameters<typeof runTrio>[0]>[0], v: bigint[]): BoolShare {
  // a deterministic boolean sharing: x0 = v (parties 0 and 2), x1 = x2 = 0
  const w = BigUint64Array.from(v);
  const z = new BigUint64Array(v.length);
  return new BoolShare([v.length], ctx.party === 0 ? w : z, ctx.party === 2 ? w.slice() : z.slice());
}

describe('msb', () => {
  it('is the sign bit for random words and edges; 6 rounds and the documented bytes', async () => {
    const n = 640; // a multiple of 64 so the byte formula is exact
    const vals = [...EDGES, ...words(n - EDGES.length, 5n)];
    const res = await runTrio(async (ctx) => {
      const x = await input(ctx, 1, [n], ctx.party === 1 ? BigUint64Array.from(vals) : undefined, 0);
      const c = costOf(ctx);
      const m = await msb(ctx, x);
      return { cost: c(), m: (await revealBool(ctx, m))! };
    });
    const W = n / 64;
    // pair round: P0 sends 2 x 95 factor slices, P1/P2 62 output slices; tree over 32 groups: 57 ANDs
    const cost = msbCost(64);
    expect(cost).toEqual({ rounds: 6, roleBits: [2 * 95 + 57, 62 + 57, 62 + 57] });
    expect(treeAnds(32)).toEqual({ ands: 57, levels: 5 });
    expect(res.map((r) => r.cost.bytesSent)).toEqual(cost.roleBits.map((b) => b * W * 8));
    expect(res.map((r) => r.cost.rounds)).toEqual([6, 6, 6]);
    expect(meanBytesPerElem(res.map((r) => r.cost), n)).toBeLessThanOrEqual(40); // <= 320 bits
    for (const r of res) for (let i = 0; i < n; i++) expect(r.m[i]).toBe(vals[i] >> 63n);
  });

  it('every bit width from 2 to 64 gives the sign of values inside its range', async () => {
    const n = 70;
    for (let L = 2; L <= 64; L++) {
      const half = 1n << BigInt(L - 1);
      const vals = words(n, BigInt(L)).map((w) => {
        const v = (w % (2n * half)) - half; // in [-2^(L-1), 2^(L-1))
        return BigInt.asUintN(64, v);
      });
      vals[0] = BigInt.asUintN(64, -half);
      vals[1] = half - 1n;
      vals[2] = 0n;
      vals[3] = BigInt.asUintN(64, -1n);
      const res = await runTrio(async (ctx) => {
        const x = await input(ctx, (L % 3) as 0 | 1 | 2, [n], ctx.party === L % 3 ? BigUint64Array.from(vals) : undefined, 0);
        const c = costOf(ctx);
        const m = await msb(ctx, x, { bitWidth: L });
        return { rounds: c().rounds, m: (await revealBool(ctx, m))! };
      });
      expect(res[0].rounds).toBe(msbCost(L).rounds);
      for (let i = 0; i < n; i++) expect(res[0].m[i]).toBe(vals[i] >> 63n);
    }
  });

  it('works for sizes that are not multiples of 64 (and n = 1)', async () => {
    for (const n of [1, 63, 65, 130]) {
      const vals = words(n, BigInt(n));
      const res = await runTrio(async (ctx) => {
        const x = await input(ctx, 0, [n], ctx.party === 0 ? BigUint64Array.from(vals) : undefined, 0);
        return (await revealBool(ctx, await msb(ctx, x)))!;
      });
      for (let i = 0; i < n; i++) expect(res[2][i]).toBe(vals[i] >> 63n);
    }
  });
});

describe('b2a', () => {
  it('injects bit 0 (other bits ignored); 1 round, P0 sends 16 bytes, P1/P2 8 bytes per bit', async () => {
    const n = 300;
    const vals = words(n, 17n);
    const res = await runTrio(async (ctx) => {
      const b = shareBool(ctx, vals);
      const c = costOf(ctx);
      const a = await b2a(ctx, b);
      return { cost: c(), a: (await reveal(ctx, a))!, scale: a.scale };
    });
    expect(res.map((r) => r.cost.bytesSent)).toEqual([16 * n, 8 * n, 8 * n]);
    expect(res.map((r) => r.cost.rounds)).toEqual([1, 1, 1]);
    expect(meanBytesPerElem(res.map((r) => r.cost), n)).toBeLessThanOrEqual(32 / 3); // ~85 bits (target <= 192 bits)
    for (const r of res) {
      expect(r.scale).toBe(0);
      for (let i = 0; i < n; i++) expect(r.a.data[i]).toBe(vals[i] & 1n);
    }
  });

  it('round trip msb -> b2a on a random boolean sharing', async () => {
    const n = 128;
    const vals = words(n, 99n);
    const res = await runTrio(async (ctx) => {
      const x = await input(ctx, 2, [n], ctx.party === 2 ? BigUint64Array.from(vals) : undefined, 0);
      return (await reveal(ctx, await b2a(ctx, await msb(ctx, x))))!;
    });
    for (let i = 0; i < n; i++) expect(res[0].data[i]).toBe(vals[i] >> 63n);
  });
});

describe('a2b', () => {
  it('gives the full 64-bit boolean sharing; 7 rounds, documented bytes', async () => {
    const n = 128;
    const vals = [...EDGES, ...words(n - EDGES.length, 3n)];
    const res = await runTrio(async (ctx) => {
      const x = await input(ctx, 0, [n], ctx.party === 0 ? BigUint64Array.from(vals) : undefined, 0);
      const c = costOf(ctx);
      const b = await a2b(ctx, x);
      return { cost: c(), b: (await revealBool(ctx, b))! };
    });
    let ks = 0;
    for (let d = 1; d < 63; d *= 2) ks += 63 - d + Math.max(0, 63 - 2 * d);
    expect(ks).toBe(568);
    const W = n / 64;
    expect(res.map((r) => r.cost.bytesSent)).toEqual([(128 + ks) * W * 8, (64 + ks) * W * 8, (64 + ks) * W * 8]);
    expect(res.map((r) => r.cost.rounds)).toEqual([7, 7, 7]);
    for (const r of res) expect(Array.from(r.b)).toEqual(vals);
  });
});

describe('boolean word ops', () => {
  it('andB (1 round, 8 bytes per word per party), xorB, notB, xorPublicB', async () => {
    const a = [...EDGES, ...words(20, 7n)];
    const b = [...EDGES.slice().reverse(), ...words(20, 8n)];
    const n = a.length;
    const res = await runTrio(async (ctx) => {
      const x = shareBool(ctx, a);
      const y = shareBool(ctx, b);
      const c = costOf(ctx);
      const z = await andB(ctx, x, y);
      const cost = c();
      const p = BigUint64Array.from(b);
      return {
        cost,
        and: (await revealBool(ctx, z))!,
        xor: (await revealBool(ctx, xorB(ctx, x, y)))!,
        not: (await revealBool(ctx, notB(ctx, x)))!,
        xp: (await revealBool(ctx, xorPublicB(ctx, x, p)))!,
      };
    });
    for (const r of res) {
      expect(r.cost).toMatchObject({ rounds: 1, bytesSent: 8 * n });
      for (let i = 0; i < n; i++) {
        expect(r.and[i]).toBe(a[i] & b[i]);
        expect(r.xor[i]).toBe(a[i] ^ b[i]);
        expect(r.not[i]).toBe(U(~a[i]));
        expect(r.xp[i]).toBe(a[i] ^ b[i]);
      }
    }
  });
});

describe('bitTimes', () => {
  it('b * d in one round (P0 sends 32 bytes, P1/P2 8 bytes per element), exact', async () => {
    const n = 256;
    const bits = words(n, 41n);
    const ds = [...EDGES, ...words(n - EDGES.length, 42n)];
    const res = await runTrio(async (ctx) => {
      // a random boolean sharing of the bits: through msb of inputs with those sign bits
      const x = await input(ctx, 1, [n], ctx.party === 1 ? BigUint64Array.from(bits) : undefined, 0);
      const b = await msb(ctx, x);
      const d = await input(ctx, 2, [n], ctx.party === 2 ? BigUint64Array.from(ds) : undefined, 0);
      const c = costOf(ctx);
      const p = await bitTimes(ctx, b, d);
      return { cost: c(), p: (await reveal(ctx, p))!.data };
    });
    expect(res.map((r) => r.cost.bytesSent)).toEqual([32 * n, 8 * n, 8 * n]);
    expect(res.map((r) => r.cost.rounds)).toEqual([1, 1, 1]);
    for (let i = 0; i < n; i++) expect(res[0].p[i]).toBe(bits[i] >> 63n ? ds[i] : 0n);
  });

  it('several values and the bit itself in the same round; also on a constant value', async () => {
    const n = 200;
    const xs = words(n, 51n);
    const d1 = words(n, 52n);
    const res = await runTrio(async (ctx) => {
      const x = await input(ctx, 0, [n], ctx.party === 0 ? BigUint64Array.from(xs) : undefined, 0);
      const d = await input(ctx, 1, [n], ctx.party === 1 ? BigUint64Array.from(d1) : undefined, 7);
      const e = await msbSliced(ctx, x);
      const c = costOf(ctx);
      const r = await bitTimesSliced(ctx, e, n, [d, constant(ctx, [n], 3, 0)], true);
      const cost = c();
      return { cost, bit: (await reveal(ctx, r.bit!))!, p0: (await reveal(ctx, r.prods[0]))!, p1: (await reveal(ctx, r.prods[1]))! };
    });
    const r = res[2];
    expect(r.cost.rounds).toBe(1);
    expect(res.map((q) => q.cost.bytesSent)).toEqual([2 * 3 * 8 * n, 3 * 8 * n, 3 * 8 * n]);
    expect(r.bit.scale).toBe(0);
    expect(r.p0.scale).toBe(7);
    for (let i = 0; i < n; i++) {
      const e = xs[i] >> 63n;
      expect(r.bit.data[i]).toBe(e);
      expect(r.p0.data[i]).toBe(e ? d1[i] : 0n);
      expect(r.p1.data[i]).toBe(e * 3n);
    }
  });
});
