/**
 * Index-selection helpers shared by the plaintext policies. Every selection here breaks
 * ties the same way: among equal scores the LOWER index wins (is kept / selected first).
 * NaN scores rank below every number.
 */
import type { LayerCacheView } from '../../models/attention-hooks.js';

/** Compare for "higher score first, then lower index". */
function better(scores: ArrayLike<number>, a: number, b: number): number {
  const sa = scores[a];
  const sb = scores[b];
  const na = Number.isNaN(sa);
  const nb = Number.isNaN(sb);
  if (na !== nb) return na ? 1 : -1;
  if (!na && sa !== sb) return sb - sa > 0 ? 1 : -1;
  return a - b;
}

/**
 * The k best of `candidates` (default 0..scores.length-1) by score, ties to the lower
 * index, returned in ascending index order.
 */
export function topKAscending(scores: ArrayLike<number>, k: number, candidates?: ArrayLike<number>): Int32Array {
  const cand = candidates ?? Int32Array.from({ length: scores.length }, (_, i) => i);
  if (!Number.isSafeInteger(k) || k < 0) throw new RangeError(`k must be a non-negative integer, got ${k}`);
  const n = cand.length;
  if (k >= n) return Int32Array.from(cand).sort();
  const order = Array.from(cand);
  order.sort((a, b) => better(scores, a, b));
  return Int32Array.from(order.slice(0, k)).sort();
}

/** The k worst by score (lowest first to go), ties to the lower index; ascending index order. */
export function bottomKAscending(scores: ArrayLike<number>, k: number, candidates?: ArrayLike<number>): Int32Array {
  const neg = Float64Array.from({ length: scores.length }, (_, i) => -scores[i]);
  return topKAscending(neg, k, candidates);
}

/** 0..n-1 as Int32Array. */
export function iota(n: number, from = 0): Int32Array {
  const out = new Int32Array(Math.max(0, n));
  for (let i = 0; i < out.length; i++) out[i] = from + i;
  return out;
}

/** Sorted union of index arrays (duplicates removed). */
export function unionSorted(...parts: ArrayLike<number>[]): Int32Array {
  const s = new Set<number>();
  for (const p of parts) for (let i = 0; i < p.length; i++) s.add(p[i]);
  return Int32Array.from(s).sort();
}

/**
 * Keep `recent` newest entries of n and the `heavy` best-scoring among the older ones.
 * Returns ascending indices; count = min(n, heavy + recent).
 */
export function heavyPlusRecent(scores: ArrayLike<number>, n: number, heavy: number, recent: number): Int32Array {
  if (heavy + recent >= n) return iota(n);
  const older = iota(n - recent);
  return unionSorted(topKAscending(scores, heavy, older), iota(recent, n - recent));
}

/**
 * Cuts each KV head of `cache` holding more than B entries to heavyPlusRecent(score(rows[kv]),
 * n, B - recent, recent), and compacts its per-entry state rows[kv] to the same entries.
 */
function trimHeads<A>(cache: LayerCacheView, B: number, recent: number, rows: A[], score: (row: A) => ArrayLike<number>, compactRow: (row: A, keep: Int32Array) => A): void {
  for (let kv = 0; kv < cache.nKvHeads; kv++) {
    const n = cache.length(kv);
    if (n <= B) continue;
    const keep = heavyPlusRecent(score(rows[kv]), n, B - recent, recent);
    cache.keep(kv, keep);
    rows[kv] = compactRow(rows[kv], keep);
  }
}

/**
 * Per-layer state of an evicting policy that keeps heavyPlusRecent entries of each KV head:
 * `start` (prefill) sets a layer's budget B and per-entry rows, `step` (after attention)
 * updates the rows; both then trim the heads over B (recentOf(B) newest entries protected).
 */
export function heavyRecentLayers<A>(recentOf: (B: number) => number, score: (row: A) => ArrayLike<number>, compactRow: (row: A, keep: Int32Array) => A): {
  start(layer: number, cache: LayerCacheView, B: number, rows: A[]): void;
  step(layer: number, cache: LayerCacheView, update: (rows: A[]) => void): void;
} {
  const state = new Map<number, { B: number; rows: A[] }>();
  const trim = (st: { B: number; rows: A[] }, cache: LayerCacheView): void => trimHeads(cache, st.B, recentOf(st.B), st.rows, score, compactRow);
  return {
    start(layer, cache, B, rows) {
      const st = { B, rows };
      state.set(layer, st);
      trim(st, cache);
    },
    step(layer, cache, update) {
      const st = state.get(layer);
      if (!st) return;
      update(st.rows);
      trim(st, cache);
    },
  };
}

/** Keep entries `keep` (ascending) of a per-entry array. */
export function compact(arr: Float64Array, keep: ArrayLike<number>): Float64Array {
  const out = new Float64Array(keep.length);
  for (let i = 0; i < keep.length; i++) out[i] = arr[keep[i]];
  return out;
}

/** Same as compact for Uint32Array state. */
export function compactU32(arr: Uint32Array, keep: ArrayLike<number>): Uint32Array {
  const out = new Uint32Array(keep.length);
  for (let i = 0; i < keep.length; i++) out[i] = arr[keep[i]];
  return out;
}

/** Appends zeros to reach length n (entries appended to the cache since the state was last sized). */
export function grow(arr: Float64Array, n: number): Float64Array {
  if (arr.length >= n) return arr;
  const out = new Float64Array(n);
  out.set(arr);
  return out;
}

/** Same as grow for Uint32Array state. */
export function growU32(arr: Uint32Array, n: number): Uint32Array {
  if (arr.length >= n) return arr;
  const out = new Uint32Array(n);
  out.set(arr);
  return out;
}

/** Checks a ratio in [lo, hi]; returns it. */
export function aRatio(v: unknown, label: string, lo = 0, hi = 1): number {
  if (typeof v !== 'number' || !(v >= lo) || !(v <= hi)) throw new RangeError(`${label} must be a number in [${lo}, ${hi}], got ${String(v)}`);
  return v;
}

/** Checks a positive integer; returns it. */
export function aPosInt(v: unknown, label: string, min = 1): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) throw new RangeError(`${label} must be an integer >= ${min}, got ${String(v)}`);
  return v;
}

/**
 * `forced` entries (kept whatever their score) plus the best of the other candidates up to
 * k in total (k is raised to |forced| if smaller), ties to the lower index; ascending.
 * Equivalent to adding +Infinity to the forced entries' scores and taking the top k.
 */
export function topKWithForced(scores: ArrayLike<number>, k: number, forced: ArrayLike<number>, candidates?: ArrayLike<number>): Int32Array {
  const cand = candidates ?? iota(scores.length);
  const f = new Set<number>();
  for (let i = 0; i < forced.length; i++) f.add(forced[i]);
  const rest: number[] = [];
  for (let i = 0; i < cand.length; i++) if (!f.has(cand[i])) rest.push(cand[i]);
  const free = Math.max(0, k - f.size);
  return unionSorted(Array.from(f), topKAscending(scores, free, rest));
}
