/**
 * RotateKV (Su et al., 2025; ZunhaiSu/RotateKV, RotateKV_fake_quant/ + fuse_weights.py +
 * k_reordering_calibration.py), simulated; storage policy, nothing evicted. 2-bit K/V with:
 * - Pre-RoPE grouped-head rotation: a token's pre-RoPE key, concatenated over `headGroup`
 *   consecutive KV heads, goes through a normalized Walsh-Hadamard transform (orthogonal, its
 *   own inverse) before quantization (the authors fuse it into k_proj); dequantized keys are
 *   rotated back and only then get RoPE.
 * - Outlier-aware rotation: the rotated key channels of the layer are reordered by their
 *   calibration channel sums (ascending; here the sums over the prompt's tokens, the authors'
 *   k_reordering_calibration.py uses 83 calibration samples) so that each quantization group
 *   holds channels of similar range.
 * - Values: per-head Hadamard (fused into v_proj / o_proj by the authors), the inverse after
 *   dequantization.
 * - Quantization: per token, groups of headDim channels (the authors' groupsize 128 = head
 *   width), asymmetric RTN with an integer zero point and clip ratio 0.8 at 2 bits (1 above).
 * - Attention-sink aware: the tokens holding the `pivots` (20) largest |activations| of the
 *   layer's input (massive activations) stay exact, at prefill (the authors' pivot tokens).
 * Decode tokens are quantized as they are written, with the prompt's channel order.
 * Small-model notes: the rotation needs headGroup * headDim to be a power of two, so headGroup is
 *   the largest divisor of nKvHeads up to 4 (the authors' default) that allows it: 4 on
 *   stories260K (4 x 8 = 32 channels), 1 on the default model (3 KV heads of 32).
 * Memory: bits per value, 2 x 16 bits (scale, zero) per token per group, the pivot tokens
 *   (at most `pivots`) in 16 bits.
 */
import type { LayerCacheView, PrefillContext, StepContext } from '../../models/attention-hooks.js';
import type { KvPolicy, ModelShape, PolicyOptions } from '../policy.js';
import { fwht } from './linalg.js';
import { preRopePrompt, preRopeStep, writeRotatedKey } from './pre-rope.js';
import { fakeQuantClipped, strided } from './quant-kit.js';
import { fastTopK } from './fast-topk.js';
import { aPosInt } from './select.js';

export interface RotateKvOptions extends Omit<PolicyOptions, 'budget'> {
  readonly bits: 2 | 3 | 4;
  readonly pivots?: number;
  readonly clip?: number;
}

/** KV heads rotated together: the largest divisor of nKvHeads <= 4 with g * headDim a power of two. */
export function rotatekvHeadGroup(m: ModelShape): number {
  for (let g = Math.min(4, m.nKvHeads); g >= 1; g--) {
    const n = g * m.headDim;
    if (m.nKvHeads % g === 0 && (n & (n - 1)) === 0) return g;
  }
  throw new RangeError(`RotateKV needs a power-of-two head width, got ${m.headDim}`);
}

/** Grouped-head Hadamard of one token's concatenated layer vector (width nKv * d), in place. */
export function rotatekvRotate(x: Float64Array, nKv: number, d: number, g: number): void {
  for (let h = 0; h < nKv; h += g) fwht(x, h * d, g * d);
}

/** Channel order: ascending sum over the given rows (vectors of width w) of the rotated keys. */
export function rotatekvOrder(rows: readonly Float64Array[], w: number): Int32Array {
  const sum = new Float64Array(w);
  for (const r of rows) for (let c = 0; c < w; c++) sum[c] += r[c];
  return Int32Array.from({ length: w }, (_, i) => i).sort((a, b) => sum[a] - sum[b] || a - b);
}

/** The tokens that hold the `k` largest |entries| of the residual (T x dim). */
export function rotatekvPivots(residual: Float32Array, T: number, k: number): Set<number> {
  const dim = residual.length / T;
  const top = fastTopK(Float64Array.from(residual, Math.abs), Math.min(k, residual.length));
  return new Set(Array.from(top, (i) => Math.floor(i / dim)));
}

