import { describe, expect, it } from 'vitest';
import { costOf, makeTrio, runTrio } from '../testing/trio.js';
import { runOnContexts } from '../parties/in-process.js';
import { matmulFixed, mulFixed, mulTrunc, trunc, truncEach, truncTerms, productTerm } from './mul.js';
import { input, reveal } from './sharing.js';
import { ArithShare } from './types.js';
import { ROTATE_MIN } from './rotate.js';
import { recordTruncations } from './trunc-record.js';
import { framingOf, onGrid, randFloats, rotatedBytes, share } from '../testing/protocol-helpers.js';
import type { Context } from './context.js';

const F = 18;
const signed = (v: bigint): bigint => BigInt.asIntN(64, v);
const ring = (v: bigint): bigint => BigInt.asUintN(64, v);

/** deterministic signed 64-bit values with |x| in [lo, hi) */
function bigValues(n: number, lo: bigint, hi: bigint, seed: number): bigint[] {
  let s = BigInt(seed) * 0x9e3779b97f4a7c15n;
  const out: bigint[] = [];
  for (let i = 0; i < n; i++) {
    s = BigInt.asUintN(64, s * 6364136223846793005n + 1442695040888963407n);
    const mag = lo + (s % (hi - lo));
    out.push(((s >> 7n) & 1n) === 1n ? -mag : mag);
  }
  return out;
}

function shareRing(ctx: Context, xs: readonly bigint[]): Promise<ArithShare> {
  return input(ctx, 0, [xs.length], ctx.party === 0 ? BigUint64Array.from(xs.map(ring)) : undefined, 0);
}

/** elements whose result is neither floor(x / 2^bits) nor floor + 1 */
function failures(xs: readonly bigint[], got: BigUint64Array, bits: number): number {
  let bad = 0;
  xs.forEach((x, i) => {
    const d = signed(got[i]) - (x >> BigInt(bits));
    if (d !== 0n && d !== 1n) bad++;
  });
  return bad;
}

