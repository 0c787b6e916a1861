/**
 * Secure TOVA (plain twin: eviction/plain/tova.ts): evicting, one index set per layer.
 * B = resolveBudget(budget, T).
 * - afterPrefill: the last prompt query's attention probabilities summed over ALL query heads
 *   (the twin's layer mean times nHeads), the secure top-B of the T prompt tokens (ties to the
 *   lower index), the chosen rows sorted by index and gathered (static-eviction.ts
 *   sortOneHotRows, one matmul), applied to every KV head.
 * - attend: the step's attention over the cache (B + 1 entries once full), keeping the
 *   probabilities; afterAttention: when the cache holds B + 1 entries, the entry with the
 *   LOWEST head-summed probability is dropped (ties: the twin keeps the lower index, so the
 *   highest-index among the lowest goes): argmax of the negated scores in reversed order
 *   (protocols/max.ts, lowest index on ties), its one-hot e, the local prefix sums
 *   c_i = sum_{t <= i} e_t, and the kept rows K'_i = K_i + c_i (K_{i+1} - K_i), i < B, for K
 *   and V together (one multiplication round).
 *
 * Cost per decode step of a full cache (n = B + 1 entries), beyond the attention itself
 * (1 + softmax + 1 rounds, as the decoder's): argmax over n (32-bit comparisons: its
 * tournament rounds) + 1 multiplication round of nKv B 2 hd words. Reveals nothing.
 */
import type { SecureKvPolicy, SecureLayerCache } from '../../models/secure-hooks.js';
import type { Context } from '../../protocols/context.js';
import { add, concat, neg, slice, sub, sumAxis, transpose } from '../../protocols/linear.js';
import { argmax } from '../../protocols/max.js';
import { matmul, matmulFixed, mul } from '../../protocols/mul.js';
import { softmax } from '../../protocols/softmax.js';
import { topk } from '../../protocols/topk.js';
import { ArithShare } from '../../protocols/types.js';
import { type Budget, aBudget, layerBudgets } from '../policy.js';
import { sortOneHotRows } from './static-eviction.js';

export interface SecureTovaOptions {
  readonly budget: Budget;
}

/** x [1, n] with its columns reversed (local). */
function reverseCols(x: ArithShare): ArithShare {
  const n = x.size;
  const o0 = new BigUint64Array(n);
  const o1 = new BigUint64Array(n);
  for (let i = 0; i < n; i++) {
    o0[i] = x.s0[n - 1 - i];
    o1[i] = x.s1[n - 1 - i];
  }
  return new ArithShare(x.shape, o0, o1, x.scale);
}

/** Head-summed probabilities [nKv, G, n] -> [1, n] (local). */
function headSum(ctx: Context, probs: ArithShare, n: number): ArithShare {
  return transpose(ctx, sumAxis(ctx, transpose(ctx, probs.reshape([probs.size / n, n])))).reshape([1, n]);
}

/** Drop the cache row whose one-hot is e [1, n] (n = cache.length), keeping the order: n - 1 rows. */
export async function dropOneRow(ctx: Context, cache: SecureLayerCache, e: ArithShare): Promise<SecureLayerCache> {
  const { nKvHeads: nKv, headDim: hd, length: n } = cache;
  const w = 2 * hd;
  // c_i = sum_{t <= i} e_t for i < n - 1 (local prefix sums), broadcast to [nKv, n - 1, 2hd]
  const c0 = new BigUint64Array(nKv * (n - 1) * w);
  const c1 = new BigUint64Array(nKv * (n - 1) * w);
  let a0 = 0n;
  let a1 = 0n;
  for (let i = 0; i < n - 1; i++) {
    a0 = BigInt.asUintN(64, a0 + e.s0[i]);
    a1 = BigInt.asUintN(64, a1 + e.s1[i]);
    for (let h = 0; h < nKv; h++) {
      c0.fill(a0, (h * (n - 1) + i) * w, (h * (n - 1) + i + 1) * w);
      c1.fill(a1, (h * (n - 1) + i) * w, (h * (n - 1) + i + 1) * w);
    }
  }
  const kv = concat(ctx, [cache.k, cache.v], -1); // [nKv, n, 2hd]
  const lo = slice(ctx, kv, 0, n - 1, 1);
  const d = sub(ctx, slice(ctx, kv, 1, n, 1), lo);
  const kept = add(ctx, lo, await mul(ctx, new ArithShare([nKv, n - 1, w], c0, c1, 0), d));
  return { ...cache, length: n - 1, k: slice(ctx, kept, 0, hd, 2), v: slice(ctx, kept, hd, w, 2) };
}

export function secureTovaPolicy(o: SecureTovaOptions): SecureKvPolicy & { readonly budgetOf: ReadonlyMap<number, number>; prepare(layer: number, T: number): void } {
  const budget = aBudget(o.budget);
  const budgets = layerBudgets(budget);
  const scores = new Map<number, ArithShare>();
  return {
    name: 'tova',
    leaks: '',
    /** budgetOf; prepare(layer, T) for a layer whose cache did not go through afterPrefill (benchmarks) */
    ...budgets,
    async afterPrefill(ctx, cache, queries) {
      const { nHeads: H, nKvHeads: nKv, headDim: hd, length: T } = cache;
      const B = budgets.prepare(cache.layer, T);
      scores.delete(cache.layer);
      if (T <= B) return cache;
      const q = slice(ctx, queries, T - 1, T, 1).reshape([nKv, H / nKv, hd]);
      const probs = await softmax(ctx, await matmulFixed(ctx, q, cache.k, { transB: true })); // [nKv, G, T]
      const { oneHot } = await topk(ctx, headSum(ctx, probs, T), B);
      const sorted = await sortOneHotRows(ctx, oneHot.reshape([B, T]));
      const kept = await matmul(ctx, sorted, concat(ctx, [cache.k, cache.v], -1)); // [nKv, B, 2hd]
      return { ...cache, length: B, k: slice(ctx, kept, 0, hd, 2), v: slice(ctx, kept, hd, 2 * hd, 2) };
    },
    async attend(ctx, cache, query) {
      const { nHeads: H, nKvHeads: nKv, headDim: hd, length: n } = cache;
      const probs = await softmax(ctx, await matmulFixed(ctx, query.reshape([nKv, H / nKv, hd]), cache.k, { transB: true }));
      scores.set(cache.layer, headSum(ctx, probs, n));
      return (await matmulFixed(ctx, probs, cache.v)).reshape([1, H * hd]);
    },
    async afterAttention(ctx, cache) {
      const B = budgets.budgetOf.get(cache.layer);
      const s = scores.get(cache.layer);
      scores.delete(cache.layer);
      if (B === undefined || cache.length <= B) return cache;
      if (cache.length !== B + 1 || s === undefined || s.size !== cache.length) throw new RangeError(`tova: the cache of layer ${cache.layer} holds ${cache.length} entries, expected ${B + 1} after attend`);
      const { oneHot } = await argmax(ctx, reverseCols(neg(ctx, s)), { bitWidth: 32 });
      return dropOneRow(ctx, cache, reverseCols(oneHot.reshape([1, cache.length])));
    },
  };
}
