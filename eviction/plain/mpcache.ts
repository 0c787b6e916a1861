/**
 * MPCache in plaintext, built from the pure rules in mpcache-oracle.ts; each part can be
 * switched off. Two parametrisations:
 *
 * - `MPCACHE_DEFAULTS` (registry 'mpcache', the project's default since issue 18,
 *   "MPCache-R": retrieval-keeping and MPC-friendly; measured in eviction/eval/RESULTS.md):
 *   static scores from the LAST 32 prompt queries (where the question is), summed, averaged
 *   over the query heads of each KV head, average-pooled over 7 tokens, one public-size top-k
 *   per KV head; the newest 16 cache entries always read at a step; no cross-layer sharing;
 *   ratio2 0.5: 2B tokens survive prefill, a step reads B of them (60-prompt passkey 2k at
 *   10%: 59/60 against 52/60 with ratio2 0.2; RESULTS.md).
 * - the option defaults of `mpcachePolicy` (registry 'mpcache-v1', the project's first
 *   default; secure: eviction/secure/mpcache.ts, secure registry 'mpcache-v1').
 * The secure 'mpcache' (eviction/secure/mpcache-r.ts) implements MPCACHE_DEFAULTS.
 * The authors' rules exactly are `mpcache-paper` (mpcache-paper.ts); the differences of both
 * from them are listed there and in RESULTS.md.
 *
 * 1. Look-once static eviction (onPrefill). Scores: per token, the causal prefill attention
 *    probabilities softmax(QK^T/sqrt d) of the observation window's queries (obsWindow
 *    queries, or windowRatio = 20% of the prompt), summed over the window ('sum') or maxed
 *    ('max'), averaged over all query heads (one decision per layer, applied to every KV
 *    head) or over each KV head's group (staticPerKvHead), optionally average-pooled (pool).
 *    Keep rule: a PUBLIC budget Bs: the last wk = min(w, max(1, floor(Bs / 2))) prompt tokens
 *    (the window; a budget under twice the window keeps only half of it) plus the top
 *    (Bs - wk) scores among the earlier ones (staticKeepTopK). Option 'threshold' keeps
 *    tokens whose max window score >= tau (data-dependent count). `scaled: false,
 *    causal: false` scores as the authors (no 1/sqrt(d), no causal mask).
 * 2. Two-level clustered selection (selectForStep, per query head), twoLevelSelect over the
 *    cached (statically kept + generated) tokens: blocks of 32 then 16, linear similarity
 *    q . (alpha r_max + (1 - alpha) r_min), k = floor(G ratio + 1e-9) with the first and
 *    last (aligned, possibly partial) blocks counted inside k and always chosen; plus the
 *    newest `recent` entries (public positions).
 * 3. Cross-layer index sharing (share): a reusing layer takes the level-2 block indices its
 *    source layer chose at the same step for the same query head, as indices into ITS OWN
 *    cache (clamped to its block count; first/last blocks re-forced). Unlike the authors'
 *    code, the reusing layer keeps its own static set, so a shared index can name other
 *    tokens than in the source layer (mpcache-paper reuses the kept set too).
 *
 * Budget B (tokens of the prompt length T) is split as follows:
 * - static + dynamic: Bs = min(T, floor(B / ratio2)) tokens survive prefill and each step
 *   reads ~ ratio2' = (B - recent) / Bs of them (k2 = floor(G16 * ratio2')) plus the recent
 *   entries, i.e. ~B tokens per step;
 * - static only: Bs = B, every cached token is read;
 * - dynamic only: nothing evicted, ratio2' = (B - recent) / T;
 * level-1 ratio is max(ratio1, ratio2'). Block granularity: a step reads whole 16-token
 * blocks, at least the first and the last.
 */
import type { PrefillContext, StepContext } from '../../models/attention-hooks.js';
import { aBudget, aModelShape, kvHeadOf, resolveBudget, type KvPolicy, type PolicyOptions } from '../policy.js';
import {
  blockTokens,
  selectionSourceLayer,
  staticKeepThreshold,
  staticKeepTopK,
  staticWindowScores,
  staticWindowScoresFromProbs,
  staticWindowSize,
  twoLevelSelect,
} from './mpcache-oracle.js';
import { prefillMass } from './scores.js';
import { aPosInt, aRatio, iota, unionSorted } from './select.js';
import { pool1d } from './snapkv.js';