export function rotatekvPolicy(o: RotateKvOptions): KvPolicy {
  const bits = o.bits;
  if (bits !== 2 && bits !== 3 && bits !== 4) throw new RangeError('bits must be 2, 3 or 4');
  const pivots = aPosInt(o.pivots ?? 20, 'pivots', 0);
  const clip = o.clip ?? (bits === 2 ? 0.8 : 1);
  const g = rotatekvHeadGroup(o.model);
  const nKv = o.model.nKvHeads;
  const order = new Map<number, Int32Array>();

  /** quantizes the concatenated pre-RoPE key of a token in the rotated, reordered domain; returns the dequantized pre-RoPE key */
  const quantizeKey = (x: Float64Array, ord: Int32Array, d: number): void => {
    rotatekvRotate(x, nKv, d, g);
    const perm = Float64Array.from(ord, (c) => x[c]);
    for (let h = 0; h < nKv; h++) fakeQuantClipped(perm, strided(h * d, d, 1), bits, clip);
    ord.forEach((c, i) => (x[c] = perm[i]));
    rotatekvRotate(x, nKv, d, g);
  };
  const quantizeValue = (V: Float32Array, row: number, d: number): void => {
    const x = Float64Array.from(V.subarray(row * d, row * d + d));
    fwht(x, 0, d);
    fakeQuantClipped(x, strided(0, d, 1), bits, clip);
    fwht(x, 0, d);
    for (let c = 0; c < d; c++) V[row * d + c] = x[c];
  };
  const writeToken = (cache: LayerCacheView, pre: readonly Float32Array[], preRow: number, row: number, pos: number, ord: Int32Array, rotary: NonNullable<PrefillContext['rotary']>): void => {
    const d = cache.headDim;
    const x = new Float64Array(nKv * d);
    for (let kv = 0; kv < nKv; kv++) for (let c = 0; c < d; c++) x[kv * d + c] = pre[kv][preRow * d + c];
    quantizeKey(x, ord, d);
    for (let kv = 0; kv < nKv; kv++) {
      writeRotatedKey(cache, kv, row, x, kv * d, pos, rotary);
      quantizeValue(cache.values(kv), row, d);
    }
  };

  return {
    name: `rotatekv-${bits}`,
    kind: 'quantization',
    gqa: 'none',
    params: { bits, clip, headGroup: g, pivots, groupSize: o.model.headDim },
    memoryRatio(n: number, d: number): number {
      const p = Math.min(pivots, n);
      const per = (n - p) * (d * bits + 32) + p * d * 16;
      return (2 * per) / (2 * n * d * 16);
    },
    onPrefill(ctx: PrefillContext) {
      const { keys: pre, rotary } = preRopePrompt(ctx, 'rotatekv');
      if (!ctx.residual) throw new TypeError('rotatekv needs the layer input (PrefillContext.residual) to find the pivot tokens');
      const { cache } = ctx;
      const T = ctx.length;
      const d = cache.headDim;
      const rows = Array.from({ length: T }, (_, t) => {
        const x = new Float64Array(nKv * d);
        for (let kv = 0; kv < nKv; kv++) for (let c = 0; c < d; c++) x[kv * d + c] = pre[kv][t * d + c];
        rotatekvRotate(x, nKv, d, g);
        return x;
      });
      const ord = rotatekvOrder(rows, nKv * d);
      order.set(ctx.layer, ord);
      const keep = rotatekvPivots(ctx.residual, T, pivots);
      for (let t = 0; t < T; t++) if (!keep.has(t)) writeToken(cache, pre, t, t, t, ord, rotary);
    },
    selectForStep(ctx: StepContext) {
      const ord = order.get(ctx.layer);
      if (!ord) return undefined;
      const { keys: pre, rotary } = preRopeStep(ctx, 'rotatekv');
      writeToken(ctx.cache, pre, 0, ctx.cache.length(0) - 1, ctx.position, ord, rotary);
      return undefined;
    },
  };
}
