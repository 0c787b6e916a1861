/**
 * Secure Quest (plain twin: eviction/plain/quest.ts): query-aware, nothing evicted. Per KV
 * head the cache is cut into pages of 16 tokens with per-dimension key max/min (block-reps.ts,
 * built once after prefill and updated by the new token at every step); per query head a page
 * scores Quest's exact bound sum_i max(q_i max_i, q_i min_i), the top K pages are read, the
 * last (newest, possibly partial) page always; K = max(1, floor(B / 16)), B the budget over the
 * prompt length T. Layers < denseLayers (default 2) read everything.
 *
 * The bound with comparisons (exact): max(q_i max_i, q_i min_i) = q_i min_i + relu(q_i) (max_i -
 * min_i) since max_i >= min_i, so with b = [q >= 0] (one comparison per query element) and
 * relu(q) = b q (one multiplication), the bound of every page is ONE matmul of [q | relu(q)]
 * against [min | max - min]: integer weights, no truncation, so the secure bound is exactly
 * 2^(2f) times the twin's on the fixed-point inputs (order and ties kept). Then the secure
 * top-(K - 1) among the pages before the last (protocols/topk.ts, ties to the lower page as
 * the twin's topKWithForced) and attention over the selected pages only
 * (sparse-attention.ts selectedAttention).
 *
 * Cost of one decode step of a sparse layer over n cached tokens (G = ceil(n / 16) pages):
 *   page representatives: at most one 32-bit ltz of 2 nKv hd elements + one mul round
 *     (none when the token opens a page; level 2 only);
 *   bound: one 32-bit ltz of nHeads hd + one mul round (nHeads hd words) + one matmul round
 *     (nHeads G words);
 *   top-(K - 1) of G - 1 per head (topk.ts) and the selected attention (1 + 1 + softmax over
 *   nHeads x 16 K + 1 + 1 rounds).
 * Dense layers pay the full attention. Reveals nothing (K and the page layout are public).
 */
import type { SecureKvPolicy } from '../../models/secure-hooks.js';
import type { Context } from '../../protocols/context.js';
import { ltz } from '../../protocols/compare.js';
import { add, concat, publicSub, slice, sub } from '../../protocols/linear.js';
import { matmul, mul } from '../../protocols/mul.js';
import { topk } from '../../protocols/topk.js';
import type { ArithShare } from '../../protocols/types.js';
import { type Budget, aBudget, resolveBudget } from '../policy.js';
import { aPosInt } from '../plain/select.js';
import { type BlockReps, blockRow, buildBlockReps, withRow } from './block-reps.js';
import type { BlockSelection } from './clustered-select.js';
import type { DynamicPlan, LevelPlan } from './mpcache-params.js';
import { fullDecodeAttention, selectedAttention } from './sparse-attention.js';

export interface SecureQuestOptions {
  readonly budget: Budget;
  readonly pageSize?: number;
  readonly denseLayers?: number;
  /** bit width of the key and query comparisons (default 32: |differences| < 8192 at f = 18) */
  readonly compareBits?: number;
}

/** The public page plan of a step over n tokens with K pages: the last page forced, K - 1 chosen among the others. */
export function questPlan(n: number, pageSize: number, K: number): DynamicPlan {
  const G = Math.ceil(n / pageSize);
  const free = Math.max(0, Math.min(G - 1, K - 1));
  const level2: LevelPlan = { G, forced: [G - 1], lo: 0, hi: G - 1, free, total: free + 1 };
  const level1: LevelPlan = { G: 0, forced: [], lo: 0, hi: 0, free: 0, total: 0 };
  return { n, block2: pageSize, level1, level2, tokens: free * pageSize + (n - (G - 1) * pageSize) };
}

/** Page max/min after one appended key kNew [nKv, 1, hd] (level 2 of block-reps only). */
async function appendPage(ctx: Context, r: BlockReps, kNew: ArithShare, bits: number): Promise<BlockReps> {
  const { nKv, hd, block2 } = r;
  const k = kNew.reshape([nKv, hd]);
  const t = r.n;
  const b = Math.floor(t / block2);
  if (t % block2 === 0) return { ...r, n: t + 1, max2: withRow(r.max2, b, k), min2: withRow(r.min2, b, k) };
  const mx = blockRow(r.max2, b);
  const mn = blockRow(r.min2, b);
  // [mx < k] = ltz(mx - k), [k < mn] = ltz(k - mn); then move to k where true
  const c = await ltz(ctx, concat(ctx, [sub(ctx, mx, k), sub(ctx, k, mn)], 0), { bitWidth: bits });
  const moved = await mul(ctx, c, concat(ctx, [sub(ctx, k, mx), sub(ctx, k, mn)], 0)); // [2 nKv, hd]
  const upMax = add(ctx, mx, slice(ctx, moved, 0, nKv, 0));
  const upMin = add(ctx, mn, slice(ctx, moved, nKv, 2 * nKv, 0));
  return { ...r, n: t + 1, max2: withRow(r.max2, b, upMax), min2: withRow(r.min2, b, upMin) };
}

