/**
 * 1/sqrt(x) for x in [2^-10, 2^24] on fixed-point shares (any RMSNorm input of a real model:
 * with s = sum(x^2) / 2^floor(log2 d), an RMS up to 2^12 = 4096 at any d; before: [2^-10, 2^12],
 * wrong for an RMS above ~90 at d = 768).
 *
 * Method:
 *   b_i = [x >= 2^i] and b_i * x, i = -9..24      ONE batched comparison whose bit-injection
 *                                                  round also multiplies the bits by x
 *                                                  (range-normalize.ts thresholdBitsTimes)
 *   level L = sum b_i, j = L - 10: x = x_n * 2^j with x_n in [1, 2)
 *   x_n = x * 2^-j and y0 = A - B x_n: integer combinations of the b_i x and x (local), at
 *   scales f + 24 and f + 34, then ONE truncation round for both (mul.ts truncEach)
 *   R = 2^(-j/2) at scale f + 12: an integer combination of the bits (local)
 *   g = x_n y0 (mulFixed), h = y0 / 2 (local: read at scale f + 1)
 *   [w, hR] = [-g h, h R]                           ONE fused product-truncation (hR kept
 *                                                  at scale f + 10: it is 2^-13 for x = 2^24)
 *   1/sqrt(x) = 2 hR (C + w)                        ONE fused product-truncation, to the
 *                                                  output scale (default f; opts.scale up to f + 9)
 * One Goldschmidt step with tuned constants: A = 1.26417, B = 0.28639 (y0 ~ 1/sqrt(x_n) on
 * [1, 2)) and C = 1.50037 instead of 3/2 minimise the step's result, relative error 3.7e-4
 * at most (protocols/fit/fit-nonlinear.ts); R at scale f + 12 adds < 1e-6, the fixed point
 * ~1e-5. Output unit: at scale f, 1/sqrt(2^24) = 2^-12 is only 64 units (relative error up to
 * 8e-3 at the top of the range); with opts.scale = f + 8 (what RMSNorm uses) it is 2^14 units,
 * and the relative error stays below 1e-3 over the whole range (test).
 * Truncated magnitudes: x_n, y0 below 2^(f + 34 + 1) = 2^53; the products below 2^(2f + 16);
 * all far below the 2^62 of a faithful truncation (trunc-faithful.ts). Every truncation here
 * is FAITHFUL whatever the context's default (probabilistic, 2^53 would fail with
 * probability 2^-11 per element).
 * Inputs beyond 2^24 (up to ~2^25) still normalise to x_n in [1, 4) with a larger error; far
 * beyond, and below 2^-10, the result is wrong.
 *
 * Cost (n elements): rounds = ltz + 8 (4 faithful truncation steps of 2 rounds each). The
 * comparison is over 34 n elements, bounded to f + 27 bits. Bytes over the three parties
 * beyond the comparison: 2 faithful stand-alone truncations (48 bytes each) and 4 fused
 * outputs (64 bytes each), trunc-faithful.ts.
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
const MIN_LOG2 = -9;
export const RSQRT_MAX_LOG2 = 24;
const MAX_LOG2 = RSQRT_MAX_LOG2;
/** extra scales of x_n and y0 before their truncation (x_n: exact; y0: B 2^-j to ~2^-10 relative) */
const XN_SCALE = MAX_LOG2;
const Y0_SCALE = MAX_LOG2 + 10;
/** extra scale of R = 2^(-j/2) (2^-12 for x = 2^24) */
export const RSQRT_R_SCALE = MAX_LOG2 / 2;
const R_SCALE = RSQRT_R_SCALE;
/** extra scale of hR = h R (small for large x) */
export const RSQRT_R_EXTRA = 10;
const R_EXTRA = RSQRT_R_EXTRA;
/** every truncation here is faithful whatever ctx's default: x_n and y0 reach 2^53 (probabilistic: 2^-11 failures per element) */
const FAITHFUL = { trunc: 'faithful' } as const;

export interface RsqrtOptions {
  /** scale of the result, in [ctx.f, ctx.f + 9] (default ctx.f); finer keeps the relative error for large x */
  readonly scale?: number;
}

/** rsqrt's range bits of x (rsqrtRange's result, for rsqrtSeed). */
export interface RsqrtRange {
  readonly bits: ArithShare[];
  readonly times: ArithShare[];
}

