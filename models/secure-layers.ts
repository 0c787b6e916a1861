/**
 * The decoder's layer blocks on secret shares: RMSNorm (also LayerNorm, on the centred stream
 * secure-weights.ts keeps), RoPE, grouped-query attention (decode against a cache selection;
 * the prefill's causal attention is models/causal-attention.ts, its causal mask and head
 * layouts are here for the 'square' comparison method of prefill-progress.ts), and the local
 * head-layout permutations they need. The architecture differences are small per-block
 * functions the decoder composes (end of the file): addBias, projectQkv (projection + bias,
 * per-head q/k RMSNorm, RoPE or none), attentionOutput (wo + bias), feedForward (SwiGLU or GeLU
 * MLP, with biases). Every block works on whole tensors (all tokens, all heads) so that each
 * protocol call is one batched exchange; no per-head loops.
 *
 * Fixed point: inputs and outputs at ctx.f. Products are truncated once (matmulFixed,
 * mulFixed or one trunc after a public multiply), faithfully under the model's policy
 * (models/trunc-policy.ts, docs/PROTOCOLS.md "Truncation": exact floor or floor + 1 while the value truncated is below 2^62).
 * The largest values truncated are the squares in RMSNorm (x^2 * 2^(2f - 12)) and the
 * attention logits (|q.k| * 2^2f).
 *
 * What they reveal: nothing. They compose mul/matmul/trunc (mul.ts), the non-linear
 * functions (protocols/exp.ts, rsqrt.ts, softmax.ts, activations.ts) and local linear maps;
 * every message is masked as argued there.
 */
import type { Context } from '../protocols/context.js';
import { add, addPublic, broadcastLast, concat, mulPublic, slice, sumAxis, withScale } from '../protocols/linear.js';
import { matmulFixed, mulFixed, mulTrunc, productTerm, trunc, truncTerms } from '../protocols/mul.js';
import { unstack } from '../protocols/batching.js';
import { concatWords } from '../protocols/wire.js';
import { gelu, silu } from '../protocols/activations.js';
import { rsqrt } from '../protocols/rsqrt.js';
import { softmax } from '../protocols/softmax.js';
import { publicTensor } from '../protocols/sharing.js';
import { ArithShare, PublicTensor } from '../protocols/types.js';
import { type ModelConfig, isGated, kvDim, qDim } from './config.js';
import type { RopeTable } from './rope.js';
import { type SecureLayerWeights, normRho, normShift } from './secure-weights.js';

/** [a, b, inner] -> [b, a, inner] (local word copy; inner blocks stay contiguous). */
export function swapLeadingAxes(x: ArithShare, a: number, b: number, inner: number): ArithShare {
  if (a * b * inner !== x.size) throw new RangeError(`swapLeadingAxes: ${a}x${b}x${inner} does not match ${x.size} elements`);
  const o0 = new BigUint64Array(x.size);
  const o1 = new BigUint64Array(x.size);
  for (let i = 0; i < a; i++) {
    for (let j = 0; j < b; j++) {
      const src = (i * b + j) * inner;
      const dst = (j * a + i) * inner;
      o0.set(x.s0.subarray(src, src + inner), dst);
      o1.set(x.s1.subarray(src, src + inner), dst);
    }
  }
  return new ArithShare([b, a, inner], o0, o1, x.scale);
}

/** extra output scale of the norm's rsqrt (protocols/rsqrt.ts RsqrtOptions.scale) */
export const RSQRT_NORM_EXTRA = 8;

/** Bits dropped from x before squaring in RMSNorm (the squares are then at most x^2 * 2^(2f - 2 NORM_DROP_BITS)). */
export const NORM_DROP_BITS = 6;

/**
 * Mean-square normalisation of each row of x [T, d] WITHOUT the gain (the gain is folded into
 * the next matrix, secure-weights.ts): returns x * rsqrt(s + rho*eps) where
 * s = sum(x^2) / 2^floor(log2 d) and rho = d / 2^floor(log2 d); the missing sqrt(rho) factor is
 * in the folded gains. When `gain` is given ([d] at scale f, already times sqrt(rho)),
 * x * gain is used instead of x, computed in the first round together with the truncation
 * of x (no extra round).
 * The squares are taken of x truncated to f - NORM_DROP_BITS fractional bits, so that the
 * value truncated after squaring stays near x^2 * 2^24 (|x| = 70 gives 2^36, a probabilistic
 * truncation failure chance of ~2^-27) instead of x^2 * 2^36; the precision lost (2^-12 on x)
 * is far below rsqrt's 1e-3. Rounds: 1 (trunc) + 1 (squares, fused with their truncation)
 * + rsqrt + 1 (fused mulFixed; 2 above mul.ts's ONE_ROUND_MAX elements).
 */
