/**
 * Conversions between boolean and arithmetic sharings: bit injection (b2a), a boolean bit
 * times arithmetic values in one round (bitTimes), and the full arithmetic-to-boolean
 * conversion (a2b).
 *
 * b2a (bit injection, 1 round): for a boolean bit b = b0 ^ b1 ^ b2, P0 knows v = b0 ^ b1,
 * P1 and P2 know c = b2, and v ^ c = c + v*(1 - 2c). The arithmetic result is (y0, y1, y2)
 * with y0 from seed_{2,0}, y1 from seed_{0,1} and y2 = (v ^ c) - y0 - y1, which P1 and P2
 * both learn in one round:
 *   P0 sends u = v + t to P1 (t from seed_{2,0}) and u' = v + t' to P2 (t' from seed_{0,1});
 *   P2 sends w = t*(2c - 1) - y0 to P1, P1 sends w' = t'*(2c - 1) - y1 to P2;
 *   P1: y2 = c + u*(1 - 2c) - y1 + w;  P2: y2 = c + u'*(1 - 2c) - y0 + w'.
 *   (c + (v + t)(1 - 2c) + t(2c - 1) = c + v(1 - 2c) = v ^ c.)
 *   Reveals nothing: P1 receives u, masked by t, and w, masked by the fresh y0, both from
 *   seed_{2,0} which P1 lacks; P2 symmetrically (t', y1 from seed_{0,1}).
 *   Cost per bit: P0 sends 2 words, P1 and P2 one word each: ~85 bits per party on average.
 *
 * bit times value (1 round): e = v ^ c (v = b0 ^ b1 known to P0, c = b2 to P1 and P2) and
 * d = d0 + d1 + d2; e*d = c*d + (1 - 2c)*R + v*Q with R = v*(d0 + d1) (P0 knows it) and
 * Q = (1 - 2c)*d2 (P1 and P2 know it). P0 sends A = R + t and B = v + t2 to P1 (t, t2 from
 * seed_{2,0}); P1 computes c*(d1 + d2) + (1 - 2c)*A + B*Q, P2 computes the rest
 * c*d0 - (1 - 2c)*t - t2*Q and sends it minus y0 to P1, which gets y2 = e*d - y0 - y1.
 * Symmetrically for P2 with masks from seed_{0,1} and P1 as the helper. Reveals nothing:
 * P1 receives R + t, v + t2 and (..) - y0, each masked by a fresh word of seed_{2,0} it
 * lacks (P2 likewise with seed_{0,1}). Cost per element and value: P0 4 words, P1/P2 one
 * (mean 16 bytes) — one round instead of bit injection + multiplication (2 rounds, ~19 bytes).
 *
 * a2b: the g/p round (carry.ts), then a Kogge-Stone prefix over all positions (6 levels),
 * sum bits p_j ^ carry_j. 7 rounds, ~600 bits per element per party. Used rarely.
 *
 * The role-balanced forms of b2aSliced and bitTimesSliced are in balanced.ts.
 */
import type { U64 } from '../kernels/api.js';
import type { Context } from './context.js';
import { type SlicePair, andSlices, xorPair } from './bool-slices.js';
import { gpRound, splitOf } from './carry.js';
import { ArithShare, BoolShare, type Shape, aBoolShare, anArith, sameShape } from './types.js';
import { expectWords, splitWords } from './wire.js';

/**
 * Bit injection of 0/1 words given as boolean components (bit 0 only, other bits zero).
 * 1 round: P0 sends u = v + t to P1 and u' = v + t' to P2; P1 and P2 send each other one word.
 */
