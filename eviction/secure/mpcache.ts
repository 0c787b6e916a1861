/**
 * The first secure MPCache (docs/MPCACHE.md; secure registry 'mpcache-v1' and
 * 'mpcache-noshare'; the project default 'mpcache' is MPCache-R, mpcache-r.ts) as a
 * SecureKvPolicy for the secure decoder. Plain twin: eviction/plain/mpcache.ts as
 * 'mpcache-v1' with staticRatio 0.3, ratio2 0.2; test oracle: eviction/plain/mpcache-oracle.ts.
 *
 * - afterPrefill: look-once static eviction (static-eviction.ts; public budget, 30% default)
 *   and the block representatives of the kept cache (block-reps.ts).
 * - onAppend: the new token updates its own block's representatives (one max and one min
 *   comparison per dimension, batched: one 32-bit comparison round trip and one multiplication).
 * - attend (the efficient path): two-level clustered selection (clustered-select.ts) and
 *   attention over the selected blocks only (sparse-attention.ts selectedAttention).
 *   selectForStep (the generic hook) returns the selected keys and values themselves
 *   (gatherSelectedKv) for a decoder that computes attention on its own; `attend` gives the
 *   same attention for a fraction of the traffic.
 * - Cross-layer index sharing (share, default on): layers 0, 1 and the last two compute their
 *   selection; in between each even layer computes and the next odd layer reuses its one-hot
 *   (same step, same block layout). A reusing layer keeps no representatives (it never needs
 *   them); should it have to select on its own, it rebuilds them from its cache.
 *
 * GQA: selection per QUERY head (as the oracle's plain policy); static eviction one decision
 * per layer (head-summed scores), applied to every KV head.
 *
 * Cost of one decode step of one layer over a cache of n tokens (G1, G2, M1 = G1 - 2,
 * M2 = G2 - 2, free1, free2 from mpcache-params.ts dynamicPlan; S = total2 * block2 tokens
 * gathered; words are 8 bytes, per party):
 *   representatives   one 32-bit ltz + one mul round,
 *                     2 nKv hd comparisons + 2 nKv hd words (nothing when the token opens a new
 *                     level-2 block and closes no level-1 block);
 *   selection         1 round and nHeads (M1 + M2) words (similarities), then the two top-k
 *                     (protocols/topk.ts: 3 + (msb + 1) x iterations + 2 rounds each; level 1
 *                     returns the chosen set as a mask, level 2 one-hot rows);
 *   attention         1 (q K^T: nHeads n words) + 1 (gather + truncation, fused: ~nHeads S words)
 *                     + softmax over nHeads x S + 1 (scatter: nHeads G2 block2 words)
 *                     + 1 (. V: nHeads hd words) rounds.
 * A reusing layer (index sharing) pays the attention part only. Full attention pays
 * 1 + softmax over nHeads x n + 1 rounds with nHeads n + nHeads hd words besides the softmax,
 * whose cost (~180 bytes per element) dominates: hence the saving, ~ n / S on the softmax.
 * The look-once static eviction runs at prefill (afterPrefill), not in a decode step.
 *
 * Reveals: nothing beyond the public facts of models/secure-hooks.ts with keepRule 'topk'
 * (budgets, block counts and top-k sizes follow from public lengths); with keepRule
 * 'threshold' the number of prompt tokens each layer keeps (see `leaks`).
 */
import type { SecureKvPolicy, SecureLayerCache, SecureSelection } from '../../models/secure-hooks.js';
import type { Context } from '../../protocols/context.js';
import type { ArithShare } from '../../protocols/types.js';
import { type BlockReps, appendBlockReps, buildBlockReps } from './block-reps.js';
import { type BlockSelection, selectBlocks } from './clustered-select.js';
import { type LevelPlan, type SecureMpCacheOptions, type SecureMpCacheParams, computesOwnSelection, dynamicPlan, resolveMpCacheParams } from './mpcache-params.js';
import { fullDecodeAttention, gatherSelectedKv, selectedAttention } from './sparse-attention.js';
import { secureStaticEviction } from './static-eviction.js';
import { selectionSourceLayer } from '../plain/mpcache-oracle.js';

