/**
 * Boolean replicated shares (XOR over 64-bit words) and the conversions the comparisons
 * are built from: MSB, A2B, bit injection (B2A) and exact truncation.
 *
 * Bit slicing. The carry circuits work on ONE bit position at a time for all elements, so
 * values are transposed once ("sliced"): slice j is ceil(n/64) words holding bit j of
 * every element (k.packBits). Each AND then costs exactly one bit per element per party,
 * and every circuit level is ONE exchange for the whole tensor.
 *
 * andB (1 round, 64 bits per word per party): z_i = x_i&y_i ^ x_i&y_{i+1} ^ x_{i+1}&y_i ^
 *   beta_i with a fresh boolean zero sharing beta, sent to party i-1. Reveals nothing:
 *   beta_i is uniformly random to party i-1 (built from seed_{i,i+1}, which it lacks).
 *
 * The g/p round (first round of msb, a2b, truncExact). x = x0 + x1 + x2; P0 knows
 * s = x0 + x1, P1 and P2 know x2. One round produces a boolean sharing of s, and of the
 * generate bits g = s & x2, without a separate resharing round:
 *   P0 sends u = S ^ t to P1 (t from seed_{2,0}) and u' = S ^ t' to P2 (t' from seed_{0,1});
 *   P2 sends v = c0 ^ (X & t) to P1 and P1 sends v' = c1 ^ (X & t') to P2, where c0
 *   (seed_{2,0}) and c1 (seed_{0,1}) are the two components of g that P0 holds;
 *   P1 gets g ^ c0 = (X & u) ^ v, P2 gets g ^ c1 = (X & u') ^ v', so both learn
 *   c2 = g ^ c0 ^ c1. The sharing of s is (t, u, 0); of x2 it is (0, 0, x2); p = s ^ x2.
 *   Reveals nothing: P1 receives u (masked by t) and v (masked by c0), both from seed_{2,0}
 *   which P1 lacks, fresh and independent; P2 symmetrically (t', c1 from seed_{0,1}).
 *   Cost per element: P0 sends 64 + nG bits, P1 and P2 send nG bits (nG = number of g bits).
 *
 * msb: the carry into bit 63 of s + x2 is the "generate" of the group [0, 63), computed by a
 * binary tree of (G, P) combinations G = G_hi ^ P_hi & G_lo, P = P_hi & P_lo (the lowest
 * group needs no P). The first level (pairs of positions) is computed in the first round
 * itself (pairRound below: every pair's G and P is a XOR of products of an s-monomial, known
 * to P0, and an x2-monomial, known to P1 and P2), leaving 32 groups: 5 AND levels, 57 ANDs.
 * msb = p_63 ^ carry: 6 rounds; per element P0 sends 247 bits, P1 and P2 119 bits
 * (~162 bits per party on average; the comparisons rotate the roles, rotate.ts).
 * The g/p round below (all 64 generate bits) serves a2b and truncExact.
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
 * a2b: the g/p round, then a Kogge-Stone prefix over all positions (6 levels), sum bits
 * p_j ^ carry_j. 7 rounds, ~600 bits per element per party. Used rarely.
 */
import type { U64 } from '../kernels/api.js';
import type { Context } from './context.js';
import { ArithShare, BoolShare, type Shape, sameShape } from './types.js';
import { rolled, rotated } from './rotate.js';
import { concatScratch, scratch, zeroShareBoolScratch } from './scratch.js';
import { concatWords, expectWords, splitWords } from './wire.js';

/** A boolean replicated sharing of one bit-slice: this party's two components (W words each). */
export type SlicePair = readonly [U64, U64];

function aBool(x: unknown, label: string): BoolShare {
  if (!(x instanceof BoolShare)) throw new TypeError(`${label} must be a BoolShare`);
  return x;
}

function anArith(x: unknown, label: string): ArithShare {
  if (!(x instanceof ArithShare)) throw new TypeError(`${label} must be an ArithShare`);
  return x;
}

/** Words per slice for n elements. */
export function sliceWords(n: number): number {
  return Math.ceil(n / 64);
}

/** Slice bits [0, count) of each element of `a` into count*W words (slice j at j*W). */
export function sliceBits(ctx: Context, a: U64, count: number): U64 {
  const W = sliceWords(a.length);
  const out = new BigUint64Array(count * W);
  for (let j = 0; j < count; j++) ctx.k.packBits(a, j, out.subarray(j * W, (j + 1) * W));
  return out;
}

