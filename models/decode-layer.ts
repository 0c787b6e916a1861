/**
 * The round-frugal blocks of one decode step (secure-decoder.ts step): the same functions as
 * secure-layers.ts computes for the new token, arranged so that independent protocol calls
 * share rounds (protocols/parallel.ts) and fewer calls stand on the critical path.
 *
 *  - Norm and projection together. RMSNorm's factor r = rsqrt(mean(x^2) + eps) is a scalar
 *    per row and the next projection W is linear, so W (x r) = (W x) r: the projection of the
 *    UNnormalised x (F rounds, plus RoPE's truncation: RoPE is linear with public
 *    coefficients, RoPE(u r + b) = RoPE(u) r + RoPE(b)) runs on one lane while the other lane
 *    computes the mean square and rsqrt's range bits (trunc, squares, ltz); then rsqrt's
 *    Goldschmidt rounds take the product by u along (protocols/rsqrt-scale.ts scaleByRsqrt:
 *    u r in rsqrt's own 4 faithful steps, 8 rounds). With F the rounds of one truncation
 *    (2 faithful, 1 prob): max(2F + ltz, F [+ F]) + 8 = 2F + rsqrt, against
 *    2F + rsqrt + F + F [+ F] in sequence (6 rounds saved faithful, 3 prob;
 *    decode-layer.test.ts). (Qwen3's
 *    per-head q/k norm is not scale-invariant with its eps: those models keep the sequential
 *    form.)
 *  - Attention with the normalisation deferred (protocols/softmax-deferred.ts): the product
 *    e V runs beside the reciprocal, and one product by 1/s per head output replaces the
 *    product per probability; exp's clip and the reciprocal's range bits use approximate
 *    comparisons with a stated band (the max's are exact).
 *  - The FFN: its first projection of the unnormalised x beside r, as above.
 *  - The head (for argmax only, secure-decoder.ts decodeNext): without a final-norm bias the
 *    logits of x are a positive per-row multiple, r, of E (g x), and argmax is unchanged by a
 *    positive factor: the final rsqrt is skipped (F + F rounds instead of 2F + rsqrt + F + F).
 *
 * Truncation: every product and truncation here goes through mul.ts without a mode of its
 * own, so it runs in the context's mode (ctx.state.trunc.mode: 'faithful' under SecureDecoder,
 * models/trunc-policy.ts; the lanes of parallel() share their parent's state); rsqrt's and
 * scaleByRsqrt's internals are faithful in either mode (rsqrt.ts).
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
import { broadcastLast, concat, mulPublicInt, slice, sub, sumAxis } from '../protocols/linear.js';
import { matmulFixed, mulFixed } from '../protocols/mul.js';
import { parallel } from '../protocols/parallel.js';
import { type RsqrtRange, rsqrtRange, scaleByRsqrt } from '../protocols/rsqrt-scale.js';
import { softmaxDeferred } from '../protocols/softmax-deferred.js';
import { ArithShare, PublicTensor } from '../protocols/types.js';
import { bitTimesSlicedBalanced, msbSlicedBalanced } from '../protocols/balanced.js';
import { type SlicePair, andSlices, notPair } from '../protocols/bool-slices.js';
import { GELU_SPECS, SILU_SPECS, gelu, silu } from '../protocols/activations.js';
import { concatWords } from '../protocols/wire.js';
import { type ModelConfig, isGated, qDim } from './config.js';
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

/**
 * feedForward(rmsNormalize(x)) for the decode row x [1, dim]. The first projection u = W x of
 * the unnormalised row runs beside the norm, and so do the activation's comparisons: its
 * input is g = u r (r = 1/sqrt(s'), s' the norm's mean square), and for the breakpoints
 * (-a, 0, a) of the 'fit' SiLU / GeLU (activations.ts) [g < 0] = [u < 0] and |g| >= a iff
 * u^2 >= a^2 s', so the bits come from u and s' (one msb over [u, u^2 - a^2 s'], one AND
 * round, the injection round with the bits times u) while rsqrt's range bits are computed;
 * then rsqrt's Goldschmidt rounds scale [u, c_j u] by r together (scaleByRsqrt), giving g,
 * the up-projection and the c_j g the piecewise polynomial needs (piecewise.ts
 * opts.comparisons). Rounds (F as above): 2F + max(ltz, F + msb + 2) + 8 + (the
 * polynomial's) + F + F, against 3F + rsqrt + F + (ltz + the polynomial's) + F + F (8 saved
 * faithful, 7 prob; decode-layer.test.ts). Without a gate bias only (the
 * sign of g must be the sign of u); otherwise the comparisons run after the norm. Values: a
 * comparison of g with a breakpoint is exact on u and s'; g itself carries rsqrt's 4e-4
 * relative error, so an element within that of a breakpoint may take the neighbouring piece
 * (the pieces meet there: silu's error bound holds, decode-layer.test.ts).
 */
