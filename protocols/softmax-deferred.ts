/**
 * softmax followed by a row-linear map, with the normalisation deferred: for scores x
 * [..., rows, n] and a map A that acts on each row linearly (attention: A(p) = p V),
 *   A(softmax(x)) = A(e) * (1 / sum(e))   per row, e = exp(x - max(x)),
 * so A(e) runs concurrently with the reciprocal (protocols/parallel.ts lanes) and one
 * product by 1/s per OUTPUT row replaces the product by 1/s per probability:
 *   m = max(x)            tournament (exact comparisons: its all-pairs groups need a
 *                         transitive order)
 *   e = exp(x - m)        exp.ts, its clip with approximate comparisons (compare.ts dropBits)
 *   s = sum(e)            local
 *   [1/s, A(e)]           ONE parallel: reciprocal (its range bits with dropBits) || A
 *   out = A(e) * (1/s)    ONE mulFixed
 * Range: |x| <= B = opts.maxAbsLogit, default softmax.ts's defaultMaxAbsLogit(f) (2^26 at
 * f = 18: every value a faithful truncation can output, so the scores of a product are always
 * in range); a smaller B is a promise as in softmax.ts. The comparisons have width
 * w = softmaxBitWidth(B, f) (48 at the default, 32 at B = 1024, f = 18). exp's clip drops k
 * low bits, the most that reach a narrower carry circuit (33, 17 or 9 bits: one round fewer
 * each) with k <= f - 3 (deferredPlan: 48 -> 33 bits at the default, 32 -> 17 at B = 1024):
 * exact outside a band of 2^(k+1) ulps; a clip misjudged within it zeroes exp(x) for x in
 * [-14, -14 + 2^(k+1-f)), i.e. below e^-13.75 < 1.1e-6. The reciprocal's range bits drop
 * max(0, w' - 17) (w' = its own width, from n; its bound holds within the band,
 * reciprocal.ts). s lies in [1, n] as in softmax.ts.
 * Accuracy vs float64 (softmax-deferred.test.ts): as softmax (~1.5e-4 per probability) times
 * |A| (the reciprocal's one-unit output error is shared with softmax.ts).
 *
 * Cost: rounds = max + exp + max(reciprocal, A) + 1 with the narrower comparisons; bytes:
 * the parts' (the reciprocal and A share rounds, each pays its own payload plus the
 * multiplexer's 8 header bytes per lane and message).
 *
 * Reveals nothing: a fixed composition of max, exp, reciprocal, A (the caller's protocol)
 * and mulFixed, none of which reveals anything; the lanes' messages are theirs, grouped.
 */
import type { Context } from './context.js';
import { exp } from './exp.js';
import { broadcastLast, sub, sumAxis } from './linear.js';
import { max } from './max.js';
import { mulFixed } from './mul.js';
import { parallel } from './parallel.js';
import { reciprocal } from './reciprocal.js';
import { defaultMaxAbsLogit, softmaxBitWidth } from './softmax.js';
import { ArithShare } from './types.js';

/** Carry-circuit width the reciprocal's approximate range bits aim for (4 rounds of msb). */
export const DEFERRED_CMP_BITS = 17;
/** exp's clip drops at most f - DEFERRED_CLIP_MARGIN bits: its band 2^(k+1-f) stays <= 1/4 */
const DEFERRED_CLIP_MARGIN = 3;

export interface SoftmaxDeferredOptions {
  /** |x| <= maxAbsLogit everywhere (default defaultMaxAbsLogit(f), softmax.ts; a smaller bound is a promise) */
  readonly maxAbsLogit?: number;
}

/** The comparison width and the low bits exp's clip drops, for scores bounded by maxAbsLogit (public). */
export function deferredPlan(f: number, maxAbsLogit = defaultMaxAbsLogit(f)): { width: number; drop: number } {
  const width = softmaxBitWidth(maxAbsLogit, f);
  const maxDrop = Math.max(0, f - DEFERRED_CLIP_MARGIN);
  // the narrowest carry circuit (2^m + 1 bits, msb.ts msbPlanCost) reachable within maxDrop
  for (const target of [9, 17, 33]) if (width - target <= maxDrop) return { width, drop: Math.max(0, width - target) };
  return { width, drop: 0 };
}

/**
 * The reciprocal's range (the row sum of n exps lies in [1, n]) and the low bits its range
 * comparisons drop (public): its thresholds x - 4^i lie within maxLog2 + f + 3 bits, dropped
 * down to DEFERRED_CMP_BITS, but never more than the reciprocal's own band allows
 * (reciprocal.ts: dropBits <= f - 4). From n = 1024 on (maxLog2 11 at f = 18) the cap binds
 * and the comparison keeps a few bits more (one msb round more), never an out-of-band drop.
 */
export function deferredReciprocalPlan(f: number, n: number): { maxLog2: number; drop: number } {
  const maxLog2 = Math.max(1, Math.ceil(Math.log2(n + 1)));
  const rw = Math.min(64, maxLog2 + f + 3);
  return { maxLog2, drop: Math.min(Math.max(0, f - 4), Math.max(0, rw - DEFERRED_CMP_BITS)) };
}

/**
 * apply(softmax(x)) for x [..., n] at scale ctx.f and a row-linear `apply` (on its own lane
 * context) whose result has x's leading shape with any last axis, at scale ctx.f.
 */
export async function softmaxDeferred(
  ctx: Context, x: ArithShare, apply: (lane: Context, e: ArithShare) => Promise<ArithShare>, opts: SoftmaxDeferredOptions = {},
): Promise<ArithShare> {
  if (!(x instanceof ArithShare)) throw new TypeError('softmaxDeferred: x must be an ArithShare');
  if (x.scale !== ctx.f) throw new RangeError(`softmaxDeferred: x must be at scale ctx.f = ${ctx.f}, got ${x.scale}`);
  if (x.shape.length === 0 || x.shape[x.shape.length - 1] < 1) throw new RangeError('softmaxDeferred: x needs a non-empty last axis');
  const B = opts.maxAbsLogit ?? defaultMaxAbsLogit(ctx.f);
  if (!Number.isInteger(B) || B < 1 || (3 * B + 16) * 2 ** ctx.f >= 2 ** 61) throw new RangeError(`softmaxDeferred: maxAbsLogit must be a positive integer with (3B + 16) 2^f < 2^61, got ${B}`);
  const n = x.shape[x.shape.length - 1];
  const { width, drop } = deferredPlan(ctx.f, B);
  const m = await max(ctx, x, { bitWidth: width }); // exact: the g-ary levels need transitive comparisons
  const e = await exp(ctx, sub(ctx, x, broadcastLast(ctx, m, n)), { bitWidth: width, dropBits: drop });
  const s = sumAxis(ctx, e); // [..., 1] in [1, n]
  const { maxLog2, drop: rDrop } = deferredReciprocalPlan(ctx.f, n);
  const [r, a] = await parallel(ctx, [
    (c) => reciprocal(c, s, { maxLog2, dropBits: rDrop }),
    (c) => apply(c, e),
  ]);
  if (a.scale !== ctx.f || a.shape.length !== x.shape.length || a.shape.slice(0, -1).some((d, i) => d !== x.shape[i])) {
    throw new RangeError(`softmaxDeferred: apply must keep the leading shape [${x.shape.slice(0, -1).join(', ')}] at scale ${ctx.f}, got [${a.shape.join(', ')}] at ${a.scale}`);
  }
  return mulFixed(ctx, a, broadcastLast(ctx, r, a.shape[a.shape.length - 1]));
}