/** Slice j of a sliced array. */
function sl(a: U64, j: number, W: number): U64 {
  return a.subarray(j * W, (j + 1) * W);
}

// ---------------------------------------------------------------- AND of many slice pairs

/**
 * One round of boolean ANDs: for each job (x, y) of slice pairs, a replicated sharing of
 * x & y. All jobs travel in one message per party.
 */
export async function andSlices(ctx: Context, xs: readonly SlicePair[], ys: readonly SlicePair[], step: string): Promise<SlicePair[]> {
  if (xs.length !== ys.length) throw new RangeError('andSlices: operand counts differ');
  if (xs.length === 0) {
    await ctx.ch.exchange({ step });
    return [];
  }
  const lens = xs.map((p) => p[0].length);
  // operands and the zero-sharing mask live only until the exchange: scratch memory
  const x0 = concatScratch(ctx, 'and.x0', xs.map((p) => p[0]));
  const x1 = concatScratch(ctx, 'and.x1', xs.map((p) => p[1]));
  const y0 = concatScratch(ctx, 'and.y0', ys.map((p) => p[0]));
  const y1 = concatScratch(ctx, 'and.y1', ys.map((p) => p[1]));
  const z = ctx.k.rssAnd(x0, x1, y0, y1, zeroShareBoolScratch(ctx, x0.length));
  const got = await ctx.ch.exchange({ step, send: { [ctx.prev]: z }, recv: [ctx.next] });
  const zn = expectWords(ctx, got, ctx.next, z.length, step);
  const a = splitWords(z, lens);
  const b = splitWords(zn, lens);
  return a.map((v, i) => [v, b[i]] as const);
}

function xorPair(ctx: Context, a: SlicePair, b: SlicePair): SlicePair {
  return [ctx.k.xor(a[0], b[0]), ctx.k.xor(a[1], b[1])];
}

// ---------------------------------------------------------------- the g/p round

/** Sliced sharings after the g/p round (all with W words per slice). */
interface GpState {
  readonly n: number;
  readonly W: number;
  /** p_j = s_j ^ x2_j, j in [0, 64) */
  readonly p: SlicePair[];
  /** g_j = s_j & x2_j, j in [0, nG) */
  readonly g: SlicePair[];
}

/**
 * The g/p round for an arithmetic sharing x (see the header). `nG` = number of low bit
 * positions whose generate bit is needed (63 for msb, 64 for a2b and truncExact).
 * `sValue` (P0) and `xValue` (P1, P2) override s = x0 + x1 and x2 (used by eq).
 */
async function gpRound(
  ctx: Context, sVal: U64 | undefined, xVal: U64 | undefined, n: number, nG: number, step: string, nS = 64,
): Promise<GpState> {
  const k = ctx.k;
  const W = sliceWords(n);
  const gW = nG * W;
  const all = nS * W;
  // p = s ^ x2 with s shared as (t, u, 0) and x2 as (0, 0, X): p = (t, u, X), no work needed
  let p0: U64, p1: U64, g0: U64, g1: U64;
  if (ctx.party === 0) {
    const S = sliceBits(ctx, sVal!, nS);
    const t = ctx.prgPrev.words(all);
    const c0 = ctx.prgPrev.words(gW);
    const tp = ctx.prgNext.words(gW);
    const c1 = ctx.prgNext.words(gW);
    const up = k.xor(S.subarray(0, gW), tp, tp);
    const u = k.xor(S, t, S);
    await ctx.ch.exchange({ step, send: { 1: u, 2: up } });
    [p0, p1, g0, g1] = [t, u, c0, c1];
  } else if (ctx.party === 1) {
    const X = sliceBits(ctx, xVal!, nS);
    const tp = ctx.prgPrev.words(gW);
    const c1 = ctx.prgPrev.words(gW);
    const Xg = X.subarray(0, gW);
    const vp = k.xor(c1, k.and(Xg, tp, tp), tp);
    const got = await ctx.ch.exchange({ step, send: { 2: vp }, recv: [0, 2] });
    const u = expectWords(ctx, got, 0, all, step);
    const v = expectWords(ctx, got, 2, gW, step);
    const c2 = k.and(Xg, u.subarray(0, gW));
    k.xor(c2, v, c2); // g ^ c0
    k.xor(c2, c1, c2);
    [p0, p1, g0, g1] = [u, X, c1, c2];
  } else {
    const X = sliceBits(ctx, xVal!, nS);
    const t = ctx.prgNext.words(all);
    const c0 = ctx.prgNext.words(gW);
    const Xg = X.subarray(0, gW);
    const v = k.xor(c0, k.and(Xg, t.subarray(0, gW)));
    const got = await ctx.ch.exchange({ step, send: { 1: v }, recv: [0, 1] });
    const up = expectWords(ctx, got, 0, gW, step);
    const vp = expectWords(ctx, got, 1, gW, step);
    const c2 = k.and(Xg, up);
    k.xor(c2, vp, c2); // g ^ c1
    k.xor(c2, c0, c2);
    [p0, p1, g0, g1] = [X, t, c2, c0];
  }
  const p: SlicePair[] = [];
  for (let j = 0; j < nS; j++) p.push([sl(p0, j, W), sl(p1, j, W)]);
  const g: SlicePair[] = [];
  for (let j = 0; j < nG; j++) g.push([sl(g0, j, W), sl(g1, j, W)]);
  return { n, W, p, g };
}

