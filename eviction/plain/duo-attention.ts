/**
 * DuoAttention / RazorAttention-style head split; static per KV head. Retrieval heads keep
 * the whole cache; streaming heads keep `sinks` initial tokens plus a recent window and
 * stay at that size while decoding (evicting). Which heads retrieve comes from an offline
 * ranking (`headScores[layer][kvHead]`, higher = more retrieval-like; see
 * eviction/eval/duo-calibrate.ts for the procedure on synthetic passkey prompts), so the
 * decision is per KV head ('group-mean' in the calibration).
 * Budget B of a T-token prompt over NH = nLayers * nKvHeads heads:
 *   W0 = max(2 sinks, floor(B/2)) (bounded by B), nRet = floor(NH (B - W0) / (T - W0)),
 *   W = floor((B NH - nRet T) / (NH - nRet)) so the mean kept size over heads is <= B;
 * the nRet best-ranked heads (ties to the lower layer*nKvHeads+kvHead) retrieve.
 */
import type { AttendedContext, PrefillContext } from '../../models/attention-hooks.js';
import { aBudget, aModelShape, resolveBudget, type KvPolicy, type PolicyOptions } from '../policy.js';
import { aPosInt, topKAscending } from './select.js';
import { sinkPlusRecent } from './streaming-llm.js';

export interface DuoAttentionOptions extends PolicyOptions {
  /** retrieval score per layer per KV head (offline calibration) */
  readonly headScores: readonly (ArrayLike<number>)[];
  readonly sinks?: number;
}

/** Retrieval head count and streaming window for budget B, prompt T, NH heads. */
export function duoSplit(B: number, T: number, NH: number, sinks: number): { nRet: number; window: number } {
  if (B >= T) return { nRet: NH, window: T };
  const W0 = Math.min(B, Math.max(2 * sinks, Math.floor(B / 2)));
  const nRet = W0 >= T ? NH : Math.max(0, Math.min(NH - 1, Math.floor((NH * (B - W0)) / (T - W0))));
  const window = Math.max(1, Math.floor((B * NH - nRet * T) / (NH - nRet)));
  return { nRet, window };
}

export function duoAttentionPolicy(o: DuoAttentionOptions): KvPolicy {
  const budget = aBudget(o.budget);
  const model = aModelShape(o.model);
  const sinks = aPosInt(o.sinks ?? 4, 'sinks', 0);
  const NH = model.nLayers * model.nKvHeads;
  if (!Array.isArray(o.headScores) || o.headScores.length !== model.nLayers) throw new RangeError('headScores must have one row per layer');
  const flat = new Float64Array(NH);
  o.headScores.forEach((row, l) => {
    if (row.length !== model.nKvHeads) throw new RangeError(`headScores[${l}] must have nKvHeads entries`);
    for (let kv = 0; kv < model.nKvHeads; kv++) flat[l * model.nKvHeads + kv] = row[kv];
  });
  const rankCache = new Map<number, Set<number>>();
  const retrieval = (nRet: number): Set<number> => {
    let s = rankCache.get(nRet);
    if (!s) {
      s = new Set(topKAscending(flat, nRet));
      rankCache.set(nRet, s);
    }
    return s;
  };
  const windows = new Map<number, { window: number; ret: Set<number> }>();
  const trim = (layer: number, cache: PrefillContext['cache']): void => {
    const st = windows.get(layer);
    if (!st) return;
    for (let kv = 0; kv < cache.nKvHeads; kv++) {
      if (st.ret.has(layer * model.nKvHeads + kv)) continue;
      const n = cache.length(kv);
      if (n > st.window) cache.keep(kv, sinkPlusRecent(n, st.window, sinks));
    }
  };
  return {
    name: 'duo-attention',
    kind: 'static-per-head',
    gqa: 'group-mean',
    params: { sinks },
    onPrefill(ctx: PrefillContext) {
      const T = ctx.length;
      const { nRet, window } = duoSplit(resolveBudget(budget, T), T, NH, sinks);
      windows.set(ctx.layer, { window, ret: retrieval(nRet) });
      trim(ctx.layer, ctx.cache);
    },
    onAttention(ctx: AttendedContext) {
      trim(ctx.layer, ctx.cache);
    },
  };
}
