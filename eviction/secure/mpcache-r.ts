/**
 * Secure MPCache-R: the project's default MPCache (registry 'mpcache'; plain twin
 * eviction/plain/mpcache.ts with MPCACHE_DEFAULTS, same rules, same budget split):
 *
 * - Budget B = resolveBudget(budget, T) over the prompt length T. Static + dynamic:
 *   Bs = min(T, floor(B / ratio2)) prompt tokens survive prefill (ratio2: the twin's default, 0.2), and each step
 *   reads ratio2' = max(1e-9, min(1, (B - recent) / Bs)) of the level-2 blocks
 *   (k2 = floor(G2 ratio2' + 1e-9), first and last blocks counted inside) plus the newest
 *   `recent` = 16 entries; level 1 keeps max(ratio1, ratio2') of the 32-token blocks.
 * - afterPrefill (static, when Bs < T): per KV head, the probabilities of the LAST 32 prompt
 *   queries summed over its query heads (window-keep.ts windowMass; the twin's group mean
 *   times G), moving-sum pooled over 7 over the whole prompt (the twin's avg pool times 7),
 *   then the public-size top (Bs - wk) among the first T - wk tokens plus the last
 *   wk = min(32, max(1, floor(Bs / 2))) (staticKeepTopK): one top-k per KV head, batched.
 *   Then the block representatives of the kept cache (block-reps.ts).
 * - onAppend: the new token updates its blocks' representatives (block-reps.ts append).
 * - attend: the two-level clustered selection of every layer (no cross-layer sharing:
 *   clustered-select.ts with ratio1/ratio2 above), attention over the selected blocks and
 *   the 16 newest entries (recent-attention.ts).
 * Comparison-light: the static scores are linear in the probabilities (sums, pooling); the
 * only comparisons are the public-size top-ks and the max/min representatives.
 *
 * Cost of one decode step of one layer over n cached tokens: as secure MPCache's own-selection
 * layer (mpcache.ts header: representatives one ltz + one mul round; selection one matmul
 * round + two top-ks; attention 1 + 1 + softmax over nHeads (16 total2 + 16) + 1 + 1 rounds),
 * in every layer. Reveals nothing (all sizes follow from public lengths and parameters).
 */
import type { SecureKvPolicy, SecureLayerCache } from '../../models/secure-hooks.js';
import type { Context } from '../../protocols/context.js';
import { slice } from '../../protocols/linear.js';
import type { ArithShare } from '../../protocols/types.js';
import { type Budget, aBudget, resolveBudget } from '../policy.js';
import { MPCACHE_DEFAULTS } from '../plain/mpcache.js';
import { type BlockReps, appendBlockReps, buildBlockReps } from './block-reps.js';
import { selectBlocks } from './clustered-select.js';
import { type SecureMpCacheParams, resolveMpCacheParams } from './mpcache-params.js';
import { selectedRecentAttention } from './recent-attention.js';
import { fullDecodeAttention } from './sparse-attention.js';
import { keepRowsPerHead, poolSum, windowMass } from './window-keep.js';

export interface SecureMpCacheROptions {
  readonly budget: Budget;
  /** static eviction at prefill (default true) */
  readonly static?: boolean;
  /** observation window in prompt queries (default: the twin's, 32) */
  readonly obsWindow?: number;
  /** pooling kernel (odd; default: the twin's, 7) */
  readonly pool?: number;
  /** newest entries always read (default: the twin's, 16) */
  readonly recent?: number;
  readonly ratio1?: number;
  readonly ratio2?: number;
}

/**
 * The defaults, taken from the plain twin's (eviction/plain/mpcache.ts MPCACHE_DEFAULTS, then
 * mpcachePolicy's option defaults), so that a change of the plaintext default carries over.
 */
export function mpcacheRDefaults(): { obsWindow: number; pool: number; recent: number; ratio1: number; ratio2: number } {
  const d = MPCACHE_DEFAULTS;
  return { obsWindow: d.obsWindow ?? 32, pool: d.pool ?? 7, recent: d.recent ?? 0, ratio1: d.ratio1 ?? 0.5, ratio2: d.ratio2 ?? 0.2 };
}

