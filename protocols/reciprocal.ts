/**
 * 1/x for x in [1, 2^K] (K = maxLog2, default 14) on fixed-point shares.
 *
 * Method:
 *   b_i = [x >= 4^i], i = 1..J, J = ceil(K/2)     ONE batched comparison (range-normalize.ts),
 *                                                  bounded to K + f + 2 bits
 *   level L = sum b_i, so x = x_n * 4^L with x_n in [1, 4); M = 4^-L is an integer
 *   combination of the bits at scale 2J (local)
 *   [x_n, (3/16) x_n] = x * [M, 3M/16]              ONE mulFixed (two products)
 *   y0 = a - (3/16) x_n (a = 0.9596348; |1 - x_n y0| <= 0.228, fit-nonlinear.ts)
 *   Goldschmidt: e = 1 - x_n y0 (mulFixed); then [y (1 + e), e^2] twice (ONE mulFixed each),
 *   and y (1 + e^4): y = y0 (1 + e)(1 + e^2)(1 + e^4), relative error e^8 <= 7.3e-6
 *   1/x = y * M                                    mulFixed (or a plain mul for a finer scale)
 * Output scale: ctx.f by default (then the error is ~1e-5 relative plus one unit, 2^-f,
 * which dominates for large x: 1/2^14 is only 16 units at f = 18); opts.scale up to f + 2J
 * gives relative error <= 1e-4 over the whole range (at f + 2J there is no truncation at all:
 * y * 4^(J-L) read at scale f + 2J).
 * Inputs outside [1, 2^K] give wrong results (x < 1: no normalisation; x > 4^J: x_n >= 4;
 * slightly beyond still converges). Truncation failure: every truncated value is below
 * 2^(f + 2J + 6) or 2^(2f + 3), i.e. probability < 2^-25 per truncation at f = 18, K = 14.
 *
 * Cost (n elements): rounds = ltz + 6 (one per fused mulFixed; 13 at f = 18, K = 14). Bytes
 * per element per party: J * ltz (bounded width, ~23.5 bytes each) + 40/3 * 9 (products: 2
 * for the normalisation, 1 + 2 + 2 + 1 Goldschmidt, 1 final; mul.ts) = ~285 at K = 14.
 *
 * Reveals nothing: a fixed composition of ltz, mulFixed / mul and trunc (each message masked,
 * see msb.ts, conversions.ts and mul.ts); the program does not depend on x.
 */
import type { Context } from './context.js';
import { addPublic, publicSub, withScale } from './linear.js';
import { mul, mulFixed, trunc } from './mul.js';
import { levelFunction, thresholdBits } from './range-normalize.js';
import { scaledRows, stack, unstack } from './batching.js';
import { ArithShare } from './types.js';

/** y0 = RECIP_INIT - (3/16) x on [1, 4) (fit-nonlinear.ts) */
export const RECIP_INIT = 0.95963478179174522;

export interface ReciprocalOptions {
  /** inputs lie in [1, 2^maxLog2] (default 14; 1..40) */
  readonly maxLog2?: number;
  /** scale of the result, in [ctx.f, ctx.f + 2 ceil(maxLog2 / 2)] (default ctx.f) */
  readonly scale?: number;
  /**
   * Approximate range bits (compare.ts dropBits = k, default 0): x in [4^i, 4^i + 2^(k+1)
   * ulps) may get level i - 1, i.e. x_n up to 4 + 2^(k+1-f); Goldschmidt still meets its
   * bound there while 2^(k+1-f) <= 1/8 (|1 - x_n y0| <= 0.232 at x_n = 4.125). Checked.
   */
  readonly dropBits?: number;
}

/** 1/x for x in [1, 2^maxLog2] (default [1, 2^14]), elementwise. */
export async function reciprocal(ctx: Context, x: ArithShare, opts: ReciprocalOptions = {}): Promise<ArithShare> {
  if (!(x instanceof ArithShare)) throw new TypeError('reciprocal: x must be an ArithShare');
  const f = ctx.f;
  if (x.scale !== f) throw new RangeError(`reciprocal: x must be at scale ctx.f = ${f}, got ${x.scale}`);
  const K = opts.maxLog2 ?? 14;
  const J = Math.ceil(K / 2);
  if (!Number.isInteger(K) || K < 1 || K > 40 || f + 2 * J + 6 > 62) throw new RangeError(`reciprocal: maxLog2 must be an integer in [1, 40] with f + maxLog2 + 7 <= 62, got ${K}`);
  const outScale = opts.scale ?? f;
  if (!Number.isInteger(outScale) || outScale < f || outScale > f + 2 * J) throw new RangeError(`reciprocal: scale must be an integer in [${f}, ${f + 2 * J}], got ${outScale}`);
  const shape = x.shape;
  if (x.size === 0) return withScale(x, outScale);
  const thresholds = Array.from({ length: J }, (_, i) => 2 * (i + 1));
  // |x - 4^i| < 4^J <= 2^(K+1) on the range: K + f + 2 signed bits suffice
  const drop = opts.dropBits ?? 0;
  if (!Number.isInteger(drop) || drop < 0 || 2 ** (drop + 1 - f) > 1 / 8) throw new RangeError(`reciprocal: dropBits must be an integer in [0, ${f - 4}], got ${drop}`);
  const bits = await thresholdBits(ctx, x, thresholds, Math.min(64, K + f + 3), drop);
  const M = levelFunction(ctx, bits, (L) => 1n << BigInt(2 * (J - L)), shape, 2 * J); // 4^-L at scale 2J
  // [x_n, 3 x_n / 16] in one mulFixed: the multipliers at scale 2J + 4 are 16 M and 3 M
  const rows = scaledRows(ctx, M, [16n, 3n], 2 * J + 4);
  const [xn, bx] = unstack(await mulFixed(ctx, stack([x, x], f), rows), [shape, shape], f);
  let y = publicSub(ctx, RECIP_INIT, bx);
  let e = publicSub(ctx, 1, await mulFixed(ctx, xn, y));
  for (let it = 0; it < 2; it++) {
    const onePlusE = addPublic(ctx, e, 1);
    [y, e] = unstack(await mulFixed(ctx, stack([y, e], f), stack([onePlusE, e], f)), [shape, shape], f);
  }
  y = await mulFixed(ctx, y, addPublic(ctx, e, 1));
  if (outScale === f) return mulFixed(ctx, y, M);
  const z = withScale(await mul(ctx, y, withScale(M, 0)), f + 2 * J); // y * 4^(J-L) = 4^J / x
  return outScale === f + 2 * J ? z : trunc(ctx, z, f + 2 * J - outScale);
}
