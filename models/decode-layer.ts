/**
 * The round-frugal blocks of one decode step (secure-decoder.ts step): the same functions as
 * secure-layers.ts computes for the new token, arranged so that independent protocol calls
 * share rounds (protocols/parallel.ts) and fewer calls stand on the critical path.
 *
 *  - Norm and projection together. RMSNorm's factor r = rsqrt(mean(x^2) + eps) is a scalar
 *    per row and the next projection W is linear, so W (x r) = (W x) r: the projection of the
 *    UNnormalised x (1 round, plus RoPE's truncation: RoPE is linear with public
 *    coefficients, RoPE(u r + b) = RoPE(u) r + RoPE(b)) runs on one lane while the other lane
 *    computes the mean square and rsqrt's range bits (trunc, squares, ltz); then rsqrt's
 *    Goldschmidt rounds take the product by u along (protocols/rsqrt-scale.ts scaleByRsqrt:
 *    u r in rsqrt's own 4 rounds). Rounds: max(2 + ltz, 1 [+ 1]) + 4 = 2 + rsqrt, against
 *    2 + rsqrt + 1 + 1 [+ 1] in sequence. (Qwen3's
 *    per-head q/k norm is not scale-invariant with its eps: those models keep the sequential
 *    form.)
 *  - Attention with the normalisation deferred (protocols/softmax-deferred.ts): the product
 *    e V runs beside the reciprocal, and one product by 1/s per head output replaces the
 *    product per probability; the max, exp's clip and the reciprocal's range bits use
 *    approximate comparisons with a stated band.
 *  - The FFN: its first projection of the unnormalised x beside r, as above.
 *  - The head (for argmax only, secure-decoder.ts decodeNext): without a final-norm bias the
 *    logits of x are a positive per-row multiple, r, of E (g x), and argmax is unchanged by a
 *    positive factor: the final rsqrt is skipped (1 + 1 rounds instead of 2 + rsqrt + 1 + 1).
 *
 * Values: the same functions as the sequential blocks up to fixed-point rounding (tested
 * against them and against float64 in decode-layer.test.ts). Magnitudes: the projection of
 * the unnormalised x is |x| / rms(x) times larger before its truncation than that of the
 * normalised rows; with the residual stream within the bound of secure-layers.ts (|x| < 2^8)
 * the truncated values stay below 2^(2f + 8 + log2 |W row|_1), as for the RMSNorm squares.
 *
 * Reveals nothing: compositions of matmulFixed, trunc, rsqrt, mulFixed, softmaxDeferred and
 * the lanes of parallel(), whose messages are each masked as argued in their modules.
 */
import type { Context } from '../protocols/context.js';
import { broadcastLast, concat, slice, sumAxis } from '../protocols/linear.js';
import { matmulFixed, mulFixed } from '../protocols/mul.js';
import { parallel } from '../protocols/parallel.js';
import { type RsqrtRange, rsqrtRange, scaleByRsqrt } from '../protocols/rsqrt-scale.js';
import { softmaxDeferred } from '../protocols/softmax-deferred.js';
import { type ArithShare, PublicTensor } from '../protocols/types.js';
import { type ModelConfig, qDim } from './config.js';
import { addBias, applyRope, feedForwardFrom, projectQkv, rmsNormalize, rowMeanSquare, tileRows } from './secure-layers.js';
import { type SecureLayerWeights, type SecureModel, embeddingHasMeanColumn } from './secure-weights.js';

/** The norm's mean square s and rsqrt's range bits of s (rsqrt-scale.ts), for scaleByRsqrt. */
async function normRange(ctx: Context, x: ArithShare, eps: number): Promise<[ArithShare, RsqrtRange]> {
  const s = await rowMeanSquare(ctx, x, eps);
  return [s, await rsqrtRange(ctx, s)];
}

/** Two rows of public multipliers from one: [1, w] -> [2, w]. */
function twoRows(t: PublicTensor): PublicTensor {
  const d = new BigUint64Array(2 * t.size);
  d.set(t.data, 0);
  d.set(t.data, t.size);
  return new PublicTensor([2, t.size], d, t.scale);
}

