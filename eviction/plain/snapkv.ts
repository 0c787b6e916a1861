/**
 * SnapKV (Li et al., 2024); static, once after prefill. Per KV head: the causal attention
 * probabilities of the last w prompt queries, summed over those queries, for the keys
 * before the window; GQA: 'group-mean' (averaged over the query heads sharing the KV head,
 * as GQA ports of SnapKV do; the original repeats KV per query head). Then 1-D pooling
 * over positions (kernel k, stride 1, padding k//2; 'avg' divides by k including padding as
 * torch's avg_pool1d does, 'max' ignores padding), then the top (capacity - w) pooled scores
 * (ties to the lower index) plus the window are kept.
 * Window w = min(window, max(1, floor(B/2))) so the window never takes the whole budget at
 * small budgets. Defaults: window 32, kernel 7, pooling 'avg'.
 * `layerCapacity` lets PyramidKV give each layer its own capacity.
 */
import type { PrefillContext } from '../../models/attention-hooks.js';
import { aBudget, resolveBudget, type KvPolicy, type PolicyOptions } from '../policy.js';
import { prefillMass } from './scores.js';
import { aPosInt, iota, topKAscending, unionSorted } from './select.js';

export type Pooling = 'avg' | 'max';

export interface SnapKvOptions extends PolicyOptions {
  readonly window?: number;
  readonly kernel?: number;
  readonly pooling?: Pooling;
}

/** 1-D pooling, stride 1, padding floor(k/2), output length = input length (k odd). */
export function pool1d(x: Float64Array, kernel: number, pooling: Pooling): Float64Array {
  const n = x.length;
  const pad = Math.floor(kernel / 2);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let acc = pooling === 'max' ? -Infinity : 0;
    for (let j = i - pad; j <= i + pad; j++) {
      if (j < 0 || j >= n) continue;
      if (pooling === 'max') acc = Math.max(acc, x[j]);
      else acc += x[j];
    }
    out[i] = pooling === 'max' ? acc : acc / kernel;
  }
  return out;
}

/** SnapKV's window for budget B. */
export function snapWindow(window: number, B: number, T: number): number {
  return Math.min(window, Math.max(1, Math.floor(B / 2)), T);
}

/** SnapKV keep indices for one KV head at capacity `cap` (total kept, window included). */
export function snapKeep(ctx: PrefillContext, kv: number, cap: number, w: number, kernel: number, pooling: Pooling): Int32Array {
  const T = ctx.length;
  if (cap >= T) return iota(T);
  const mass = prefillMass(ctx, kv, T - w, T).subarray(0, T - w);
  const pooled = pool1d(Float64Array.from(mass), kernel, pooling);
  return unionSorted(topKAscending(pooled, Math.max(0, cap - w)), iota(w, T - w));
}

export function snapKvPolicy(o: SnapKvOptions & { layerCapacity?: (layer: number, B: number, w: number, T: number) => number; name?: string }): KvPolicy {
  const budget = aBudget(o.budget);
  const window = aPosInt(o.window ?? 32, 'window');
  const kernel = aPosInt(o.kernel ?? 7, 'kernel');
  if (kernel % 2 !== 1) throw new RangeError('kernel must be odd');
  const pooling: Pooling = o.pooling ?? 'avg';
  if (pooling !== 'avg' && pooling !== 'max') throw new RangeError(`pooling must be 'avg' or 'max'`);
  return {
    name: o.name ?? 'snapkv',
    kind: 'static',
    gqa: 'group-mean',
    params: { window, kernel, pooling },
    onPrefill(ctx: PrefillContext) {
      const T = ctx.length;
      const B = resolveBudget(budget, T);
      const w = snapWindow(window, B, T);
      const cap = o.layerCapacity ? o.layerCapacity(ctx.layer, B, w, T) : B;
      if (cap >= T) return;
      for (let kv = 0; kv < ctx.cache.nKvHeads; kv++) ctx.cache.keep(kv, snapKeep(ctx, kv, cap, w, kernel, pooling));
    },
  };
}
