/**
 * exp(x) for x <= 0 on fixed-point shares (scale ctx.f), clipped to 0 where x < -14.
 *
 * Method (docs/MPCACHE.md §4, docs/PROTOCOLS.md "Non-linear functions": clip + range reduction + repeated squaring, with a better
 * base than (1 + x/256)):
 *   k = [x + 14 < 0] (sign bits, boolean)            one batched msb (msb.ts)
 *   c = 1 - k,  u = c * x = x - k * x                ONE round: the bit injection of k and
 *                                                    the product k * x together (bitTimes)
 *   t = u / 16,  a = u * q3,  b = u * q4             ONE truncation of [u*E1, u*E3, u*E4]
 *                                                    (E = public integers, q = E / 2^f)
 *   t^2, t*b                                         ONE mulFixed (fused, 1 round)
 *   P = c + c1 t + c2 t^2 + t^2 (a + t*b)            the product t^2 (a + t b) and the sum
 *     = c + c1 t + c2 t^2 + c3 t^3 + c4 t^4          truncated together: ONE fused round
 *                                                    (mul.ts truncTerms)
 *   exp(x) ~ P^16                                    4 squarings (mulFixed, 1 round each)
 * P(t) = 1 + c1 t + ... + c4 t^4 is a relative-minimax fit of e^t on [-14/16, 0]
 * (protocols/fit/fit-nonlinear.ts: relative error 9.6e-6, so P^16 is within 1.6e-4 relative);
 * c3 = 16 E3 / 2^f and c4 = 16 E4 / 2^f carry the constants' rounding (< 3.1e-5 absolute,
 * relative effect on exp < 4e-4 * (|x|/14)^3). Where c = 0 every term is 0, so the result is
 * exactly 0 (and no intermediate value can be large, whatever x is). exp(0) = 1 exactly.
 * Fixed-point error: each truncation is within one unit (2^-f) and the squarings amplify
 * the base's error at most 16-fold: |error| <= 3e-4 on [-14, 0] at f = 18 (float64
 * simulation max ~1.5e-4; softmax built on it ~1.5e-4 per probability). (5 squarings of a
 * fit on [-14/32, 0] measured about the same error for one more round: 4 is the optimum;
 * 3 squarings reach ~1e-3.) Truncation failure (ABY3, probability |v|/2^64 for the
 * value v being truncated): every truncated value here is below 2^36 (values <= 1 at scale
 * 2f), so < 2^-28 per truncation, 7 truncations per element.
 *
 * Inputs must be <= 0 (the result for x > 0 is not e^x beyond ~x = 0.1 and grows out of
 * range for large x). Inputs below -14 (any magnitude that fits the ring) give exactly 0.
 *
 * Cost (n elements): rounds = msb + 8 = ltz + 7 (opts.bitWidth shrinks the msb). Bytes sent
 * per element over the three parties: msb, the bitTimes round (bit and one product), one
 * stand-alone truncation of 3 values (8 bytes each from one party, the role rotating over
 * chunks), and 7 fused product-truncations (40 bytes each, mul.ts).
 * Reveals nothing: it is a fixed composition of msb, bitTimes, mulFixed, truncTerms and trunc, whose
 * messages are each masked by fresh zero sharings / pairwise PRG words the receiver lacks
 * (msb.ts, conversions.ts, mul.ts); the program (which messages, their sizes) does not depend on x.
 */
import type { Context } from './context.js';
import { bitTimesSlicedBalanced, msbSlicedBalanced } from './balanced.js';
import { add, addPublic, mulPublicInt, publicSub, sub } from './linear.js';
import { mulFixed, productTerm, trunc, truncTerms } from './mul.js';
import { ArithShare, anArith } from './types.js';
import { encodeConst, scaledRows, stack, unstack } from './batching.js';

/** exp(t) - 1 ~ sum_k EXP_POLY[k-1] t^k on [-14/16, 0] (relative minimax, fit-nonlinear.ts). */
export const EXP_POLY: readonly number[] = [0.99970272952029549, 0.49691371529195649, 0.15625985257477495, 0.027019313431930012];
/** exp(x) = P(x / 2^EXP_SQUARINGS) ^ (2^EXP_SQUARINGS) */
export const EXP_SQUARINGS = 4;
/** inputs below this are clipped to exp = 0 */
export const EXP_CLIP = -14;

export interface ExpOptions {
  /**
   * Promise that -2^(bitWidth-1) <= x + 14 < 2^(bitWidth-1) in ring units (x * 2^f); the
   * clipping comparison then uses a smaller circuit (compare.ts). Default 64 (no promise).
   */
  readonly bitWidth?: number;
  /**
   * Approximate clip (compare.ts dropBits = k): x + 14 in [0, 2^(k+1)) ulps may be clipped
   * to 0 (an error below e^-14 + ... < 1e-6). Default 0.
   */
  readonly dropBits?: number;
}

/**
 * exp(x) for x <= 0 at scale ctx.f; exactly 0 where x < -14. Elementwise, any shape.
 * |error| <= 3e-4 on [-14, 0] (f = 18).
 */
export async function exp(ctx: Context, x: ArithShare, opts: ExpOptions = {}): Promise<ArithShare> {
  anArith(x, 'exp: x');
  const f = ctx.f;
  if (x.scale !== f) throw new RangeError(`exp: x must be at scale ctx.f = ${f}, got ${x.scale}`);
  const shape = x.shape;
  if (x.size === 0) return x;
  // k = [x + 14 < 0]; c = 1 - k and u = c * x = x - k * x from one round
  const e = await msbSlicedBalanced(ctx, addPublic(ctx, x, -EXP_CLIP), 'exp.clip', opts.bitWidth ?? 64, opts.dropBits ?? 0);
  const { bit, prods } = await bitTimesSlicedBalanced(ctx, e, x.size, [x], true, 'exp.select');
  const c = publicSub(ctx, 1, bit!.reshape(shape));
  const u = sub(ctx, x, prods[0].reshape(shape)); // 0 below the clip, |u| <= 14 otherwise
  const m = 2 ** EXP_SQUARINGS;
  const e1 = encodeConst(1 / m, f); // exact
  const e3 = encodeConst(EXP_POLY[2] / m, f);
  const e4 = encodeConst(EXP_POLY[3] / m, f);
  const [t, a, b] = unstack(await trunc(ctx, scaledRows(ctx, u, [e1, e3, e4], 2 * f), f), [shape, shape, shape], f);
  const [t2, tb] = unstack(await mulFixed(ctx, stack([t, t], f), stack([t, b], f)), [shape, shape], f);
  // scale 2f: t^2 (a + t b) = c3 t^3 + c4 t^4, plus c + c1 t + c2 t^2, truncated together
  const k = ctx.k;
  const c1 = encodeConst(EXP_POLY[0], f);
  const c2 = encodeConst(EXP_POLY[1], f);
  const z = productTerm(ctx, t2, add(ctx, a, tb));
  k.add(z, mulPublicInt(ctx, c, 1n << BigInt(2 * f)).s0, z);
  k.add(z, mulPublicInt(ctx, t, c1).s0, z);
  k.add(z, mulPublicInt(ctx, t2, c2).s0, z);
  let y = await truncTerms(ctx, z, shape, f, f);
  for (let i = 0; i < EXP_SQUARINGS; i++) y = await mulFixed(ctx, y, y);
  return y;
}
