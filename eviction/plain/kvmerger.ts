/**
 * KVMerger (Wang, Jin, Yu, Zhang 2024, "Model Tells You Where to Merge: Adaptive KV Cache
 * Merging for LLMs on Long-Context Tasks", arXiv 2407.08454); merging, once after prefill
 * (generated tokens are appended and kept, as for static policies). No public code; rule as
 * read from the paper:
 * - merging sets: key states of consecutive tokens are highly similar, so a merging set is a
 *   run of CONSECUTIVE prompt tokens whose adjacent keys have cosine similarity >= the
 *   threshold (a link j -- j+1 with cos(k_j, k_{j+1}) >= tau joins them; sets never skip a token);
 * - Gaussian-kernel weighted merge: in a set S the pivot p is the token with the largest
 *   accumulated attention (summed over all prompt queries); every member gets
 *   w_i = exp(-||k_p - k_i||^2 / (2 sigma^2)) with sigma^2 the mean of ||k_p - k_i||^2 over the
 *   other members (w_p = 1), and the set becomes ONE entry at the pivot's position holding
 *   sum w_i k_i / sum w_i and sum w_i v_i / sum w_i (the same weights for the values).
 * Budget B per KV head: the paper reaches its memory budgets (50% / 35%) through the threshold;
 * here the effective threshold is the similarity of the (T - B)-th most similar link, so exactly
 * the T - B most similar links merge (ties to the lower index) and the prompt keeps B entries;
 * links below the effective threshold never merge. `threshold` (default 1, i.e. off) adds the
 * paper's adaptive mode: every link at or above it merges even when that leaves fewer than B
 * entries (on these small models adjacent keys are so similar that 0.8 merges a 448-token
 * prompt to ~13% whatever the budget, so it is off by default for equal-memory comparisons).
 * GQA: 'group-mean' (the pivot's attention mass is averaged over the query heads of the KV
 * head; sets are found per KV head on its own keys).
 * Small-model note: the paper evaluates 50% / 35% budgets on 4K+ contexts; at 5% of a
 * 448-token prompt each entry stands for ~20 tokens, far beyond the sets the paper sees.
 */
import type { PrefillContext } from '../../models/attention-hooks.js';
import { aBudget, resolveBudget, type KvPolicy, type PolicyOptions } from '../policy.js';
import { mergeRowsInto, rowCosine, rowDist2 } from './merge-utils.js';
import { prefillMass } from './scores.js';
import { aRatio, topKAscending } from './select.js';

export interface KvMergerOptions extends PolicyOptions {
  /** cosine similarity at or above which adjacent keys always merge (default 1: off, the budget alone sets the threshold) */
  readonly threshold?: number;
}

/** The merging sets of n keys: runs [start, end) joined by the merged links. */
export interface MergeSets {
  /** start index of each set, ascending */
  readonly starts: Int32Array;
  /** exclusive end index of each set */
  readonly ends: Int32Array;
  /** the effective threshold (the least similarity of a merged link; Infinity if none merged) */
  readonly threshold: number;
}

/** Adjacent-key cosine similarities s_j = cos(k_j, k_{j+1}), j = 0..n-2. */
export function adjacentSimilarity(keys: Float32Array, n: number, d: number): Float64Array {
  const s = new Float64Array(Math.max(0, n - 1));
  for (let j = 0; j + 1 < n; j++) s[j] = rowCosine(keys, j, keys, j + 1, d);
  return s;
}

/**
 * Merging sets for budget B: every link with similarity >= threshold merges, and if that leaves
 * more than B sets, the T - B most similar links merge instead (ties to the lower index).
 */
export function mergingSets(sim: Float64Array, n: number, B: number, threshold: number): MergeSets {
  let above = 0;
  for (let j = 0; j < sim.length; j++) if (sim[j] >= threshold) above++;
  const m = Math.min(sim.length, Math.max(above, n - B));
  const merged = new Uint8Array(sim.length);
  let least = Infinity;
  for (const j of topKAscending(sim, m)) {
    merged[j] = 1;
    least = Math.min(least, sim[j]);
  }
  const starts: number[] = [0];
  for (let j = 0; j < sim.length; j++) if (!merged[j]) starts.push(j + 1);
  const ends = starts.slice(1).concat([n]);
  return { starts: Int32Array.from(starts), ends: Int32Array.from(ends), threshold: least };
}

/** Gaussian-kernel weights of the members [a, b) around pivot p (w_p = 1). */
export function gaussianWeights(keys: Float32Array, a: number, b: number, p: number, d: number): Float64Array {
  const w = new Float64Array(b - a);
  if (b - a === 1) {
    w[0] = 1;
    return w;
  }
  let mean = 0;
  for (let i = a; i < b; i++) if (i !== p) mean += rowDist2(keys, p, i, d);
  mean /= b - a - 1;
  for (let i = a; i < b; i++) w[i - a] = i === p || !(mean > 0) ? 1 : Math.exp(-rowDist2(keys, p, i, d) / (2 * mean));
  return w;
}

export function kvMergerPolicy(o: KvMergerOptions): KvPolicy {
  const budget = aBudget(o.budget);
  const threshold = aRatio(o.threshold ?? 1, 'threshold', -1, 1);
  return {
    name: 'kvmerger',
    kind: 'merging',
    gqa: 'group-mean',
    params: { threshold, when: 'prefill' },
    onPrefill(ctx: PrefillContext) {
      const T = ctx.length;
      const B = resolveBudget(budget, T);
      if (B >= T) return;
      const { cache } = ctx;
      const d = cache.headDim;
      for (let kv = 0; kv < cache.nKvHeads; kv++) {
        const K = cache.keys(kv);
        const V = cache.values(kv);
        const sets = mergingSets(adjacentSimilarity(K, T, d), T, B, threshold);
        const mass = prefillMass(ctx, kv, 0, T);
        const keep = new Int32Array(sets.starts.length);
        for (let s = 0; s < sets.starts.length; s++) {
          const a = sets.starts[s];
          const b = sets.ends[s];
          let p = a;
          for (let i = a + 1; i < b; i++) if (mass[i] > mass[p]) p = i;
          keep[s] = p;
          if (b - a === 1) continue;
          const rows = Int32Array.from({ length: b - a }, (_, i) => a + i);
          const w = gaussianWeights(K, a, b, p, d);
          mergeRowsInto(V, p, rows, w, d);
          mergeRowsInto(K, p, rows, w, d);
        }
        cache.keep(kv, keep);
      }
    },
  };
}
