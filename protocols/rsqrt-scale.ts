/**
 * u * rsqrt(x): rsqrt.ts's method with the product by u folded into its Goldschmidt rounds,
 * in two parts so that a caller can run the range normalisation beside other work (the
 * decode step: beside the projection that produces u).
 *
 *   rsqrtRange(x)           rsqrt.ts: the range bits b_i = [x >= 2^i] and b_i x, i = -9..24
 *                           (range-normalize.ts thresholdBitsTimes): ltz's rounds
 *   scaleByRsqrt(x, rg, u)  for x [T, 1] and u [T, w] (scale ctx.f):
 *     [x_n, y0], R            ONE truncation, R local (rsqrt.ts rsqrtSeed)
 *     [g, uR] = [x_n y0, u R]         ONE fused product-truncation (rsqrt: g alone); uR kept
 *                                     R_EXTRA bits finer than f
 *     [w, uRh] = [-g h, uR h]         ONE (h = y0 / 2; rsqrt: [-g h, h R]); uRh at f + R_EXTRA
 *     u / sqrt(x) = 2 uRh (C + w)     ONE (rsqrt: 2 hR (C + w), then the caller's product by u)
 * Every truncation is FAITHFUL whatever ctx's default, as in rsqrt.ts (2 rounds each), so
 * u * rsqrt(x) costs ltz + 8 rounds, as rsqrt(x) alone, instead of ltz + 8 + 2 (rsqrt, then
 * the product by u).
 * Range and constants: rsqrt.ts's (x in [2^-10, 2^24]; R = 2^(-j/2) at scale f + 12, up to
 * 2^5 at x = 2^-10). The product by R comes first (u R, then times h) so that the unit lost
 * to a truncation is never multiplied by R afterwards: with R up to 2^5, truncating u h at
 * scale f and multiplying by R (the former order) would lose up to 64 units at x = 2^-10.
 * Accuracy: rsqrt's relative error (3.7e-4 from the fit, R's rounding at f + 12 < 1e-6) on
 * every element of u, plus about one unit of 2^-f (the last truncation; the others are at
 * f + 10). No output-scale loss at large x: the product by u comes before the last
 * truncation, so u / sqrt(x) is truncated once, at scale f (rsqrt alone at scale f keeps only
 * 64 units of 1/sqrt(2^24)). Test: relative 1e-3 plus 4 units over [2^-10, 2^24].
 * Truncated magnitudes (faithful: each below 2^62): u R at scale 2f + 12, u R h at 2f + 11,
 * u / sqrt(x) at 2f + 9, i.e. |u| 2^(2f + 12 - j/2) and |u / sqrt(x)| 2^(2f + 12); at f = 18
 * below 2^62 while |u / sqrt(x)| < 2^14 (the normalised projection) and |u| < 2^(14 + j/2).
 * Cost: bytes as rsqrt's plus the fused products over T * w more elements (u R, u R h and the
 * last product, faithful form: trunc-faithful.ts).
 *
 * Reveals nothing: the messages of thresholdBitsTimes, truncEach and mulTruncEach / mulTrunc,
 * each masked as argued in their modules; nothing is opened.
 */
import type { Context } from './context.js';
import { addPublic, broadcastLast, neg, withScale } from './linear.js';
import { mulTrunc, mulTruncEach } from './mul.js';
import { RSQRT_C, RSQRT_R_EXTRA, RSQRT_R_SCALE, type RsqrtRange, rsqrtSeed } from './rsqrt.js';
import { ArithShare } from './types.js';

export { type RsqrtRange, rsqrtRange } from './rsqrt.js';

const FAITHFUL = { trunc: 'faithful' } as const;

/** u * rsqrt(x) for x [T, 1] with its range `rg` (rsqrtRange(x)) and u [T, w], all at scale ctx.f. ltz + 8 rounds with rsqrtRange. */
export async function scaleByRsqrt(ctx: Context, x: ArithShare, rg: RsqrtRange, u: ArithShare): Promise<ArithShare> {
  const f = ctx.f;
  if (!(u instanceof ArithShare) || u.scale !== f || u.shape.length !== 2) throw new RangeError(`scaleByRsqrt: u must be [T, w] at scale ${f}`);
  if (!(x instanceof ArithShare) || x.shape.length !== 2 || x.shape[1] !== 1 || x.shape[0] !== u.shape[0]) throw new RangeError(`scaleByRsqrt: x must be [${u.shape[0]}, 1]`);
  const w = u.shape[1];
  const E = RSQRT_R_EXTRA;
  const { xn, y0, R } = await rsqrtSeed(ctx, x, rg);
  const h = withScale(y0, f + 1); // y0 / 2
  const [g, uR] = await mulTruncEach(ctx, [
    { x: xn, y: y0, bits: f }, // scale f
    { x: u, y: broadcastLast(ctx, R, w), bits: f + RSQRT_R_SCALE - E }, // u R at scale f + E
  ], FAITHFUL);
  const [wv, uRh] = await mulTruncEach(ctx, [
    { x: neg(ctx, g), y: h, bits: f + 1 }, // scale f
    { x: uR, y: broadcastLast(ctx, h, w), bits: f + 1 }, // u R y0 / 2 at scale f + E
  ], FAITHFUL);
  // 2 uRh (C - g h) at scale f
  return mulTrunc(ctx, withScale(uRh, f + E - 1), broadcastLast(ctx, addPublic(ctx, wv, RSQRT_C), w), f + E - 1, { scale: f, ...FAITHFUL });
}