export async function b2aWords(ctx: Context, b0: U64, b1: U64, step: string): Promise<[U64, U64]> {
  const k = ctx.k;
  const n = b0.length;
  if (ctx.party === 0) {
    const v = k.xor(b0, b1, b0);
    const [t, y0] = splitWords(ctx.prgPrev.words(2 * n), [n, n]); // seed_{2,0}
    const [tp, y1] = splitWords(ctx.prgNext.words(2 * n), [n, n]); // seed_{0,1}
    const u = k.add(v, t, t);
    const up = k.add(v, tp, tp);
    await ctx.ch.exchange({ step, send: { 1: u, 2: up } });
    return [y0, y1];
  }
  // P1: c = b2 is its s1 and it shares (t', y1) with P0; P2: c = b2 is its s0 and shares (t, y0)
  const c = ctx.party === 1 ? b1 : b0;
  const other = ctx.party === 1 ? 2 : 1;
  const stream = ctx.party === 1 ? ctx.prgPrev : ctx.prgNext;
  const [t, y] = splitWords(stream.words(2 * n), [n, n]);
  // w = t*(2c - 1) - y, for the other one
  const ct = k.mul(c, t);
  const w = k.add(ct, ct, ct);
  k.sub(w, t, w);
  k.sub(w, y, w);
  const got = await ctx.ch.exchange({ step, send: { [other]: w }, recv: [0, other] });
  const u = expectWords(ctx, got, 0, n, step);
  const wOther = expectWords(ctx, got, other, n, step);
  // y2 = c + u*(1 - 2c) - y + wOther
  const cu = k.mul(c, u);
  const y2 = k.sub(u, k.add(cu, cu, cu));
  k.add(y2, c, y2);
  k.sub(y2, y, y2);
  k.add(y2, wOther, y2);
  return ctx.party === 1 ? [y, y2] : [y2, y];
}

/** Bit injection of sliced bits: n elements' bits -> arithmetic 0/1 (scale 0). 1 round. */
export async function b2aSliced(ctx: Context, b: SlicePair, n: number, shape: Shape, step = 'b2a'): Promise<ArithShare> {
  const k = ctx.k;
  const [a, c] = await b2aWords(ctx, k.unpackBits(b[0], n, 0), k.unpackBits(b[1], n, 0), step);
  return new ArithShare(shape, a, c, 0);
}

/** Bit injection: bit 0 of each word of b as an arithmetic 0/1 integer (scale 0). 1 round, ~128 bits/element/party. */
export async function b2a(ctx: Context, b: BoolShare): Promise<ArithShare> {
  aBoolShare(b, 'b2a: b');
  const one = new BigUint64Array(b.size).fill(1n);
  const [a, c] = await b2aWords(ctx, ctx.k.and(b.s0, one), ctx.k.and(b.s1, one), 'b2a');
  return new ArithShare(b.shape, a, c, 0);
}

/** (1 - 2c) * x for 0/1 words c */
function signFlip(ctx: Context, c: U64, x: U64): U64 {
  const k = ctx.k;
  const t = k.mul(c, x);
  k.add(t, t, t);
  return k.sub(x, t, t);
}

/**
 * Products e * d_j of a boolean bit e with arithmetic values d_j, and optionally e itself as
 * an arithmetic 0/1, all in ONE round (see "bit times value" in the header).
 * e is given as 0/1 words of boolean components; each d_j as this party's two components.
 */
