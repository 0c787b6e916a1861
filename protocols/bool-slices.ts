/**
 * Boolean replicated shares (XOR over 64-bit words) in BIT-SLICED form, and the AND round
 * every boolean circuit of this folder is built from.
 *
 * Bit slicing. The carry circuits work on ONE bit position at a time for all elements, so
 * values are transposed once ("sliced"): slice j is ceil(n/64) words holding bit j of
 * every element (k.packBits). Each AND then costs exactly one bit per element per party,
 * and every circuit level is ONE exchange for the whole tensor.
 *
 * andSlices (1 round, 64 bits per word per party): z_i = x_i&y_i ^ x_i&y_{i+1} ^
 *   x_{i+1}&y_i ^ beta_i with a fresh boolean zero sharing beta, sent to party i-1. Reveals
 *   nothing: beta_i is uniformly random to party i-1 (built from seed_{i,i+1}, which it lacks).
 */
import type { U64 } from '../kernels/api.js';
import type { Context } from './context.js';
import { concatScratch, zeroShareBoolScratch } from './scratch.js';
import { expectWords, splitWords } from './wire.js';

/** A boolean replicated sharing of one bit-slice: this party's two components (W words each). */
export type SlicePair = readonly [U64, U64];

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
export function sl(a: U64, j: number, W: number): U64 {
  return a.subarray(j * W, (j + 1) * W);
}

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

export function xorPair(ctx: Context, a: SlicePair, b: SlicePair): SlicePair {
  return [ctx.k.xor(a[0], b[0]), ctx.k.xor(a[1], b[1])];
}

/** NOT of a boolean slice pair (flips component x0, held by parties 0 and 2). */
export function notPair(ctx: Context, p: SlicePair): SlicePair {
  if (ctx.party === 0) return [ctx.k.not(p[0]), p[1]];
  if (ctx.party === 2) return [p[0], ctx.k.not(p[1])];
  return p;
}

/** The slices of elements [lo, hi) (lo a multiple of 64; views, no copy). */
export function chunkBits(b: SlicePair, lo: number, hi: number): SlicePair {
  return [b[0].subarray(lo / 64, Math.ceil(hi / 64)), b[1].subarray(lo / 64, Math.ceil(hi / 64))];
}
