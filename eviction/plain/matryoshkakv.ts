/**
 * MatryoshkaKV (Lin et al., ICLR 2025; The-kamisato/MatryoshkaKV-cache,
 * opencompass/.../modeling_pcallama_trial.py), PCA form without training; low-rank storage
 * policy, nothing evicted. Per KV head an orthogonal matrix U (headDim x headDim) whose columns
 * are the principal directions of the head's keys (and another of its values), ordered by
 * variance, with the means mu_k, mu_v: the cache keeps the first r coordinates (k - mu_k) U_r,
 * the query is projected by the same U_r, and the output is mapped back, + mu_v (the authors'
 * unitary_transform after apply_rotary_pos_emb). Since q . mu_k is the same for every key and
 * the attention weights sum to 1, that equals attending to k' = mu_k + U_r U_r^T (k - mu_k) and
 * v' = mu_v + U_r U_r^T (v - mu_v), which is what this simulation stores. The Matryoshka
 * property is that one U serves every budget: a smaller rank is a prefix of a larger one.
 * r = max(1, round(rho * headDim)) with rho the budget ratio (resolveBudget(budget, T) / T), the
 * same for every head and layer.
 * Training-free variant: the paper's PCA initialisation, which it reports degrades at low
 * ranks; the distillation-trained U (Cayley parameterised, Matryoshka rank sampling) and the
 * greedy search for per-head ranks are not done. The PCA (means and covariance) is computed on
 * the prompt's own cached keys and values at prefill (the paper computes it once on a
 * calibration corpus); keys are taken as cached, after RoPE (as the authors do), and decode
 * tokens are projected as they are written.
 * Memory: r of headDim channels for keys and for values, 16 bits each (U and the means are
 * per-head constants).
 */
import type { PrefillContext, StepContext } from '../../models/attention-hooks.js';
import { aBudget, resolveBudget, type KvPolicy, type PolicyOptions } from '../policy.js';
import { densityRank } from './cskv.js';
import { gram, leadingColumns, projectRow, symmetricEigen } from './linalg.js';

/** Mean and principal directions of n rows of width d: U is d x d, columns by decreasing variance. */
export function pcaBasis(x: ArrayLike<number>, n: number, d: number): { mean: Float64Array; U: Float64Array } {
  const mean = new Float64Array(d);
  for (let t = 0; t < n; t++) for (let i = 0; i < d; i++) mean[i] += x[t * d + i] / n;
  const centered = Float64Array.from({ length: n * d }, (_, j) => x[j] - mean[j % d]);
  return { mean, U: symmetricEigen(gram(centered, n, d), d).vectors };
}

/** Row x (width d at offset) <- mean + B B^T (x - mean). */
function projectCentered(x: Float32Array, off: number, mean: Float64Array, B: Float64Array, d: number, r: number): void {
  const y = Float64Array.from({ length: d }, (_, i) => x[off + i] - mean[i]);
  projectRow(y, 0, B, d, r);
  for (let i = 0; i < d; i++) x[off + i] = mean[i] + y[i];
}

interface Basis {
  readonly mean: Float64Array;
  readonly B: Float64Array;
}

function truncated(x: ArrayLike<number>, n: number, d: number, r: number): Basis {
  const { mean, U } = pcaBasis(x, n, d);
  return { mean, B: leadingColumns(U, d, r) };
}

export function matryoshkaKvPolicy(o: PolicyOptions): KvPolicy {
  const budget = aBudget(o.budget);
  /** per layer, per KV head: the truncated key and value bases */
  const state = new Map<number, { r: number; k: Basis[]; v: Basis[] }>();
  return {
    name: 'matryoshkakv',
    kind: 'low-rank',
    gqa: 'none',
    params: { basis: 'centered PCA of the prompt (no training)', ranks: 'uniform', keys: 'post-RoPE' },
    memoryRatio(n: number, d: number): number {
      return densityRank(resolveBudget(budget, n) / n, d) / d;
    },
    onPrefill(ctx: PrefillContext) {
      const { cache } = ctx;
      const T = ctx.length;
      const d = cache.headDim;
      const r = densityRank(resolveBudget(budget, T) / T, d);
      const st = { r, k: [] as Basis[], v: [] as Basis[] };
      for (let kv = 0; kv < cache.nKvHeads; kv++) {
        const K = cache.keys(kv);
        const V = cache.values(kv);
        st.k.push(truncated(K, T, d, r));
        st.v.push(truncated(V, T, d, r));
        for (let t = 0; t < T; t++) {
          projectCentered(K, t * d, st.k[kv].mean, st.k[kv].B, d, r);
          projectCentered(V, t * d, st.v[kv].mean, st.v[kv].B, d, r);
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
        projectCentered(cache.keys(kv), row * d, st.k[kv].mean, st.k[kv].B, d, st.r);
        projectCentered(cache.values(kv), row * d, st.v[kv].mean, st.v[kv].B, d, st.r);
      }
      return undefined;
    },
  };
}
