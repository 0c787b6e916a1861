/**
 * Comparisons and selection on arithmetic shares: ltz, lt/gt/le/ge, eq, mux, relu.
 *
 * ltz(x) = [x < 0] = msb(x) (msb.ts, 6 rounds) followed by bit injection (1 round):
 * 7 rounds and about 247 bits (31 bytes) sent per element per party on average; the roles
 * are balanced (balanced.ts: rotated over three chunks from ROTATE_MIN elements on, else
 * from call to call) so every party sends about that.
 * lt/le/gt/ge compare through the sign of a difference, so they are exact when
 * |x - y| < 2^63 (always for fixed-point values within the documented ranges).
 *
 * eq(x, y): z = x - y is zero iff s = z0 + z1 (known to P0) equals -z2 (known to P1 and P2):
 * the AND of the 64 bits e_j = s_j ^ Y_j (Y = NOT(-z2)). The first AND level is computed in
 * the first round (carry.ts productRound: e_a e_b = s_a s_b ^ s_a Y_b ^ s_b Y_a ^ Y_a Y_b,
 * P0 sends its factors masked by seeds the receiver lacks), then a tree of 5 AND levels
 * (31 ANDs, each masked by a fresh boolean zero sharing), then bit injection. 7 rounds;
 * per element P0 sends 192 + 31 bits + 16 bytes, P1 and P2 32 + 31 bits + 8 bytes (roles
 * rotated over chunks from ROTATE_MIN elements on; below, not rotated).
 *
 * mux(c, a, b) = b + c * (a - b): one multiplication (1 round). relu(x) = x - msb(x) * x with
 * the product fused into the bit injection round (conversions.ts "bit times value"): 7 rounds.
 * max / argmax: max.ts.
 *
 * All of these reveal nothing: every message is one of the masked messages of msb, b2a,
 * the AND/reshare rounds or mul, whose masking is argued in carry.ts, msb.ts,
 * conversions.ts, bool-slices.ts and mul.ts.
 */
import type { U64 } from '../kernels/api.js';
import type { Context } from './context.js';
import { b2aSlicedBalanced, bitTimesSlicedBalanced, msbSlicedBalanced } from './balanced.js';
import { type SlicePair, andSlices, sliceBits, sliceWords } from './bool-slices.js';
import { productRound } from './carry.js';
import { b2aSliced } from './conversions.js';
import { add, publicSub, sub } from './linear.js';
import { mul } from './mul.js';
import { balanced, chunkShare, joinShares } from './rotate.js';
import { type ArithShare, anArith, sameShape } from './types.js';

/** Same shape and scale, or RangeError naming `label`. */
export function sameOperands(x: ArithShare, y: ArithShare, label: string): void {
  if (!sameShape(x.shape, y.shape)) throw new RangeError(`${label}: shapes differ ([${x.shape.join(',')}] vs [${y.shape.join(',')}])`);
  if (x.scale !== y.scale) throw new RangeError(`${label}: scales differ (${x.scale} vs ${y.scale})`);
}

/**
 * Options of the comparisons. bitWidth = L (default 64) promises that the compared
 * difference lies in [-2^(L-1), 2^(L-1)): the sign is then bit L-1 and the carry circuit
 * shrinks (L = 32: 6 rounds and ~18 bytes/element/party for lt instead of 7 and ~31).
 * For fixed-point values with |v| < 2^12 at f = 18, differences fit in L = 32.
 */
export interface CompareOptions {
  readonly bitWidth?: number;
  /**
   * Approximate comparison (msb.ts msbSliced): drop k low bits of both halves of the
   * difference before the carry circuit, which then has bitWidth - k bits (fewer rounds once
   * that falls to 33, 17 or 9 bits). The sign is exact outside the band [0, 2^(k+1)) ring
   * units of the difference; inside, the difference may be judged negative. Default 0 (exact).
   */
  readonly dropBits?: number;
}

/** [x < 0] as an arithmetic 0/1 integer (scale 0). 7 rounds (fewer with opts.bitWidth). */
export async function ltz(ctx: Context, x: ArithShare, opts: CompareOptions = {}): Promise<ArithShare> {
  anArith(x, 'ltz: x');
  const m = await msbSlicedBalanced(ctx, x, 'ltz.msb', opts.bitWidth ?? 64, opts.dropBits ?? 0);
  return b2aSlicedBalanced(ctx, m, x.size, x.shape, 'ltz.b2a');
}

/** [x < y] (0/1, scale 0). 7 rounds. */
export async function lt(ctx: Context, x: ArithShare, y: ArithShare, opts: CompareOptions = {}): Promise<ArithShare> {
  anArith(x, 'lt: x');
  anArith(y, 'lt: y');
  sameOperands(x, y, 'lt');
  return ltz(ctx, sub(ctx, x, y), opts);
}

/** [x > y] (0/1, scale 0). 7 rounds. */
export async function gt(ctx: Context, x: ArithShare, y: ArithShare, opts: CompareOptions = {}): Promise<ArithShare> {
  anArith(x, 'gt: x');
  anArith(y, 'gt: y');
  sameOperands(x, y, 'gt');
  return ltz(ctx, sub(ctx, y, x), opts);
}