function checkRsqrtInput(ctx: Context, x: ArithShare, label: string): void {
  if (!(x instanceof ArithShare)) throw new TypeError(`${label}: x must be an ArithShare`);
  const f = ctx.f;
  if (x.scale !== f) throw new RangeError(`${label}: x must be at scale ctx.f = ${f}, got ${x.scale}`);
  if (f < 10 || f > 22) throw new RangeError(`${label}: needs 10 <= ctx.f <= 22, got ${f}`);
}

/**
 * rsqrt's first part (file header): b_i = [x >= 2^i] and b_i x, i = -9..24, for x at scale
 * ctx.f in [2^-10, 2^24]. ltz's rounds. A caller can run it beside other work
 * (rsqrt-scale.ts).
 */
export async function rsqrtRange(ctx: Context, x: ArithShare): Promise<RsqrtRange> {
  checkRsqrtInput(ctx, x, 'rsqrtRange');
  const log2t: number[] = [];
  for (let i = MIN_LOG2; i <= MAX_LOG2; i++) log2t.push(i);
  // x - 2^i lies within +-2^(MAX_LOG2 + 1) on the range: MAX_LOG2 + f + 2 signed bits (+1 spare)
  return thresholdBitsTimes(ctx, x, log2t, Math.min(64, MAX_LOG2 + ctx.f + 3), 'rsqrt.levels');
}

/**
 * rsqrt's second part: from x and its range rg, x_n = x 2^-j and y0 = A - B x_n (scale f, ONE
 * faithful truncation: 2 rounds) and R = 2^(-j/2) at scale f + RSQRT_R_SCALE (local).
 */
export async function rsqrtSeed(ctx: Context, x: ArithShare, rg: RsqrtRange): Promise<{ xn: ArithShare; y0: ArithShare; R: ArithShare }> {
  if (rg.bits.length !== MAX_LOG2 - MIN_LOG2 + 1 || rg.times.length !== rg.bits.length) throw new RangeError('rsqrtSeed: rg must come from rsqrtRange');
  const f = ctx.f;
  // level L -> j = L + MIN_LOG2 - 1
  const jOf = (L: number): number => L + MIN_LOG2 - 1;
  // x_n = x 2^-j at scale f + XN_SCALE (exact: j <= XN_SCALE); y0 = A - B x 2^-j at scale
  // f + Y0_SCALE (B 2^(Y0_SCALE - j) rounded per level); both truncated in one round
  const xnS = levelFunctionTimes(ctx, rg.times, x, (L) => 1n << BigInt(XN_SCALE - jOf(L)), f + XN_SCALE);
  const y0S = addPublic(ctx, levelFunctionTimes(ctx, rg.times, x, (L) => -encodeConst(RSQRT_B * 2 ** -jOf(L), Y0_SCALE), f + Y0_SCALE), RSQRT_A);
  const [xn, y0] = await truncEach(ctx, [{ x: xnS, bits: XN_SCALE }, { x: y0S, bits: Y0_SCALE }], FAITHFUL);
  const R = levelFunction(ctx, rg.bits, (L) => encodeConst(2 ** (-jOf(L) / 2), f + R_SCALE), x.shape, f + R_SCALE);
  return { xn, y0, R };
}

/** 1/sqrt(x) for x in [2^-10, 2^24], elementwise, at scale opts.scale (default ctx.f). */
export async function rsqrt(ctx: Context, x: ArithShare, opts: RsqrtOptions = {}): Promise<ArithShare> {
  checkRsqrtInput(ctx, x, 'rsqrt');
  const f = ctx.f;
  const outScale = opts.scale ?? f;
  if (!Number.isInteger(outScale) || outScale < f || outScale > f + R_EXTRA - 1) throw new RangeError(`rsqrt: scale must be an integer in [${f}, ${f + R_EXTRA - 1}], got ${outScale}`);
  if (x.size === 0) return x;
  const { xn, y0, R } = await rsqrtSeed(ctx, x, await rsqrtRange(ctx, x));
  // hR is kept R_EXTRA bits finer than f: for large x it is small (2^-7 at x = 2^12)
  const g = await mulFixed(ctx, xn, y0, FAITHFUL);
  const h = withScale(y0, f + 1); // y0 / 2
  const [w, hR] = await mulTruncEach(ctx, [
    { x: neg(ctx, g), y: h, bits: f + 1 }, // scale f
    { x: R, y: h, bits: f + 1 + R_SCALE - R_EXTRA }, // scale f + R_EXTRA
  ], FAITHFUL);
  // 2 hR (C - g h) at the output scale
  return mulTrunc(ctx, withScale(hR, f + R_EXTRA - 1), addPublic(ctx, w, RSQRT_C), 2 * f + R_EXTRA - 1 - outScale, { scale: outScale, ...FAITHFUL });
}
