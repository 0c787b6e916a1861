/**
 * Faithful truncation with a known-MSB offset and P2 as dealer: floor(x / 2^f) or
 * floor(x / 2^f) + 1 for every |x| < 2^62, NEVER garbage (deterministic, unlike mul.ts's
 * one-round probabilistic pair, which fails with probability ~|x|/2^64 per element). The idea
 * is the known-MSB truncation of Escudero et al. ("Improved primitives for MPC over mixed
 * arithmetic-binary circuits", CRYPTO 2020) in a three-party dealer form; written here from
 * the arithmetic below.
 *
 * Setting: x' = x + 2^62 lies in [0, 2^63) when |x| < 2^62. P0 and P1 hold a 2-of-2 split
 * of x (plain: A = x0 + x1 on P0, B = x2 on P1; fused: the 3-of-3 product terms z0, z1 and
 * P2's z2, each masked by a fresh zero sharing). r = a + b, a from seed_{2,0} (P0's prgPrev,
 * P2's prgNext), b from seed_{1,2} (P1's prgNext, P2's prgPrev): P2 knows r, P0 only a, P1
 * only b.
 *
 * Round 1 (`<step>.open`):
 *   P0 -> P1: A + 2^62 + a;   P1 -> P0: B + b;   (fused: P2 -> P0 and P2 -> P1: z2)
 *   P2 -> P1: rh1 = (r >> f) - rh0 and m1 = msb(r) - m0, where rh0, m0 are drawn from
 *   seed_{2,0} (so P0 holds rh0, m0): 2-of-2 shares of r >> f and msb(r). P2's messages do
 *   not depend on x (they go in the same round).
 *   P0 and P1 now know c = x' + r (mod 2^64).
 * Local: with c = c_h 2^f + c_l, r = r_h 2^f + r_l and w = [x' + r >= 2^64],
 *   floor(x' / 2^f) = c_h - r_h - [c_l < r_l] + w 2^(64 - f), and since x' < 2^63,
 *   w = msb(r) AND NOT msb(c) (msb(r) = 0: no wrap; msb(r) = 1: the sum wraps iff it lands
 *   below 2^63). So T = c_h - r_h + msb(r) (1 - msb(c)) 2^(64-f) - 2^(62-f) is linear in the
 *   dealt shares given the public-to-them c:
 *     P0: t0 = c_h - 2^(62-f) - rh0 + m0 (1 - msb(c)) 2^(64-f),  P1: t1 = -rh1 + m1 (1 - msb(c)) 2^(64-f)
 *   and t0 + t1 = floor(x / 2^f) + [c_l < r_l]: floor or floor + 1 (the dropped low borrow;
 *   2^62 is a multiple of 2^f, so subtracting 2^(62-f) is exact). Elements with f = 0 (gaps of
 *   truncEach) come out as x itself.
 * Round 2 (`<step>.reshare`): u, v from seed_{0,1}; y1 = u, y0 = t0 - u - v (P0 -> P2),
 *   y2 = t1 + v (P1 -> P2). P0 holds (y0, u), P1 (u, y2), P2 (y2, y0): a replicated sharing.
 *
 * What each party sees: P0: B + b (masked by b), z2 (masked by alpha_2's seed_{1,2} part),
 * c = x' + r (uniform: b); P1: A + 2^62 + a (a), z2 (alpha_2's seed_{2,0} part), rh1 and
 * m1 (masked by rh0, m0, which P1 lacks), c (a); P2 receives only in round 2: y0 and y2,
 * masked by u and v (seed_{0,1}, which P2 lacks). P2 learns nothing; P0 / P1 see c masked by
 * a uniform r. The program does not depend on x.
 *
 * Bound: exact floor or floor + 1 for |x| < 2^62 (x as a signed ring value). Beyond it the
 * result is wrong (no error is raised: nothing is opened that could tell); the recorder
 * (trunc-record.ts) counts such elements in measurement mode.
 *
 * Cost per element, 2 rounds (fused: the same 2 rounds replace the product's reshare round,
 * i.e. a faithful fused product costs 2 rounds, like mul.ts's two-round form):
 *   plain: P0 sends 16 bytes (8 per round), P1 16, P2 16 (round 1 only): 48 in all, every
 *     party the same, so no role rotation is needed (receive: P0 8, P1 24, P2 16).
 *   fused: P0 16, P1 16, P2 32 (z2 to both): 64 in all; rotated through rotate.ts `balanced`
 *     (over three chunks from ROTATE_MIN elements on, ~21.3 bytes per party plus 24 bytes per
 *     message of framing; from call to call below).
 *   Compare mul.ts: probabilistic trunc 8 bytes in all, fused 40 (1 round) or 24 (2 rounds).
 */
