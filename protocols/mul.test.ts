import { describe, expect, it } from 'vitest';
import { costOf, runTrio } from '../testing/trio.js';
import { matmul, matmulFixed, mul, mulFixed, mulTrunc, mulTruncEach, productTerm, trunc, truncEach, truncTerms } from './mul.js';
import { truncExact } from './trunc-exact.js';
import { constant, input, reveal, revealFloat } from './sharing.js';
import { meanBytesPerElem, onGrid, randFloats, roleBytes, share } from '../testing/protocol-helpers.js';
import type { StepStats } from './channel.js';
import { ROTATE_MIN } from './rotate.js';

const F = 18;
const ulp = 2 ** -F;
const signed = (v: bigint): bigint => BigInt.asIntN(64, v);

function refMatmul(a: Float64Array, b: Float64Array, m: number, k: number, n: number, transA = false, transB = false): Float64Array {
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let t = 0; t < k; t++) s += (transA ? a[t * m + i] : a[i * k + t]) * (transB ? b[j * k + t] : b[t * n + j]);
      out[i * n + j] = s;
    }
  return out;
}

describe('mul', () => {
  it('ring product is exact (BigInt reference) incl. edges; 1 round, 8 bytes/element from each party', async () => {
    const xs = [0n, 1n, -1n, 12345n, -98765n, (1n << 40n) + 7n, -(1n << 62n), (1n << 63n) - 1n, 3n ** 30n];
    const ys = [5n, -1n, -1n, 678n, 4321n, -(1n << 20n), 3n, 2n, -(3n ** 9n)];
    const n = xs.length;
    const res = await runTrio(async (ctx) => {
      const x = await input(ctx, 0, [n], ctx.party === 0 ? BigUint64Array.from(xs.map((v) => BigInt.asUintN(64, v))) : undefined, 0);
      const y = await input(ctx, 1, [n], ctx.party === 1 ? BigUint64Array.from(ys.map((v) => BigInt.asUintN(64, v))) : undefined, 0);
      const c = costOf(ctx);
      const z = await mul(ctx, x, y);
      return { cost: c(), z: (await reveal(ctx, z))! };
    });
    for (const r of res) {
      expect(r.cost).toMatchObject({ rounds: 1, bytesSent: 8 * n, bytesReceived: 8 * n, messagesSent: 1 });
      expect(Array.from(r.z.data)).toEqual(xs.map((x, i) => BigInt.asUintN(64, x * ys[i])));
    }
  });

  it('fixed-point product has scale 2f; property over seeds', async () => {
    for (let seed = 1; seed <= 4; seed++) {
      const n = 200;
      const a = onGrid(randFloats(n, -100, 100, seed), F);
      const b = onGrid(randFloats(n, -100, 100, seed + 50), F);
      const res = await runTrio(
        async (ctx) => {
          const x = await share(ctx, 2, [n], a);
          const y = await share(ctx, 0, [n], b);
          const z = await mul(ctx, x, y);
          return { scale: z.scale, v: (await reveal(ctx, z))!.data };
        },
        { seed },
      );
      expect(res[0].scale).toBe(2 * F);
      for (let i = 0; i < n; i++) {
        const want = BigInt(Math.round(a[i] * 2 ** F)) * BigInt(Math.round(b[i] * 2 ** F));
        expect(signed(res[0].v[i])).toBe(want);
      }
    }
  });
});

