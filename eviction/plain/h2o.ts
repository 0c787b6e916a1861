/**
 * H2O (Zhang et al., 2023), heavy-hitter oracle, simulated form; evicting.
 * Per KV head, every cached token accumulates the attention it receives, summed over
 * queries: at prefill over all prompt rows of the causal probabilities, then at every
 * decode step. GQA: 'group-mean' (each query's probability averaged over the query heads of
 * the group). The cache keeps the `recent` newest tokens and the `heavy` tokens with the
 * largest accumulated score among the older ones: recent = floor(B * recentShare),
 * heavy = B - recent (default share 0.5, i.e. heavy 0.1 / recent 0.1 at a 20% budget).
 * Ties keep the lower (older) index.
 */
import type { AttendedContext } from '../../models/attention-hooks.js';
import { aBudget, resolveBudget, type KvPolicy, type PolicyOptions } from '../policy.js';
import { accumulateStepMass, prefillMass } from './scores.js';
import { aRatio, compact, heavyRecentLayers } from './select.js';

export interface H2oOptions extends PolicyOptions {
  /** fraction of the budget given to the recent window (default 0.5) */
  readonly recentShare?: number;
}

export function h2oPolicy(o: H2oOptions): KvPolicy {
  const budget = aBudget(o.budget);
  const recentShare = aRatio(o.recentShare ?? 0.5, 'recentShare');
  const layers = heavyRecentLayers((B) => Math.floor(B * recentShare), (a: Float64Array) => a, compact);
  return {
    name: 'h2o',
    kind: 'evicting',
    gqa: 'group-mean',
    params: { recentShare },
    onPrefill(ctx) {
      const B = resolveBudget(budget, ctx.length);
      const acc = Array.from({ length: ctx.cache.nKvHeads }, (_, kv) => prefillMass(ctx, kv, 0, ctx.length));
      layers.start(ctx.layer, ctx.cache, B, acc);
    },
    onAttention(ctx: AttendedContext) {
      layers.step(ctx.layer, ctx.cache, (acc) => accumulateStepMass(ctx, acc));
    },
  };
}
