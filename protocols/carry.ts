/**
 * The first round of the carry circuits, and the carry trees (msb.ts, conversions.ts a2b,
 * trunc-exact.ts).
 *
 * The g/p round (gpRound; first round of a2b and truncExact). x = x0 + x1 + x2; P0 knows
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
 * productRound generalises it: any XOR of products A*B with A known to P0 and B known to P1
 * and P2 in one round (msb.ts pairRound and compare.ts eq use it).
 *
 * Carry trees: the carry out of a bit range is the "generate" of the group, computed by a
 * binary tree of (G, P) combinations G = G_hi ^ P_hi & G_lo, P = P_hi & P_lo (the lowest
 * group needs no P), one AND round (bool-slices.ts andSlices) per level for all trees.
 */
import type { U64 } from '../kernels/api.js';
import type { Context } from './context.js';
import { type SlicePair, andSlices, sl, sliceBits, sliceWords, xorPair } from './bool-slices.js';
import type { ArithShare } from './types.js';
import { expectWords } from './wire.js';

/** Sliced sharings after the g/p round (all with W words per slice). */
export interface GpState {
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
export async function gpRound(
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
export function splitOf(ctx: Context, x: ArithShare): { s?: U64; x?: U64 } {
  if (ctx.party === 0) return { s: ctx.k.add(x.s0, x.s1) };
  return { x: ctx.party === 1 ? x.s1 : x.s0 };
}

export interface Group {
  g: SlicePair;
  p: SlicePair | undefined;
}

/**
 * Group-generate of several bit ranges at once: for each range [lo, hi) the carry out of
 * that range (with carry-in 0), by binary trees advanced level by level together (one
 * exchange per level for all trees). Leaves: g[j], p[j].
 */
export async function carryTrees(ctx: Context, st: GpState, ranges: readonly (readonly [number, number])[], step: string): Promise<SlicePair[]> {
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
export async function reduceGroups(ctx: Context, start: Group[][], step: string): Promise<SlicePair[]> {
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