/** s = x0 + x1 on P0, x2 on P1/P2 (the inputs of gpRound). */
function splitOf(ctx: Context, x: ArithShare): { s?: U64; x?: U64 } {
  if (ctx.party === 0) return { s: ctx.k.add(x.s0, x.s1) };
  return { x: ctx.party === 1 ? x.s1 : x.s0 };
}

// ---------------------------------------------------------------- carry trees

interface Group {
  g: SlicePair;
  p: SlicePair | undefined;
}

/**
 * Group-generate of several bit ranges at once: for each range [lo, hi) the carry out of
 * that range (with carry-in 0), by binary trees advanced level by level together (one
 * exchange per level for all trees). Leaves: g[j], p[j].
 */
async function carryTrees(ctx: Context, st: GpState, ranges: readonly (readonly [number, number])[], step: string): Promise<SlicePair[]> {
  return reduceGroups(
    ctx,
    ranges.map(([lo, hi]) => {
      const leaves: Group[] = [];
      for (let j = lo; j < hi; j++) leaves.push({ g: st.g[j], p: j === lo ? undefined : st.p[j] });
      return leaves;
    }),
    step,
  );
}

/** Reduce lists of (G, P) groups (lowest first; the lowest needs no P) to each list's G. One exchange per level. */
async function reduceGroups(ctx: Context, start: Group[][], step: string): Promise<SlicePair[]> {
  let trees = start;
  let level = 0;
  while (trees.some((t) => t.length > 1)) {
    const xs: SlicePair[] = [];
    const ys: SlicePair[] = [];
    // plan: for each tree, each pair (lo=2i, hi=2i+1): G job P_hi & G_lo, and P job P_hi & P_lo when lo has P
    const plan: { tree: number; i: number; gJob: number; pJob: number }[] = [];
    trees.forEach((t, ti) => {
      for (let i = 0; 2 * i + 1 < t.length; i++) {
        const lo = t[2 * i];
        const hi = t[2 * i + 1];
        const gJob = xs.length;
        xs.push(hi.p!);
        ys.push(lo.g);
        let pJob = -1;
        if (lo.p !== undefined) {
          pJob = xs.length;
          xs.push(hi.p!);
          ys.push(lo.p);
        }
        plan.push({ tree: ti, i, gJob, pJob });
      }
    });
    const z = await andSlices(ctx, xs, ys, `${step}.${level}`);
    const next: Group[][] = trees.map((t) => new Array<Group>(Math.ceil(t.length / 2)));
    for (const q of plan) {
      const hi = trees[q.tree][2 * q.i + 1];
      next[q.tree][q.i] = { g: xorPair(ctx, hi.g, z[q.gJob]), p: q.pJob >= 0 ? z[q.pJob] : undefined };
    }
    trees.forEach((t, ti) => {
      if (t.length % 2 === 1) next[ti][next[ti].length - 1] = t[t.length - 1];
    });
    trees = next;
    level++;
  }
  return trees.map((t) => t[0].g);
}

// ---------------------------------------------------------------- msb, b2a