export interface MpCacheOptions extends PolicyOptions {
  /** look-once static eviction on (default true) */
  readonly static?: boolean;
  /** two-level dynamic selection on (default true) */
  readonly dynamic?: boolean;
  /** cross-layer index sharing on (default true; only matters with dynamic) */
  readonly share?: boolean;
  /** static keep rule (default 'topk') */
  readonly keepRule?: 'topk' | 'threshold';
  /**
   * how the top-k rule aggregates a token's head-mean probabilities over the window queries:
   * 'sum' (default; linear, free under MPC) or 'max' (the quantity the authors' threshold rule
   * tests, so top-k on it is their rule with a public count; costs a max under MPC)
   */
  readonly aggregate?: 'sum' | 'max';
  /** threshold for keepRule 'threshold' (default 1e-3) */
  readonly tau?: number;
  readonly scaled?: boolean;
  readonly causal?: boolean;
  readonly windowRatio?: number;
  readonly ratio1?: number;
  readonly ratio2?: number;
  readonly alpha?: number;
  readonly block2?: number;
  /**
   * Paper mode: keep floor(staticRatio * T) prompt tokens statically and read ratio2 of the
   * cache per step, whatever the budget (the secure MPCache's parametrisation; default: derive
   * both from the budget as described above)
   */
  readonly staticRatio?: number;
  /** always select the first / the last block (default true) */
  readonly forceFirst?: boolean;
  readonly forceLast?: boolean;
  /**
   * layers below this index keep and read everything (default 0: MPCache everywhere).
   * Quest's rule is 2; not part of MPCache, offered to measure what early layers need.
   */
  readonly denseLayers?: number;
  /**
   * observation window as a number of prompt queries (default: windowRatio of the prompt);
   * e.g. 32 as SnapKV, so that the question at the end of the prompt dominates the scores
   */
  readonly obsWindow?: number;
  /** average-pool the static scores over this many neighbouring tokens (odd; default 1 = off; linear, free under MPC) */
  readonly pool?: number;
  /** static decision per KV head on its group's scores (default false: one decision per layer) */
  readonly staticPerKvHead?: boolean;
  /** the newest `recent` cache entries are always read at a decode step (default 0) */
  readonly recent?: number;
  /** first layer that may reuse another's selection under sharing (default 2) */
  readonly shareFrom?: number;
  /** registry name override (variants) */
  readonly name?: string;
}

/**
 * The project's default MPCache ("MPCache-R", registry 'mpcache'): the option values that
 * keep retrieval on the long suite (eviction/eval/RESULTS.md), each comparison-free or
 * comparison-light under MPC:
 * - obsWindow 32: the window sum reads 32 rows of the prefill probabilities instead of 20% of
 *   them (fewer local additions; the question at the end of the prompt drives the scores);
 * - pool 7: a public-weight moving average (local, no communication);
 * - staticPerKvHead: one top-k of the same public size per KV head (nKvHeads top-ks in
 *   parallel: the same rounds as one, nKvHeads times the comparisons);
 * - recent 16: the newest 16 entries read at every step (public positions: a gather, no
 *   comparison), taken out of the per-step block budget;
 * - share false: every layer selects its own blocks (selection per layer: one similarity round
 *   and two top-k; on this 6-layer model 6 selecting layers instead of 5).
 */
export const MPCACHE_DEFAULTS: Readonly<Partial<MpCacheOptions>> = { obsWindow: 32, pool: 7, staticPerKvHead: true, recent: 16, share: false, ratio2: 0.5 };

