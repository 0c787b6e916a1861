/**
 * `mpcache-paper`: MPCache with the authors' rules exactly, as their public code has them
 * (the LongBench patch `llama_flash_attn_monkey_patch_compression.py`, its layer-sharing
 * build `..._layershare` and `modeling_llama.py`, `utils.py`; read, not copied). Rule by rule:
 *
 * P1 Observation window: the last int(0.2 T) prompt queries (int(0.1 T) above 24,000
 *    tokens). Python's int() truncates; int(0.2 T) = 0 (T < 5) slices `[-0:]`, i.e. ALL queries.
 * P2 Static score: softmax over ALL T prompt keys (no causal mask) of q . k (no 1/sqrt(d)),
 *    in float32, averaged over the query heads (one decision per layer); a token's score is
 *    the max over the window queries of that head mean.
 * P3 Static keep rule: keep j when score_j >= tau (the authors' threshold, tuned per data set:
 *    1e-3 .. 1e-20). The observation window is NOT forced in: window tokens are kept only
 *    when they pass like any other token. Under MPC the kept count would leak, so the
 *    default here is the same rule with a PUBLIC count: the Bs best scores (= the threshold
 *    rule at the tau that keeps Bs tokens; ties to the lower index), `keepRule: 'threshold'`
 *    gives the literal rule.
 * P4 Budget: the authors fix the per-step ratio (ratio2 = 0.2 in the released patch, 0.12 in
 *    their layer-sharing build) and tune
 *    tau per data set, which sets how much survives statically (their "remained ratio",
 *    15-66%). Here the static count follows from the budget B: Bs = min(T, int(B / ratio2)),
 *    so that a step reads ~ratio2 Bs = B tokens.
 * P5 Generated tokens are always kept (remain_token = kept prompt tokens + generated).
 * P6 Blocks: contiguous groups of 32 (level 1) and 16 (level 2) of the cache (kept + generated,
 *    current token included). A partial last group is padded with COPIES of the rows just
 *    before it (utils.group_key_min_max), so the last group's per-dimension max/min, and the
 *    tokens it stands for, are those of the LAST 32 (16) rows of the cache.
 * P7 Similarity: q . (alpha r_max + (1 - alpha) r_min), alpha = 0.6, per query head.
 * P8 Level 1: k1 = int(G1 * ratio1), ratio1 = 0.5; the top k1 groups, then group 0 and (only
 *    when n % 32 != 0) group G1 - 1 are ADDED (not counted inside k1).
 * P9 Level 2: candidates = children 2b, 2b + 1 of the level-1 choices, clamped to G2 - 1;
 *    k2 = int(G2 * ratio2) best candidates (non-candidates masked by float-min: they rank
 *    last, among themselves by lower index); then group 0 and (only when n % 32 != 0, the
 *    authors test the 32-block remainder at both levels) group G2 - 1 are ADDED.
 * P10 Attention reads the tokens of the chosen level-2 groups (softmax(q k / sqrt d) over them).
 * P11 Layer sharing (modeling_llama.py): layers 0, 1 and the last two compute their own; from
 *    layer 2 on, each even layer computes and the next odd layer REUSES both its statically
 *    kept set (so the two caches hold the same positions) and its dynamic selection (the
 *    attention mask), so shared indices name the same tokens.
 * Ties: torch.topk does not specify an order among equal scores; here the lower index wins.
 * One forced deviation: the reference model's hook contract requires the current token to be
 *    read, so it is added when P8-P9 leave it out (the authors' code then drops it: when
 *    n % 32 == 0 and the last group is not chosen).
 * GQA (the authors used multi-head models): per query head, on its KV head's keys (P7-P9);
 *    the static head mean is over all query heads (P2).
 */
import type { PrefillContext, StepContext } from '../../models/attention-hooks.js';
import { aBudget, aModelShape, kvHeadOf, resolveBudget, type KvPolicy, type PolicyOptions } from '../policy.js';
import { selectionSourceLayer } from './mpcache-oracle.js';
import { aPosInt, aRatio, iota, topKAscending, unionSorted } from './select.js';

/** Python int() of a product as the authors compute it: truncation toward zero of the float64 value. */
export function pyInt(x: number): number {
  return Math.trunc(x);
}

/** P1: the number of window queries (T when int() gives 0, as Python's [-0:] slice). */
export function paperWindowSize(T: number): number {
  aPosInt(T, 'T');
  const w = pyInt(T * (T > 24000 ? 0.1 : 0.2));
  return w === 0 ? T : w;
}

/**
 * P2: per prompt token, the max over the last `window` queries of the head-mean (over ALL
 * query heads) softmax over all T keys of the unscaled logits q . k, in float32 like the
 * authors (scores rounded to float32 after the softmax). queries[h], keys[kv]: T*d rows.
 */
