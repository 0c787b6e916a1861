/**
 * "Accurate Block Quantization in LLMs with Outliers" (Trukhanov & Soloveychik, 2024; no public
 * code), simulated; storage policy, nothing evicted. The K cache is stored in block floating
 * point: blocks of `block` channels of a key share one power-of-two exponent (8 bits) and each
 * value keeps a sign + (m - 1)-bit mantissa (BFP12 = 4-bit mantissas, the paper's K format).
 * K-sort: the key channels of every head are reordered, once and for all (the paper: at compile
 * time, applying the same permutation to the rows of W_q so q.k is unchanged), by the norms of
 * the rows of W_k, so that the outlier channels land in the same blocks instead of spoiling the
 * exponent of every block. With RoPE the adjacent pairs (2i, 2i+1) rotate together, so the sort
 * moves pairs, ranked by the norm of their two W_k rows (invariant under the rotation); pairs
 * are sorted by descending norm and the blocks are taken in that order. The cache keeps the
 * original channel order: the sort only decides which channels share an exponent, which is
 * exactly what a permuted W_k/W_q pair stores.
 * Values: BFP16 (8-bit mantissas, the paper's baseline format), blocks of consecutive channels,
 * unsorted (the paper targets the K cache).
 * Small-model note: the paper's block of 32-64 channels of a 128-wide head is scaled to a
 * quarter of the head (min 4 channels: stories260K 4, the default model 8); a block of a whole
 * head (n = 128 in the paper) gains nothing from the sort, as the paper finds.
 * Decode tokens are stored as they are written (selectForStep). Keys post-RoPE, as cached.
 * Memory: m bits per value plus 8 bits per block, keys and values.
 */
import type { LayerCacheView, PrefillContext, StepContext } from '../../models/attention-hooks.js';
import type { KvPolicy, PolicyOptions } from '../policy.js';
import { bfpQuantBlock } from './quant-kit.js';
import { aPosInt } from './select.js';

export interface BfpOptions extends Omit<PolicyOptions, 'budget'> {
  readonly keyMantissa?: number;
  readonly valueMantissa?: number;
  readonly block?: number;
  /** K-sort on (default) or off (plain BFP, the paper's baseline) */
  readonly sort?: boolean;
}

/**
 * K-sort of one KV head: its channels in blocks order, pairs ranked by the norm of their W_k
 * rows (descending, ties to the lower pair). wk is [nKvHeads*d][dim] row-major.
 */
export function ksortOrder(wk: Float32Array, dim: number, kv: number, d: number): Int32Array {
  const norms = Array.from({ length: d / 2 }, (_, i) => {
    let s = 0;
    for (const r of [kv * d + 2 * i, kv * d + 2 * i + 1]) for (let c = 0; c < dim; c++) s += wk[r * dim + c] ** 2;
    return s;
  });
  const pairs = Array.from({ length: d / 2 }, (_, i) => i).sort((a, b) => norms[b] - norms[a] || a - b);
  return Int32Array.from(pairs.flatMap((p) => [2 * p, 2 * p + 1]));
}

export function bfpKsortPolicy(o: BfpOptions): KvPolicy {
  const d0 = o.model.headDim;
  const keyMantissa = aPosInt(o.keyMantissa ?? 4, 'keyMantissa', 2);
  const valueMantissa = aPosInt(o.valueMantissa ?? 8, 'valueMantissa', 2);
  const block = aPosInt(o.block ?? Math.max(4, Math.floor(d0 / 4)), 'block');
  if (block % 2 !== 0 || d0 % block !== 0) throw new RangeError(`block must be even and divide headDim ${d0}, got ${block}`);
  const sort = o.sort ?? true;
  const orders = new Map<number, Int32Array[]>();

  const storeRow = (cache: LayerCacheView, kv: number, row: number, order: Int32Array): void => {
    const d = cache.headDim;
    const K = cache.keys(kv);
    const V = cache.values(kv);
    for (let b = 0; b < d; b += block) {
      bfpQuantBlock(K, Array.from(order.subarray(b, b + block), (c) => row * d + c), keyMantissa);
      bfpQuantBlock(V, Array.from({ length: block }, (_, i) => row * d + b + i), valueMantissa);
    }
  };

  return {
    name: 'bfp-ksort',
    kind: 'quantization',
    gqa: 'none',
    params: { keyMantissa, valueMantissa, block, sort },
    memoryRatio(n: number, d: number): number {
      return (keyMantissa + 8 / block + valueMantissa + 8 / block) / 32;
    },
    onPrefill(ctx: PrefillContext) {
      const { cache } = ctx;
      const d = cache.headDim;
      const identity = Int32Array.from({ length: d }, (_, i) => i);
      if (sort && !ctx.projection) throw new TypeError('bfp-ksort needs the key projection (PrefillContext.projection) to sort the channels');
      const ord = Array.from({ length: cache.nKvHeads }, (_, kv) => (sort && ctx.projection ? ksortOrder(ctx.projection.wk, ctx.projection.dim, kv, d) : identity));
      orders.set(ctx.layer, ord);
      for (let kv = 0; kv < cache.nKvHeads; kv++) for (let t = 0; t < ctx.length; t++) storeRow(cache, kv, t, ord[kv]);
    },
    selectForStep(ctx: StepContext) {
      const ord = orders.get(ctx.layer);
      if (!ord) return undefined;
      for (let kv = 0; kv < ctx.cache.nKvHeads; kv++) storeRow(ctx.cache, kv, ctx.cache.length(kv) - 1, ord[kv]);
      return undefined;
    },
  };
}