export async function normFeedForward(ctx: Context, c: ModelConfig, x: ArithShare, L: SecureLayerWeights): Promise<ArithShare> {
  const hid = c.hiddenDim;
  const spec = isGated(c) ? SILU_SPECS.fit : GELU_SPECS.fit;
  const bp = spec.breakpoints;
  const a = bp[2];
  const early = L.b13 === undefined && bp.length === 3 && bp[0] === -a && bp[1] === 0;
  if (!early) {
    const [[ms, rg], u] = await parallel(ctx, [(lane) => normRange(lane, x, c.normEps), (lane) => matmulFixed(lane, x, L.w13, { transB: true })]);
    return feedForwardFrom(ctx, c, addBias(ctx, await scaleByRsqrt(ctx, ms, rg, u), L.b13), L);
  }
  const [ms, u] = await parallel(ctx, [(lane) => rowMeanSquare(lane, x, c.normEps), (lane) => matmulFixed(lane, x, L.w13, { transB: true })]);
  const ug = slice(ctx, u, 0, hid); // the activation's input before the norm factor
  const [rg, cmp] = await parallel(ctx, [(lane) => rsqrtRange(lane, ms), (lane) => breakpointBits(lane, ug, ms, a)]);
  const w = u.shape[1];
  const scaled = await scaleByRsqrt(ctx, ms, rg, concat(ctx, [u, ...cmp.timesU], 1));
  const g = slice(ctx, scaled, 0, hid);
  const timesX = cmp.timesU.map((_, j) => slice(ctx, scaled, w + j * hid, w + (j + 1) * hid));
  const opts = { comparisons: { bits: cmp.bits, timesX } };
  const act = isGated(c) ? await mulFixed(ctx, await silu(ctx, g, opts), slice(ctx, scaled, hid, 2 * hid)) : await gelu(ctx, g, opts);
  return addBias(ctx, await matmulFixed(ctx, act, L.w2, { transB: true }), L.b2);
}

/**
 * The bits [g < -a], [g < 0], [g < a] of g = u / sqrt(s) (s > 0, [1, 1]) from u [1, n] and s
 * (scale ctx.f), and each bit times u: [u < 0] and [u^2 < a^2 s] from one msb over both,
 * [g < -a] = [u < 0] AND NOT [u^2 < a^2 s] and [g < a] = NOT ([u >= 0] AND NOT [u^2 < a^2 s])
 * from one AND round, then one injection round (bits and bits times u). Rounds: 1 (u^2) +
 * msb + 1 + 1.
 */
async function breakpointBits(ctx: Context, u: ArithShare, s: ArithShare, a: number): Promise<{ bits: ArithShare[]; timesU: ArithShare[] }> {
  const n = u.size;
  const P = Math.ceil(n / 64) * 64;
  const pad = (v: ArithShare): ArithShare => (P === n ? v.reshape([n]) : concat(ctx, [v.reshape([n]), zeros(P - n, v.scale)], 0));
  const u2 = await mulFixed(ctx, u, u);
  const a2 = Math.round(a * a);
  if (a2 !== a * a) throw new RangeError(`breakpointBits: a^2 must be an integer, got ${a * a}`);
  const d = sub(ctx, u2, mulPublicInt(ctx, broadcastLast(ctx, s, n), a2)); // u^2 - a^2 s
  const e = await msbSlicedBalanced(ctx, concat(ctx, [pad(u), pad(d)], 0), 'act.cmp');
  const W = P / 64;
  const neg: SlicePair = [e[0].subarray(0, W), e[1].subarray(0, W)]; // [u < 0]
  const far: SlicePair = notPair(ctx, [e[0].subarray(W), e[1].subarray(W)]); // [u^2 >= a^2 s]
  const [lo, hi] = await andSlices(ctx, [neg, notPair(ctx, neg)], [far, far], 'act.and');
  const bitsS: SlicePair = [concatWords([lo[0], neg[0], notPair(ctx, hi)[0]]), concatWords([lo[1], neg[1], notPair(ctx, hi)[1]])];
  const pu = pad(u);
  const { bit, prods } = await bitTimesSlicedBalanced(ctx, bitsS, 3 * P, [concat(ctx, [pu, pu, pu], 0)], true, 'act.select');
  const parts = (v: ArithShare): ArithShare[] => [0, 1, 2].map((j) => slice(ctx, v.reshape([3 * P]), j * P, j * P + n, 0).reshape([1, n]));
  return { bits: parts(bit!), timesU: parts(prods[0]) };
}

function zeros(n: number, scale: number): ArithShare {
  return new ArithShare([n], new BigUint64Array(n), new BigUint64Array(n), scale);
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