export function paperStaticScores(queries: readonly Float32Array[], keys: readonly Float32Array[], T: number, d: number, window: number): Float32Array {
  const H = queries.length;
  const g = H / keys.length;
  if (!Number.isInteger(g)) throw new RangeError('queries.length must be a multiple of keys.length');
  const w = Math.min(aPosInt(window, 'window'), T);
  const out = new Float32Array(T);
  const m = new Float64Array(T);
  const row = new Float64Array(T);
  for (let q = T - w; q < T; q++) {
    m.fill(0);
    for (let h = 0; h < H; h++) {
      const Q = queries[h];
      const K = keys[Math.floor(h / g)];
      let mx = -Infinity;
      for (let j = 0; j < T; j++) {
        let s = 0;
        for (let i = 0; i < d; i++) s += Q[q * d + i] * K[j * d + i];
        row[j] = s;
        if (s > mx) mx = s;
      }
      let z = 0;
      for (let j = 0; j < T; j++) z += (row[j] = Math.exp(row[j] - mx));
      for (let j = 0; j < T; j++) m[j] += Math.fround(row[j] / z);
    }
    for (let j = 0; j < T; j++) {
      const v = Math.fround(m[j] / H);
      if (v > out[j]) out[j] = v;
    }
  }
  return out;
}

/** P3 literal: tokens whose score reaches tau (data-dependent count), ascending. */
export function paperKeepThreshold(scores: ArrayLike<number>, tau: number): Int32Array {
  const out: number[] = [];
  for (let j = 0; j < scores.length; j++) if (scores[j] >= tau) out.push(j);
  return Int32Array.from(out);
}

/** P3 with a public count: the `count` best scores (ties to the lower index), ascending; no window forced. */
export function paperKeepTopK(scores: ArrayLike<number>, count: number): Int32Array {
  return topKAscending(scores, Math.min(aPosInt(count, 'count', 0), scores.length));
}

/** P6: per-dimension max/min of groups of `size` rows; the last group = the last min(n, size) rows. */
export function paperGroupReps(keys: Float32Array, n: number, d: number, size: number): { G: number; rmax: Float64Array; rmin: Float64Array } {
  aPosInt(n, 'n');
  const G = Math.ceil(n / aPosInt(size, 'size'));
  const rmax = new Float64Array(G * d).fill(-Infinity);
  const rmin = new Float64Array(G * d).fill(Infinity);
  for (let b = 0; b < G; b++) {
    const [lo, hi] = paperGroupRows(b, G, n, size);
    for (let t = lo; t < hi; t++) {
      for (let i = 0; i < d; i++) {
        const v = keys[t * d + i];
        if (v > rmax[b * d + i]) rmax[b * d + i] = v;
        if (v < rmin[b * d + i]) rmin[b * d + i] = v;
      }
    }
  }
  return { G, rmax, rmin };
}

/** P6/P10: the rows [lo, hi) group b of G stands for (the last group: the last `size` rows). */
export function paperGroupRows(b: number, G: number, n: number, size: number): [number, number] {
  return b === G - 1 ? [Math.max(0, n - size), n] : [b * size, (b + 1) * size];
}

/** P7 */
function similarity(q: ArrayLike<number>, reps: { G: number; rmax: Float64Array; rmin: Float64Array }, d: number, alpha: number): Float64Array {
  const out = new Float64Array(reps.G);
  for (let b = 0; b < reps.G; b++) {
    let s = 0;
    for (let i = 0; i < d; i++) s += alpha * q[i] * reps.rmax[b * d + i] + (1 - alpha) * q[i] * reps.rmin[b * d + i];
    out[b] = s;
  }
  return out;
}

export interface PaperSelectOptions {
  readonly ratio1?: number;
  readonly ratio2?: number;
  readonly alpha?: number;
  readonly block1?: number;
  readonly block2?: number;
}

export interface PaperSelection {
  readonly level1: Int32Array;
  readonly level2: Int32Array;
  /** cache rows read (ascending, the current row n - 1 NOT added here) */
  readonly tokens: Int32Array;
  readonly g1: number;
  readonly g2: number;
}

/** P6-P10 for one query over n cache rows. */
export function paperTwoLevelSelect(q: ArrayLike<number>, keys: Float32Array, n: number, d: number, o: PaperSelectOptions = {}): PaperSelection {
  const ratio1 = aRatio(o.ratio1 ?? 0.5, 'ratio1');
  const ratio2 = aRatio(o.ratio2 ?? 0.2, 'ratio2');
  const alpha = o.alpha ?? 0.6;
  const s1 = aPosInt(o.block1 ?? 32, 'block1');
  const s2 = aPosInt(o.block2 ?? 16, 'block2');
  const partial = n % s1 !== 0;
  const r1 = paperGroupReps(keys, n, d, s1);
  const top1 = topKAscending(similarity(q, r1, d, alpha), pyInt(r1.G * ratio1));
  const level1 = unionSorted(top1, [0], partial ? [r1.G - 1] : []);
  const r2 = paperGroupReps(keys, n, d, s2);
  const cand = new Set<number>();
  const gap = s1 / s2;
  for (const b of level1) for (let c = 0; c < gap; c++) cand.add(Math.min(gap * b + c, r2.G - 1));
  const sim2 = similarity(q, r2, d, alpha);
  const k2 = pyInt(r2.G * ratio2);
  const inCand = topKAscending(sim2, Math.min(k2, cand.size), Array.from(cand));
  // masked non-candidates rank last, by lower index (only when k2 exceeds the candidates)
  const extra = iota(r2.G).filter((b) => !cand.has(b)).slice(0, Math.max(0, k2 - cand.size));
  const level2 = unionSorted(inCand, extra, [0], partial ? [r2.G - 1] : []);
  const rows = new Set<number>();
  for (const b of level2) {
    const [lo, hi] = paperGroupRows(b, r2.G, n, s2);
    for (let t = lo; t < hi; t++) rows.add(t);
  }
  return { level1, level2, tokens: Int32Array.from(rows).sort(), g1: r1.G, g2: r2.G };
}