export async function rmsNormalize(ctx: Context, x: ArithShare, c: ModelConfig, gain?: ArithShare): Promise<ArithShare> {
  if (x.shape.length !== 2 || x.shape[1] !== c.dim) throw new RangeError(`rmsNormalize: x must be [T, ${c.dim}], got [${x.shape.join(', ')}]`);
  return rowNormalize(ctx, x, c.normEps, gain);
}

/**
 * rmsNormalize for rows of any width d (x [T, d]; rho = d / 2^floor(log2 d)), e.g. the per-head
 * q/k norm (d = headDim). `gain` is [d] (the same for every row) or [T, d] (one per row).
 */
export async function rowNormalize(ctx: Context, x: ArithShare, eps: number, gain?: ArithShare): Promise<ArithShare> {
  const [T, d] = x.shape;
  if (x.shape.length !== 2) throw new RangeError(`rowNormalize: x must be [T, d], got [${x.shape.join(', ')}]`);
  if (gain !== undefined && gain.size !== d && gain.size !== T * d) throw new RangeError(`rowNormalize: gain must have ${d} or ${T * d} elements, got ${gain.size}`);
  const f = ctx.f;
  const drop = Math.min(NORM_DROP_BITS, Math.floor(f / 3));
  let low = x;
  let base = x;
  if (gain !== undefined) {
    if (gain.scale !== f) throw new RangeError(`rmsNormalize: gain must be at scale ${f}, got ${gain.scale}`);
    // [x * 2^(f - drop), x * gain] at scale 2f, truncated by f in one fused round:
    // x at scale f - drop and x * gain at scale f
    const k = ctx.k;
    const z = concatWords([k.mulScalar(x.s0, 1n << BigInt(f - drop)), productTerm(ctx, x, gain.size === d ? tileRows(gain, T) : gain.reshape([T, d]))]);
    [low, base] = unstack(await truncTerms(ctx, z, [2 * T, d], f, f), [[T, d], [T, d]], f);
    low = withScale(low, f - drop);
  } else if (drop > 0) low = await trunc(ctx, x, drop); // scale f - drop
  // x^2 / 2^k at scale f
  const t = await mulTrunc(ctx, low, low, f - 2 * drop + normShift(d), { scale: f });
  const s = sumAxis(ctx, t); // [T, 1]
  // r at scale f + 8: 1/sqrt(s) keeps ~1e-3 relative up to rsqrt's 2^24 (an RMS up to 4096)
  const r = await rsqrt(ctx, addPublic(ctx, s, normRho(d) * eps), { scale: f + RSQRT_NORM_EXTRA });
  return mulFixed(ctx, base, broadcastLast(ctx, r, d));
}

/**
 * The per-row factor r = rsqrt(s + rho*eps) of rowNormalize (x [T, d] -> r [T, 1]), without
 * the final product x * r: the decode step (decode-layer.ts) runs it concurrently with the
 * projection of the unnormalised x and scales the projection's outputs by r instead (the
 * projection is linear). Rounds: 1 (trunc) + 1 (squares) + rsqrt.
 */
export async function rowInvRms(ctx: Context, x: ArithShare, eps: number): Promise<ArithShare> {
  return rsqrt(ctx, await rowMeanSquare(ctx, x, eps));
}

/** rowInvRms's argument s + rho*eps [T, 1] (the input of rsqrt). Rounds: 1 (trunc) + 1 (squares). */
export async function rowMeanSquare(ctx: Context, x: ArithShare, eps: number): Promise<ArithShare> {
  if (x.shape.length !== 2) throw new RangeError(`rowMeanSquare: x must be [T, d], got [${x.shape.join(', ')}]`);
  const d = x.shape[1];
  const f = ctx.f;
  const drop = Math.min(NORM_DROP_BITS, Math.floor(f / 3));
  const low = drop > 0 ? await trunc(ctx, x, drop) : x;
  const t = await mulTrunc(ctx, low, low, f - 2 * drop + normShift(d), { scale: f });
  return addPublic(ctx, sumAxis(ctx, t), normRho(d) * eps);
}

/** [n] -> [T, n] by repetition (local). */
export function tileRows(v: ArithShare, T: number): ArithShare {
  const n = v.size;
  const o0 = new BigUint64Array(T * n);
  const o1 = new BigUint64Array(T * n);
  for (let t = 0; t < T; t++) {
    o0.set(v.s0, t * n);
    o1.set(v.s1, t * n);
  }
  return new ArithShare([T, n], o0, o1, v.scale);
}

