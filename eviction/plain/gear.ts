/**
 * GEAR (Kang et al., 2024; opengear-project/GEAR, GEARLM/Simulated/compress_function.py),
 * simulated; storage policy, nothing evicted. A block X (tokens x channels of one KV head) is
 * stored as X ~ D + L with
 * - S, sparse outliers kept exactly: keys, per channel over the block's tokens, the
 *   round(s/2 * n) largest and smallest; values, over the whole block, the round(s/2 * n * d)
 *   largest and smallest (per token, as the authors' count over all heads, rounds to none on
 *   heads of 8-32 channels); s = 2% (the authors' --left 0.02);
 * - Q, the rest quantized after the outliers are replaced by the channel (keys) / token
 *   (values) mean: 'kivi' grouping (keys per channel over chunks of `group` tokens, values per
 *   token over groups of min(group, d) channels; the authors' GEAR at 2 bits, group 64) or
 *   'kcvt' (keys per channel over the block, values per token; GEAR-KCVT at 4 bits);
 *   D = Q with S written back;
 * - L, the rank-r approximation of the residual X - D by `loops` (3) power iterations from a
 *   seeded random start, r = prefillRank for the prompt block and decodeRank for each streamed
 *   chunk (the authors' 4 and 2 of head width 128, i.e. max(1, round(4 d / 128)) and
 *   max(1, round(2 d / 128)): 1 here).
 * Streaming: the prompt's first floor(T / group) * group tokens form one block at prefill; later
 *   tokens wait in full precision and are compressed `group` at a time (the authors'
 *   --streaming_gap). Keys post-RoPE, as cached.
 * Memory: bits per value, 2 x 16 bits per quantization group, 32 bits per outlier (fp16 value +
 *   16-bit index), (n + d) * r 16-bit low-rank factors per block, waiting tokens in 16 bits.
 */
import type { AttendedContext, LayerCacheView, PrefillContext } from '../../models/attention-hooks.js';
import type { KvPolicy, PolicyOptions } from '../policy.js';
import { fakeQuantGroup } from './kivi.js';
import { powerIterationLowRank } from './linalg.js';
import { strided } from './quant-kit.js';
import { mixSeed } from './seeded-rng.js';
import { aPosInt, aRatio } from './select.js';

export type GearGrouping = 'kivi' | 'kcvt';

export interface GearBlockOptions {
  readonly bits: number;
  readonly grouping: GearGrouping;
  readonly group: number;
  readonly sparsity: number;
  readonly rank: number;
  readonly loops: number;
  readonly seed: number;
}

export interface GearBlock {
  /** D + L, what the cache holds */
  readonly out: Float64Array;
  /** quantized part with the outliers written back */
  readonly D: Float64Array;
  /** 1 where an entry is a sparse outlier (exact in D) */
  readonly outlier: Uint8Array;
  /** the low-rank residual approximation */
  readonly L: Float64Array;
}

/** Flags the k largest and k smallest of x[idx[i]]. */
function flagExtremes(x: Float64Array, idx: ArrayLike<number>, k: number, mask: Uint8Array): void {
  if (k <= 0) return;
  const order = Array.from(idx).sort((a, b) => x[a] - x[b] || a - b);
  for (let i = 0; i < Math.min(k, order.length); i++) {
    mask[order[i]] = 1;
    mask[order[order.length - 1 - i]] = 1;
  }
}

/** GEAR's compression of an n x d block of keys or values. */
export function gearCompress(x: ArrayLike<number>, n: number, d: number, kind: 'key' | 'value', o: GearBlockOptions): GearBlock {
  const X = Float64Array.from(x);
  const outlier = new Uint8Array(n * d);
  if (kind === 'key') for (let c = 0; c < d; c++) flagExtremes(X, strided(c, n, d), Math.round((o.sparsity / 2) * n), outlier);
  else flagExtremes(X, strided(0, n * d, 1), Math.round((o.sparsity / 2) * n * d), outlier);
  const Q = Float64Array.from(X);
  if (kind === 'key') {
    for (let c = 0; c < d; c++) {
      let m = 0;
      for (let t = 0; t < n; t++) m += X[t * d + c] / n;
      for (let t = 0; t < n; t++) if (outlier[t * d + c]) Q[t * d + c] = m;
    }
    const chunk = o.grouping === 'kivi' ? o.group : n;
    for (let t0 = 0; t0 < n; t0 += chunk) for (let c = 0; c < d; c++) fakeQuantGroup(Q, strided(t0 * d + c, Math.min(chunk, n - t0), d), o.bits);
  } else {
    for (let t = 0; t < n; t++) {
      let m = 0;
      for (let c = 0; c < d; c++) m += X[t * d + c] / d;
      for (let c = 0; c < d; c++) if (outlier[t * d + c]) Q[t * d + c] = m;
    }
    const g = o.grouping === 'kivi' ? Math.min(o.group, d) : d;
    for (let t = 0; t < n; t++) for (let c0 = 0; c0 < d; c0 += g) fakeQuantGroup(Q, strided(t * d + c0, Math.min(g, d - c0), 1), o.bits);
  }
  const D = Q;
  for (let i = 0; i < n * d; i++) if (outlier[i]) D[i] = X[i];
  const R = Float64Array.from(X, (v, i) => v - D[i]);
  const L = o.rank > 0 ? powerIterationLowRank(R, n, d, o.rank, o.loops, o.seed) : new Float64Array(n * d);
  const out = Float64Array.from(D, (v, i) => v + L[i]);
  return { out, D, outlier, L };
}

