/**
 * EMS, adaptive Evict-then-Merge Strategy for head-wise KV cache compression based on
 * Global-Local importance (Li et al. 2024, arXiv 2412.08521); merging, once after prefill
 * (generated tokens are appended and kept). No public code was found; the rule as read from
 * the paper, with the parts it leaves open chosen and named here:
 * - Global-Local score per KV head ('group-mean' over its query heads): the global part is the
 *   attention a key receives from all prompt queries divided by the number of queries that can
 *   see it (T - j), which removes the causal mask's bias towards early tokens; the local part is
 *   the attention from the last w prompt queries (w = min(32, floor(B/2)), as SnapKV); each part
 *   is normalised to sum 1 over the keys and GL = lambda * global + (1 - lambda) * local
 *   (lambda = 0.5);
 * - evict-then-merge, head-wise: the w newest tokens and the B - w best by GL are kept; the kept
 *   non-window tokens are the class centres. Every other token joins the centre with the largest
 *   key cosine similarity if that similarity is >= theta (redundant: merged into the centre,
 *   K and V averaged with GL weights, the centre's weight growing by what it absorbs), or else
 *   the zero class (sparse: evicted). With one threshold a head whose keys are redundant merges
 *   much and a sparse head mostly evicts: that is the head-wise adaptivity (theta = 0.5);
 * - the zero class is the paper's device to compress all heads in parallel with the same number
 *   of classes; here heads are processed one by one, so it is just "evicted".
 * Exactly min(T, B) entries per KV head hold the prompt after prefill.
 * Small-model note: the paper targets budgets of 128-2048 tokens on 32K contexts; here B is
 * 22-224 tokens of a 448-token prompt and head width is 8 (stories260K), where key cosine
 * similarity is noisy.
 */
import type { PrefillContext } from '../../models/attention-hooks.js';
import { aBudget, resolveBudget, type KvPolicy, type PolicyOptions } from '../policy.js';
import { complement, mergeRowsInto, rowCosine } from './merge-utils.js';
import { prefillMass } from './scores.js';
import { aPosInt, aRatio, iota, topKAscending, unionSorted } from './select.js';

export interface EmsOptions extends PolicyOptions {
  /** similarity at or above which an evicted token merges into its nearest centre (default 0.5) */
  readonly theta?: number;
  /** weight of the global part in the Global-Local score (default 0.5) */
  readonly lambda?: number;
  /** local window (default 32, capped at B/2) */
  readonly window?: number;
}

/** The Global-Local score of the T prompt keys for one KV head. */
export function globalLocalScore(ctx: PrefillContext, kv: number, w: number, lambda: number): Float64Array {
  const T = ctx.length;
  const g = prefillMass(ctx, kv, 0, T);
  const l = prefillMass(ctx, kv, T - w, T);
  for (let j = 0; j < T; j++) g[j] /= T - j;
  const sg = g.reduce((a, b) => a + b, 0) || 1;
  const sl = l.reduce((a, b) => a + b, 0) || 1;
  const out = new Float64Array(T);
  for (let j = 0; j < T; j++) out[j] = (lambda * g[j]) / sg + ((1 - lambda) * l[j]) / sl;
  return out;
}

export function emsPolicy(o: EmsOptions): KvPolicy {
  const budget = aBudget(o.budget);
  const theta = aRatio(o.theta ?? 0.5, 'theta', -1, 1);
  const lambda = aRatio(o.lambda ?? 0.5, 'lambda');
  const window = aPosInt(o.window ?? 32, 'window');
  return {
    name: 'ems',
    kind: 'merging',
    gqa: 'group-mean',
    params: { theta, lambda, window, when: 'prefill' },
    onPrefill(ctx: PrefillContext) {
      const T = ctx.length;
      const B = resolveBudget(budget, T);
      if (B >= T) return;
      const w = Math.min(window, Math.max(1, Math.floor(B / 2)), T);
      const { cache } = ctx;
      const d = cache.headDim;
      for (let kv = 0; kv < cache.nKvHeads; kv++) {
        const gl = globalLocalScore(ctx, kv, w, lambda);
        const centres = topKAscending(gl, B - w, iota(T - w));
        const keep = unionSorted(centres, iota(w, T - w));
        const K = cache.keys(kv);
        const V = cache.values(kv);
        const members = new Map<number, number[]>();
        for (const e of complement(T, keep)) {
          let bu = -Infinity;
          let bc = -1;
          for (const c of centres) {
            const s = rowCosine(K, e, K, c, d);
            if (s > bu) {
              bu = s;
              bc = c;
            }
          }
          if (bc >= 0 && bu >= theta) members.set(bc, [...(members.get(bc) ?? []), e]);
        }
        for (const [c, list] of members) {
          const rows = [c, ...list];
          const wts = rows.map((r) => gl[r] + 1e-12);
          mergeRowsInto(K, c, rows, wts, d);
          mergeRowsInto(V, c, rows, wts, d);
        }
        cache.keep(kv, keep);
      }
    },
  };
}
