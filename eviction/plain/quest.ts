/**
 * Quest (Tang et al., 2024); query-aware, nothing evicted. Per KV head the cache is cut into
 * pages of 16 tokens with per-dimension key max/min; per query head ('per-query-head') a
 * page scores sum_i max(q_i max_i, q_i min_i) (exactBound) and the top K pages are read,
 * the last (newest, possibly partial) page always. K = max(1, floor(B / pageSize)) with B
 * the budget over the prompt length. Layers < denseLayers (default 2) read everything.
 * Ties to the lower page index.
 */
import type { PrefillContext, StepContext } from '../../models/attention-hooks.js';
import { aBudget, kvHeadOf, resolveBudget, type KvPolicy, type PolicyOptions } from '../policy.js';
import { blockRepresentatives, blockTokens, exactBound } from './mpcache-oracle.js';
import { aPosInt, topKWithForced } from './select.js';

export interface QuestOptions extends PolicyOptions {
  readonly pageSize?: number;
  readonly denseLayers?: number;
}

/** Quest's pages for one query over n keys: ascending page indices. */
export function questPages(q: ArrayLike<number>, keys: Float32Array, n: number, d: number, pages: number, pageSize: number): Int32Array {
  const reps = blockRepresentatives(keys, n, d, pageSize);
  return topKWithForced(exactBound(q, reps), pages, [reps.nBlocks - 1]);
}

export function questPolicy(o: QuestOptions): KvPolicy {
  const budget = aBudget(o.budget);
  const pageSize = aPosInt(o.pageSize ?? 16, 'pageSize');
  const denseLayers = aPosInt(o.denseLayers ?? 2, 'denseLayers', 0);
  const pagesOf = new Map<number, number>();
  return {
    name: 'quest',
    kind: 'query-aware',
    gqa: 'per-query-head',
    params: { pageSize, denseLayers },
    onPrefill(ctx: PrefillContext) {
      pagesOf.set(ctx.layer, Math.max(1, Math.floor(resolveBudget(budget, ctx.length) / pageSize)));
    },
    selectForStep(ctx: StepContext) {
      const K = pagesOf.get(ctx.layer);
      if (ctx.layer < denseLayers || K === undefined) return undefined;
      const { cache } = ctx;
      const out: Int32Array[] = [];
      for (let h = 0; h < cache.nHeads; h++) {
        const kv = kvHeadOf(h, cache.nHeads, cache.nKvHeads);
        const n = cache.length(kv);
        out.push(blockTokens(questPages(ctx.query[h], cache.keys(kv), n, cache.headDim, K, pageSize), pageSize, n));
      }
      return out;
    },
  };
}
