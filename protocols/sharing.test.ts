import { describe, expect, it } from 'vitest';
import { runTrio, costOf, trioSeeds } from '../testing/trio.js';
import { constant, fromPublic, input, inputMany, publicTensor, reveal, revealBool, revealFloat } from './sharing.js';
import { BoolShare, PublicTensor } from './types.js';
import { MpcError } from './errors.js';

const toU = (xs: bigint[]): BigUint64Array => BigUint64Array.from(xs.map((v) => BigInt.asUintN(64, v)));

function randFloats(n: number, lo: number, hi: number, seed: number): Float64Array {
  let s = seed >>> 0;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = lo + ((hi - lo) * s) / 2 ** 32;
  }
  return out;
}

describe('trio seeds', () => {
  it('pair seeds agree between neighbours, common is shared, own differ', () => {
    const s = trioSeeds(7);
    for (let i = 0; i < 3; i++) {
      expect(Buffer.from(s[i].next).equals(Buffer.from(s[(i + 1) % 3].prev))).toBe(true);
      expect(Buffer.from(s[i].common).equals(Buffer.from(s[0].common))).toBe(true);
      expect(Buffer.from(s[i].own).equals(Buffer.from(s[(i + 1) % 3].own))).toBe(false);
      expect(Buffer.from(s[i].next).equals(Buffer.from(s[i].prev))).toBe(false);
    }
  });
});