/** Swap the two elements of every adjacent pair (2i, 2i+1) along the last axis (local). */
function swapPairs(x: ArithShare): ArithShare {
  const n = x.size;
  const o0 = new BigUint64Array(n);
  const o1 = new BigUint64Array(n);
  // view as uint32 halves to avoid BigInt conversions
  const a0 = new Uint32Array(x.s0.buffer, x.s0.byteOffset, 2 * n);
  const a1 = new Uint32Array(x.s1.buffer, x.s1.byteOffset, 2 * n);
  const b0 = new Uint32Array(o0.buffer);
  const b1 = new Uint32Array(o1.buffer);
  for (let i = 0; i < 2 * n; i += 4) {
    b0[i] = a0[i + 2];
    b0[i + 1] = a0[i + 3];
    b0[i + 2] = a0[i];
    b0[i + 3] = a0[i + 1];
    b1[i] = a1[i + 2];
    b1[i + 1] = a1[i + 3];
    b1[i + 2] = a1[i];
    b1[i + 3] = a1[i + 1];
  }
  return new ArithShare(x.shape, o0, o1, x.scale);
}

/**
 * The public RoPE multipliers for rows of the fused projection [q | k | v] at `positions`:
 * q and k get cos on both elements of a pair and (-sin, +sin) on the swapped pair; q is also
 * multiplied by `qScale` (the attention's 1/sqrt(headDim), folded here for free); v passes
 * (1, 0). Returns (C, S), each [T, qDim + 2 kvDim], encoded at ctx.f.
 */
export function ropeMultipliers(ctx: Context, c: ModelConfig, rope: RopeTable, positions: readonly number[], qScale: number): [PublicTensor, PublicTensor] {
  const qd = qDim(c);
  const kd = kvDim(c);
  const w = qd + 2 * kd;
  const hd = c.headDim;
  const T = positions.length;
  const C = new Float64Array(T * w);
  const S = new Float64Array(T * w);
  for (let t = 0; t < T; t++) {
    const { cos, sin } = rope.angles(positions[t]);
    const row = t * w;
    for (let j = 0; j < qd + kd; j++) {
      const inQ = j < qd;
      const e = (inQ ? j : j - qd) % hd;
      const i = e >> 1;
      const sc = inQ ? qScale : 1;
      C[row + j] = cos[i] * sc;
      S[row + j] = (e % 2 === 0 ? -sin[i] : sin[i]) * sc;
    }
    for (let j = qd + kd; j < w; j++) C[row + j] = 1;
  }
  return [publicTensor(ctx, [T, w], C, ctx.f), publicTensor(ctx, [T, w], S, ctx.f)];
}

/** RoPE (and the q scale) on the fused projection rows [T, qDim + 2 kvDim] at scale f: one truncation round. */
export async function applyRope(ctx: Context, qkv: ArithShare, mult: readonly [PublicTensor, PublicTensor]): Promise<ArithShare> {
  const [C, S] = mult;
  const y = add(ctx, mulPublic(ctx, qkv, C), mulPublic(ctx, swapPairs(qkv), S));
  return trunc(ctx, y, ctx.f);
}

/** Split the fused rows [T, qDim + 2 kvDim] into q [T, qDim], k [T, kvDim], v [T, kvDim] (local). */
export function splitQkv(ctx: Context, c: ModelConfig, qkv: ArithShare): [ArithShare, ArithShare, ArithShare] {
  const qd = qDim(c);
  const kd = kvDim(c);
  return [slice(ctx, qkv, 0, qd), slice(ctx, qkv, qd, qd + kd), slice(ctx, qkv, qd + kd, qd + 2 * kd)];
}

/**
 * The causal mask [T, T] (query t may see keys 0..t, or only t - window + 1 .. t with a
 * sliding window), scale 0; softmax repeats it over heads.
 */
export function causalMask(T: number, window: number | null = null): PublicTensor {
  const m = new BigUint64Array(T * T);
  for (let t = 0; t < T; t++) m.fill(1n, t * T + (window === null ? 0 : Math.max(0, t - window + 1)), t * T + t + 1);
  return new PublicTensor([T, T], m, 0);
}

export interface PrefillAttention {
  /** attention output [T, qDim] (before wo) */
  readonly out: ArithShare;
  /** post-RoPE queries pre-multiplied by 1/sqrt(headDim), [nHeads, T, headDim] */
  readonly queries: ArithShare;
  /** [nKvHeads, T, headDim] */
  readonly k: ArithShare;
  /** [nKvHeads, T, headDim] */
  readonly v: ArithShare;
}

/**
 * Attention of one new query over selected keys/values. `q` [nHeads, hd]; `keys`/`values`
 * [nKvHeads, n, hd] (shared by the G query heads of a group) or [nHeads, n, hd] when
 * `perQueryHead`. Returns [1, qDim]. Rounds: 1 + softmax + 1.
 */
