/**
 * KVQuant (Hooper et al., 2024; SqueezeAILab/KVQuant, quant/kvquant/simquant_module_quantizer.py),
 * simulated; storage policy, nothing evicted. Per layer:
 * - keys per channel, BEFORE RoPE: each pre-RoPE key channel c of a KV head has thresholds
 *   lo_c / hi_c at the (f/2, 1 - f/2) percentiles of its values (f = 1% outliers, the authors'
 *   --sparsity-threshold 0.99); zero = (hi+lo)/2, range = (hi-lo)/2; u = (k - zero)/range.
 *   Dense-and-sparse: |u| > 1 is an outlier, stored exactly (fp16 value + index); the rest is
 *   rounded to the nearest of 2^bits non-uniform levels (NUQ) and the result rotated (RoPE) into
 *   the cache;
 * - values per token (over the layer's nKvHeads * headDim channels, as v_proj's output): the
 *   round(f/2 * width) largest and smallest are outliers kept exactly (0 on heads this narrow),
 *   the rest normalized by that token's min/max (outliers replaced by the median first, as the
 *   authors' dynamic path does) and rounded to the value levels;
 * - attention-sink aware: the first `sinks` tokens (default 1, the authors' --first_few_fp16)
 *   stay exact;
 * - NUQ levels: one key and one value level set per layer, 1-D k-means of the normalized
 *   non-outlier values.
 * Where this differs from the paper (a small model, no calibration corpus, no gradients):
 * thresholds and levels are fitted on the prompt itself at prefill (the paper calibrates them
 * offline on 16 x 2K tokens and keeps them fixed) and the k-means is unweighted (the paper
 * weights it by Fisher information, which needs gradients; the authors' code runs unweighted
 * when no Fisher file is given). Decode tokens are quantized as they are written, with the
 * prefill thresholds and levels.
 * Memory: bits per value, sinks in 16 bits, outliers 32 bits each (fp16 value + 16-bit index),
 * per-channel key zero/range 2 x 16 bits, per-token value zero/range 2 x 16 bits (shared by the
 * layer's KV heads), level tables ignored (2^bits x 16 bits per layer).
 */
import type { LayerCacheView, PrefillContext, StepContext } from '../../models/attention-hooks.js';
import type { KvPolicy, PolicyOptions } from '../policy.js';
import { preRopePrompt, preRopeStep, writeRotatedKey } from './pre-rope.js';
import { kmeans1d, nearestLevel, percentile } from './quant-kit.js';
import { aPosInt, aRatio } from './select.js';

export interface KvQuantOptions extends Omit<PolicyOptions, 'budget'> {
  readonly bits: 2 | 3 | 4;
  /** fraction of outliers (default 0.01) */
  readonly outliers?: number;
  /** initial tokens kept exact (default 1) */
  readonly sinks?: number;
}

interface LayerState {
  /** per KV head, per channel: zero and range of the pre-RoPE key channel */
  readonly zero: Float64Array[];
  readonly range: Float64Array[];
  readonly keyLevels: Float64Array;
  readonly valueLevels: Float64Array;
}

/** Per-channel thresholds of n pre-RoPE key rows of width d from row `from` on. */
export function keyChannelThresholds(pre: Float32Array, n: number, d: number, from: number, outliers: number): { zero: Float64Array; range: Float64Array } {
  const zero = new Float64Array(d);
  const range = new Float64Array(d);
  const t = 1 - outliers / 2;
  for (let c = 0; c < d; c++) {
    const vals = new Float64Array(Math.max(0, n - from));
    for (let i = from; i < n; i++) vals[i - from] = pre[i * d + c];
    const hi = percentile(vals, 100 * t);
    const lo = percentile(vals, 100 * (1 - t));
    zero[c] = (hi + lo) / 2;
    range[c] = Math.max((hi - lo) / 2, 1e-12);
  }
  return { zero, range };
}

/** A token's value vector split into outliers (exact) and normalized non-outliers; null when all equal. */
function valueNormalize(v: Float64Array, nOut: number): { mask: Uint8Array; zero: number; range: number } {
  const w = v.length;
  const order = Array.from({ length: w }, (_, i) => i).sort((a, b) => v[a] - v[b] || a - b);
  const mask = new Uint8Array(w);
  for (let i = 0; i < nOut; i++) {
    mask[order[i]] = 1;
    mask[order[w - 1 - i]] = 1;
  }
  const median = v[order[Math.floor((w - 1) / 2)]];
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < w; i++) {
    const x = mask[i] ? median : v[i];
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  return { mask, zero: (hi + lo) / 2, range: Math.max((hi - lo) / 2, 1e-12) };
}

