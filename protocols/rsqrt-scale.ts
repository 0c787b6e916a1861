/**
 * u * rsqrt(x): rsqrt.ts's method with the product by u folded into its Goldschmidt rounds,
 * in two parts so that a caller can run the range normalisation beside other work (the
 * decode step: beside the projection that produces u).
 *
 *   rsqrtRange(x)           the range bits b_i = [x >= 2^i] and b_i x, i = -9..12 (rsqrt.ts,
 *                           range-normalize.ts thresholdBitsTimes): ltz's rounds
 *   scaleByRsqrt(x, rg, u)  for x [T, 1] and u [T, w] (scale ctx.f):
 *     [x_n, y0]              ONE truncation (as rsqrt)
 *     [g, uh] = [x_n y0, u h]         ONE fused product-truncation (h = y0 / 2; rsqrt: g alone)
 *     [w, uhR] = [-g h, uh R]         ONE (rsqrt: [-g h, h R]); uhR kept R_EXTRA bits finer
 *     u / sqrt(x) = 2 uhR (C + w)     ONE (rsqrt: 2 hR (C + w), then the caller's product by u)
 * so u * rsqrt(x) costs ltz + 4 rounds, as rsqrt(x) alone, instead of ltz + 5.
 * Accuracy: rsqrt's (relative 3.7e-4 from the fit, 8.6e-5 from R's rounding) on every element
 * of u, plus a unit or two of 2^-f (the products by u are truncated at the same scales as
 * rsqrt's). Range: x in [2^-10, 2^12] as rsqrt. Truncation failure: the truncated values are
 * rsqrt's times |u| (|u h| 2^(2f+1), |u h R| 2^(2f), |u / sqrt x| 2^(2f + R_EXTRA)), e.g.
 * below 2^45 for |u| <= 32 and x >= 1.
 * Cost: bytes as rsqrt's rounds plus the fused products over T * w more elements (40 bytes
 * each over the parties, mul.ts) in rounds 2 and 3 and the last round over T * w.
 *
 * Reveals nothing: the messages of thresholdBitsTimes, truncEach and mulTruncEach / mulTrunc,
 * each masked as argued in their modules; nothing is opened.
 */
import type { Context } from './context.js';
import { addPublic, broadcastLast, neg, withScale } from './linear.js';
import { mulTrunc, mulTruncEach, truncEach } from './mul.js';
import { levelFunction, levelFunctionTimes, thresholdBitsTimes } from './range-normalize.js';
import { MAX_LOG2, MIN_LOG2, RSQRT_A, RSQRT_B, RSQRT_C, R_EXTRA, XN_SCALE, Y0_SCALE } from './rsqrt.js';
import { encodeConst } from './batching.js';
import { ArithShare } from './types.js';

/** The range bits of rsqrt's argument (rsqrtRange's result, for scaleByRsqrt). */
export interface RsqrtRange {
  readonly bits: ArithShare[];
  readonly times: ArithShare[];
}

/** The range normalisation of x (scale ctx.f, x in [2^-10, 2^12]): ltz's rounds. */
export async function rsqrtRange(ctx: Context, x: ArithShare): Promise<RsqrtRange> {
  if (!(x instanceof ArithShare)) throw new TypeError('rsqrtRange: x must be an ArithShare');
  if (x.scale !== ctx.f) throw new RangeError(`rsqrtRange: x must be at scale ctx.f = ${ctx.f}, got ${x.scale}`);
  if (ctx.f < 10) throw new RangeError(`rsqrtRange: needs ctx.f >= 10, got ${ctx.f}`);
  const log2t: number[] = [];
  for (let i = MIN_LOG2; i <= MAX_LOG2; i++) log2t.push(i);
  return thresholdBitsTimes(ctx, x, log2t, Math.min(64, MAX_LOG2 + ctx.f + 3), 'rsqrt.levels');
}

/** u * rsqrt(x) for x [T, 1] with its range `rg` (rsqrtRange(x)) and u [T, w], all at scale ctx.f. 4 rounds. */
export async function scaleByRsqrt(ctx: Context, x: ArithShare, rg: RsqrtRange, u: ArithShare): Promise<ArithShare> {
  const f = ctx.f;
  if (!(u instanceof ArithShare) || u.scale !== f || u.shape.length !== 2) throw new RangeError(`scaleByRsqrt: u must be [T, w] at scale ${f}`);
  if (x.shape.length !== 2 || x.shape[1] !== 1 || x.shape[0] !== u.shape[0]) throw new RangeError(`scaleByRsqrt: x must be [${u.shape[0]}, 1]`);
  if (rg.bits.length !== MAX_LOG2 - MIN_LOG2 + 1 || rg.times.length !== rg.bits.length) throw new RangeError('scaleByRsqrt: rg must come from rsqrtRange');
  const w = u.shape[1];
  const jOf = (L: number): number => L + MIN_LOG2 - 1;
  const xnS = levelFunctionTimes(ctx, rg.times, x, (L) => 1n << BigInt(XN_SCALE - jOf(L)), f + XN_SCALE);
  const y0S = addPublic(ctx, levelFunctionTimes(ctx, rg.times, x, (L) => -encodeConst(RSQRT_B * 2 ** -jOf(L), Y0_SCALE), f + Y0_SCALE), RSQRT_A);
  const [xn, y0] = await truncEach(ctx, [{ x: xnS, bits: XN_SCALE }, { x: y0S, bits: Y0_SCALE }]);
  const R = levelFunction(ctx, rg.bits, (L) => encodeConst(2 ** (-jOf(L) / 2), f), x.shape, f);
  const h = withScale(y0, f + 1); // y0 / 2
  const [g, uh] = await mulTruncEach(ctx, [
    { x: xn, y: y0, bits: f }, // scale f
    { x: u, y: broadcastLast(ctx, h, w), bits: f + 1 }, // u y0 / 2 at scale f
  ]);
  const [wv, uhR] = await mulTruncEach(ctx, [
    { x: neg(ctx, g), y: h, bits: f + 1 }, // scale f
    { x: uh, y: broadcastLast(ctx, R, w), bits: f - R_EXTRA }, // scale f + R_EXTRA
  ]);
  // 2 uhR (C - g h) at scale f
  return mulTrunc(ctx, withScale(uhR, f + R_EXTRA - 1), broadcastLast(ctx, addPublic(ctx, wv, RSQRT_C), w), f + R_EXTRA - 1, { scale: f });
}