describe('trunc', () => {
  it('one round, the P0 role sends 8 bytes/element (below ROTATE_MIN: rolled; the threshold itself: thresholds.test.ts); result is floor or floor+1', async () => {
    const n = 4000;
    const a = onGrid(randFloats(n, -4096, 4096, 7), F);
    const edges = new Float64Array([0, ulp, -ulp, 1, -1, 4095.5, -4095.5, 2 ** -10]);
    const res = await runTrio(async (ctx) => {
      const x = await share(ctx, 1, [n], a);
      const e = constant(ctx, [edges.length], edges); // deterministic sharing: trunc must still be right
      const y = await mul(ctx, x, constant(ctx, [n], 1)); // scale 2f, random split
      const c = costOf(ctx);
      const t = await trunc(ctx, y);
      const cost = c();
      const te = await trunc(ctx, await mul(ctx, e, constant(ctx, [edges.length], 1)));
      const tc = await trunc(ctx, constant(ctx, [edges.length], edges, 2 * F));
      return { cost, t: (await reveal(ctx, t))!, te: (await reveal(ctx, te))!, tc: (await reveal(ctx, tc))! };
    });
    expect(res.map((r) => r.cost.rounds)).toEqual([1, 1, 1]);
    // in chunk r party r plays P0 and sends its chunk to the P2 role (+ a 24-byte header)
    expect(res.map((r) => r.cost.bytesSent)).toEqual([0, 1, 2].map((p) => roleBytes(n, [8, 0, 0], p, 24)));
    expect(res.map((r) => r.cost.messagesSent)).toEqual(n >= ROTATE_MIN ? [1, 1, 1] : [1, 0, 0]);
    const r = res[0];
    expect(r.t.scale).toBe(F);
    for (let i = 0; i < n; i++) {
      const exact = BigInt(Math.round(a[i] * 2 ** F)); // x * 2^f / 2^f
      const d = signed(r.t.data[i]) - exact;
      expect(d === 0n || d === 1n).toBe(true);
    }
    for (const out of [r.te, r.tc]) {
      for (let i = 0; i < edges.length; i++) {
        const d = signed(out.data[i]) - BigInt(Math.round(edges[i] * 2 ** F));
        expect(d === 0n || d === 1n).toBe(true);
      }
    }
  });

  it('truncation error stays within one ulp across seeds (property)', async () => {
    for (let seed = 1; seed <= 6; seed++) {
      const n = 500;
      const a = onGrid(randFloats(n, -1000, 1000, seed * 3), F);
      const b = onGrid(randFloats(n, -4, 4, seed * 5), F);
      const res = await runTrio(
        async (ctx) => {
          const x = await share(ctx, 0, [n], a);
          const y = await share(ctx, 2, [n], b);
          const t = await trunc(ctx, await mul(ctx, x, y));
          return (await reveal(ctx, t))!.data;
        },
        { seed },
      );
      for (let i = 0; i < n; i++) {
        const prod = BigInt(Math.round(a[i] * 2 ** F)) * BigInt(Math.round(b[i] * 2 ** F));
        const floor = prod >> BigInt(F);
        const d = signed(res[2][i]) - floor;
        expect(d === 0n || d === 1n).toBe(true);
      }
    }
  });

  it('truncExact gives the exact floor, also at the edges', async () => {
    const vals = [0n, 1n, -1n, (1n << 18n) - 1n, 1n << 18n, -(1n << 18n), -(1n << 18n) - 1n, (1n << 61n) + 12345n, -(1n << 61n) - 1n, 987654321987n, -987654321987n];
    const rnd = randFloats(300, -(2 ** 40), 2 ** 40, 9).map(Math.round);
    const all = [...vals, ...Array.from(rnd, (v) => BigInt(v))];
    const n = all.length;
    const res = await runTrio(async (ctx) => {
      const x = await input(ctx, 2, [n], ctx.party === 2 ? BigUint64Array.from(all.map((v) => BigInt.asUintN(64, v))) : undefined, F);
      const c = costOf(ctx);
      const t = await truncExact(ctx, x, F);
      return { cost: c(), t: (await reveal(ctx, t))! };
    });
    for (const r of res) {
      expect(r.cost.rounds).toBe(9);
      expect(r.t.scale).toBe(0);
      for (let i = 0; i < n; i++) expect(signed(r.t.data[i])).toBe(all[i] >> 18n);
    }
  });
});

