/**
 * RazorAttention (Tang et al. 2024, "RazorAttention: Efficient KV Cache Compression Through
 * Retrieval Heads", arXiv 2407.15891; no public code); merging, static per KV head and kept at
 * size while decoding.
 * - Retrieval heads keep the whole cache. For RoPE models the paper finds them training-free
 *   from "echo" heads (attending to the previous occurrence of the current token) and
 *   "induction" heads (attending to the token after it), scored on a repeated random token
 *   sequence, and keeps the top 14% by induction score plus the top 1% by echo score. The scores
 *   come from eviction/eval/razor-calibrate.ts (the paper's data-free procedure, not the
 *   DuoAttention passkey calibration); of nRet retrieval heads floor(nRet / 15) are the best by
 *   echo score and the rest the best by induction score among the others (ties to the lower
 *   layer * nKvHeads + kvHead).
 * - Every other head drops remote tokens: it keeps s sinks and the r newest tokens, and ONE
 *   compensation token for all the dropped ones, k^ = mean of the dropped keys, v^ = mean of
 *   their values, which attention counts with the number N of tokens it stands for
 *   (score q.k^/sqrt(d) + ln N: the cache view's logMass), so the compensated attention is
 *   [sum_kept e^{q.k_i} v_i + N e^{q.k^} v^] / [sum_kept e^{q.k_i} + N e^{q.k^}].
 *   Tokens that leave the window while decoding are folded into the same compensation token
 *   (running mean, N grows), so a non-retrieval head always holds s + r + 1 entries.
 *   `compensation: 'mean'` counts it once instead (ln N not added).
 * Budget (as duo-attention.ts): B of a T-token prompt over NH = nLayers * nKvHeads heads,
 * duoSplit gives nRet and the per-head size W of the others (mean kept size <= B), with
 * s = min(4, floor((W - 1) / 2)), r = W - s - 1. The paper's fixed 15% of heads and
 * max(4K, 20%) windows are for 128K contexts; a fixed 15% would exceed 5-10% budgets on its own.
 * GQA: decisions per KV head; the head scores average the KV head's query heads ('group-mean').
 */
import type { AttendedContext, LayerCacheView, PrefillContext } from '../../models/attention-hooks.js';
import { aBudget, aModelShape, resolveBudget, type KvPolicy, type PolicyOptions } from '../policy.js';
import { duoSplit } from './duo-attention.js';
import { logMassOf } from './merge-utils.js';
import { aPosInt, iota, topKAscending, unionSorted } from './select.js';

/** Echo and induction scores per layer per KV head (razor-calibrate.ts). */
export interface RazorHeadScores {
  readonly echo: readonly ArrayLike<number>[];
  readonly induction: readonly ArrayLike<number>[];
}

export type RazorCompensation = 'count' | 'mean';

export interface RazorAttentionOptions extends PolicyOptions {
  readonly headScores: RazorHeadScores;
  readonly sinks?: number;
  readonly compensation?: RazorCompensation;
}

/** The nRet retrieval heads (flat indices layer * nKvHeads + kv): floor(nRet/15) by echo, the rest by induction. */
export function razorRetrievalHeads(echo: Float64Array, induction: Float64Array, nRet: number): Set<number> {
  const nE = Math.floor(nRet / 15);
  const byEcho = topKAscending(echo, nE);
  const chosen = new Set<number>(byEcho);
  const rest = Array.from({ length: induction.length }, (_, i) => i).filter((i) => !chosen.has(i));
  for (const i of topKAscending(induction, nRet - chosen.size, rest)) chosen.add(i);
  return chosen;
}

/** Sinks and recent window of a non-retrieval head of size W (one slot is the compensation token when W >= 2). */
export function razorLayout(W: number, sinks: number): { s: number; r: number } {
  if (W < 2) return { s: 0, r: W }; // no room for a compensation token: the newest W only
  const s = Math.min(sinks, Math.floor((W - 1) / 2));
  return { s, r: W - s - 1 };
}

interface HeadState {
  /** tokens the compensation token stands for (0: none yet) */
  n: number;
}

export function razorAttentionPolicy(o: RazorAttentionOptions): KvPolicy {
  const budget = aBudget(o.budget);
  const model = aModelShape(o.model);
  const sinks = aPosInt(o.sinks ?? 4, 'sinks', 0);
  const compensation: RazorCompensation = o.compensation ?? 'count';
  if (compensation !== 'count' && compensation !== 'mean') throw new RangeError("compensation must be 'count' or 'mean'");
  const NH = model.nLayers * model.nKvHeads;
  const flat = (rows: readonly ArrayLike<number>[], label: string): Float64Array => {
    if (!Array.isArray(rows) || rows.length !== model.nLayers) throw new RangeError(`headScores.${label} must have one row per layer`);
    const out = new Float64Array(NH);
    rows.forEach((row, l) => {
      if (row.length !== model.nKvHeads) throw new RangeError(`headScores.${label}[${l}] must have nKvHeads entries`);
      for (let kv = 0; kv < model.nKvHeads; kv++) out[l * model.nKvHeads + kv] = row[kv];
    });
    return out;
  };
  const echo = flat(o.headScores.echo, 'echo');
  const induction = flat(o.headScores.induction, 'induction');
  const layers = new Map<number, { W: number; s: number; r: number; ret: Set<number>; heads: HeadState[] }>();

  const compress = (layer: number, cache: LayerCacheView): void => {
    const st = layers.get(layer);
    if (!st) return;
    const d = cache.headDim;
    for (let kv = 0; kv < cache.nKvHeads; kv++) {
      if (st.ret.has(layer * model.nKvHeads + kv)) continue;
      const n = cache.length(kv);
      const hs = st.heads[kv];
      const hasComp = hs.n > 0;
      if (n <= st.s + st.r + (hasComp ? 1 : 0)) continue;
      const from = st.s + (hasComp ? 1 : 0);
      const to = n - st.r;
      if (st.W < 2) {
        cache.keep(kv, iota(st.r, n - st.r));
        continue;
      }
      const K = cache.keys(kv);
      const V = cache.values(kv);
      const c = st.s * d;
      const m = to - from;
      for (let e = 0; e < d; e++) {
        let sk = hs.n * (hasComp ? K[c + e] : 0);
        let sv = hs.n * (hasComp ? V[c + e] : 0);
        for (let j = from; j < to; j++) {
          sk += K[j * d + e];
          sv += V[j * d + e];
        }
        K[c + e] = sk / (hs.n + m);
        V[c + e] = sv / (hs.n + m);
      }
      hs.n += m;
      logMassOf(cache, kv)[st.s] = compensation === 'count' ? Math.log(hs.n) : 0;
      cache.keep(kv, unionSorted(iota(st.s + 1), iota(st.r, n - st.r)));
    }
  };

  return {
    name: 'razor-attention',
    kind: 'merging',
    gqa: 'group-mean',
    params: { sinks, compensation, when: 'static per head' },
    onPrefill(ctx: PrefillContext) {
      const T = ctx.length;
      const { nRet, window } = duoSplit(resolveBudget(budget, T), T, NH, sinks);
      const { s, r } = razorLayout(window, sinks);
      layers.set(ctx.layer, {
        W: window,
        s,
        r,
        ret: razorRetrievalHeads(echo, induction, nRet),
        heads: Array.from({ length: ctx.cache.nKvHeads }, () => ({ n: 0 })),
      });
      compress(ctx.layer, ctx.cache);
    },
    onAttention(ctx: AttendedContext) {
      compress(ctx.layer, ctx.cache);
    },
  };
}
