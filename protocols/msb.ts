/**
 * The sign bit (MSB) of an arithmetic sharing, as a boolean sharing.
 *
 * msb: the carry into bit 63 of s + x2 (s = x0 + x1 known to P0, x2 to P1 and P2) is the
 * "generate" of the group [0, 63), computed by a carry tree (carry.ts). The first level
 * (pairs of positions) is computed in the first round itself (pairRound below: every pair's
 * G and P is a XOR of products of an s-monomial, known to P0, and an x2-monomial, known to
 * P1 and P2), leaving 32 groups: 5 AND levels, 57 ANDs. msb = p_63 ^ carry: 6 rounds; per
 * element P0 sends 247 bits, P1 and P2 119 bits (~162 bits per party on average; the
 * comparisons balance the roles, balanced.ts). msbPlanCost gives the rounds and bytes for
 * any bit width.
 */
import type { U64 } from '../kernels/api.js';
import type { Context } from './context.js';
import { type SlicePair, sliceBits, sliceWords, xorPair } from './bool-slices.js';
import { type Group, productRound, reduceGroups, splitOf } from './carry.js';
import { scratch } from './scratch.js';
import { type ArithShare, BoolShare, anArith } from './types.js';

/** Check a bit width option: an integer in [2, 64]. */
export function aBitWidth(w: unknown, label: string): number {
  if (typeof w !== 'number' || !Number.isInteger(w) || w < 2 || w > 64) throw new RangeError(`${label}: bitWidth must be an integer in [2, 64], got ${String(w)}`);
  return w;
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
 * Rounds of msbSliced over L bits, the bytes it sends per element over the three parties
 * and the bits each role (P0, P1, P2) sends per element: 1 + ceil(log2(ceil((L-1)/2)))
 * rounds; P0 sends 2*nF + ands bits, P1 and P2 nO + ands (pairRound's factors and outputs,
 * then the AND tree). The planner (tournament-plan.ts) and the tests use it.
 */
export function msbPlanCost(L: number): { rounds: number; bytes: number; roleBits: [number, number, number] } {
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
  return { rounds: 1 + levels, bytes: (2 * nF + 2 * nO + 3 * ands) / 8, roleBits: [2 * nF + ands, nO + ands, nO + ands] };
}

/**
 * Check a dropBits option (msbSliced): an integer in [0, L - 2] for width L. Returns it.
 */
export function aDropBits(k: unknown, L: number, label: string): number {
  if (typeof k !== 'number' || !Number.isInteger(k) || k < 0 || k > L - 2) throw new RangeError(`${label}: dropBits must be an integer in [0, ${L - 2}] for bitWidth ${L}, got ${String(k)}`);
  return k;
}

/**
 * The sign bit of x as one boolean slice pair (W words, bit i of word w = element 64w+i).
 * With `bitWidth` = L < 64 the caller promises -2^(L-1) <= x < 2^(L-1); then bit L-1 equals
 * the sign bit and only the carry out of the low L-1 bits is needed (a smaller tree:
 * about half the bytes for L = 32). msbPlanCost(L).rounds rounds (6 for L = 64, 5 for
 * L = 32). Outside the promised range the result is wrong (not insecure).
 * With `dropBits` = k > 0 (an approximate comparison, for consumers that tolerate it: the
 * softmax max, exp's clip, range normalisation): P0 shifts s = x0 + x1 and P1, P2 shift x2
 * right by k bits (local) and the circuit runs over L - k bits, msbPlanCost(L - k). The
 * result is [x < 0] exactly outside the band [0, 2^(k+1)) ring units; inside it, it may be 1
 * (x judged negative). Promise: -2^(L-1) + 2^(k+1) <= x < 2^(L-1). Reveals nothing more
 * (local shifts, then the same messages).
 */
export async function msbSliced(ctx: Context, x: ArithShare, step = 'msb', bitWidth = 64, dropBits = 0): Promise<SlicePair> {
  const L = aBitWidth(bitWidth, step);
  const k = aDropBits(dropBits, L, step);
  const sp = splitOf(ctx, x);
  if (k > 0) {
    // s and x2 each shifted right by k (local): s' + x2' = (v - r) / 2^k with r = s_lo + x2_lo in [0, 2^(k+1) - 2]
    sp.s = sp.s === undefined ? undefined : ctx.k.shr(sp.s, k);
    sp.x = sp.x === undefined ? undefined : ctx.k.shr(sp.x, k);
  }
  const { groups, top } = await pairRound(ctx, sp.s, sp.x, x.size, L - k, `${step}.pairs`);
  const [carry] = await reduceGroups(ctx, [groups], `${step}.carry`);
  return xorPair(ctx, top, carry);
}

/** Boolean sharing of the sign bit of x: bit 0 of each word (other bits zero). 6 rounds (fewer with opts.bitWidth). */
export async function msb(ctx: Context, x: ArithShare, opts: { bitWidth?: number } = {}): Promise<BoolShare> {
  anArith(x, 'msb: x');
  const m = await msbSliced(ctx, x, 'msb', opts.bitWidth ?? 64);
  return new BoolShare(x.shape, ctx.k.unpackBits(m[0], x.size, 0), ctx.k.unpackBits(m[1], x.size, 0));
}
