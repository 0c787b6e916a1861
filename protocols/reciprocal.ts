/**
 * 1/x for x in [1, 2^K] (K = maxLog2, default 14) on fixed-point shares.
 *
 * Method:
 *   b_i = [x >= 2^i], i = 1..K                  ONE batched comparison (normalize.ts)
 *   level L = sum b_i, so x = x_n * 2^L with x_n in [1, 2);  M = 2^-L is an integer
 *   combination of the bits at scale K (local)
 *   x_n = x * M                                  mulFixed (exact product, one truncation)
 *   y0 = a - x_n / 2 (a = 1.4641016, |1 - x_n y0| <= 0.0718; free: x_n's share read at
 *   scale f+1 is x_n/2)
 *   Goldschmidt: e = 1 - x_n y0 (mulFixed); [y1, e^2] = [y0 (1 + e), e * e] (ONE mulFixed);
 *   y2 = y1 (1 + e^2) (mulFixed), relative error e^4 <= 2.7e-5
 *   1/x = y2 * M                                 mulFixed (or a plain mul for a finer scale)
 * Output scale: ctx.f by default (then the error is at most ~3e-5 relative plus one unit,
 * 2^-f, which dominates for large x: 1/2^14 is only 16 units at f = 18); opts.scale up to
 * f + K gives relative error <= 1e-4 over the whole range (at f + K no truncation at all:
 * y2 * M read at scale f + K).
 * Inputs outside [1, 2^K] give wrong results (x < 1: no normalisation; x > 2^K: x_n >= 2,
 * slightly beyond it still converges). Truncation failure: every truncated value is below
 * 2^(f+K+1) or 2^(2f+2), i.e. probability < 2^-30 per truncation at f = 18, K = 14.
 *
 * Cost (n elements): rounds = ltz + 5 * 2 = ltz + 10 (18; the comparison is bounded to
 * K + f + 2 bits, compare.ts bitWidth). Bytes per element per party:
 * K * ltz(per element) + 8 * 6 (products: x*M, x_n*y0, 2 in the Goldschmidt step, y1*(1+e^2),
 * y2*M) [+ 8/3 when a truncation to opts.scale in (f, f+K) follows a plain mul].
 *
 * Reveals nothing: a fixed composition of ltz, mulFixed / mul and trunc (each message masked,
 * see boolean.ts and mul.ts); the program does not depend on x.
 */
import type { Context } from './context.js';
import { addPublic, mulPublicInt, publicSub, withScale } from './linear.js';
import { mul, mulFixed, trunc } from './mul.js';
import { levelFunction, thresholdBits } from './normalize.js';
import { stack, unstack } from './batching.js';
import { ArithShare } from './types.js';

/** y0 = RECIP_INIT - x/2 on [1, 2) (fit-nonlinear.ts) */
export const RECIP_INIT = 1.4641016151381314;

export interface ReciprocalOptions {
  /** inputs lie in [1, 2^maxLog2] (default 14; 1..40) */
  readonly maxLog2?: number;
  /** scale of the result, in [ctx.f, ctx.f + maxLog2] (default ctx.f) */
  readonly scale?: number;
}

/** 1/x for x in [1, 2^maxLog2] (default [1, 2^14]), elementwise. */
export async function reciprocal(ctx: Context, x: ArithShare, opts: ReciprocalOptions = {}): Promise<ArithShare> {
  if (!(x instanceof ArithShare)) throw new TypeError('reciprocal: x must be an ArithShare');
  const f = ctx.f;
  if (x.scale !== f) throw new RangeError(`reciprocal: x must be at scale ctx.f = ${f}, got ${x.scale}`);
  const K = opts.maxLog2 ?? 14;
  if (!Number.isInteger(K) || K < 1 || K > 40 || f + K > 62) throw new RangeError(`reciprocal: maxLog2 must be an integer in [1, 40] with f + maxLog2 <= 62, got ${K}`);
  const outScale = opts.scale ?? f;
  if (!Number.isInteger(outScale) || outScale < f || outScale > f + K) throw new RangeError(`reciprocal: scale must be an integer in [${f}, ${f + K}], got ${outScale}`);
  const shape = x.shape;
  if (x.size === 0) return withScale(x, outScale);
  const thresholds = Array.from({ length: K }, (_, i) => i + 1);
  // |x - 2^i| < 2^K for x in [1, 2^K]: the comparison needs K + f + 1 signed bits (+1 spare)
  const bits = await thresholdBits(ctx, x, thresholds, Math.min(64, K + f + 2));
  const M = levelFunction(ctx, bits, (L) => 1n << BigInt(K - L), shape, K); // 2^-L at scale K
  const xn = await mulFixed(ctx, x, M);
  const y0 = publicSub(ctx, RECIP_INIT, withScale(xn, f + 1)); // scale f+1
  const e = publicSub(ctx, 1, await mulFixed(ctx, xn, y0));
  const twoE = withScale(mulPublicInt(ctx, e, 2), f + 1); // e at scale f+1
  const onePlusE = addPublic(ctx, e, 1);
  const [y1, e2] = unstack(await mulFixed(ctx, stack([y0, twoE], f + 1), stack([onePlusE, e], f)), [shape, shape], f);
  const y2 = await mulFixed(ctx, y1, addPublic(ctx, e2, 1));
  if (outScale === f) return mulFixed(ctx, y2, M);
  const z = withScale(await mul(ctx, y2, withScale(M, 0)), f + K); // y2 * 2^(K-L) = 2^K / x
  return outScale === f + K ? z : trunc(ctx, z, f + K - outScale);
}
