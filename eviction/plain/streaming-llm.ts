/**
 * StreamingLLM (Xiao et al., 2023): keep the first `sinks` tokens (attention sinks) and the
 * most recent window; evicting. The prompt is trimmed to B entries after prefill and the cache
 * back to B after every decode step (attention at a step reads B + the current token).
 * sinks = min(nSinks, floor(B/2)); recent = B - sinks. Same positions for every KV head.
 * Key re-rotation to contiguous positions is not offered: the hooks cannot move the query's
 * RoPE position, so re-rotating keys alone would be inconsistent.
 */
import type { AttendedContext, LayerCacheView, PrefillContext } from '../../models/attention-hooks.js';
import { aBudget, resolveBudget, type KvPolicy, type PolicyOptions } from '../policy.js';
import { aPosInt, iota, unionSorted } from './select.js';

export interface StreamingLlmOptions extends PolicyOptions {
  /** attention-sink tokens kept at the start (default 4) */
  readonly sinks?: number;
}

/** Indices to keep of n entries: first `sinks` and last `B - sinks`. */
export function sinkPlusRecent(n: number, budget: number, sinks: number): Int32Array {
  if (n <= budget) return iota(n);
  const s = Math.min(sinks, Math.floor(budget / 2));
  return unionSorted(iota(s), iota(budget - s, n - (budget - s)));
}

/** Trims every KV head of a layer to `budget` entries by sinkPlusRecent (no-op where it holds fewer). */
export function trimToWindow(cache: LayerCacheView, budget: number, sinks: number): void {
  for (let kv = 0; kv < cache.nKvHeads; kv++) {
    const n = cache.length(kv);
    if (n > budget) cache.keep(kv, sinkPlusRecent(n, budget, sinks));
  }
}

export function streamingLlmPolicy(o: StreamingLlmOptions): KvPolicy {
  const budget = aBudget(o.budget);
  const sinks = aPosInt(o.sinks ?? 4, 'sinks', 0);
  const cap = new Map<number, number>();
  const trim = (cache: LayerCacheView, B: number): void => trimToWindow(cache, B, sinks);
  return {
    name: 'streaming-llm',
    kind: 'evicting',
    gqa: 'none',
    params: { sinks },
    onPrefill(ctx: PrefillContext) {
      const B = resolveBudget(budget, ctx.length);
      cap.set(ctx.layer, B);
      trim(ctx.cache, B);
    },
    onAttention(ctx: AttendedContext) {
      trim(ctx.cache, cap.get(ctx.layer) ?? Infinity);
    },
  };
}