/**
 * projectQkv(rmsNormalize(x)) for the decode row x [1, dim], with the projection of the
 * unnormalised x beside the norm factor (file header).
 */
export async function normProjectQkv(ctx: Context, c: ModelConfig, x: ArithShare, L: SecureLayerWeights, mult: readonly [PublicTensor, PublicTensor] | null): Promise<ArithShare> {
  if (c.qkNorm || x.shape.length !== 2 || x.shape[0] !== 1) return projectQkv(ctx, c, await rmsNormalize(ctx, x, c), L, mult);
  const [[ms, rg], [ru, rb]] = await parallel(ctx, [
    (lane) => normRange(lane, x, c.normEps),
    async (lane): Promise<[ArithShare, ArithShare | undefined]> => {
      const u = await matmulFixed(lane, x, L.wqkv, { transB: true });
      if (mult === null) return [u, L.bqkv === undefined ? undefined : tileRows(L.bqkv, 1)];
      if (L.bqkv === undefined) return [await applyRope(lane, u, mult), undefined];
      // RoPE of u and of the bias row in one truncation
      const both = await applyRope(lane, concat(lane, [u, tileRows(L.bqkv, 1)], 0), [twoRows(mult[0]), twoRows(mult[1])]);
      return [slice(lane, both, 0, 1, 0), slice(lane, both, 1, 2, 0)];
    },
  ]);
  const qkv = await scaleByRsqrt(ctx, ms, rg, ru);
  return rb === undefined ? qkv : addBias(ctx, qkv, rb.reshape([rb.size]));
}

/**
 * Attention of one new query (decodeAttention's contract: q [nHeads, hd]; keys/values
 * [nKvHeads, n, hd], or [nHeads, n, hd] when perQueryHead; returns [1, qDim]) with the
 * softmax normalisation deferred past e V. Rounds: 1 + softmaxDeferred (whose A is e V).
 */
export async function decodeAttentionDeferred(ctx: Context, c: ModelConfig, q: ArithShare, keys: ArithShare, values: ArithShare, perQueryHead: boolean): Promise<ArithShare> {
  const hd = c.headDim;
  const G = c.nHeads / c.nKvHeads;
  const Q = perQueryHead ? q.reshape([c.nHeads, 1, hd]) : q.reshape([c.nKvHeads, G, hd]);
  const scores = await matmulFixed(ctx, Q, keys, { transB: true });
  const o = await softmaxDeferred(ctx, scores, (lane, e) => matmulFixed(lane, e, values));
  return o.reshape([1, qDim(c)]);
}

/** feedForward(rmsNormalize(x)) for the decode row x [1, dim], the first projection beside the norm factor. */
export async function normFeedForward(ctx: Context, c: ModelConfig, x: ArithShare, L: SecureLayerWeights): Promise<ArithShare> {
  const [[ms, rg], u] = await parallel(ctx, [(lane) => normRange(lane, x, c.normEps), (lane) => matmulFixed(lane, x, L.w13, { transB: true })]);
  const h = addBias(ctx, await scaleByRsqrt(ctx, ms, rg, u), L.b13);
  return feedForwardFrom(ctx, c, h, L);
}

/**
 * Logits up to a positive factor per row (for argmax only) of x [T, dim]: E (g x) without the
 * final norm's rsqrt when the model has no final-norm bias; undefined when it has one (the
 * caller then takes the full head). Rounds: 1 (g x) + 1 (head matmul).
 */
export async function scaledLogits(ctx: Context, c: ModelConfig, model: SecureModel, x: ArithShare): Promise<ArithShare | undefined> {
  if (model.finalNormBias !== undefined) return undefined;
  let h = await mulFixed(ctx, x, tileRows(model.finalNorm, x.shape[0]));
  if (embeddingHasMeanColumn(c)) h = concat(ctx, [h, sumAxis(ctx, h)], 1);
  return matmulFixed(ctx, h, model.output, { transB: true });
}