export interface MpCachePaperOptions extends PolicyOptions, PaperSelectOptions {
  /** 'topk' (default: public count Bs) or 'threshold' (the literal rule, count leaks under MPC) */
  readonly keepRule?: 'topk' | 'threshold';
  /** threshold of keepRule 'threshold' (default 1e-3) */
  readonly tau?: number;
  /** layer sharing P11 (default true) */
  readonly share?: boolean;
  /**
   * a memo of the static scores by prompt (keyed by the PrefillContext's `queries` array, which
   * an evaluation replays unchanged to every candidate): the scores do not depend on the budget
   */
  readonly scoreMemo?: WeakMap<readonly Float32Array[], Float32Array>;
  readonly name?: string;
}

export function mpcachePaperPolicy(o: MpCachePaperOptions): KvPolicy {
  const budget = aBudget(o.budget);
  const model = aModelShape(o.model);
  const keepRule = o.keepRule ?? 'topk';
  if (keepRule !== 'topk' && keepRule !== 'threshold') throw new RangeError(`keepRule must be 'topk' or 'threshold'`);
  const tau = o.tau ?? 1e-3;
  const share = o.share ?? true;
  const ratio2 = aRatio(o.ratio2 ?? 0.2, 'ratio2', 1e-9, 1);
  const sel: PaperSelectOptions = { ratio1: o.ratio1 ?? 0.5, ratio2, alpha: o.alpha ?? 0.6, block1: o.block1 ?? 32, block2: o.block2 ?? 16 };
  /** per layer: the statically kept prompt positions (for P11) */
  const kept = new Map<number, Int32Array>();
  let step = -1;
  const chosen = new Map<number, Int32Array[]>();
  const src = (layer: number) => (share ? selectionSourceLayer(layer, model.nLayers) : layer);
  return {
    name: o.name ?? 'mpcache-paper',
    kind: 'static+query-aware',
    gqa: 'per-query-head',
    params: { keepRule, tau, share, ...sel, static: 'max over window of head-mean unscaled non-causal softmax', budgetSplit: 'Bs = int(B / ratio2)' },
    onPrefill(ctx: PrefillContext) {
      if (ctx.layer === 0) {
        kept.clear();
        chosen.clear();
        step = -1;
      }
      const T = ctx.length;
      const { cache } = ctx;
      const from = src(ctx.layer);
      let keep = from !== ctx.layer ? kept.get(from) : undefined;
      if (!keep) {
        const Bs = Math.min(T, pyInt(resolveBudget(budget, T) / ratio2));
        if (keepRule === 'topk' && Bs >= T) keep = iota(T);
        else {
          let sc = o.scoreMemo?.get(ctx.queries);
          if (!sc) {
            const keys = Array.from({ length: cache.nKvHeads }, (_, kv) => cache.keys(kv).slice(0, T * cache.headDim));
            sc = paperStaticScores(ctx.queries, keys, T, cache.headDim, paperWindowSize(T));
            o.scoreMemo?.set(ctx.queries, sc);
          }
          keep = keepRule === 'topk' ? paperKeepTopK(sc, Bs) : paperKeepThreshold(sc, tau);
        }
      }
      kept.set(ctx.layer, keep);
      if (keep.length < T) for (let kv = 0; kv < cache.nKvHeads; kv++) cache.keep(kv, keep);
    },
    selectForStep(ctx: StepContext) {
      if (ctx.step !== step) {
        chosen.clear();
        step = ctx.step;
      }
      const { cache } = ctx;
      const from = src(ctx.layer);
      const reuse = from !== ctx.layer ? chosen.get(from) : undefined;
      const out: Int32Array[] = [];
      for (let h = 0; h < cache.nHeads; h++) {
        const kv = kvHeadOf(h, cache.nHeads, cache.nKvHeads);
        const n = cache.length(kv);
        const rows = reuse ? reuse[h] : paperTwoLevelSelect(ctx.query[h], cache.keys(kv), n, cache.headDim, sel).tokens;
        out.push(rows);
      }
      if (!reuse) chosen.set(ctx.layer, out);
      // the hook contract: the current token's entry is always read (see the header)
      return out.map((rows, h) => {
        const n = cache.length(kvHeadOf(h, cache.nHeads, cache.nKvHeads));
        return rows.length && rows[rows.length - 1] === n - 1 ? rows : unionSorted(rows, [n - 1]);
      });
    },
  };
}
