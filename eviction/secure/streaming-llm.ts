/**
 * Secure StreamingLLM (plain twin: eviction/plain/streaming-llm.ts). The kept positions are a
 * function of PUBLIC lengths only (the first `sinks` tokens and the most recent window), so the
 * policy needs no secure selection at all: after prefill the prompt's cache is cut to the
 * budget B = resolveBudget(budget, T), and after every decode step's attention back to B
 * (attention reads B cached entries plus the current token), by local slices of the shares.
 *
 * Cost per decode step: nothing beyond the decoder's attention over B + 1 entries
 * (q K^T, softmax, . V): 0 extra rounds, 0 extra bytes. Reveals nothing.
 */
import type { SecureKvPolicy, SecureLayerCache } from '../../models/secure-hooks.js';
import type { Context } from '../../protocols/context.js';
import { concat, slice } from '../../protocols/linear.js';
import { type Budget, aBudget, layerBudgets } from '../policy.js';
import { sinkPlusRecent } from '../plain/streaming-llm.js';
import { aPosInt } from '../plain/select.js';

export interface SecureStreamingLlmOptions {
  readonly budget: Budget;
  /** attention-sink tokens kept at the start (default 4) */
  readonly sinks?: number;
}

/** The cache rows at public indices `keep` (ascending runs sliced locally). */
export function keepPublicRows(ctx: Context, cache: SecureLayerCache, keep: Int32Array): SecureLayerCache {
  if (keep.length === cache.length) return cache;
  const runs: [number, number][] = [];
  for (const i of keep) {
    const last = runs[runs.length - 1];
    if (last !== undefined && last[1] === i) last[1] = i + 1;
    else runs.push([i, i + 1]);
  }
  const cut = (x: typeof cache.k) => (runs.length === 1 ? slice(ctx, x, runs[0][0], runs[0][1], 1) : concat(ctx, runs.map(([a, b]) => slice(ctx, x, a, b, 1)), 1));
  return { ...cache, length: keep.length, k: cut(cache.k), v: cut(cache.v) };
}

export function secureStreamingLlmPolicy(o: SecureStreamingLlmOptions): SecureKvPolicy & { readonly budgetOf: ReadonlyMap<number, number>; prepare(layer: number, T: number): void } {
  const budget = aBudget(o.budget);
  const sinks = aPosInt(o.sinks ?? 4, 'sinks', 0);
  const budgets = layerBudgets(budget);
  const trim = (ctx: Context, cache: SecureLayerCache, B: number): SecureLayerCache => (cache.length <= B ? cache : keepPublicRows(ctx, cache, sinkPlusRecent(cache.length, B, sinks)));
  return {
    name: 'streaming-llm',
    leaks: '',
    /** budgetOf; prepare(layer, T) for a layer whose cache did not go through afterPrefill (benchmarks) */
    ...budgets,
    async afterPrefill(ctx, cache) {
      return trim(ctx, cache, budgets.prepare(cache.layer, cache.length));
    },
    async afterAttention(ctx, cache) {
      return trim(ctx, cache, budgets.budgetOf.get(cache.layer) ?? Infinity);
    },
  };
}
