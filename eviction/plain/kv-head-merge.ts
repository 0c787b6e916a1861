/**
 * KV-head merging after "Effectively Compress KV Heads for LLM" (Yu et al. 2024, arXiv
 * 2406.07056); merging across the KV heads of a layer, training-free variant.
 * The paper observes that the KV caches of a layer's heads are low-rank together and compresses
 * multi-head into grouped attention: a group of m heads is replaced by ONE cached head, the
 * top-d principal directions of their stacked caches [x_1 | ... | x_m] (d = head width), the
 * projection folded into the query and output weights (so attention reads the rank-d
 * reconstruction); SVD on calibration caches is its training-free initialisation, which it then
 * fine-tunes. Here, without training: the principal directions come from the prompt's own cache
 * (per prompt, per layer, per group, keys and values separately), and the merged heads' caches
 * are replaced by that rank-d reconstruction, which is exactly what attention would read through
 * the folded projections; new tokens are projected the same way before attention reads them.
 * Grouping: the paper groups heads by the similarity of their caches; here agglomeratively,
 * most similar first: similarity(i, j) = mean over the prompt tokens of the key cosine
 * cos(k_i, k_j) averaged with the value cosine; groups are joined by average linkage, the most
 * similar pair of groups first (ties to the lower head indices), until g groups remain.
 * Budget r = B / T: g = max(1, ceil(r * nKvHeads)) stored heads per layer, and, since one stored
 * head per layer is the least this reaches (1 / nKvHeads of the cache), every head keeps the same
 * StreamingLLM window (4 sinks + newest) of W = min(T, floor(r T nKvHeads / g)) tokens, so the
 * stored vectors per layer are g * W <= B * nKvHeads.
 * GQA: the query heads of every KV head of a group read the group's one stored head; no
 * attention scores are used ('none').
 * Small-model note: the paper compresses 32 heads into 8 or 16; here there are 4 (stories260K)
 * or 3 (default model) KV heads, so only 1-3 stored heads per layer are possible and the
 * window does most of the work below 25-33%.
 */
import type { LayerCacheView, PrefillContext, StepContext, AttendedContext } from '../../models/attention-hooks.js';
import { aBudget, resolveBudget, type KvPolicy, type PolicyOptions } from '../policy.js';
import { topRightSingular } from './linalg.js';
import { rowCosine } from './merge-utils.js';
import { aPosInt } from './select.js';
import { trimToWindow } from './streaming-llm.js';

export interface KvHeadMergeOptions extends PolicyOptions {
  readonly sinks?: number;
}

/** Mean over tokens of the key (and value) cosine similarity of KV heads i and j, averaged. */
export function headSimilarity(cache: LayerCacheView, i: number, j: number): number {
  const n = Math.min(cache.length(i), cache.length(j));
  const d = cache.headDim;
  let s = 0;
  for (let t = 0; t < n; t++) s += rowCosine(cache.keys(i), t, cache.keys(j), t, d) + rowCosine(cache.values(i), t, cache.values(j), t, d);
  return n ? s / (2 * n) : 0;
}

/**
 * Agglomerative grouping of H heads into g groups by average linkage on `sim` (H x H), most
 * similar first; returns the groups and the merge order (pairs of group minima, in order).
 */
export function groupHeads(sim: (i: number, j: number) => number, H: number, g: number): { groups: number[][]; order: [number, number][] } {
  const S = Array.from({ length: H }, (_, i) => Array.from({ length: H }, (_, j) => (i === j ? 0 : sim(i, j))));
  let groups = Array.from({ length: H }, (_, i) => [i]);
  const order: [number, number][] = [];
  const link = (a: number[], b: number[]) => {
    let s = 0;
    for (const i of a) for (const j of b) s += S[i][j];
    return s / (a.length * b.length);
  };
  while (groups.length > Math.max(1, g)) {
    let best = -Infinity;
    let bi = 0;
    let bj = 1;
    for (let i = 0; i < groups.length; i++)
      for (let j = i + 1; j < groups.length; j++) {
        const s = link(groups[i], groups[j]);
        if (s > best) {
          best = s;
          bi = i;
          bj = j;
        }
      }
    order.push([groups[bi][0], groups[bj][0]]);
    const merged = [...groups[bi], ...groups[bj]].sort((a, b) => a - b);
    groups = groups.filter((_, k) => k !== bi && k !== bj);
    groups.push(merged);
    groups.sort((a, b) => a[0] - b[0]);
  }
  return { groups, order };
}