/** The model dimensions the policy needs. */
export interface MpCacheModelShape {
  readonly nLayers: number;
  readonly nHeads: number;
  readonly nKvHeads: number;
  readonly headDim: number;
}

export interface SecureMpCachePolicy extends SecureKvPolicy {
  readonly params: SecureMpCacheParams;
  /**
   * Attention of the step's query over the selected blocks (or the whole cache when nothing
   * is selected dynamically): [1, nHeads * headDim]. Call after onAppend, like selectForStep.
   */
  attend(ctx: Context, cache: SecureLayerCache, query: ArithShare, step: number): Promise<ArithShare>;
  /** The block selection of `layer` at `step` (computed or reused), or undefined when dynamic selection is off. */
  selection(ctx: Context, cache: SecureLayerCache, query: ArithShare, step: number): Promise<BlockSelection | undefined>;
  /**
   * Set up the dynamic state of a layer whose cache did not go through afterPrefill (e.g. a
   * decoder resumed from a given cache, or a benchmark): its block representatives, built
   * securely from the cache, or `reps` when given (e.g. publicBlockReps of public test data).
   */
  prepare(ctx: Context, cache: SecureLayerCache, reps?: BlockReps): Promise<void>;
  /** per layer: prompt tokens kept at prefill (after afterPrefill) */
  readonly keptAtPrefill: ReadonlyMap<number, number>;
  /** per layer: the count revealed by the threshold rule */
  readonly revealedCounts: ReadonlyMap<number, number>;
}

function aShape(m: MpCacheModelShape): MpCacheModelShape {
  if (typeof m !== 'object' || m === null) throw new TypeError('model must give nLayers, nHeads, nKvHeads, headDim');
  for (const k of ['nLayers', 'nHeads', 'nKvHeads', 'headDim'] as const) {
    if (!Number.isSafeInteger(m[k]) || m[k] < 1) throw new RangeError(`model.${k} must be a positive integer, got ${String(m[k])}`);
  }
  if (m.nHeads % m.nKvHeads !== 0) throw new RangeError('model.nHeads must be a multiple of model.nKvHeads');
  return m;
}

function sameLevel(a: LevelPlan, b: LevelPlan): boolean {
  return a.G === b.G && a.lo === b.lo && a.hi === b.hi && a.free === b.free && a.forced.length === b.forced.length && a.forced.every((x, i) => x === b.forced[i]);
}