/** The public budget split of MPCache-R for a prompt of T tokens (the twin's onPrefill). */
export function mpcacheRSplit(B: number, T: number, ratio2: number, recent: number, useStatic = true): { Bs: number; ratio2: number } {
  const Bs = useStatic ? Math.min(T, Math.floor(B / ratio2)) : T;
  return { Bs, ratio2: Math.max(1e-9, Math.min(1, Math.max(0, B - recent) / Bs)) };
}

export interface SecureMpCacheRPolicy extends SecureKvPolicy {
  /** per layer: the dynamic parameters in effect (after afterPrefill) */
  readonly layerParams: ReadonlyMap<number, SecureMpCacheParams>;
  /** per layer: prompt tokens kept at prefill */
  readonly keptAtPrefill: ReadonlyMap<number, number>;
  /** dynamic state of a layer that did not go through afterPrefill (benchmarks): T the prompt length the budget refers to */
  prepare(ctx: Context, cache: SecureLayerCache, T: number, reps?: BlockReps): Promise<void>;
}

export function secureMpCacheRPolicy(o: SecureMpCacheROptions): SecureMpCacheRPolicy {
  const budget = aBudget(o.budget);
  const useStatic = o.static ?? true;
  const d = mpcacheRDefaults();
  const obsWindow = o.obsWindow ?? d.obsWindow;
  const pool = o.pool ?? d.pool;
  const recent = o.recent ?? d.recent;
  const ratio1 = o.ratio1 ?? d.ratio1;
  const ratio2 = o.ratio2 ?? d.ratio2;
  const base = resolveMpCacheParams({ ratio1, ratio2, share: false, static: useStatic });
  const params = new Map<number, SecureMpCacheParams>();
  const kept = new Map<number, number>();
  const reps = new Map<number, BlockReps>();
  const setParams = (layer: number, T: number): SecureMpCacheParams => {
    const { ratio2: r2 } = mpcacheRSplit(resolveBudget(budget, T), T, ratio2, recent, useStatic);
    const p = resolveMpCacheParams({ ratio1: Math.max(ratio1, r2), ratio2: r2, share: false });
    params.set(layer, p);
    return p;
  };
  return {
    name: 'mpcache',
    leaks: '',
    layerParams: params,
    keptAtPrefill: kept,
    async prepare(ctx, cache, T, given) {
      const p = setParams(cache.layer, T);
      reps.set(cache.layer, given ?? (await buildBlockReps(ctx, cache.k, p.block2, p.compareBits)));
    },
    async afterPrefill(ctx, cache, queries) {
      const T = cache.length;
      const p = setParams(cache.layer, T);
      const { Bs } = mpcacheRSplit(resolveBudget(budget, T), T, ratio2, recent, useStatic);
      let out = cache;
      if (useStatic && Bs < T) {
        const w = Math.min(T, obsWindow);
        const wk = Math.min(w, Math.max(1, Math.floor(Bs / 2)));
        const pooled = poolSum(ctx, await windowMass(ctx, cache, queries, w), pool, T);
        out = await keepRowsPerHead(ctx, cache, slice(ctx, pooled, 0, T - wk), Bs - wk, wk);
      }
      kept.set(cache.layer, out.length);
      reps.set(cache.layer, await buildBlockReps(ctx, out.k, p.block2, p.compareBits));
      return out;
    },
    async onAppend(ctx, cache, k) {
      const p = params.get(cache.layer) ?? base;
      const r = reps.get(cache.layer);
      reps.set(cache.layer, r !== undefined && r.n === cache.length - 1 ? await appendBlockReps(ctx, r, k, !p.forceLast, p.compareBits) : await buildBlockReps(ctx, cache.k, p.block2, p.compareBits));
    },
    async attend(ctx, cache, query: ArithShare) {
      const p = params.get(cache.layer) ?? base;
      const r = reps.get(cache.layer);
      if (r === undefined || r.n !== cache.length) throw new RangeError(`mpcache: no representatives of layer ${cache.layer} for ${cache.length} tokens (onAppend first)`);
      const sel = await selectBlocks(ctx, p, query, r);
      if (sel.plan.level2.total === sel.plan.level2.G) return fullDecodeAttention(ctx, query, cache.k, cache.v);
      return selectedRecentAttention(ctx, query, cache.k, cache.v, sel, recent);
    },
  };
}