async function bitTimesWords(
  ctx: Context, b0: U64, b1: U64, ds: readonly (readonly [U64, U64])[], withBit: boolean, step: string,
): Promise<{ bit?: [U64, U64]; prods: [U64, U64][] }> {
  const k = ctx.k;
  const n = b0.length;
  const nd = ds.length;
  const nOut = nd + (withBit ? 1 : 0);
  const outs: [U64, U64][] = [];
  if (ctx.party === 0) {
    const v = k.xor(b0, b1);
    const prev = splitWords(ctx.prgPrev.words(n * (1 + nd + nOut)), new Array<number>(1 + nd + nOut).fill(n)); // seed_{2,0}
    const next = splitWords(ctx.prgNext.words(n * (1 + nd + nOut)), new Array<number>(1 + nd + nOut).fill(n)); // seed_{0,1}
    const m1 = new BigUint64Array(n * (1 + nd));
    const m2 = new BigUint64Array(n * (1 + nd));
    k.add(v, prev[0], m1.subarray(0, n));
    k.add(v, next[0], m2.subarray(0, n));
    ds.forEach(([d0, d1], j) => {
      const R = k.mul(v, k.add(d0, d1));
      k.add(R, prev[1 + j], m1.subarray((1 + j) * n, (2 + j) * n));
      k.add(R, next[1 + j], m2.subarray((1 + j) * n, (2 + j) * n));
    });
    await ctx.ch.exchange({ step, send: { 1: m1, 2: m2 } });
    for (let o = 0; o < nOut; o++) outs.push([prev[1 + nd + o], next[1 + nd + o]]);
  } else {
    const me1 = ctx.party === 1;
    const c = me1 ? b1 : b0; // b2
    const other = me1 ? 2 : 1;
    const r = splitWords((me1 ? ctx.prgPrev : ctx.prgNext).words(n * (1 + nd + nOut)), new Array<number>(1 + nd + nOut).fill(n));
    const t2 = r[0];
    const ys = r.slice(1 + nd);
    // this party's d components: P1 holds (d1, d2), P2 holds (d2, d0)
    const d2s = ds.map(([a, b]) => (me1 ? b : a));
    const dOwn = ds.map(([a, b]) => (me1 ? a : b)); // d1 on P1, d0 on P2
    const Qs = d2s.map((d2) => signFlip(ctx, c, d2));
    // helper messages for the other receiver: (L_other - (1-2c) t - t2 Q) - y
    const msg = new BigUint64Array(n * nOut);
    let o = 0;
    if (withBit) {
      // bit as d = 1 (held as d0): the helper part is c*d0 on P2 and 0 on P1
      const w = k.neg(signFlip(ctx, c, t2));
      if (!me1) k.add(w, c, w);
      k.sub(w, ys[o], msg.subarray(o * n, (o + 1) * n));
      o++;
    }
    ds.forEach((_, j) => {
      const w = k.mul(c, dOwn[j]);
      k.sub(w, signFlip(ctx, c, r[1 + j]), w);
      k.sub(w, k.mul(t2, Qs[j]), w);
      k.sub(w, ys[o], msg.subarray(o * n, (o + 1) * n));
      o++;
    });
    const got = await ctx.ch.exchange({ step, send: { [other]: msg }, recv: [0, other] });
    const fromP0 = expectWords(ctx, got, 0, n * (1 + nd), step);
    const fromOther = expectWords(ctx, got, other, n * nOut, step);
    const B = fromP0.subarray(0, n);
    o = 0;
    const finish = (w: U64): void => {
      k.add(w, fromOther.subarray(o * n, (o + 1) * n), w);
      k.sub(w, ys[o], w);
      outs.push(me1 ? [ys[o], w] : [w, ys[o]]);
      o++;
    };
    if (withBit) {
      // receiver part: L_mine + (1-2c) B with L = c*d0 on P2 (d0 = 1), 0 on P1
      const w = signFlip(ctx, c, B);
      if (!me1) k.add(w, c, w);
      finish(w);
    }
    ds.forEach(([a, b], j) => {
      // receiver part: c*(dOwn + d2) + (1-2c) A_j + B Q_j
      const w = k.mul(c, k.add(a, b));
      k.add(w, signFlip(ctx, c, fromP0.subarray((1 + j) * n, (2 + j) * n)), w);
      k.add(w, k.mul(B, Qs[j]), w);
      finish(w);
    });
  }
  return withBit ? { bit: outs[0], prods: outs.slice(1) } : { prods: outs };
}

/**
 * e * d for each d (all of the bits' length n), with e the sliced boolean bits, and e as an
 * arithmetic 0/1 when `withBit`: ONE round. Product scale = d.scale; bit scale 0.
 */