import type { U64 } from '../kernels/api.js';
import type { Context } from './context.js';
import { balanced, joinPairs } from './rotate.js';
import { expectWords } from './wire.js';

/** A run [lo, hi) of elements truncated by `bits`. */
export interface Segment {
  readonly lo: number;
  readonly hi: number;
  readonly bits: number;
}

const OFF = 1n << 62n;

/** Segments covering [0, n): the given ones (sorted, disjoint) with the gaps at 0 bits. */
function cover(bits: number | readonly Segment[], n: number): Segment[] {
  if (typeof bits === 'number') return [{ lo: 0, hi: n, bits }];
  const out: Segment[] = [];
  let at = 0;
  for (const g of bits) {
    if (g.lo > at) out.push({ lo: at, hi: g.lo, bits: 0 });
    if (g.hi > g.lo) out.push(g);
    at = g.hi;
  }
  if (at < n) out.push({ lo: at, hi: n, bits: 0 });
  return out;
}

/** The segments restricted to [lo, hi), shifted to start at 0. */
export function clipSegments(segs: readonly Segment[], lo: number, hi: number): Segment[] {
  const out: Segment[] = [];
  for (const g of segs) {
    const a = Math.max(g.lo, lo);
    const b = Math.min(g.hi, hi);
    if (a < b) out.push({ lo: a - lo, hi: b - lo, bits: g.bits });
  }
  return out;
}

/** a >> bits per segment (logical), into a new array */
function shrSegs(ctx: Context, a: U64, segs: readonly Segment[]): U64 {
  const out = new BigUint64Array(a.length);
  for (const g of segs) ctx.k.shr(a.subarray(g.lo, g.hi), g.bits, out.subarray(g.lo, g.hi));
  return out;
}

/** t += m * nc * 2^(64 - bits) (0 for bits = 0) and, with `corr`, t -= 2^(62 - bits), per segment */
function addWrapTerm(ctx: Context, t: U64, m: U64, nc: U64, segs: readonly Segment[], corr: boolean): void {
  const k = ctx.k;
  const mn = k.mul(m, nc);
  for (const g of segs) {
    const tv = t.subarray(g.lo, g.hi);
    if (g.bits > 0) k.add(tv, k.mulScalar(mn.subarray(g.lo, g.hi), 1n << BigInt(64 - g.bits)), tv);
    if (corr) k.addScalar(tv, BigInt.asUintN(64, -(1n << BigInt(62 - g.bits))), tv);
  }
}

/**
 * The protocol (file header) for one set of roles. `part`: P0 its term (x0 + x1, or z0),
 * P1 its term (x2, or z1), P2 its term z2 when `fused`, else undefined. Returns this party's
 * two components of the truncated value.
 */