export function secureMpCachePolicy(model: MpCacheModelShape, options: SecureMpCacheOptions = {}): SecureMpCachePolicy {
  const shape = aShape(model);
  const p = resolveMpCacheParams(options);
  const reps = new Map<number, BlockReps>();
  const kept = new Map<number, number>();
  const revealed = new Map<number, number>();
  const eager = !p.forceLast;
  let selStep = -1;
  const stepSel = new Map<number, BlockSelection>();
  const ownsSelection = (layer: number): boolean => !p.share || computesOwnSelection(layer, shape.nLayers);

  function checkLayer(cache: SecureLayerCache): void {
    if (cache.nHeads !== shape.nHeads || cache.nKvHeads !== shape.nKvHeads || cache.headDim !== shape.headDim) {
      throw new RangeError(`cache geometry ${cache.nHeads}/${cache.nKvHeads}/${cache.headDim} differs from the model's ${shape.nHeads}/${shape.nKvHeads}/${shape.headDim}`);
    }
    if (!Number.isSafeInteger(cache.layer) || cache.layer < 0 || cache.layer >= shape.nLayers) throw new RangeError(`cache.layer ${cache.layer} is out of [0, ${shape.nLayers})`);
  }

  async function ownSelection(ctx: Context, cache: SecureLayerCache, query: ArithShare): Promise<BlockSelection> {
    let r = reps.get(cache.layer);
    if (r === undefined || r.n !== cache.length) {
      r = await buildBlockReps(ctx, cache.k, p.block2, p.compareBits);
      reps.set(cache.layer, r);
    }
    return selectBlocks(ctx, p, query, r);
  }

  async function selection(ctx: Context, cache: SecureLayerCache, query: ArithShare, step: number): Promise<BlockSelection | undefined> {
    checkLayer(cache);
    if (!p.dynamic) return undefined;
    if (step !== selStep) {
      stepSel.clear();
      selStep = step;
    }
    const layer = cache.layer;
    const src = p.share ? selectionSourceLayer(layer, shape.nLayers) : layer;
    if (src !== layer) {
      const s = stepSel.get(src);
      if (s !== undefined) {
        const plan = dynamicPlan(p, cache.length);
        if (sameLevel(plan.level2, s.plan.level2)) return { ...s, plan };
      }
    }
    const sel = await ownSelection(ctx, cache, query);
    stepSel.set(layer, sel);
    return sel;
  }

  return {
    name: p.share ? 'mpcache-v1' : 'mpcache-noshare',
    leaks: p.static && p.keepRule === 'threshold' ? 'the number of prompt tokens each layer keeps at prefill (static threshold rule)' : '',
    params: p,
    keptAtPrefill: kept,
    revealedCounts: revealed,
    selection,

    async prepare(ctx, cache, given) {
      checkLayer(cache);
      if (given !== undefined && (given.n !== cache.length || given.nKv !== cache.nKvHeads || given.hd !== cache.headDim || given.block2 !== p.block2)) {
        throw new RangeError('prepare: the representatives do not match the cache');
      }
      reps.set(cache.layer, given ?? (await buildBlockReps(ctx, cache.k, p.block2, p.compareBits)));
    },

    async afterPrefill(ctx, cache, queries) {
      checkLayer(cache);
      if (cache.layer === 0) {
        reps.clear();
        kept.clear();
        revealed.clear();
        stepSel.clear();
        selStep = -1;
      }
      let out = cache;
      if (p.static) {
        const r = await secureStaticEviction(ctx, p, cache, queries);
        out = r.cache;
        if (r.revealedCount !== undefined) revealed.set(cache.layer, r.revealedCount);
      }
      kept.set(cache.layer, out.length);
      reps.delete(cache.layer);
      if (p.dynamic && ownsSelection(cache.layer)) reps.set(cache.layer, await buildBlockReps(ctx, out.k, p.block2, p.compareBits));
      return out;
    },

    async onAppend(ctx, cache, k) {
      checkLayer(cache);
      if (!p.dynamic) return;
      if (!ownsSelection(cache.layer)) {
        reps.delete(cache.layer);
        return;
      }
      const r = reps.get(cache.layer);
      if (r !== undefined && r.n === cache.length - 1) reps.set(cache.layer, await appendBlockReps(ctx, r, k, eager, p.compareBits));
      else reps.set(cache.layer, await buildBlockReps(ctx, cache.k, p.block2, p.compareBits));
    },

    async selectForStep(ctx, cache, query, step): Promise<SecureSelection | undefined> {
      const sel = await selection(ctx, cache, query, step);
      if (sel === undefined || sel.plan.level2.total === sel.plan.level2.G) return undefined;
      const { k, v } = await gatherSelectedKv(ctx, cache.k, cache.v, sel);
      return { k, v, perQueryHead: true };
    },

    async attend(ctx, cache, query, step) {
      const sel = await selection(ctx, cache, query, step);
      if (sel === undefined) return fullDecodeAttention(ctx, query, cache.k, cache.v);
      return selectedAttention(ctx, query, cache.k, cache.v, sel);
    },
  };
}