/** Check a bit width option: an integer in [2, 64]. */
export function aBitWidth(w: unknown, label: string): number {
  if (typeof w !== 'number' || !Number.isInteger(w) || w < 2 || w > 64) throw new RangeError(`${label}: bitWidth must be an integer in [2, 64], got ${String(w)}`);
  return w;
}

/**
 * One round computing nO boolean outputs O = XOR_k A_k * B_k (+ a term local to P1 and P2),
 * where the A_k are P0's nF factor slices F and the B_k are known to P1 and P2 (see
 * pairRound for the message pattern and why it reveals nothing). P0 passes F; P1 and P2 pass
 * `combine(T, withLocal)`, which evaluates XOR_k B_k * T_{f(k)} for factor-shaped T (plus the
 * local term when asked). Returns the replicated outputs and the factor sharing
 * (t, F ^ t, 0) as this party's components.
 */
export async function productRound(
  ctx: Context, W: number, nF: number, nO: number, F: U64 | undefined, combine: ((T: U64, withLocal: boolean) => U64) | undefined, step: string,
): Promise<{ out: SlicePair; factors: SlicePair }> {
  const k = ctx.k;
  if (ctx.party === 0) {
    const t = ctx.prgPrev.words(nF * W); // seed_{2,0}
    const c0 = ctx.prgPrev.words(nO * W);
    const tp = ctx.prgNext.words(nF * W); // seed_{0,1}
    const c1 = ctx.prgNext.words(nO * W);
    const u = k.xor(F!, t);
    const up = k.xor(F!, tp, tp);
    await ctx.ch.exchange({ step, send: { 1: u, 2: up } });
    return { out: [c0, c1], factors: [t, u] };
  }
  const me1 = ctx.party === 1;
  const other = me1 ? 2 : 1;
  const mask = (me1 ? ctx.prgPrev : ctx.prgNext).words(nF * W); // t' on P1, t on P2
  const c = (me1 ? ctx.prgPrev : ctx.prgNext).words(nO * W); // c1 on P1, c0 on P2
  const msg = k.xor(combine!(mask, false), c);
  const got = await ctx.ch.exchange({ step, send: { [other]: msg }, recv: [0, other] });
  const fromP0 = expectWords(ctx, got, 0, nF * W, step);
  const v = expectWords(ctx, got, other, nO * W, step);
  const c2 = combine!(fromP0, true);
  k.xor(c2, v, c2);
  k.xor(c2, c, c2);
  const zero = new BigUint64Array(nF * W);
  return me1 ? { out: [c, c2], factors: [fromP0, zero] } : { out: [c2, c], factors: [zero, mask] };
}

/**
 * First round of msb with the first carry level folded in ("pair round"). Every level-1
 * output (G, P of a pair of bit positions) is a XOR of products A*B with A a monomial in s
 * (known to P0: s_l, s_h, s_h*s_l) and B a monomial in x2 (known to P1 and P2):
 *   G = s_h*x_h ^ (s_h s_l)*x_l ^ s_l*(x_h x_l)
 *   P = (s_h s_l)*1 ^ s_h*x_l ^ s_l*x_h ^ x_h x_l
 * P0 sends every factor F masked, F ^ t to P1 (t from seed_{2,0}) and F ^ t' to P2 (t' from
 * seed_{0,1}); P2 sends P1, per output, c0 ^ XOR B*t, and P1 sends P2 c1 ^ XOR B*t'; then
 * P1 and P2 both get the third component c2 = O ^ c0 ^ c1 (P0 holds c0, c1). The factor
 * s_j masked for P1 is also the boolean sharing (t, s ^ t, 0) of s_j, which gives the
 * propagate bits p_j = s_j ^ x_j that are needed alone. Reveals nothing: everything P1
 * receives is masked by fresh words of seed_{2,0} (P2: seed_{0,1}) that it does not hold.
 * Cost per element for L bits (m = L-1 positions, q = floor(m/2) pairs): P0 sends
 * 2*(3q + [m odd] + 1) bits, P1 and P2 send 2q - 1 + [m odd] bits each.
 */