export interface GearOptions extends Omit<PolicyOptions, 'budget'> {
  readonly bits: 2 | 4;
  readonly grouping?: GearGrouping;
  readonly group?: number;
  readonly sparsity?: number;
  readonly prefillRank?: number;
  readonly decodeRank?: number;
  readonly loops?: number;
}

export function gearPolicy(o: GearOptions): KvPolicy {
  const bits = o.bits;
  if (bits !== 2 && bits !== 4) throw new RangeError('bits must be 2 or 4');
  const d0 = o.model.headDim;
  const grouping: GearGrouping = o.grouping ?? (bits === 2 ? 'kivi' : 'kcvt');
  const group = aPosInt(o.group ?? 32, 'group');
  const sparsity = aRatio(o.sparsity ?? 0.02, 'sparsity', 0, 0.5);
  const prefillRank = aPosInt(o.prefillRank ?? Math.max(1, Math.round((4 * d0) / 128)), 'prefillRank', 0);
  const decodeRank = aPosInt(o.decodeRank ?? Math.max(1, Math.round((2 * d0) / 128)), 'decodeRank', 0);
  const loops = aPosInt(o.loops ?? 3, 'loops');
  const seed = o.seed ?? 1;
  const done = new Map<number, number>();

  const compressRange = (cache: LayerCacheView, layer: number, from: number, to: number, rank: number): void => {
    const d = cache.headDim;
    const n = to - from;
    for (let kv = 0; kv < cache.nKvHeads; kv++) {
      for (const kind of ['key', 'value'] as const) {
        const A = kind === 'key' ? cache.keys(kv) : cache.values(kv);
        const blk = gearCompress(A.subarray(from * d, to * d), n, d, kind, { bits, grouping, group, sparsity, rank, loops, seed: mixSeed(seed, layer, kv, from, kind === 'key' ? 0 : 1) });
        for (let i = 0; i < n * d; i++) A[from * d + i] = blk.out[i];
      }
    }
  };

  return {
    name: `gear-${bits}`,
    kind: 'quantization',
    gqa: 'none',
    params: { bits, grouping, group, sparsity, prefillRank, decodeRank, loops },
    memoryRatio(n: number, d: number): number {
      const m = Math.floor(n / group) * group;
      const g = grouping === 'kivi' ? Math.min(group, d) : d;
      const keyScales = grouping === 'kivi' ? (m / group) * d * 32 : d * 32;
      const keyOut = 2 * Math.round((sparsity / 2) * m) * d * 32;
      const valScales = m * Math.ceil(d / g) * 32;
      const valOut = 2 * Math.round((sparsity / 2) * m * d) * 32;
      const lowRank = (m + d) * prefillRank * 16;
      const rest = (n - m) * d * 16;
      const bitsAll = 2 * (m * d * bits + lowRank + rest) + keyScales + keyOut + valScales + valOut;
      return bitsAll / (2 * n * d * 16);
    },
    onPrefill(ctx: PrefillContext) {
      const m = Math.floor(ctx.length / group) * group;
      if (m > 0) compressRange(ctx.cache, ctx.layer, 0, m, prefillRank);
      done.set(ctx.layer, m);
    },
    onAttention(ctx: AttendedContext) {
      const from = done.get(ctx.layer);
      if (from === undefined) return;
      const n = ctx.cache.length(0);
      if (n - from < group) return;
      compressRange(ctx.cache, ctx.layer, from, from + group, decodeRank);
      done.set(ctx.layer, from + group);
    },
  };
}
