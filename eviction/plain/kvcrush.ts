/**
 * KVCrush (Jha et al. 2025, "KVCrush: Key value cache size-reduction using similarity in
 * head-behaviour", arXiv 2503.00022); once after prefill (generated tokens appended and kept).
 * Rule from the paper and its public implementations (OpenVINO GenAI cache_eviction.cpp and a
 * vLLM backend, H2OKVCrushCluster, read for this file; page size 1 here):
 * - importance: SnapKV-style scores, attention of the last w prompt queries summed
 *   (w = min(16, floor(B/4))), 'group-mean' per KV head; s = min(4, floor(B/8)) first tokens
 *   (sinks) and the w newest are always kept; the middle [s, T - w) is evictable;
 * - the budget splits into impo = B - s - w - clus tokens chosen per KV head by importance and
 *   clus = floor(0.25 B) representatives shared by the layer's KV heads;
 * - head-behaviour signature of a middle token: one bit per query head h, set when the token is
 *   among the top half of head h's scores over the middle (the vLLM code uses one bit per KV
 *   head; with 2-4 KV heads here that gives at most 5 distances, so query heads are used);
 * - weak clustering: the Hamming distance of each signature to an anchor (default 'alternate'
 *   = 0101..., the vLLM default; 'mean' = bitwise majority; 'zeros'), the candidates (middle
 *   tokens no KV head chose by importance) sorted by (distance, position) and cut into clus
 *   consecutive groups of near-equal size (group i = sorted ranks [floor(i n/clus),
 *   floor((i+1) n/clus))); the FIRST token of every group is its representative, so exactly one
 *   token per group is kept (the code picks evenly spaced ranks, the same thing).
 * Exactly min(T, B) prompt entries per KV head (fewer only if there are fewer candidates than
 * clus). Small-model note: the paper's 32 heads give 33 distance values; 6-8 query heads here
 * give 7-9, so groups are mostly split by position within a distance value.
 */
import type { PrefillContext } from '../../models/attention-hooks.js';
import { aBudget, resolveBudget, type KvPolicy, type PolicyOptions } from '../policy.js';
import { prefillMass } from './scores.js';
import { aRatio, iota, topKAscending, unionSorted } from './select.js';

export type CrushAnchor = 'alternate' | 'mean' | 'zeros';

export interface KvCrushOptions extends PolicyOptions {
  /** share of the budget spent on representatives (default 0.25) */
  readonly crushShare?: number;
  readonly anchor?: CrushAnchor;
}

/** Signature bits (tokens x nHeads, row-major 0/1) of the middle tokens `mid` from per-head scores. */
export function headSignatures(scores: readonly Float64Array[], mid: Int32Array): Uint8Array {
  const H = scores.length;
  const bits = new Uint8Array(mid.length * H);
  const half = Math.floor(mid.length / 2);
  scores.forEach((s, h) => {
    const local = Float64Array.from(mid, (j) => s[j]);
    for (const i of topKAscending(local, half)) bits[i * H + h] = 1;
  });
  return bits;
}

/** The anchor vector for signatures `bits` (n x H). */
export function crushAnchor(bits: Uint8Array, n: number, H: number, mode: CrushAnchor): Uint8Array {
  const a = new Uint8Array(H);
  for (let h = 0; h < H; h++) {
    if (mode === 'alternate') a[h] = h % 2;
    else if (mode === 'mean') {
      let ones = 0;
      for (let i = 0; i < n; i++) ones += bits[i * H + h];
      a[h] = ones * 2 > n ? 1 : 0;
    }
  }
  return a;
}

/**
 * Groups of the candidates (ranks into `bits` rows) for `clus` representatives: the candidates
 * sorted by (Hamming distance to the anchor, row) and cut into clus near-equal runs.
 */
export function crushGroups(bits: Uint8Array, H: number, anchor: Uint8Array, candidates: readonly number[], clus: number): number[][] {
  const dist = (i: number) => {
    let s = 0;
    for (let h = 0; h < H; h++) if (bits[i * H + h] !== anchor[h]) s++;
    return s;
  };
  const sorted = candidates.map((i) => ({ i, d: dist(i) })).sort((a, b) => a.d - b.d || a.i - b.i).map((x) => x.i);
  const n = sorted.length;
  const g = Math.min(clus, n);
  return Array.from({ length: g }, (_, k) => sorted.slice(Math.floor((k * n) / g), Math.floor(((k + 1) * n) / g)));
}

export function kvCrushPolicy(o: KvCrushOptions): KvPolicy {
  const budget = aBudget(o.budget);
  const share = aRatio(o.crushShare ?? 0.25, 'crushShare');
  const anchorMode: CrushAnchor = o.anchor ?? 'alternate';
  if (!['alternate', 'mean', 'zeros'].includes(anchorMode)) throw new RangeError("anchor must be 'alternate', 'mean' or 'zeros'");
  return {
    name: 'kvcrush',
    kind: 'static',
    gqa: 'group-mean',
    params: { crushShare: share, anchor: anchorMode },
    onPrefill(ctx: PrefillContext) {
      const T = ctx.length;
      const B = resolveBudget(budget, T);
      if (B >= T) return;
      const { cache } = ctx;
      const w = Math.min(16, Math.max(1, Math.floor(B / 4)));
      const s = Math.min(4, Math.floor(B / 8));
      const clus = Math.floor(share * B);
      const impo = Math.max(0, B - s - w - clus);
      const mid = iota(T - w - s, s);
      const H = cache.nHeads;
      const perHead = Array.from({ length: H }, (_, h) => {
        const P = ctx.probs[h];
        const out = new Float64Array(T);
        for (let q = T - w; q < T; q++) for (let j = 0; j <= q; j++) out[j] += P[q * T + j];
        return out;
      });
      const chosen = Array.from({ length: cache.nKvHeads }, (_, kv) => topKAscending(prefillMass(ctx, kv, T - w, T), impo, mid));
      const taken = new Set<number>();
      for (const c of chosen) for (const j of c) taken.add(j);
      const bits = headSignatures(perHead, mid);
      const anchor = crushAnchor(bits, mid.length, H, anchorMode);
      const candidates: number[] = [];
      mid.forEach((j, i) => {
        if (!taken.has(j)) candidates.push(i);
      });
      const reps = crushGroups(bits, H, anchor, candidates, clus).map((g) => mid[g[0]]);
      for (let kv = 0; kv < cache.nKvHeads; kv++) cache.keep(kv, unionSorted(iota(s), chosen[kv], reps, iota(w, T - w)));
    },
  };
}