export function mpcachePolicy(o: MpCacheOptions): KvPolicy {
  const budget = aBudget(o.budget);
  const model = aModelShape(o.model);
  const useStatic = o.static ?? true;
  const useDynamic = o.dynamic ?? true;
  const share = o.share ?? true;
  const keepRule = o.keepRule ?? 'topk';
  const tau = o.tau ?? 1e-3;
  const aggregate = o.aggregate ?? 'sum';
  if (aggregate !== 'sum' && aggregate !== 'max') throw new RangeError(`aggregate must be 'sum' or 'max'`);
  const scaled = o.scaled ?? true;
  const causal = o.causal ?? true;
  const windowRatio = aRatio(o.windowRatio ?? 0.2, 'windowRatio');
  const ratio1 = aRatio(o.ratio1 ?? 0.5, 'ratio1');
  const ratio2 = aRatio(o.ratio2 ?? 0.2, 'ratio2', 1e-9, 1);
  const alpha = o.alpha ?? 0.6;
  const block2 = o.block2 ?? 16;
  const staticRatio = o.staticRatio === undefined ? undefined : aRatio(o.staticRatio, 'staticRatio', 1e-9, 1);
  const forceFirst = o.forceFirst ?? true;
  const forceLast = o.forceLast ?? true;
  const denseLayers = o.denseLayers ?? 0;
  const obsWindow = o.obsWindow === undefined ? undefined : aPosInt(o.obsWindow, 'obsWindow');
  const pool = aPosInt(o.pool ?? 1, 'pool');
  if (pool % 2 !== 1) throw new RangeError('pool must be odd');
  const staticPerKvHead = o.staticPerKvHead ?? false;
  const recent = aPosInt(o.recent ?? 0, 'recent', 0);
  const shareFrom = aPosInt(o.shareFrom ?? 2, 'shareFrom', 0);
  if (!Number.isSafeInteger(denseLayers) || denseLayers < 0) throw new RangeError(`denseLayers must be a non-negative integer, got ${String(o.denseLayers)}`);
  /** per layer: dynamic ratio in effect */
  const layerRatio2 = new Map<number, number>();
  /** per step: level-2 blocks chosen per query head by each computing layer */
  let chosenStep = -1;
  const chosen = new Map<number, Int32Array[]>();
  const name = o.name ?? (useStatic && useDynamic ? (share ? 'mpcache' : 'mpcache-noshare') : useStatic ? 'mpcache-static' : useDynamic ? (share ? 'mpcache-dynamic' : 'mpcache-dynamic-noshare') : 'mpcache-off');
  return {
    name,
    kind: useStatic && useDynamic ? 'static+query-aware' : useStatic ? 'static' : useDynamic ? 'query-aware' : 'reference',
    gqa: useDynamic ? 'per-query-head' : useStatic ? 'layer-mean' : 'none',
    params: { static: useStatic, dynamic: useDynamic, share, keepRule, aggregate, tau, scaled, causal, windowRatio, obsWindow: obsWindow ?? 'windowRatio', pool, staticPerKvHead, ratio1, ratio2, alpha, block2, staticRatio: staticRatio ?? 'from budget', forceFirst, forceLast, denseLayers, recent, shareFrom },
    onPrefill(ctx: PrefillContext) {
      // a new sequence: forget the previous one's shared selections
      chosen.clear();
      chosenStep = -1;
      const T = ctx.length;
      if (ctx.layer < denseLayers) return;
      const B = resolveBudget(budget, T);
      let Bs = T;
      if (staticRatio !== undefined) {
        if (useStatic) Bs = Math.max(1, Math.floor(staticRatio * T + 1e-9));
        layerRatio2.set(ctx.layer, ratio2);
      } else {
        if (useStatic) Bs = useDynamic ? Math.min(T, Math.floor(B / ratio2)) : B;
        layerRatio2.set(ctx.layer, Math.max(1e-9, Math.min(1, Math.max(0, B - recent) / Bs)));
      }
      if (!useStatic || (keepRule === 'topk' && Bs >= T)) return;
      const { cache } = ctx;
      const keys = Array.from({ length: cache.nKvHeads }, (_, kv) => cache.keys(kv).slice(0, T * cache.headDim));
      const w = obsWindow !== undefined ? Math.min(T, obsWindow) : staticWindowSize(T, windowRatio);
      if (staticPerKvHead) {
        for (let kv = 0; kv < cache.nKvHeads; kv++) {
          const mass = prefillMass(ctx, kv, T - w, T);
          const sc = pool > 1 ? pool1d(mass, pool, 'avg') : mass;
          cache.keep(kv, staticKeepTopK(sc, T, Bs, w));
        }
        return;
      }
      // default form: the prefill probabilities already are softmax(QK^T/sqrt d) with the causal mask
      const sc = scaled && causal && ctx.probs.length === cache.nHeads ? staticWindowScoresFromProbs(ctx.probs, T, w) : staticWindowScores(ctx.queries, keys, T, cache.headDim, w, { scaled, causal });
      const agg = aggregate === 'sum' ? sc.sum : sc.max;
      const keep = keepRule === 'topk' ? staticKeepTopK(pool > 1 ? pool1d(agg, pool, 'avg') : agg, T, Bs, w) : staticKeepThreshold(sc.max, T, tau, w);
      if (keep.length === T) return;
      for (let kv = 0; kv < cache.nKvHeads; kv++) cache.keep(kv, keep);
    },
    selectForStep(ctx: StepContext) {
      if (!useDynamic || ctx.layer < denseLayers) return undefined;
      if (ctx.step !== chosenStep) {
        chosen.clear();
        chosenStep = ctx.step;
      }
      const { cache } = ctx;
      const r2 = layerRatio2.get(ctx.layer) ?? ratio2;
      const src = share && ctx.layer >= shareFrom ? selectionSourceLayer(ctx.layer, model.nLayers) : ctx.layer;
      const reuse = src !== ctx.layer ? chosen.get(src) : undefined;
      const out: Int32Array[] = [];
      const mine: Int32Array[] = [];
      for (let h = 0; h < cache.nHeads; h++) {
        const kv = kvHeadOf(h, cache.nHeads, cache.nKvHeads);
        const n = cache.length(kv);
        const G2 = Math.ceil(n / block2);
        let level2: Int32Array;
        if (reuse) {
          const kept = Array.from(reuse[h]).filter((b) => b < G2);
          const forced: number[] = [];
          if (forceFirst) forced.push(0);
          if (forceLast) forced.push(G2 - 1);
          level2 = unionSorted(kept, forced);
        } else {
          level2 = twoLevelSelect(ctx.query[h], cache.keys(kv), n, cache.headDim, { block2, ratio1: Math.max(ratio1, r2), ratio2: r2, alpha, forceFirst, forceLast }).level2;
        }
        mine.push(level2);
        const rows = blockTokens(level2, block2, n);
        out.push(recent > 0 ? unionSorted(rows, iota(Math.min(recent, n), n - Math.min(recent, n))) : rows);
      }
      if (!reuse) chosen.set(ctx.layer, mine);
      return out;
    },
  };
}
