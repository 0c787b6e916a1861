/**
 * TOVA (Oren et al., 2024), token omission via attention; evicting. When the cache
 * exceeds B entries, the newest query's attention averaged over ALL query heads of the
 * layer ('layer-mean') scores the entries and the lowest are dropped (one at a time while
 * decoding). One index set per layer: every KV head keeps the same positions.
 * After prefill the prompt is reduced to B with the last prompt query's head-mean
 * attention. Ties keep the lower (older) index.
 */
import type { AttendedContext, LayerCacheView, PrefillContext } from '../../models/attention-hooks.js';
import { aBudget, resolveBudget, type KvPolicy, type PolicyOptions } from '../policy.js';
import { prefillMass, stepMass } from './scores.js';
import { topKAscending } from './select.js';

function keepAll(cache: LayerCacheView, keep: Int32Array): void {
  for (let kv = 0; kv < cache.nKvHeads; kv++) cache.keep(kv, keep);
}

export function tovaPolicy(o: PolicyOptions): KvPolicy {
  const budget = aBudget(o.budget);
  const cap = new Map<number, number>();
  return {
    name: 'tova',
    kind: 'evicting',
    gqa: 'layer-mean',
    params: {},
    onPrefill(ctx: PrefillContext) {
      const T = ctx.length;
      const B = resolveBudget(budget, T);
      cap.set(ctx.layer, B);
      if (T <= B) return;
      keepAll(ctx.cache, topKAscending(prefillMass(ctx, 'layer', T - 1, T), B));
    },
    onAttention(ctx: AttendedContext) {
      const B = cap.get(ctx.layer);
      const n = ctx.cache.length(0);
      if (B === undefined || n <= B) return;
      keepAll(ctx.cache, topKAscending(stepMass(ctx, 'layer', n), B));
    },
  };
}