/** [x <= y] (0/1, scale 0). 7 rounds. */
export async function le(ctx: Context, x: ArithShare, y: ArithShare, opts: CompareOptions = {}): Promise<ArithShare> {
  return publicSub(ctx, 1, await gt(ctx, x, y, opts));
}

/** [x >= y] (0/1, scale 0). 7 rounds. */
export async function ge(ctx: Context, x: ArithShare, y: ArithShare, opts: CompareOptions = {}): Promise<ArithShare> {
  return publicSub(ctx, 1, await lt(ctx, x, y, opts));
}

/** [x == y] (0/1, scale 0), exact on the ring. 7 rounds. */
export async function eq(ctx: Context, x: ArithShare, y: ArithShare): Promise<ArithShare> {
  anArith(x, 'eq: x');
  anArith(y, 'eq: y');
  sameOperands(x, y, 'eq');
  // roles rotated over three chunks for large inputs (rotate.ts) so the resharing traffic is
  // spread evenly; small inputs run as they are
  return balanced<ArithShare>(ctx, x.size, {
    whole: (v) => eqPlain(v, x, y),
    chunk: (v, lo, hi) => eqPlain(v, chunkShare(x, lo, hi), chunkShare(y, lo, hi)),
    join: (parts) => joinShares(parts, x.shape, 0),
    roll: false,
  });
}

async function eqPlain(ctx: Context, x: ArithShare, y: ArithShare): Promise<ArithShare> {
  const k = ctx.k;
  const z = sub(ctx, x, y);
  const n = z.size;
  const W = sliceWords(n);
  const hW = 32 * W;
  // e_j = NOT(s_j ^ X_j) = s_j ^ Y_j with s = z0 + z1 (P0), X = -z2 and Y = NOT X (P1, P2).
  // First level in the first round: e_a e_b = (s_a s_b) ^ s_a Y_b ^ s_b Y_a ^ (Y_a Y_b),
  // for the pairs (a, b) = (j, j + 32): factors [SA, SB, SAB] (96 slices), 32 outputs.
  let F: U64 | undefined;
  let combine: ((T: U64, withLocal: boolean) => U64) | undefined;
  if (ctx.party === 0) {
    const S = sliceBits(ctx, k.add(z.s0, z.s1), 64);
    F = new BigUint64Array(3 * hW);
    F.set(S); // SA = slices 0..31, SB = slices 32..63
    k.and(S.subarray(0, hW), S.subarray(hW), F.subarray(2 * hW));
  } else {
    const Y = sliceBits(ctx, k.neg(ctx.party === 1 ? z.s1 : z.s0), 64);
    k.not(Y, Y);
    const YA = Y.subarray(0, hW);
    const YB = Y.subarray(hW);
    const YAB = k.and(YA, YB);
    combine = (T, withLocal) => {
      const o = k.and(T.subarray(0, hW), YB);
      k.xor(o, k.and(T.subarray(hW, 2 * hW), YA), o);
      k.xor(o, T.subarray(2 * hW), o);
      if (withLocal) k.xor(o, YAB, o);
      return o;
    };
  }
  const { out } = await productRound(ctx, W, 96, 32, F, combine, 'eq.pairs');
  let cur: SlicePair[] = [];
  for (let j = 0; j < 32; j++) cur.push([out[0].subarray(j * W, (j + 1) * W), out[1].subarray(j * W, (j + 1) * W)]);
  let level = 0;
  while (cur.length > 1) {
    const h = cur.length >> 1;
    const zz = await andSlices(ctx, cur.slice(0, h), cur.slice(h, 2 * h), `eq.and.${level}`);
    if (cur.length % 2 === 1) zz.push(cur[cur.length - 1]);
    cur = zz;
    level++;
  }
  return b2aSliced(ctx, cur[0], n, z.shape, 'eq.b2a');
}

/** c ? a : b for an arithmetic 0/1 c (scale 0); result scale = a.scale. 1 round. */
export async function mux(ctx: Context, c: ArithShare, a: ArithShare, b: ArithShare): Promise<ArithShare> {
  anArith(c, 'mux: c');
  anArith(a, 'mux: a');
  anArith(b, 'mux: b');
  sameOperands(a, b, 'mux');
  if (!sameShape(c.shape, a.shape)) throw new RangeError('mux: c must have the shape of a and b');
  if (c.scale !== 0) throw new RangeError(`mux: c must be a 0/1 integer (scale 0), got scale ${c.scale}`);
  return add(ctx, b, await mul(ctx, c, sub(ctx, a, b)));
}

/** max(x, 0) = x - [x < 0] * x, the product fused with the bit injection. 7 rounds. */
export async function relu(ctx: Context, x: ArithShare, opts: CompareOptions = {}): Promise<ArithShare> {
  anArith(x, 'relu: x');
  const e = await msbSlicedBalanced(ctx, x, 'relu.msb', opts.bitWidth ?? 64, opts.dropBits ?? 0);
  const { prods } = await bitTimesSlicedBalanced(ctx, e, x.size, [x], false, 'relu.select');
  return sub(ctx, x, prods[0]);
}