async function pairRound(ctx: Context, sVal: U64 | undefined, xVal: U64 | undefined, n: number, L: number, step: string): Promise<{ groups: Group[]; top: SlicePair }> {
  const k = ctx.k;
  const W = sliceWords(n);
  const m = L - 1; // positions [0, m) feed the carry into bit m = L - 1
  const q = m >> 1;
  const odd = m % 2 === 1;
  // factor slices: [SL (q), SH (q), SHL (q), s_{m-1} if odd, s_{L-1}]
  const nF = 3 * q + (odd ? 1 : 0) + 1;
  // outputs: [G (q), P (q - 1, pairs 1..), Gleft if odd]
  const nP = Math.max(0, q - 1);
  const nO = q + nP + (odd ? 1 : 0);
  const qW = q * W;
  const slices = (a: U64, from: number, count: number): U64 => a.subarray(from * W, (from + count) * W);
  /** x-side monomials: XL, XH, XHL (pair-major), x_{m-1}, x_{L-1}, and the P-local term */
  const xSide = (X: U64) => {
    const XL = new BigUint64Array(qW);
    const XH = new BigUint64Array(qW);
    for (let i = 0; i < q; i++) {
      XL.set(slices(X, 2 * i, 1), i * W);
      XH.set(slices(X, 2 * i + 1, 1), i * W);
    }
    return { XL, XH, XHL: k.and(XL, XH), xLeft: odd ? slices(X, m - 1, 1) : undefined, xTop: slices(X, L - 1, 1) };
  };
  /** XOR of B*T over the terms of every output, for masks / received factors T laid out like F */
  const combine = (x: ReturnType<typeof xSide>, T: U64, withLocal: boolean): U64 => {
    const out = new BigUint64Array(nO * W);
    const TL = slices(T, 0, q);
    const TH = slices(T, q, q);
    const THL = slices(T, 2 * q, q);
    const G = out.subarray(0, qW);
    const tmp = scratch(ctx, 'pair.tmp', qW); // temporaries: used before this function returns
    k.and(TH, x.XH, G);
    k.xor(G, k.and(THL, x.XL, tmp), G);
    k.xor(G, k.and(TL, x.XHL, tmp), G);
    if (nP > 0) {
      const P = out.subarray(qW, qW + nP * W);
      const r = (a: U64) => a.subarray(W, qW); // pairs 1..q-1
      const t2 = tmp.subarray(0, nP * W);
      P.set(r(THL));
      k.xor(P, k.and(r(TH), r(x.XL), t2), P);
      k.xor(P, k.and(r(TL), r(x.XH), t2), P);
      if (withLocal) k.xor(P, r(x.XHL), P);
    }
    if (odd) k.and(slices(T, 3 * q, 1), x.xLeft!, out.subarray((q + nP) * W));
    return out;
  };
  const mkGroups = (o0: U64, o1: U64, pLeft: SlicePair | undefined): Group[] => {
    const gs: Group[] = [];
    for (let i = 0; i < q; i++) {
      gs.push({ g: [slices(o0, i, 1), slices(o1, i, 1)], p: i === 0 ? undefined : [slices(o0, q + i - 1, 1), slices(o1, q + i - 1, 1)] });
    }
    if (odd) gs.push({ g: [slices(o0, q + nP, 1), slices(o1, q + nP, 1)], p: q === 0 ? undefined : pLeft });
    return gs;
  };
  let F: U64 | undefined;
  let x: ReturnType<typeof xSide> | undefined;
  if (ctx.party === 0) {
    const S = sliceBits(ctx, sVal!, L);
    F = new BigUint64Array(nF * W);
    for (let i = 0; i < q; i++) {
      F.set(slices(S, 2 * i, 1), i * W);
      F.set(slices(S, 2 * i + 1, 1), (q + i) * W);
    }
    k.and(slices(F, 0, q), slices(F, q, q), slices(F, 2 * q, q));
    if (odd) F.set(slices(S, m - 1, 1), 3 * q * W);
    F.set(slices(S, L - 1, 1), (nF - 1) * W);
  } else {
    x = xSide(sliceBits(ctx, xVal!, L));
  }
  const xs = x;
  const { out, factors } = await productRound(ctx, W, nF, nO, F, xs === undefined ? undefined : (T, loc) => combine(xs, T, loc), step);
  // p_j = s_j ^ x_j for a factor slice s_j: s shared as (t, u, 0), x2 as (0, 0, x)
  const pOf = (f: number, xj: U64 | undefined): SlicePair => {
    const a = slices(factors[0], f, 1);
    const b = slices(factors[1], f, 1);
    if (ctx.party === 1) return [a, xj!];
    if (ctx.party === 2) return [xj!, b];
    return [a, b];
  };
  const groups = mkGroups(out[0], out[1], odd ? pOf(3 * q, x?.xLeft) : undefined);
  const top = pOf(nF - 1, x?.xTop);
  return { groups, top };
}