/**
 * Quest's exact page bounds for q [nHeads, hd] over the pages [0, G) of `reps`: [nHeads, G] at
 * scale q.scale + keys' scale (no truncation). Rounds: 1 (ltz) + 1 (mul) + 1 (matmul).
 */
export async function questBounds(ctx: Context, q: ArithShare, reps: BlockReps, G: number, bits: number): Promise<ArithShare> {
  const { nKv, hd } = reps;
  const nHeads = q.shape[0];
  const nonNeg = publicSub(ctx, 1, await ltz(ctx, q, { bitWidth: bits })); // [q >= 0]
  const rq = await mul(ctx, nonNeg, q); // relu(q), scale of q
  const Q = concat(ctx, [q, rq], 1).reshape([nKv, nHeads / nKv, 2 * hd]);
  const mn = slice(ctx, reps.min2, 0, G, 1);
  const R = concat(ctx, [mn, sub(ctx, slice(ctx, reps.max2, 0, G, 1), mn)], 2); // [nKv, G, 2hd]
  return (await matmul(ctx, Q, R, { transB: true })).reshape([nHeads, G]);
}

export function secureQuestPolicy(o: SecureQuestOptions): SecureKvPolicy & { readonly pagesOf: ReadonlyMap<number, number>; prepare(ctx: Context, cache: import('../../models/secure-hooks.js').SecureLayerCache, T: number, reps?: BlockReps): Promise<void> } {
  const budget = aBudget(o.budget);
  const pageSize = aPosInt(o.pageSize ?? 16, 'pageSize');
  const denseLayers = aPosInt(o.denseLayers ?? 2, 'denseLayers', 0);
  const bits = aPosInt(o.compareBits ?? 32, 'compareBits', 2);
  const pagesOf = new Map<number, number>();
  const reps = new Map<number, BlockReps>();
  const sparse = (layer: number): boolean => layer >= denseLayers && pagesOf.has(layer);
  return {
    name: 'quest',
    leaks: '',
    pagesOf,
    /** a layer whose cache did not go through afterPrefill (benchmarks): K for a T-token prompt, and the page representatives (given, e.g. publicBlockReps of public test keys, or built) */
    async prepare(ctx, cache, T, given) {
      pagesOf.set(cache.layer, Math.max(1, Math.floor(resolveBudget(budget, T) / pageSize)));
      reps.delete(cache.layer);
      if (cache.layer >= denseLayers) reps.set(cache.layer, given ?? (await buildBlockReps(ctx, cache.k, pageSize, bits)));
    },
    async afterPrefill(ctx, cache) {
      pagesOf.set(cache.layer, Math.max(1, Math.floor(resolveBudget(budget, cache.length) / pageSize)));
      reps.delete(cache.layer);
      if (cache.layer >= denseLayers) reps.set(cache.layer, await buildBlockReps(ctx, cache.k, pageSize, bits));
      return cache;
    },
    async onAppend(ctx, cache, k) {
      if (!sparse(cache.layer)) return;
      const r = reps.get(cache.layer);
      reps.set(cache.layer, r !== undefined && r.n === cache.length - 1 ? await appendPage(ctx, r, k, bits) : await buildBlockReps(ctx, cache.k, pageSize, bits));
    },
    async attend(ctx, cache, query) {
      const K = pagesOf.get(cache.layer);
      const n = cache.length;
      const plan = questPlan(n, pageSize, K ?? Infinity);
      if (!sparse(cache.layer) || plan.level2.total === plan.level2.G) return fullDecodeAttention(ctx, query, cache.k, cache.v);
      const nHeads = cache.nHeads;
      let oneHot2: ArithShare | undefined;
      if (plan.level2.free > 0) {
        const r = reps.get(cache.layer)!;
        const S = await questBounds(ctx, query, r, plan.level2.hi, bits);
        oneHot2 = (await topk(ctx, S, plan.level2.free)).oneHot;
      }
      const sel: BlockSelection = { plan, nHeads, oneHot2, mask1: undefined };
      return selectedAttention(ctx, query, cache.k, cache.v, sel);
    },
  };
}