describe('input / reveal', () => {
  it('round trip of floats for every owner, with the documented cost', async () => {
    const n = 1000;
    const vals = randFloats(n, -1000, 1000, 3);
    for (const owner of [0, 1, 2] as const) {
      const res = await runTrio(async (ctx) => {
        const c = costOf(ctx);
        const x = await input(ctx, owner, [n], ctx.party === owner ? vals : undefined);
        const inCost = c();
        const c2 = costOf(ctx);
        const y = await revealFloat(ctx, x);
        return { inCost, outCost: c2(), y: y!, x };
      });
      for (const [i, r] of res.entries()) {
        // input: 1 round; only the owner sends, 8 bytes per element, to party owner-1
        expect(r.inCost.rounds).toBe(1);
        expect(r.inCost.bytesSent).toBe(i === owner ? 8 * n : 0);
        expect(r.inCost.bytesReceived).toBe(i === (owner + 2) % 3 ? 8 * n : 0);
        // reveal to all: 1 round, every party sends 8 bytes per element
        expect(r.outCost.rounds).toBe(1);
        expect(r.outCost.bytesSent).toBe(8 * n);
        for (let j = 0; j < n; j++) expect(Math.abs(r.y[j] - vals[j])).toBeLessThanOrEqual(2 ** -19);
      }
      // replicated: party i's s1 is party i+1's s0
      for (let i = 0; i < 3; i++) expect(res[i].x.s1).toEqual(res[(i + 1) % 3].x.s0);
      // a non-owner's components do not contain the value
      const nonOwner = res[(owner + 1) % 3].x;
      expect(nonOwner.s0.some((v, j) => v === res[owner].x.s0[j])).toBe(false);
    }
  });

  it('raw ring elements and edges survive exactly', async () => {
    const edge = toU([0n, 1n, -1n, (1n << 63n) - 1n, -(1n << 63n), 123456789012345n]);
    const res = await runTrio(async (ctx) => {
      const x = await input(ctx, 1, [edge.length], ctx.party === 1 ? edge : undefined, 0);
      return (await reveal(ctx, x))!;
    });
    for (const r of res) {
      expect(r).toBeInstanceOf(PublicTensor);
      expect(r.scale).toBe(0);
      expect(Array.from(r.data)).toEqual(Array.from(edge));
    }
  });

  it('reveal to one party: only it learns, one sender', async () => {
    const res = await runTrio(async (ctx) => {
      const x = await input(ctx, 0, [4], ctx.party === 0 ? new Float64Array([1.5, -2, 0, 3.25]) : undefined);
      const c = costOf(ctx);
      const y = await revealFloat(ctx, x, 2);
      return { y, cost: c() };
    });
    expect(res[0].y).toBeUndefined();
    expect(res[1].y).toBeUndefined();
    expect(Array.from(res[2].y!)).toEqual([1.5, -2, 0, 3.25]);
    expect(res.map((r) => r.cost.bytesSent)).toEqual([32, 0, 0]); // party 0 = 2+1 sends its s1 = x_1... to party 2
    expect(res.map((r) => r.cost.rounds)).toEqual([1, 1, 1]);
  });

  it('inputMany shares several tensors in one round', async () => {
    const a = randFloats(10, -5, 5, 1);
    const b = randFloats(6, -5, 5, 2);
    const res = await runTrio(async (ctx) => {
      const c = costOf(ctx);
      const mine = ctx.party === 2;
      const [x, y] = await inputMany(ctx, 2, [
        { shape: [2, 5], values: mine ? a : undefined },
        { shape: [6], values: mine ? b : undefined, scale: 10 },
      ]);
      const cost = c();
      return { cost, x: (await revealFloat(ctx, x))!, y: (await revealFloat(ctx, y))!, shapes: [x.shape, y.shape], scales: [x.scale, y.scale] };
    });
    for (const [i, r] of res.entries()) {
      expect(r.cost.rounds).toBe(1);
      expect(r.cost.bytesSent).toBe(i === 2 ? 8 * 16 : 0);
      expect(r.shapes).toEqual([[2, 5], [6]]);
      expect(r.scales).toEqual([18, 10]);
      for (let j = 0; j < 10; j++) expect(Math.abs(r.x[j] - a[j])).toBeLessThanOrEqual(2 ** -19);
      for (let j = 0; j < 6; j++) expect(Math.abs(r.y[j] - b[j])).toBeLessThanOrEqual(2 ** -11);
    }
  });

  it('constants and public tensors are local and exact', async () => {
    const res = await runTrio(async (ctx) => {
      const c = costOf(ctx);
      const k = constant(ctx, [3], new Float64Array([-1.25, 0, 7]));
      const p = fromPublic(ctx, publicTensor(ctx, [2], new Float64Array([2.5, -3]), 4));
      const local = c();
      return { local, k: (await revealFloat(ctx, k))!, p: (await revealFloat(ctx, p))! };
    });
    for (const r of res) {
      expect(r.local.rounds).toBe(0);
      expect(Array.from(r.k)).toEqual([-1.25, 0, 7]);
      expect(Array.from(r.p)).toEqual([2.5, -3]);
    }
  });

  it('revealBool XORs the components', async () => {
    const w = toU([0n, -1n, 0x0123456789abcdefn]);
    const res = await runTrio(async (ctx) => {
      // a boolean sharing with x0 = w, x1 = x2 = 0 (like a public constant)
      const z = new BigUint64Array(3);
      const s0 = ctx.party === 0 ? w.slice() : z.slice();
      const s1 = ctx.party === 2 ? w.slice() : z.slice();
      return (await revealBool(ctx, new BoolShare([3], s0, s1)))!;
    });
    for (const r of res) expect(Array.from(r)).toEqual(Array.from(w));
  });

  it('rejects bad arguments and out-of-range values', async () => {
    await expect(runTrio(async (ctx) => input(ctx, 0, [2], ctx.party === 0 ? new Float64Array([1, 2 ** 50]) : undefined))).rejects.toThrow(RangeError);
    await expect(runTrio(async (ctx) => input(ctx, 0, [2], new Float64Array([1, 2])))).rejects.toThrow(TypeError);
    await expect(runTrio(async (ctx) => input(ctx, 3 as 0, [1]))).rejects.toThrow(RangeError);
  });

  it('a peer sending the wrong size is a protocol error', async () => {
    const err = await runTrio(async (ctx) => {
      // party 0 shares 3 elements while the others expect 4
      return input(ctx, 0, [ctx.party === 0 ? 3 : 4], ctx.party === 0 ? new Float64Array(3) : undefined);
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MpcError);
    expect((err as MpcError).code).toBe('MPC_ERR_PROTOCOL');
  });
});