/**
 * Rounds of msbSliced over L bits and the bytes it sends per element over the three parties
 * (for planning; the tests check the real counts): 1 + ceil(log2(ceil((L-1)/2))) rounds.
 */
export function msbPlanCost(L: number): { rounds: number; bytes: number } {
  const m = L - 1;
  const q = m >> 1;
  const odd = m % 2;
  const nF = 3 * q + odd + 1;
  const nO = q + Math.max(0, q - 1) + odd;
  let cnt = q + odd;
  let ands = 0;
  let levels = 0;
  while (cnt > 1) {
    ands += 2 * (cnt >> 1) - 1;
    cnt = Math.ceil(cnt / 2);
    levels++;
  }
  return { rounds: 1 + levels, bytes: (2 * nF + 2 * nO + 3 * ands) / 8 };
}

/**
 * The sign bit of x as one boolean slice pair (W words, bit i of word w = element 64w+i).
 * With `bitWidth` = L < 64 the caller promises -2^(L-1) <= x < 2^(L-1); then bit L-1 equals
 * the sign bit and only the carry out of the low L-1 bits is needed (a smaller tree:
 * ceil(log2(L-1)) levels, about half the bytes for L = 32). 1 + ceil(log2(L-1)) rounds
 * (7 for L = 64). Outside the promised range the result is wrong (not insecure).
 */
export async function msbSliced(ctx: Context, x: ArithShare, step = 'msb', bitWidth = 64): Promise<SlicePair> {
  const L = aBitWidth(bitWidth, step);
  const sp = splitOf(ctx, x);
  const { groups, top } = await pairRound(ctx, sp.s, sp.x, x.size, L, `${step}.pairs`);
  const [carry] = await reduceGroups(ctx, [groups], `${step}.carry`);
  return xorPair(ctx, top, carry);
}

/**
 * Bit injection of 0/1 words given as boolean components (bit 0 only, other bits zero).
 * 1 round: P0 sends u = v + t to P1 and u' = v + t' to P2; P1 and P2 send each other one word.
 */
async function b2aWords(ctx: Context, b0: U64, b1: U64, step: string): Promise<[U64, U64]> {
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
  aBool(b, 'bitTimes: b');
  anArith(d, 'bitTimes: d');
  if (!sameShape(b.shape, d.shape)) throw new RangeError('bitTimes: shapes differ');
  const one = new BigUint64Array(b.size).fill(1n);
  const r = await bitTimesWords(ctx, ctx.k.and(b.s0, one), ctx.k.and(b.s1, one), [[d.s0, d.s1]], false, 'bitTimes');
  return new ArithShare(d.shape, r.prods[0][0], r.prods[0][1], d.scale);
}

// ---------------------------------------------------------------- balanced (role-rotated) variants

/**
 * Below this many elements the rotated variants run the plain protocol. Rotation balances
 * BYTES, but every rotated round makes each party send to both peers (more messages) and
 * builds three chunk contexts; for small tensors (decoding) messages and per-call work cost
 * more than the imbalance: on the 2-core machine a default-model decode step went from ~1170
 * to ~670 ms when this moved from 192 to 2^14 elements.
 */
export const ROTATE_MIN = 1 << 14;

/** Elements [lo, hi) of a share, flattened (views, no copy). */
export function chunkShare(x: ArithShare, lo: number, hi: number): ArithShare {
  return new ArithShare([hi - lo], x.s0.subarray(lo, hi), x.s1.subarray(lo, hi), x.scale);
}

function chunkBits(b: SlicePair, lo: number, hi: number): SlicePair {
  return [b[0].subarray(lo / 64, Math.ceil(hi / 64)), b[1].subarray(lo / 64, Math.ceil(hi / 64))];
}

/** Concatenate flat shares into one of the given shape and scale. */
export function joinShares(parts: readonly ArithShare[], shape: Shape, scale: number): ArithShare {
  return new ArithShare(shape, concatWords(parts.map((p) => p.s0)), concatWords(parts.map((p) => p.s1)), scale);
}