/** Rows [from, to) of the group's stacked caches projected on basis P (m d x d): x <- x P P^T, in place. */
function project(cache: LayerCacheView, group: readonly number[], tensor: 0 | 1, P: Float64Array, from: number, to: number): void {
  const d = cache.headDim;
  const md = group.length * d;
  const X = group.map((h) => (tensor === 0 ? cache.keys(h) : cache.values(h)));
  const row = new Float64Array(md);
  const z = new Float64Array(d);
  for (let t = from; t < to; t++) {
    group.forEach((_, gi) => {
      for (let e = 0; e < d; e++) row[gi * d + e] = X[gi][t * d + e];
    });
    z.fill(0);
    for (let r = 0; r < md; r++) {
      const v = row[r];
      if (v === 0) continue;
      for (let c = 0; c < d; c++) z[c] += v * P[r * d + c];
    }
    group.forEach((_, gi) => {
      for (let e = 0; e < d; e++) {
        let s = 0;
        const r = gi * d + e;
        for (let c = 0; c < d; c++) s += P[r * d + c] * z[c];
        X[gi][t * d + e] = s;
      }
    });
  }
}

interface LayerPlan {
  readonly W: number;
  readonly groups: number[][];
  /** per group with >= 2 heads: [key basis, value basis] */
  readonly bases: ([Float64Array, Float64Array] | undefined)[];
}

export function kvHeadMergePolicy(o: KvHeadMergeOptions): KvPolicy {
  const budget = aBudget(o.budget);
  const sinks = aPosInt(o.sinks ?? 4, 'sinks', 0);
  const plans = new Map<number, LayerPlan>();
  const trim = (cache: LayerCacheView, W: number): void => trimToWindow(cache, W, sinks);
  return {
    name: 'kv-head-merge',
    kind: 'merging',
    gqa: 'none',
    params: { sinks, basis: 'prompt SVD (training-free)' },
    onPrefill(ctx: PrefillContext) {
      const T = ctx.length;
      const { cache } = ctx;
      const H = cache.nKvHeads;
      const d = cache.headDim;
      const r = resolveBudget(budget, T) / T;
      const g = Math.max(1, Math.min(H, Math.ceil(r * H - 1e-9)));
      const W = Math.max(1, Math.min(T, Math.floor((r * T * H) / g + 1e-9)));
      const { groups } = groupHeads((i, j) => headSimilarity(cache, i, j), H, g);
      trim(cache, W);
      const n = cache.length(0);
      const bases = groups.map((grp): [Float64Array, Float64Array] | undefined => {
        if (grp.length < 2) return undefined;
        const md = grp.length * d;
        const pair = ([0, 1] as const).map((tensor) => {
          const X = new Float64Array(n * md);
          grp.forEach((h, gi) => {
            const src = tensor === 0 ? cache.keys(h) : cache.values(h);
            for (let t = 0; t < n; t++) for (let e = 0; e < d; e++) X[t * md + gi * d + e] = src[t * d + e];
          });
          const P = topRightSingular(X, n, md, d);
          project(cache, grp, tensor, P, 0, n);
          return P;
        });
        return [pair[0], pair[1]];
      });
      plans.set(ctx.layer, { W, groups, bases });
    },
    selectForStep(ctx: StepContext) {
      // the new token's K/V were just appended: project them before attention reads them
      const pl = plans.get(ctx.layer);
      if (!pl) return undefined;
      const n = ctx.cache.length(0);
      pl.groups.forEach((grp, gi) => {
        const b = pl.bases[gi];
        if (!b) return;
        project(ctx.cache, grp, 0, b[0], n - 1, n);
        project(ctx.cache, grp, 1, b[1], n - 1, n);
      });
      return undefined;
    },
    onAttention(ctx: AttendedContext) {
      const pl = plans.get(ctx.layer);
      if (pl) trim(ctx.cache, pl.W);
    },
  };
}
