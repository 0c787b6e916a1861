/**
 * softmax over the last axis of fixed-point shares, with an optional public 0/1 mask
 * (0 = excluded, probability exactly 0: causal attention).
 *
 * Method (docs/MPCACHE.md §4, docs/PROTOCOLS.md "Non-linear functions"):
 *   x' = x where mask = 1, -(2B + 16) where mask = 0           local (public mask)
 *   m = max(x') over the row                                  core max: comparison tree
 *   e = exp(x' - m)                                           exp.ts: 0 exactly below -14,
 *                                                             so masked positions give 0
 *   s = sum(e) over the row, in [1, n] (the max gives exp(0) = 1 exactly)     local
 *   r = 1/s                                                   ONE reciprocal per row
 *   p = e * r                                                 mulFixed
 * Range: |logit| <= B = opts.maxAbsLogit. Default B = defaultMaxAbsLogit(f) = 2^(62 - 2f)
 * (2^26 at f = 18): every value a faithful truncation (trunc-faithful.ts) can output at scale
 * f, so logits that come out of a product are always in range and the max and exp's clip can
 * never wrap (before: B = 1024 with 32-bit comparisons, documented as 31, exact only while pairwise differences
 * stayed below 2^12, so [5000, -4000, 0] gave garbage). A caller passing a smaller B promises
 * it (not checked: larger logits then give wrong results). All compared differences lie within
 * +-(3B + 16), so every comparison (max tree, exp's clip) uses the bounded circuit of width
 * ceil(log2((3B + 16) 2^f)) + 2 bits (48 at the default, f = 18; 32 at B = 1024). exp(x - m)
 * is exactly 0 for x - m < -14 whatever the magnitude within that width, so large negative
 * differences saturate to probability 0.
 * Accuracy: at f = 18 the max error per probability is ~1.3e-4 (float64 simulation, worst
 * cases: many equal small logits; target 2e-3 for logits in [-64, 64]). Every row must keep
 * at least one position (checked: the mask is public).
 *
 * Cost for rows x n: rounds = max(n) + (ltz + 7) (exp) + (ltz' + 6) (reciprocal) + 1,
 * where max(n) follows tournament-plan.ts tournamentPlan (group sizes chosen for the shape), ltz is
 * the bounded comparison above and ltz' the reciprocal's own (ceil(K/2) thresholds,
 * K = ceil(log2(n + 1))); bytes: the sum of the parts (asserted by the test).
 *
 * Reveals nothing: max, exp, reciprocal and mulFixed reveal nothing (their headers), and the
 * only data-dependent choices are on the public mask and shape.
 */
import type { Context } from './context.js';
import { max } from './max.js';
import { exp } from './exp.js';
import { broadcastLast, sub, sumAxis } from './linear.js';
import { mulFixed } from './mul.js';
import { reciprocal } from './reciprocal.js';
import { publicComponents } from './sharing.js';
import { ArithShare, PublicTensor } from './types.js';

export interface SoftmaxOptions {
  /**
   * 0/1 per position (0 = masked out), scale 0, with x's shape or a suffix of it (then it is
   * repeated over the leading axes, e.g. a [T, T] causal mask for [heads, T, T] scores).
   */
  readonly mask?: PublicTensor;
  /** promise: |x| <= maxAbsLogit everywhere (default defaultMaxAbsLogit(f), 2^26 at f = 18); bounds the comparison circuits */
  readonly maxAbsLogit?: number;
}

/** the default logit bound: 2^(62 - 2f) (what a faithful truncation can output), reduced to meet (3B + 16) 2^f < 2^61 */
export function defaultMaxAbsLogit(f: number): number {
  return Math.max(1, Math.min(2 ** (62 - 2 * f), Math.floor((2 ** (61 - f) - 16) / 3) - 1));
}

/** the logit given to masked positions for a bound B: below every real logit by more than 14 + B */
export function maskedLogit(maxAbsLogit: number): number {
  return -(2 * maxAbsLogit + 16);
}