/**
 * msbSliced with the roles rotated over three chunks of the elements (rotate.ts): the same
 * rounds, and every party sends the average of the three roles' bytes (+24 bytes/message).
 * Below ROTATE_MIN elements the roles rotate from call to call instead (rotate.ts rolled).
 */
export async function msbSlicedBalanced(ctx: Context, x: ArithShare, step = 'msb', bitWidth = 64): Promise<SlicePair> {
  if (x.size < ROTATE_MIN) return rolled(ctx, (v) => msbSliced(v, x, step, bitWidth));
  const parts = await rotated(ctx, x.size, (v, lo, hi) => msbSliced(v, chunkShare(x, lo, hi), step, bitWidth));
  return [concatWords(parts.map((p) => p[0])), concatWords(parts.map((p) => p[1]))];
}

/** b2aSliced with rotated roles (balanced traffic). */
export async function b2aSlicedBalanced(ctx: Context, b: SlicePair, n: number, shape: Shape, step = 'b2a'): Promise<ArithShare> {
  if (n < ROTATE_MIN) return rolled(ctx, (v) => b2aSliced(v, b, n, shape, step));
  const parts = await rotated(ctx, n, (v, lo, hi) => b2aSliced(v, chunkBits(b, lo, hi), hi - lo, [hi - lo], step));
  return joinShares(parts, shape, 0);
}

/** bitTimesSliced with rotated roles (balanced traffic). */
export async function bitTimesSlicedBalanced(
  ctx: Context, e: SlicePair, n: number, ds: readonly ArithShare[], withBit: boolean, step = 'bitTimes',
): Promise<{ bit?: ArithShare; prods: ArithShare[] }> {
  if (n < ROTATE_MIN) return rolled(ctx, (v) => bitTimesSliced(v, e, n, ds, withBit, step));
  const parts = await rotated(ctx, n, (v, lo, hi) => bitTimesSliced(v, chunkBits(e, lo, hi), hi - lo, ds.map((d) => chunkShare(d, lo, hi)), withBit, step));
  return {
    ...(withBit ? { bit: joinShares(parts.map((p) => p.bit!), ds[0]?.shape ?? [n], 0) } : {}),
    prods: ds.map((d, j) => joinShares(parts.map((p) => p.prods[j]), d.shape, d.scale)),
  };
}

/** Boolean sharing of the sign bit of x: bit 0 of each word (other bits zero). 7 rounds. */
export async function msb(ctx: Context, x: ArithShare, opts: { bitWidth?: number } = {}): Promise<BoolShare> {
  anArith(x, 'msb: x');
  const m = await msbSliced(ctx, x, 'msb', opts.bitWidth ?? 64);
  return new BoolShare(x.shape, ctx.k.unpackBits(m[0], x.size, 0), ctx.k.unpackBits(m[1], x.size, 0));
}

/** Bit injection: bit 0 of each word of b as an arithmetic 0/1 integer (scale 0). 1 round, ~128 bits/element/party. */
export async function b2a(ctx: Context, b: BoolShare): Promise<ArithShare> {
  aBool(b, 'b2a: b');
  const one = new BigUint64Array(b.size).fill(1n);
  const [a, c] = await b2aWords(ctx, ctx.k.and(b.s0, one), ctx.k.and(b.s1, one), 'b2a');
  return new ArithShare(b.shape, a, c, 0);
}

// ---------------------------------------------------------------- a2b

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

// ---------------------------------------------------------------- exact truncation

/**
 * floor(x / 2^bits) for |x| < 2^62 (see mul.ts truncExact). With x' = x + 2^62 in
 * [0, 2^63), A = x0' + x1' (P0) and B = x2' (P1, P2):
 * floor(x' / 2^f) = (A >> f) + (B >> f) + c_f - w * 2^(64-f), c_f the carry into bit f of
 * A + B and w the carry out of bit 63; both come from one g/p round and two carry trees,
 * then one bit injection. (A >> f) + (B >> f) is reshared like trunc's message (P0 -> P2).
 * 9 rounds. Reveals nothing beyond its parts (each masked as described above).
 */
