/**
 * 1/sqrt(x) for x in [2^-10, 2^12] (covers the documented [1e-3, 2^12]) on fixed-point shares.
 *
 * Method:
 *   b_i = [x >= 2^i] and b_i * x, i = -9..12      ONE batched comparison whose bit-injection
 *                                                  round also multiplies the bits by x
 *                                                  (range-normalize.ts thresholdBitsTimes)
 *   level L = sum b_i, j = L - 10: x = x_n * 2^j with x_n in [1, 2)
 *   x_n = x * 2^-j and y0 = A - B x_n: integer combinations of the b_i x and x (local), at
 *   scales f + 12 and f + 22, then ONE truncation round for both (mul.ts truncEach)
 *   R = 2^(-j/2) at scale f: an integer combination of the bits (local)
 *   g = x_n y0 (mulFixed), h = y0 / 2 (local: read at scale f + 1)
 *   [w, hR] = [-g h, h R]                           ONE fused product-truncation (hR kept
 *                                                  at scale f + 4: it is 2^-7 for x = 2^12)
 *   1/sqrt(x) = 2 hR (C + w)                        ONE fused product-truncation
 * One Goldschmidt step with tuned constants: A = 1.26417, B = 0.28639 (y0 ~ 1/sqrt(x_n) on
 * [1, 2)) and C = 1.50037 instead of 3/2 minimise the step's result, relative error 3.7e-4
 * at most (protocols/fit/fit-nonlinear.ts); R's rounding adds at most 8.6e-5 (odd j), the
 * fixed point ~1e-5. Output at scale ctx.f: 1/sqrt(2^12) = 2^-6 is 4096 units at f = 18, so
 * the relative error stays below 1e-3 over the range (measured 5.6e-4: the fit plus one
 * output unit, 2.4e-4 of 2^-6).
 * Truncation failure: every truncated value is below 2^(f + 23) = 2^41 except the last
 * product 2 hR (C + w) at scale 2f + 4, below 2^(2f + 4 + 5.6) = 2^45.6 for x = 2^-10 (hR
 * <= 16; ~2^41 for x >= 1): probability below 2^-22 per truncated element for x >= 1 at
 * f = 18, 2^-17 at the very bottom of the range.
 *
 * Cost (n elements): rounds = ltz + 4 (the comparison over 22 n elements is ltz's rounds,
 * bounded to f + 15 bits). Bytes per element over the three parties: 22 comparisons with
 * their products, 2 stand-alone truncations (8 bytes each from one party), 4 fused
 * outputs (40 bytes each, mul.ts).
 *
 * Reveals nothing: a fixed composition of msb, bitTimes, trunc, mulFixed and mulTrunc;
 * nothing is opened.
 */
import type { Context } from './context.js';
import { addPublic, neg, withScale } from './linear.js';
import { mulFixed, mulTrunc, mulTruncEach, truncEach } from './mul.js';
import { levelFunction, levelFunctionTimes, thresholdBitsTimes } from './range-normalize.js';
import { encodeConst } from './batching.js';
import { ArithShare } from './types.js';

/** y0 = RSQRT_A - RSQRT_B x on [1, 2), then h (RSQRT_C - g h): the tuned one-step Goldschmidt constants */
export const RSQRT_A = 1.2641664214635373;
export const RSQRT_B = 0.2863854237228348;
export const RSQRT_C = 1.500371637963556;
/** thresholds 2^i for i in [MIN_LOG2, MAX_LOG2] */
export const MIN_LOG2 = -9;
export const MAX_LOG2 = 12;
/** extra scales of x_n and y0 before their truncation (x_n: exact; y0: B 2^-j to ~2^-10 relative) */
export const XN_SCALE = 12;
export const Y0_SCALE = 22;
/** extra scale of hR = h R (small for large x) */
export const R_EXTRA = 4;

/** 1/sqrt(x) for x in [2^-10, 2^12] (documented range [1e-3, 2^12]), elementwise, scale ctx.f. */
export async function rsqrt(ctx: Context, x: ArithShare): Promise<ArithShare> {
  if (!(x instanceof ArithShare)) throw new TypeError('rsqrt: x must be an ArithShare');
  const f = ctx.f;
  if (x.scale !== f) throw new RangeError(`rsqrt: x must be at scale ctx.f = ${f}, got ${x.scale}`);
  if (f < 10) throw new RangeError(`rsqrt: needs ctx.f >= 10, got ${f}`);
  const shape = x.shape;
  if (x.size === 0) return x;
  const log2t: number[] = [];
  for (let i = MIN_LOG2; i <= MAX_LOG2; i++) log2t.push(i);
  // x - 2^i lies within +-2^13 on the range: 13 + f + 1 signed bits (+1 spare)
  const { bits, times } = await thresholdBitsTimes(ctx, x, log2t, Math.min(64, MAX_LOG2 + f + 3), 'rsqrt.levels');
  // level L -> j = L + MIN_LOG2 - 1
  const jOf = (L: number): number => L + MIN_LOG2 - 1;
  // x_n = x 2^-j at scale f + XN_SCALE (exact: j <= XN_SCALE); y0 = A - B x 2^-j at scale
  // f + Y0_SCALE (B 2^(Y0_SCALE - j) rounded per level); both truncated in one round
  const xnS = levelFunctionTimes(ctx, times, x, (L) => 1n << BigInt(XN_SCALE - jOf(L)), f + XN_SCALE);
  const y0S = addPublic(ctx, levelFunctionTimes(ctx, times, x, (L) => -encodeConst(RSQRT_B * 2 ** -jOf(L), Y0_SCALE), f + Y0_SCALE), RSQRT_A);
  const [xn, y0] = await truncEach(ctx, [{ x: xnS, bits: XN_SCALE }, { x: y0S, bits: Y0_SCALE }]);
  const R = levelFunction(ctx, bits, (L) => encodeConst(2 ** (-jOf(L) / 2), f), shape, f);
  // hR is kept R_EXTRA bits finer than f: for large x it is small (2^-7 at x = 2^12)
  const g = await mulFixed(ctx, xn, y0);
  const h = withScale(y0, f + 1); // y0 / 2
  const [w, hR] = await mulTruncEach(ctx, [
    { x: neg(ctx, g), y: h, bits: f + 1 }, // scale f
    { x: R, y: h, bits: f + 1 - R_EXTRA }, // scale f + R_EXTRA
  ]);
  // 2 hR (C - g h) at scale f
  return mulTrunc(ctx, withScale(hR, f + R_EXTRA - 1), addPublic(ctx, w, RSQRT_C), f + R_EXTRA - 1, { scale: f });
}