describe('faithful truncation (trunc-faithful.ts)', () => {
  it('floor or floor + 1 for |x| up to 2^62 - 1, incl. edges; probabilistic fails at |x|/2^64 ~ 0.24', async () => {
    const n = 10_000;
    const xs = [...bigValues(n - 8, (1n << 62n) - (1n << 58n), 1n << 62n, 3)];
    xs.push(0n, 1n, -1n, (1n << 62n) - 1n, -(1n << 62n) + 1n, (1n << 18n) - 1n, -(1n << 18n), 5n << 40n);
    const res = await runTrio(async (ctx) => {
      const x = await shareRing(ctx, xs);
      const c = costOf(ctx);
      const yf = await trunc(ctx, x, F, { scale: 0, trunc: 'faithful' });
      const cost = c();
      const yp = await trunc(ctx, x, F, { scale: 0, trunc: 'prob' });
      return { cost, f: (await reveal(ctx, yf))!.data, p: (await reveal(ctx, yp))!.data };
    });
    expect(failures(xs, res[0].f, F)).toBe(0);
    // the probabilistic pair fails with probability ~|x|/2^64 ~ 0.24 here
    expect(failures(xs, res[0].p, F)).toBeGreaterThan(n / 8);
    // documented cost: 2 rounds, 16 bytes per element from every party, P1 receives 24, P0 8, P2 16
    expect(res.map((r) => r.cost.rounds)).toEqual([2, 2, 2]);
    expect(res.map((r) => r.cost.bytesSent)).toEqual([16 * n, 16 * n, 16 * n]);
    expect(res.map((r) => r.cost.bytesReceived)).toEqual([8 * n, 24 * n, 16 * n]);
  });

  it('fixed-point values vs float64: trunc, mulFixed, matmulFixed, truncEach (mixed bits), truncTerms', async () => {
    const n = 300;
    const a = onGrid(randFloats(n, -3000, 3000, 11), F);
    const b = onGrid(randFloats(n, -50, 50, 12), F);
    const res = await runTrio(async (ctx) => {
      const x = await share(ctx, 0, [n], a);
      const y = await share(ctx, 1, [n], b);
      const o = { trunc: 'faithful' as const };
      const p = await mulFixed(ctx, x, y, o);
      const m = await matmulFixed(ctx, x.reshape([10, 30]), y.reshape([30, 10]), o);
      const [e1, e0] = await truncEach(ctx, [{ x: new ArithShare(x.shape, x.s0, x.s1, 2 * F), bits: F }, { x, bits: 0 }], o);
      const t = await truncTerms(ctx, productTerm(ctx, x, y), [n], F, F, o);
      const h = await trunc(ctx, x, 3, o);
      const out = [];
      for (const s of [p, m, e1, e0, t, h]) out.push({ scale: s.scale, v: ctx.k.decodeFixed((await reveal(ctx, s))!.data, s.scale) });
      return out;
    });
    const [p, m, e1, e0, t, h] = res[0];
    const ulp = 2 ** -F;
    for (let i = 0; i < n; i++) {
      expect(Math.abs(p.v[i] - a[i] * b[i])).toBeLessThanOrEqual(ulp);
      expect(Math.abs(t.v[i] - a[i] * b[i])).toBeLessThanOrEqual(ulp);
      expect(Math.abs(e1.v[i] - a[i] / 2 ** F)).toBeLessThanOrEqual(ulp);
      expect(e0.v[i]).toBe(a[i]);
      expect(Math.abs(h.v[i] - a[i])).toBeLessThanOrEqual(2 ** -(F - 3));
    }
    for (let i = 0; i < 10; i++)
      for (let j = 0; j < 10; j++) {
        let s = 0;
        for (let q = 0; q < 30; q++) s += a[i * 30 + q] * b[q * 10 + j];
        expect(Math.abs(m.v[i * 10 + j] - s)).toBeLessThanOrEqual(ulp * 1.01);
      }
    expect(h.scale).toBe(F - 3);
  });

  it('fused product at |z|/2^64 ~ 0.24: zero failures faithful, many probabilistic; cost 2 rounds, 16/16/32 bytes', async () => {
    const n = 4000;
    const xs = bigValues(n, (1n << 61n) + (1n << 60n), 1n << 62n, 5);
    const res = await runTrio(async (ctx) => {
      const x = await shareRing(ctx, xs);
      const one = await input(ctx, 1, [n], ctx.party === 1 ? new BigUint64Array(n).fill(1n) : undefined, 0);
      const c = costOf(ctx);
      const yf = await mulTrunc(ctx, x, one, F, { scale: 0, trunc: 'faithful' });
      const cost = c();
      const yp = await mulTrunc(ctx, x, one, F, { scale: 0, trunc: 'prob' });
      return { cost, f: (await reveal(ctx, yf))!.data, p: (await reveal(ctx, yp))!.data };
    });
    expect(failures(xs, res[0].f, F)).toBe(0);
    expect(failures(xs, res[0].p, F)).toBeGreaterThan(n / 8);
    expect(res.map((r) => r.cost.rounds)).toEqual([2, 2, 2]);
    // first (unrotated) call of the context: P2 is the dealer and sends z2 to both
    expect(res.map((r) => r.cost.bytesSent)).toEqual([16 * n, 16 * n, 32 * n]);
  });

  it('fused, large tensor: roles rotated over three chunks (rotate.ts), same rounds', async () => {
    const n = ROTATE_MIN + 100;
    const a = onGrid(randFloats(n, -100, 100, 7), F);
    const res = await runTrio(async (ctx) => {
      const x = await share(ctx, 0, [n], a);
      const c = costOf(ctx);
      const y = await mulFixed(ctx, x, x, { trunc: 'faithful' });
      return { cost: c(), v: ctx.k.decodeFixed((await reveal(ctx, y))!.data, F) };
    });
    for (let i = 0; i < n; i++) expect(Math.abs(res[0].v[i] - a[i] * a[i])).toBeLessThanOrEqual(2 ** -F);
    expect(res.map((r) => r.cost.rounds)).toEqual([2, 2, 2]);
    // round 1: every party sends to both peers in some chunk, round 2: to one or two peers
    expect(res.map((r) => r.cost.bytesSent)).toEqual([0, 1, 2].map((p) => rotatedBytes(n, [16, 16, 32], p) + framingOf(n, r(p))));
    function r(p: number): number {
      return res[p].cost.messagesSent;
    }
  });

  it('the recorder: max |x|, elements, expected failures of probabilistic calls only', async () => {
    const xs = [1n << 40n, -(1n << 50n), 3n];
    const ctxs = makeTrio();
    const rec = recordTruncations(ctxs);
    await runOnContexts(ctxs, async (ctx) => {
      const x = await shareRing(ctx, xs);
      await trunc(ctx, x, F, { scale: 0, trunc: 'prob' });
      await trunc(ctx, x, F, { scale: 0, trunc: 'faithful' });
    });
    expect(rec.pendingCalls).toBe(0);
    const sites = rec.report();
    expect(sites.length).toBe(2);
    const sum = (2 ** 40 + 2 ** 50 + 3) / 2 ** 64;
    const total = rec.expectedFailures;
    expect(sites.find((s) => s.site.startsWith('trunc') && s.faithfulElements === 0)!.expectedFailures).toBeCloseTo(sum, 20);
    const f = sites.find((s) => s.faithfulElements > 0)!;
    expect(f.expectedFailures).toBe(0);
    expect(f.maxAbs).toBe(2 ** 50);
    expect(f.elements).toBe(3);
    expect(total).toBeCloseTo(sum, 20);
  });
});
