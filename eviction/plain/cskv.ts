/**
 * CSKV, channel shrinking (Wang et al., 2024; wln20/CSKV, utils/training_utils.py init_svd +
 * modeling/modeling_llama.py), training-free form; low-rank storage policy, nothing evicted.
 * - The key projection W_k (all KV heads of the layer, kvDim x dim) is factored by SVD and
 *   truncated to rank r_k = max(1, round(rho * kvDim)); caching the r_k-dim code x A and reading
 *   the key back as (x A) B equals projecting the PRE-RoPE key (the layer's kvDim vector of the
 *   token) onto the top r_k left singular vectors of W_k: k' = V V^T k. RoPE is applied to the
 *   reconstructed key. Values the same with W_v, rank r_v (no RoPE).
 * - Bi-branch cache: the newest, incomplete window of `window` (32, the authors' q_window_size)
 *   tokens is kept at full size; a window is compressed after the step that completes it (the
 *   authors read it at full size at that step), the prompt's complete windows at prefill.
 * - rho, the channel density (the authors' k_density / v_density), is the budget ratio
 *   (resolveBudget(budget, T) / T).
 * Training-free variant: the authors' --use_asvd off path (plain SVD of the weights, no
 * activation scaling) and no fine-tuning of the factors (the paper trains them with a layer-wise
 * reconstruction loss); the paper's 80% reduction relies on that training.
 * Models with k/v projection biases (GPT-2 style): the bias is not part of the factored W, so the
 * projection of k = W x + b keeps only b's component in the basis (the bias could be cached once).
 * Memory (per token): r_k + r_v 16-bit channels over the layer's 2 * kvDim, the window at full
 * size.
 */
import type { AttendedContext, LayerCacheView, PrefillContext } from '../../models/attention-hooks.js';
import { aBudget, resolveBudget, type KvPolicy, type PolicyOptions } from '../policy.js';
import { leadingColumns, projectRow, symmetricEigen } from './linalg.js';
import { preRopePrompt, unrotatedKey, writeRotatedKey } from './pre-rope.js';
import { aPosInt } from './select.js';

export interface CskvOptions extends PolicyOptions {
  readonly window?: number;
}

/** Top-r left singular vectors of a [rows][cols] row-major matrix W (eigenvectors of W W^T), rows x r. */
export function leftSingularBasis(w: Float32Array, rows: number, cols: number, r: number): Float64Array {
  const m = new Float64Array(rows * rows);
  for (let i = 0; i < rows; i++) for (let j = i; j < rows; j++) {
    let s = 0;
    for (let c = 0; c < cols; c++) s += w[i * cols + c] * w[j * cols + c];
    m[i * rows + j] = s;
    m[j * rows + i] = s;
  }
  return leadingColumns(symmetricEigen(m, rows).vectors, rows, r);
}

/** The channel rank for density rho of width w. */
export function densityRank(rho: number, w: number): number {
  return Math.max(1, Math.min(w, Math.round(rho * w)));
}

interface LayerState {
  readonly kBasis: Float64Array;
  readonly vBasis: Float64Array;
  readonly rk: number;
  readonly rv: number;
  /** cache entries [0, done) are compressed */
  done: number;
  readonly rotary: NonNullable<PrefillContext['rotary']>;
}

export function cskvPolicy(o: CskvOptions): KvPolicy {
  const budget = aBudget(o.budget);
  const window = aPosInt(o.window ?? 32, 'window');
  const state = new Map<number, LayerState>();

  /** projects entries [from, to): the pre-RoPE layer key vector onto kBasis, the value vector onto vBasis */
  const compress = (st: LayerState, cache: LayerCacheView, from: number, to: number, pre?: readonly Float32Array[]): void => {
    const d = cache.headDim;
    const nKv = cache.nKvHeads;
    const kd = nKv * d;
    const k = new Float64Array(kd);
    const v = new Float64Array(kd);
    for (let t = from; t < to; t++) {
      for (let kv = 0; kv < nKv; kv++) {
        const pk = pre ? pre[kv].subarray(t * d, t * d + d) : unrotatedKey(cache, kv, t, cache.positions(kv)[t], st.rotary);
        for (let i = 0; i < d; i++) {
          k[kv * d + i] = pk[i];
          v[kv * d + i] = cache.values(kv)[t * d + i];
        }
      }
      projectRow(k, 0, st.kBasis, kd, st.rk);
      projectRow(v, 0, st.vBasis, kd, st.rv);
      for (let kv = 0; kv < nKv; kv++) {
        writeRotatedKey(cache, kv, t, k, kv * d, cache.positions(kv)[t], st.rotary);
        for (let i = 0; i < d; i++) cache.values(kv)[t * d + i] = v[kv * d + i];
      }
    }
    st.done = to;
  };

  return {
    name: 'cskv',
    kind: 'low-rank',
    gqa: 'none',
    params: { window, basis: 'SVD of W_k / W_v (training-free)', keys: 'pre-RoPE, the layer jointly' },
    memoryRatio(n: number, d: number): number {
      const rho = resolveBudget(budget, n) / n;
      const kd = o.model.nKvHeads * d;
      const m = Math.floor(n / window) * window;
      return (m * (densityRank(rho, kd) + densityRank(rho, kd)) + (n - m) * 2 * kd) / (2 * n * kd);
    },
    onPrefill(ctx: PrefillContext) {
      const { keys: pre, rotary } = preRopePrompt(ctx, 'cskv');
      if (!ctx.projection) throw new TypeError('cskv needs the K/V projections (PrefillContext.projection)');
      const { cache } = ctx;
      const T = ctx.length;
      const kd = cache.nKvHeads * cache.headDim;
      const rho = resolveBudget(budget, T) / T;
      const rk = densityRank(rho, kd);
      const rv = densityRank(rho, kd);
      const { wk, wv, dim } = ctx.projection;
      const st: LayerState = { kBasis: leftSingularBasis(wk, kd, dim, rk), vBasis: leftSingularBasis(wv, kd, dim, rv), rk, rv, done: 0, rotary };
      state.set(ctx.layer, st);
      compress(st, cache, 0, Math.floor(T / window) * window, pre);
    },
    onAttention(ctx: AttendedContext) {
      const st = state.get(ctx.layer);
      if (!st) return;
      const n = ctx.cache.length(0);
      // a window completed by this step was read at full size by it; later steps read it compressed
      const upTo = Math.floor(n / window) * window;
      if (upTo > st.done) compress(st, ctx.cache, st.done, upTo);
    },
  };
}