export async function faithfulCore(ctx: Context, part: U64 | undefined, n: number, bits: number | readonly Segment[], fused: boolean, step: string): Promise<[U64, U64]> {
  const k = ctx.k;
  const segs = cover(bits, n);
  const open = `${step}.open`;
  const reshare = `${step}.reshare`;
  if (ctx.party === 2) {
    const a = ctx.prgNext.words(n);
    const rh0 = ctx.prgNext.words(n);
    const m0 = ctx.prgNext.words(n);
    const r = k.add(a, ctx.prgPrev.words(n), a);
    const msg = new BigUint64Array((fused ? 3 : 2) * n);
    const o = fused ? n : 0;
    if (fused) msg.set(part!, 0);
    k.sub(shrSegs(ctx, r, segs), rh0, msg.subarray(o, o + n));
    k.sub(k.shr(r, 63), m0, msg.subarray(o + n, o + 2 * n));
    await ctx.ch.exchange({ step: open, send: fused ? { 0: part!, 1: msg } : { 1: msg } });
    const got = await ctx.ch.exchange({ step: reshare, recv: [0, 1] });
    return [expectWords(ctx, got, 1, n, reshare), expectWords(ctx, got, 0, n, reshare)];
  }
  if (ctx.party === 0) {
    const a = ctx.prgPrev.words(n);
    const rh0 = ctx.prgPrev.words(n);
    const m0 = ctx.prgPrev.words(n);
    const mine = k.add(k.addScalar(part!, OFF), a, a);
    const got = await ctx.ch.exchange({ step: open, send: { 1: mine }, recv: fused ? [1, 2] : [1] });
    const c = k.add(mine, expectWords(ctx, got, 1, n, open));
    if (fused) k.add(c, expectWords(ctx, got, 2, n, open), c);
    const nc = k.shr(k.not(c), 63);
    const t0 = k.sub(shrSegs(ctx, c, segs), rh0);
    addWrapTerm(ctx, t0, m0, nc, segs, true);
    const u = ctx.prgNext.words(n);
    const v = ctx.prgNext.words(n);
    const y0 = k.sub(k.sub(t0, u, t0), v, t0);
    await ctx.ch.exchange({ step: reshare, send: { 2: y0 } });
    return [y0, u];
  }
  const b = ctx.prgNext.words(n);
  const mine = k.add(part!, b, b);
  const got = await ctx.ch.exchange({ step: open, send: { 0: mine }, recv: [0, 2] });
  const from2 = expectWords(ctx, got, 2, (fused ? 3 : 2) * n, open);
  const o = fused ? n : 0;
  const c = k.add(mine, expectWords(ctx, got, 0, n, open));
  if (fused) k.add(c, from2.subarray(0, n), c);
  const nc = k.shr(k.not(c), 63);
  const t1 = k.neg(from2.subarray(o, o + n));
  addWrapTerm(ctx, t1, from2.subarray(o + n, o + 2 * n), nc, segs, false);
  const u = ctx.prgPrev.words(n);
  const v = ctx.prgPrev.words(n);
  const y2 = k.add(t1, v, t1);
  await ctx.ch.exchange({ step: reshare, send: { 2: y2 } });
  return [u, y2];
}

/**
 * Faithful truncation of a replicated sharing given as components (s0, s1) of n elements:
 * P0 passes x0 + x1, P1 x2, P2 nothing. 2 rounds, 16 bytes per element from every party.
 */
export function faithfulFromShare(ctx: Context, s0: U64, s1: U64, bits: number | readonly Segment[], step: string): Promise<[U64, U64]> {
  const part = ctx.party === 0 ? ctx.k.add(s0, s1) : ctx.party === 1 ? s1 : undefined;
  return faithfulCore(ctx, part, s0.length, bits, false, step);
}

/**
 * Faithful truncation of the sum of the 3-of-3 terms z (this party's; it MUST include a fresh
 * zero sharing, which masks z2). 2 rounds; 64 bytes per element in all, roles balanced.
 */
export function faithfulFromTerms(ctx: Context, z: U64, bits: number | readonly Segment[], step: string): Promise<[U64, U64]> {
  return balanced<[U64, U64]>(ctx, z.length, {
    whole: (v) => faithfulCore(v, z, z.length, bits, true, step),
    chunk: (v, lo, hi) => faithfulCore(v, z.subarray(lo, hi), hi - lo, typeof bits === 'number' ? bits : clipSegments(bits, lo, hi), true, step),
    join: joinPairs,
  });
}