/** comparison width for differences within +-(3B + 16) at scale f */
export function softmaxBitWidth(maxAbsLogit: number, f: number): number {
  return Math.min(64, Math.ceil(Math.log2((3 * maxAbsLogit + 16) * 2 ** f)) + 2);
}

function applyMask(ctx: Context, x: ArithShare, mask: PublicTensor, maskedValue: number): ArithShare {
  const sh = x.shape;
  const ms = mask.shape;
  if (ms.length > sh.length || ms.some((d, i) => d !== sh[sh.length - ms.length + i])) {
    throw new RangeError(`softmax: mask shape [${ms.join(',')}] must be a suffix of x's shape [${sh.join(',')}]`);
  }
  if (mask.scale !== 0) throw new RangeError('softmax: mask must have scale 0');
  const n = sh[sh.length - 1];
  const m = mask.data;
  for (let i = 0; i < m.length; i++) {
    if (m[i] !== 0n && m[i] !== 1n) throw new RangeError(`softmax: mask entries must be 0 or 1 (index ${i})`);
  }
  for (let r = 0; r < m.length / n; r++) {
    let any = false;
    for (let j = 0; j < n && !any; j++) any = m[r * n + j] === 1n;
    if (!any) throw new RangeError(`softmax: mask row ${r} excludes every position`);
  }
  const k = ctx.k;
  const reps = x.size / m.length;
  const full = reps === 1 ? m : new BigUint64Array(x.size);
  if (reps !== 1) for (let t = 0; t < reps; t++) full.set(m, t * m.length);
  const masked = BigInt.asUintN(64, BigInt(maskedValue) << BigInt(x.scale));
  const fill = new BigUint64Array(x.size);
  for (let i = 0; i < x.size; i++) if (full[i] === 0n) fill[i] = masked;
  const [p0, p1] = publicComponents(ctx, fill);
  return new ArithShare(sh, k.add(k.mul(x.s0, full), p0, p0), k.add(k.mul(x.s1, full), p1, p1), x.scale);
}

/** softmax over the last axis (fixed point at ctx.f). */
export async function softmax(ctx: Context, x: ArithShare, opts: SoftmaxOptions = {}): Promise<ArithShare> {
  if (!(x instanceof ArithShare)) throw new TypeError('softmax: x must be an ArithShare');
  if (x.scale !== ctx.f) throw new RangeError(`softmax: x must be at scale ctx.f = ${ctx.f}, got ${x.scale}`);
  if (x.shape.length === 0) throw new RangeError('softmax: x must have at least one axis');
  const n = x.shape[x.shape.length - 1];
  if (n < 1) throw new RangeError('softmax: the last axis is empty');
  if (opts.mask !== undefined && !(opts.mask instanceof PublicTensor)) throw new TypeError('softmax: mask must be a PublicTensor');
  const B = opts.maxAbsLogit ?? defaultMaxAbsLogit(ctx.f);
  if (!Number.isInteger(B) || B < 1 || (3 * B + 16) * 2 ** ctx.f >= 2 ** 61) throw new RangeError(`softmax: maxAbsLogit must be a positive integer with (3B + 16) 2^f < 2^61, got ${B}`);
  if (x.size === 0) return x;
  const bitWidth = softmaxBitWidth(B, ctx.f);
  const xm = opts.mask === undefined ? x : applyMask(ctx, x, opts.mask, maskedLogit(B));
  const m = await max(ctx, xm, { bitWidth });
  const e = await exp(ctx, sub(ctx, xm, broadcastLast(ctx, m, n)), { bitWidth });
  const s = sumAxis(ctx, e);
  const r = await reciprocal(ctx, s, { maxLog2: Math.max(1, Math.ceil(Math.log2(n + 1))) });
  return mulFixed(ctx, e, broadcastLast(ctx, r, n));
}