export async function decodeAttention(ctx: Context, c: ModelConfig, q: ArithShare, keys: ArithShare, values: ArithShare, perQueryHead: boolean): Promise<ArithShare> {
  const hd = c.headDim;
  const G = c.nHeads / c.nKvHeads;
  const Q = perQueryHead ? q.reshape([c.nHeads, 1, hd]) : q.reshape([c.nKvHeads, G, hd]);
  const scores = await matmulFixed(ctx, Q, keys, { transB: true });
  const probs = await softmax(ctx, scores);
  const o = await matmulFixed(ctx, probs, values);
  return o.reshape([1, qDim(c)]);
}

// ---------------------------------------------------------------- per-block functions (the architecture differences)

/** y + b with b [n] added to every row of y [T, n] (local); y unchanged when b is absent. */
export function addBias(ctx: Context, y: ArithShare, b: ArithShare | undefined): ArithShare {
  return b === undefined ? y : add(ctx, y, tileRows(b, y.shape[0]));
}

/**
 * The attention input of normalised rows h [T, dim]: the fused projection [q | k | v] (+ its
 * bias), the per-head q/k RMSNorm when configured (one rowNormalize over the T (nHeads +
 * nKvHeads) head rows, gains per row), then RoPE with `mult` (ropeMultipliers) or, for learned
 * positions (`mult` null), nothing (1/sqrt(headDim) is then folded into the q weights).
 * Rounds: 1 (fused matmulFixed; 2 above ONE_ROUND_MAX) [+ rowNormalize] [+ 1 RoPE truncation].
 */
export async function projectQkv(ctx: Context, c: ModelConfig, h: ArithShare, L: SecureLayerWeights, mult: readonly [PublicTensor, PublicTensor] | null): Promise<ArithShare> {
  let qkv = addBias(ctx, await matmulFixed(ctx, h, L.wqkv, { transB: true }), L.bqkv);
  if (c.qkNorm) {
    const T = h.shape[0];
    const qk = qDim(c) + kvDim(c);
    const heads = c.nHeads + c.nKvHeads;
    const gains = tileRows(L.qkNorm as ArithShare, T).reshape([T * heads, c.headDim]);
    const normed = await rowNormalize(ctx, slice(ctx, qkv, 0, qk).reshape([T * heads, c.headDim]), c.normEps, gains);
    qkv = concat(ctx, [normed.reshape([T, qk]), slice(ctx, qkv, qk, qk + kvDim(c))], 1);
  }
  return mult === null ? qkv : applyRope(ctx, qkv, mult);
}

/** The attention output projection wo (+ bo) of att [T, qDim]. Rounds: 1 (2 above ONE_ROUND_MAX). */
export async function attentionOutput(ctx: Context, att: ArithShare, L: SecureLayerWeights): Promise<ArithShare> {
  return addBias(ctx, await matmulFixed(ctx, att, L.wo, { transB: true }), L.bo);
}

/**
 * The FFN of normalised rows h [T, dim] (biases added where the model has them):
 *   swiglu: w2 (silu(w1 h) * (w3 h)) with w1, w3 fused into one matmul; rounds 1 + silu + 1 + 1;
 *   gelu-tanh / gelu: w2 gelu(w1 h); rounds 1 + gelu + 1. GeLU is gelu 'fit' (protocols/
 *   activations.ts, 3.0e-3 from the erf form; the tanh form is within 4.7e-4 of the erf form,
 *   so 3.5e-3 from it).
 * (fused mulFixed / matmulFixed; 2 rounds each above ONE_ROUND_MAX elements)
 */
export async function feedForward(ctx: Context, c: ModelConfig, h: ArithShare, L: SecureLayerWeights): Promise<ArithShare> {
  return feedForwardFrom(ctx, c, addBias(ctx, await matmulFixed(ctx, h, L.w13, { transB: true }), L.b13), L);
}

/** The FFN after its first projection: u = w13 h + b13 [T, 2 hid] (gated) or w1 h + b1 [T, hid]. */
export async function feedForwardFrom(ctx: Context, c: ModelConfig, u: ArithShare, L: SecureLayerWeights): Promise<ArithShare> {
  const hid = c.hiddenDim;
  let act: ArithShare;
  if (isGated(c)) {
    const gate = await silu(ctx, slice(ctx, u, 0, hid));
    act = await mulFixed(ctx, gate, slice(ctx, u, hid, 2 * hid));
  } else {
    act = await gelu(ctx, u);
  }
  return addBias(ctx, await matmulFixed(ctx, act, L.w2, { transB: true }), L.b2);
}