export function kvquantPolicy(o: KvQuantOptions): KvPolicy {
  const bits = o.bits;
  if (bits !== 2 && bits !== 3 && bits !== 4) throw new RangeError('bits must be 2, 3 or 4');
  const outliers = aRatio(o.outliers ?? 0.01, 'outliers', 0, 0.5);
  const sinks = aPosInt(o.sinks ?? 1, 'sinks', 0);
  const nKv = o.model.nKvHeads;
  const state = new Map<number, LayerState>();
  const valueOutliersPerSide = (width: number): number => Math.round((outliers / 2) * width);

  /** the value vector of cache entry `row` over all KV heads */
  const tokenValues = (cache: LayerCacheView, row: number): Float64Array => {
    const d = cache.headDim;
    const v = new Float64Array(cache.nKvHeads * d);
    for (let kv = 0; kv < cache.nKvHeads; kv++) for (let c = 0; c < d; c++) v[kv * d + c] = cache.values(kv)[row * d + c];
    return v;
  };
  const writeValues = (cache: LayerCacheView, row: number, v: Float64Array): void => {
    const d = cache.headDim;
    for (let kv = 0; kv < cache.nKvHeads; kv++) for (let c = 0; c < d; c++) cache.values(kv)[row * d + c] = v[kv * d + c];
  };
  const quantizeValues = (v: Float64Array, levels: Float64Array): void => {
    const { mask, zero, range } = valueNormalize(v, valueOutliersPerSide(v.length));
    for (let i = 0; i < v.length; i++) if (!mask[i]) v[i] = zero + range * nearestLevel(levels, Math.max(-1, Math.min(1, (v[i] - zero) / range)));
  };
  const quantizeKey = (st: LayerState, kv: number, pre: Float32Array, off: number, d: number): void => {
    for (let c = 0; c < d; c++) {
      const u = (pre[off + c] - st.zero[kv][c]) / st.range[kv][c];
      if (Math.abs(u) > 1) continue; // sparse outlier: exact
      pre[off + c] = st.zero[kv][c] + st.range[kv][c] * nearestLevel(st.keyLevels, u);
    }
  };

  return {
    name: `kvquant-${bits}`,
    kind: 'quantization',
    gqa: 'none',
    params: { bits, outliers, sinks, levels: 'k-means on the prompt (unweighted)', keys: 'per channel, pre-RoPE' },
    memoryRatio(n: number, d: number): number {
      const q = Math.max(0, n - sinks);
      const kd = nKv * d;
      const keyBits = (n - q) * d * 16 + q * d * bits + outliers * q * d * 32 + 2 * d * 16;
      const valBits = (n - q) * d * 16 + q * (d * bits + 32 / nKv + (2 * valueOutliersPerSide(kd) * 32) / nKv);
      return (keyBits + valBits) / (2 * n * d * 16);
    },
    onPrefill(ctx: PrefillContext) {
      const { keys: pre, rotary } = preRopePrompt(ctx, 'kvquant');
      const { cache } = ctx;
      const T = ctx.length;
      const d = cache.headDim;
      const from = Math.min(sinks, T);
      const zero: Float64Array[] = [];
      const range: Float64Array[] = [];
      const normalized: number[] = [];
      for (let kv = 0; kv < cache.nKvHeads; kv++) {
        const th = keyChannelThresholds(pre[kv], T, d, from, outliers);
        zero.push(th.zero);
        range.push(th.range);
        for (let t = from; t < T; t++) for (let c = 0; c < d; c++) {
          const u = (pre[kv][t * d + c] - th.zero[c]) / th.range[c];
          if (Math.abs(u) <= 1) normalized.push(u);
        }
      }
      const keyLevels = kmeans1d(normalized, 1 << bits);
      const valueNormalized: number[] = [];
      for (let t = from; t < T; t++) {
        const v = tokenValues(cache, t);
        const { mask, zero: z, range: r } = valueNormalize(v, valueOutliersPerSide(v.length));
        for (let i = 0; i < v.length; i++) if (!mask[i]) valueNormalized.push((v[i] - z) / r);
      }
      const st: LayerState = { zero, range, keyLevels, valueLevels: kmeans1d(valueNormalized, 1 << bits) };
      state.set(ctx.layer, st);
      for (let kv = 0; kv < cache.nKvHeads; kv++) {
        const k = Float32Array.from(pre[kv]);
        for (let t = from; t < T; t++) {
          quantizeKey(st, kv, k, t * d, d);
          writeRotatedKey(cache, kv, t, k, t * d, t, rotary);
        }
      }
      for (let t = from; t < T; t++) {
        const v = tokenValues(cache, t);
        quantizeValues(v, st.valueLevels);
        writeValues(cache, t, v);
      }
    },
    selectForStep(ctx: StepContext) {
      const st = state.get(ctx.layer);
      if (!st) return undefined;
      const { keys: pre, rotary } = preRopeStep(ctx, 'kvquant');
      const { cache } = ctx;
      const d = cache.headDim;
      const row = cache.length(0) - 1;
      for (let kv = 0; kv < cache.nKvHeads; kv++) {
        const k = Float32Array.from(pre[kv]);
        quantizeKey(st, kv, k, 0, d);
        writeRotatedKey(cache, kv, cache.length(kv) - 1, k, 0, ctx.position, rotary);
      }
      const v = tokenValues(cache, row);
      quantizeValues(v, st.valueLevels);
      writeValues(cache, row, v);
      return undefined;
    },
  };
}
