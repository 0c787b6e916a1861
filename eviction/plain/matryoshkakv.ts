/**
 * MatryoshkaKV (Lin et al., 2025), PCA form without training; low-rank storage policy, nothing
 * evicted. Per KV head an orthogonal matrix U (headDim x headDim) whose columns are the
 * principal directions of the head's keys (and another of its values), ordered by variance;
 * the cache keeps the first r columns' coordinates, K U_r, and attention reads K U_r U_r^T (the
 * query goes through the same U_r, so q . k becomes (q U_r) . (k U_r)). The Matryoshka
 * property is that one U serves every budget: a smaller rank is a prefix of a larger one.
 * r = max(1, round(rho * headDim)) with rho the budget ratio (resolveBudget(budget, T) / T), the
 * same for every head and layer.
 * Training-free variant: the paper's PCA initialisation, which it reports degrades at low
 * ranks; the distillation-trained U (Cayley parameterised, Matryoshka rank sampling) and the
 * greedy search for per-head ranks are not done. The PCA (uncentered second moment, i.e. what
 * an orthogonal projection of the cache keeps) is computed on the prompt's own cached keys and
 * values at prefill (the paper computes it once on a calibration corpus); keys are taken as
 * cached, after RoPE, and decode tokens are projected as they are written.
 * Memory: r of headDim channels for keys and for values, 16 bits each.
 */
import type { PrefillContext, StepContext } from '../../models/attention-hooks.js';
import { aBudget, resolveBudget, type KvPolicy, type PolicyOptions } from '../policy.js';
import { densityRank } from './cskv.js';
import { gram, leadingColumns, projectRow, symEigen } from './linalg.js';

/** The principal directions (uncentered) of n rows of width d: d x d, columns by decreasing variance. */
export function pcaBasis(x: ArrayLike<number>, n: number, d: number): Float64Array {
  return symEigen(gram(x, n, d), d).vectors;
}

export function matryoshkaKvPolicy(o: PolicyOptions): KvPolicy {
  const budget = aBudget(o.budget);
  /** per layer, per KV head: the truncated key and value bases */
  const state = new Map<number, { r: number; k: Float64Array[]; v: Float64Array[] }>();
  return {
    name: 'matryoshkakv',
    kind: 'low-rank',
    gqa: 'none',
    params: { basis: 'PCA of the prompt (no training)', ranks: 'uniform', keys: 'post-RoPE' },
    memoryRatio(n: number, d: number): number {
      return densityRank(resolveBudget(budget, n) / n, d) / d;
    },
    onPrefill(ctx: PrefillContext) {
      const { cache } = ctx;
      const T = ctx.length;
      const d = cache.headDim;
      const r = densityRank(resolveBudget(budget, T) / T, d);
      const st = { r, k: [] as Float64Array[], v: [] as Float64Array[] };
      for (let kv = 0; kv < cache.nKvHeads; kv++) {
        const K = cache.keys(kv);
        const V = cache.values(kv);
        st.k.push(leadingColumns(pcaBasis(K, T, d), d, r));
        st.v.push(leadingColumns(pcaBasis(V, T, d), d, r));
        for (let t = 0; t < T; t++) {
          projectRow(K, t * d, st.k[kv], d, r);
          projectRow(V, t * d, st.v[kv], d, r);
        }
      }
      state.set(ctx.layer, st);
    },
    selectForStep(ctx: StepContext) {
      const st = state.get(ctx.layer);
      if (!st) return undefined;
      const { cache } = ctx;
      const d = cache.headDim;
      for (let kv = 0; kv < cache.nKvHeads; kv++) {
        const row = cache.length(kv) - 1;
        projectRow(cache.keys(kv), row * d, st.k[kv], d, st.r);
        projectRow(cache.values(kv), row * d, st.v[kv], d, st.r);
      }
      return undefined;
    },
  };
}