export async function bitTimesSliced(
  ctx: Context, e: SlicePair, n: number, ds: readonly ArithShare[], withBit: boolean, step = 'bitTimes',
): Promise<{ bit?: ArithShare; prods: ArithShare[] }> {
  ds.forEach((d, i) => {
    anArith(d, `bitTimes: ds[${i}]`);
    if (d.size !== n) throw new RangeError(`bitTimes: ds[${i}] has ${d.size} elements, the bits ${n}`);
  });
  const k = ctx.k;
  const r = await bitTimesWords(ctx, k.unpackBits(e[0], n, 0), k.unpackBits(e[1], n, 0), ds.map((d) => [d.s0, d.s1] as const), withBit, step);
  return {
    ...(r.bit ? { bit: new ArithShare(ds[0]?.shape ?? [n], r.bit[0], r.bit[1], 0) } : {}),
    prods: r.prods.map((p, i) => new ArithShare(ds[i].shape, p[0], p[1], ds[i].scale)),
  };
}

/** b * d (b = bit 0 of each word of a boolean sharing) in one round; scale = d.scale. */
export async function bitTimes(ctx: Context, b: BoolShare, d: ArithShare): Promise<ArithShare> {
  aBoolShare(b, 'bitTimes: b');
  anArith(d, 'bitTimes: d');
  if (!sameShape(b.shape, d.shape)) throw new RangeError('bitTimes: shapes differ');
  const one = new BigUint64Array(b.size).fill(1n);
  const r = await bitTimesWords(ctx, ctx.k.and(b.s0, one), ctx.k.and(b.s1, one), [[d.s0, d.s1]], false, 'bitTimes');
  return new ArithShare(d.shape, r.prods[0][0], r.prods[0][1], d.scale);
}

/** Full-width boolean sharing of x (bit j of each word = bit j of x). 7 rounds. */
export async function a2b(ctx: Context, x: ArithShare): Promise<BoolShare> {
  anArith(x, 'a2b: x');
  const k = ctx.k;
  const n = x.size;
  const sp = splitOf(ctx, x);
  const st = await gpRound(ctx, sp.s, sp.x, n, 64, 'a2b.gp');
  // Kogge-Stone prefix over positions [0, 63): after the levels, G[j] = carry out of [0, j].
  const G: SlicePair[] = st.g.slice(0, 63);
  const P: (SlicePair | undefined)[] = st.p.slice(0, 63);
  P[0] = undefined;
  let level = 0;
  for (let d = 1; d < 63; d *= 2) {
    const xs: SlicePair[] = [];
    const ys: SlicePair[] = [];
    const gIdx: number[] = [];
    const pIdx: number[] = [];
    for (let j = d; j < 63; j++) {
      gIdx.push(j);
      xs.push(P[j]!);
      ys.push(G[j - d]);
    }
    for (let j = 2 * d; j < 63; j++) {
      pIdx.push(j);
      xs.push(P[j]!);
      ys.push(P[j - d]!);
    }
    const z = await andSlices(ctx, xs, ys, `a2b.ks.${level}`);
    gIdx.forEach((j, i) => (G[j] = xorPair(ctx, G[j], z[i])));
    for (let j = d; j < Math.min(2 * d, 63); j++) P[j] = undefined;
    pIdx.forEach((j, i) => (P[j] = z[gIdx.length + i]));
    level++;
  }
  const out0 = new BigUint64Array(n);
  const out1 = new BigUint64Array(n);
  const t = new BigUint64Array(n);
  for (let j = 0; j < 64; j++) {
    const bit = j === 0 ? st.p[0] : xorPair(ctx, st.p[j], G[j - 1]);
    k.xor(out0, k.unpackBits(bit[0], n, j, t), out0);
    k.xor(out1, k.unpackBits(bit[1], n, j, t), out1);
  }
  return new BoolShare(x.shape, out0, out1);
}