export async function truncExactImpl(ctx: Context, x: ArithShare, f: number): Promise<[U64, U64]> {
  const k = ctx.k;
  const n = x.size;
  const OFF = 1n << 62n;
  let sVal: U64 | undefined;
  let xVal: U64 | undefined;
  if (ctx.party === 0) sVal = k.addScalar(k.add(x.s0, x.s1), OFF);
  else xVal = ctx.party === 1 ? x.s1 : x.s0;
  const st = await gpRound(ctx, sVal, xVal, n, 64, 'truncExact.gp');
  const [cf, w] = await carryTrees(ctx, st, [[0, f], [0, 64]], 'truncExact.carry');
  const both0 = concatWords([k.unpackBits(cf[0], n, 0), k.unpackBits(w[0], n, 0)]);
  const both1 = concatWords([k.unpackBits(cf[1], n, 0), k.unpackBits(w[1], n, 0)]);
  const [a0, a1] = await b2aWords(ctx, both0, both1, 'truncExact.b2a');
  // T = (A >> f) + (B >> f): components (y0, y1, y2) = (A>>f - r, r, B>>f), r from seed_{0,1}
  let t0: U64, t1: U64;
  const step = 'truncExact.hi';
  if (ctx.party === 0) {
    const r = ctx.prgNext.words(n);
    const y0 = k.sub(k.shr(sVal!, f), r);
    await ctx.ch.exchange({ step, send: { 2: y0 } });
    [t0, t1] = [y0, r];
  } else if (ctx.party === 1) {
    const r = ctx.prgPrev.words(n);
    await ctx.ch.exchange({ step });
    [t0, t1] = [r, k.shr(xVal!, f)];
  } else {
    const got = await ctx.ch.exchange({ step, recv: [0] });
    [t0, t1] = [k.shr(xVal!, f), expectWords(ctx, got, 0, n, step)];
  }
  // result = T + c_f - w * 2^(64-f) - 2^(62-f); the public constant goes into x0
  const wScale = BigInt.asUintN(64, -(1n << BigInt(64 - f)));
  const cA = [a0.subarray(0, n), a1.subarray(0, n)];
  const wA = [a0.subarray(n), a1.subarray(n)];
  const r0 = k.add(k.add(t0, cA[0]), k.mulScalar(wA[0], wScale));
  const r1 = k.add(k.add(t1, cA[1]), k.mulScalar(wA[1], wScale));
  const corr = BigInt.asUintN(64, -(1n << BigInt(62 - f)));
  if (ctx.party === 0) k.addScalar(r0, corr, r0);
  if (ctx.party === 2) k.addScalar(r1, corr, r1);
  return [r0, r1];
}

// ---------------------------------------------------------------- plain boolean ops

/** x ^ y (local) */
export function xorB(ctx: Context, x: BoolShare, y: BoolShare): BoolShare {
  aBool(x, 'xorB: x');
  aBool(y, 'xorB: y');
  if (!sameShape(x.shape, y.shape)) throw new RangeError('xorB: shapes differ');
  return new BoolShare(x.shape, ctx.k.xor(x.s0, y.s0), ctx.k.xor(x.s1, y.s1));
}

/** x ^ p for public words p (local; p enters component x0, held by parties 0 and 2) */
export function xorPublicB(ctx: Context, x: BoolShare, p: BigUint64Array): BoolShare {
  aBool(x, 'xorPublicB: x');
  if (!(p instanceof BigUint64Array) || p.length !== x.size) throw new RangeError('xorPublicB: p must be a BigUint64Array of x.size words');
  if (ctx.party === 0) return new BoolShare(x.shape, ctx.k.xor(x.s0, p), x.s1);
  if (ctx.party === 2) return new BoolShare(x.shape, x.s0, ctx.k.xor(x.s1, p));
  return x;
}

/** ~x on all 64 bits (local) */
export function notB(ctx: Context, x: BoolShare): BoolShare {
  aBool(x, 'notB: x');
  if (ctx.party === 0) return new BoolShare(x.shape, ctx.k.not(x.s0), x.s1);
  if (ctx.party === 2) return new BoolShare(x.shape, x.s0, ctx.k.not(x.s1));
  return x;
}

/** x & y word by word. 1 round, 64 bits per word per party. */
export async function andB(ctx: Context, x: BoolShare, y: BoolShare): Promise<BoolShare> {
  aBool(x, 'andB: x');
  aBool(y, 'andB: y');
  if (!sameShape(x.shape, y.shape)) throw new RangeError('andB: shapes differ');
  const [z] = await andSlices(ctx, [[x.s0, x.s1]], [[y.s0, y.s1]], 'andB');
  return new BoolShare(x.shape, z[0], z[1]);
}