describe('mulFixed / matmul', () => {
  it('mulFixed: 1 round, 40 bytes/element over the parties (rolled below ROTATE_MIN), within one ulp; 2 rounds, 8 bytes/party on request', async () => {
    const n = 1000;
    const a = onGrid(randFloats(n, -60, 60, 11), F);
    const b = onGrid(randFloats(n, -60, 60, 12), F);
    const res = await runTrio(async (ctx) => {
      const x = await share(ctx, 0, [n], a);
      const y = await share(ctx, 1, [n], b);
      const c = costOf(ctx);
      const z = await mulFixed(ctx, x, y);
      const cost = c();
      const c2 = costOf(ctx);
      const z2 = await mulFixed(ctx, x, y, { rounds: 2 });
      return { cost, cost2: c2(), z: (await reveal(ctx, z))!, z2: (await reveal(ctx, z2))! };
    });
    const costs: StepStats[] = res.map((r) => r.cost);
    expect(costs.map((c) => c.rounds)).toEqual([1, 1, 1]);
    // the P0 role sends m to both peers and y0 to the P2 role (24 bytes), the others one term
    // (8 bytes); every party sends one message to each peer, each with a 24-byte header
    expect(costs.map((c) => c.bytesSent)).toEqual([0, 1, 2].map((p) => roleBytes(n, [24, 8, 8], p, 48)));
    expect(costs.map((c) => c.messagesSent)).toEqual(n >= ROTATE_MIN ? [2, 2, 2] : [2, 1, 1]);
    const costs2: StepStats[] = res.map((r) => r.cost2);
    expect(costs2.map((c) => c.rounds)).toEqual([2, 2, 2]);
    // P0 sends the truncation message, P1 and P2 one product term each
    expect(costs2.map((c) => c.bytesSent)).toEqual([8 * n, 8 * n, 8 * n]);
    expect(meanBytesPerElem(costs2, n)).toBe(8);
    for (let i = 0; i < n; i++) {
      const prod = BigInt(Math.round(a[i] * 2 ** F)) * BigInt(Math.round(b[i] * 2 ** F));
      for (const z of [res[1].z, res[2].z2]) {
        const d = signed(z.data[i]) - (prod >> BigInt(F));
        expect(d === 0n || d === 1n).toBe(true);
      }
    }
  });

  it('mulTrunc (small tensor, no rotation): P0 sends 24 bytes/element, P1 and P2 8; any bits and scale; property over seeds', async () => {
    const n = 150;
    for (let seed = 1; seed <= 4; seed++) {
      const a = onGrid(randFloats(n, -100, 100, 40 + seed), F);
      const b = onGrid(randFloats(n, -100, 100, 50 + seed), F);
      const bits = [F, F + 3, 2 * F, 5][seed - 1];
      const res = await runTrio(async (ctx) => {
        const x = await share(ctx, 2, [n], a);
        const y = await share(ctx, 0, [n], b);
        const c = costOf(ctx);
        const z = await mulTrunc(ctx, x, y, bits, { scale: 7 });
        return { cost: c(), z: (await reveal(ctx, z))! };
      }, { seed });
      expect(res.map((r) => r.cost.rounds)).toEqual([1, 1, 1]);
      expect(res.map((r) => r.cost.bytesSent)).toEqual([24 * n, 8 * n, 8 * n]);
      expect(res[0].z.scale).toBe(7);
      for (let i = 0; i < n; i++) {
        const prod = BigInt(Math.round(a[i] * 2 ** F)) * BigInt(Math.round(b[i] * 2 ** F));
        const d = signed(res[0].z.data[i]) - (prod >> BigInt(bits));
        expect(d === 0n || d === 1n).toBe(true);
      }
    }
  });

  it('truncEach and mulTruncEach: parts with their own bits in one round (rotated and not)', async () => {
    for (const n of [40, 500]) {
      const a = onGrid(randFloats(n, -50, 50, 71), F);
      const b = onGrid(randFloats(n, -50, 50, 72), F);
      const res = await runTrio(async (ctx) => {
        const x = await share(ctx, 0, [n], a);
        const y = await share(ctx, 1, [n], b);
        const c = costOf(ctx);
        const [t1, t2] = await truncEach(ctx, [{ x, bits: 3 }, { x: y, bits: 11, scale: 2 }]);
        const c1 = c();
        const c2 = costOf(ctx);
        const [p1, p2] = await mulTruncEach(ctx, [{ x, y, bits: F }, { x: y, y: x, bits: F - 5 }]);
        return {
          c1, c2: c2(), scales: [t1.scale, t2.scale, p1.scale, p2.scale],
          t1: (await reveal(ctx, t1))!, t2: (await reveal(ctx, t2))!, p1: (await reveal(ctx, p1))!, p2: (await reveal(ctx, p2))!,
        };
      });
      expect(res.map((r) => r.c1.rounds)).toEqual([1, 1, 1]);
      expect(res.map((r) => r.c2.rounds)).toEqual([1, 1, 1]);
      expect(res[0].scales).toEqual([F - 3, 2, F, F + 5]);
      const within = (got: bigint, want: bigint) => {
        const d = got - want;
        expect(d === 0n || d === 1n).toBe(true);
      };
      for (let i = 0; i < n; i++) {
        const xa = BigInt(Math.round(a[i] * 2 ** F));
        const yb = BigInt(Math.round(b[i] * 2 ** F));
        within(signed(res[2].t1.data[i]), xa >> 3n);
        within(signed(res[2].t2.data[i]), yb >> 11n);
        within(signed(res[2].p1.data[i]), (xa * yb) >> BigInt(F));
        within(signed(res[2].p2.data[i]), (xa * yb) >> BigInt(F - 5));
      }
    }
  });

  it('truncTerms truncates a sum of products and shares in one round', async () => {
    const n = 300;
    const a = onGrid(randFloats(n, -30, 30, 61), F);
    const b = onGrid(randFloats(n, -30, 30, 62), F);
    const res = await runTrio(async (ctx) => {
      const x = await share(ctx, 0, [n], a);
      const y = await share(ctx, 1, [n], b);
      const c = costOf(ctx);
      // x*y + 3*x*2^f (the share's s0 component scaled to the product's scale), truncated by f
      const term = ctx.k.add(productTerm(ctx, x, y), ctx.k.mulScalar(x.s0, 3n << BigInt(F)));
      const z = await truncTerms(ctx, term, [n], F, F);
      return { cost: c(), z: (await reveal(ctx, z))! };
    });
    expect(res.map((r) => r.cost.rounds)).toEqual([1, 1, 1]);
    for (let i = 0; i < n; i++) {
      const xa = BigInt(Math.round(a[i] * 2 ** F));
      const want = (xa * BigInt(Math.round(b[i] * 2 ** F)) + 3n * (xa << BigInt(F))) >> BigInt(F);
      const d = signed(res[0].z.data[i]) - want;
      expect(d === 0n || d === 1n).toBe(true);
    }
    await expect(runTrio(async (ctx) => truncTerms(ctx, new BigUint64Array(3), [4], F, F))).rejects.toThrow(/does not match/);
  });

  it('matmul with transposes and batches: exact ring result, 8 bytes per output element', async () => {
    const [m, k, n] = [5, 7, 3];
    const a = onGrid(randFloats(2 * m * k, -3, 3, 21), F);
    const b = onGrid(randFloats(2 * k * n, -3, 3, 22), F);
    for (const [transA, transB] of [[false, false], [true, false], [false, true], [true, true]] as const) {
      const res = await runTrio(async (ctx) => {
        const x = await share(ctx, 0, transA ? [2, k, m] : [2, m, k], a);
        const y = await share(ctx, 2, transB ? [2, n, k] : [2, k, n], b);
        const c = costOf(ctx);
        const z = await matmul(ctx, x, y, { transA, transB });
        const cost = c();
        const y2 = await share(ctx, 1, transB ? [n, k] : [k, n], b.subarray(0, k * n)); // shared weights for every batch
        const z2 = await matmul(ctx, x, y2, { transA, transB });
        return { cost, shape: z.shape, z: (await revealFloat(ctx, z))!, z2: (await revealFloat(ctx, z2))!, scale: z.scale };
      });
      for (const r of res) {
        expect(r.cost).toMatchObject({ rounds: 1, bytesSent: 8 * 2 * m * n });
        expect(r.shape).toEqual([2, m, n]);
        expect(r.scale).toBe(2 * F);
        for (let t = 0; t < 2; t++) {
          const want = refMatmul(a.subarray(t * m * k), b.subarray(t * k * n), m, k, n, transA, transB);
          const want2 = refMatmul(a.subarray(t * m * k), b.subarray(0, k * n), m, k, n, transA, transB);
          for (let i = 0; i < m * n; i++) {
            expect(r.z[t * m * n + i]).toBeCloseTo(want[i], 9);
            expect(r.z2[t * m * n + i]).toBeCloseTo(want2[i], 9);
          }
        }
      }
    }
  });

  it('matmulFixed: 1 round (2 on request), one truncation, within k ulps of float64', async () => {
    const [m, k, n] = [16, 64, 8];
    const a = onGrid(randFloats(m * k, -2, 2, 31), F);
    const b = onGrid(randFloats(k * n, -2, 2, 32), F);
    const res = await runTrio(async (ctx) => {
      const x = await share(ctx, 1, [m, k], a);
      const y = await share(ctx, 0, [k, n], b);
      const c = costOf(ctx);
      const z = await matmulFixed(ctx, x, y);
      const cost = c();
      const c2 = costOf(ctx);
      const z2 = await matmulFixed(ctx, x, y, { rounds: 2 });
      return { cost, cost2: c2(), z: (await revealFloat(ctx, z))!, z2: (await revealFloat(ctx, z2))!, scale: z.scale };
    });
    const want = refMatmul(a, b, m, k, n);
    expect(res.map((r) => r.cost.rounds)).toEqual([1, 1, 1]);
    expect(res.map((r) => r.cost.bytesSent)).toEqual([24 * m * n, 8 * m * n, 8 * m * n]); // 128 elements: no rotation
    expect(res.map((r) => r.cost2.rounds)).toEqual([2, 2, 2]);
    expect(meanBytesPerElem(res.map((r) => r.cost2), m * n)).toBe(8);
    expect(res[0].scale).toBe(F);
    for (let i = 0; i < m * n; i++) {
      expect(Math.abs(res[0].z[i] - want[i])).toBeLessThanOrEqual(ulp);
      expect(Math.abs(res[0].z2[i] - want[i])).toBeLessThanOrEqual(ulp);
    }
  });

  it('rejects bad shapes', async () => {
    await expect(
      runTrio(async (ctx) => {
        const x = await share(ctx, 0, [2, 3], new Float64Array(6));
        return matmul(ctx, x, x);
      }),
    ).rejects.toThrow(RangeError);
    await expect(
      runTrio(async (ctx) => {
        const x = await share(ctx, 0, [2], new Float64Array(2));
        return mul(ctx, x, x.reshape([1, 2]));
      }),
    ).rejects.toThrow(RangeError);
  });
});
