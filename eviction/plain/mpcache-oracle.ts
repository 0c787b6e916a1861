/**
 * MPCache selection rules as pure functions: the ORACLE the secure MPCache
 * (eviction/secure/) is compared against block for block. These are the PROJECT's rules
 * (mpcache / mpcache-v1); where they differ from the authors' code (mpcache-paper.ts has
 * those): the observation window is forced in (min(w, floor(Bs / 2)) tokens), k is
 * floor(G ratio + 1e-9) with the forced blocks counted inside it, the last block is the
 * aligned (possibly partial) one and always forced, padding never enters a representative,
 * and a layer reusing another's selection keeps its own static set. Numerics in float64.
 *
 * Tie-breaking, everywhere: among equal scores the LOWER index is selected. Forced entries
 * (window tokens, first/last blocks) are selected whatever their score, as if their score
 * were +Infinity before a top-k. All index outputs are ascending Int32Arrays.
 *
 * Layout: keys of one KV head are row-major, n rows of d floats; queries likewise.
 */
import { aPosInt, aRatio, iota, topKWithForced, unionSorted } from './select.js';

// ---------------------------------------------------------------- 1. look-once static eviction

export interface StaticScoreOptions {
  /** divide logits by sqrt(d) (default true; the authors' code does not) */
  readonly scaled?: boolean;
  /** causal mask inside the window (default true; the authors' code has none) */
  readonly causal?: boolean;
}

/** Observation window: floor(0.2 T) queries (floor(0.1 T) above 24,000 tokens), at least 1 (the authors: paperWindowSize). */
export function staticWindowSize(T: number, windowRatio = 0.2, longRatio = 0.1, longThreshold = 24000): number {
  aPosInt(T, 'T');
  return Math.max(1, Math.floor((T > longThreshold ? longRatio : windowRatio) * T + 1e-9));
}

/**
 * Window scores of one layer. For each window query q (the last `window` prompt positions)
 * and each prompt key j: m[q][j] = mean over ALL query heads h of softmax_j(Q_h[q] . K_kv(h)[j] * s)
 * with s = 1/sqrt(d) when scaled and the softmax over j <= q when causal (over all T keys
 * otherwise). Returns sum[j] = sum_q m[q][j] (for the top-k rule) and max[j] = max_q m[q][j]
 * (for the threshold rule). One score per token: the decision is shared by all heads.
 * queries[h]: T*d post-RoPE queries; keys[kv]: T*d post-RoPE keys.
 */
export function staticWindowScores(
  queries: readonly Float32Array[],
  keys: readonly Float32Array[],
  T: number,
  d: number,
  window: number,
  opts: StaticScoreOptions = {},
): { sum: Float64Array; max: Float64Array } {
  const H = queries.length;
  const nKv = keys.length;
  if (H % nKv !== 0) throw new RangeError('queries.length must be a multiple of keys.length');
  aPosInt(window, 'window');
  const scaled = opts.scaled ?? true;
  const causal = opts.causal ?? true;
  const s = scaled ? 1 / Math.sqrt(d) : 1;
  const g = H / nKv;
  const w = Math.min(window, T);
  const sum = new Float64Array(T);
  const max = new Float64Array(T);
  const m = new Float64Array(T);
  const row = new Float64Array(T);
  for (let q = T - w; q < T; q++) {
    m.fill(0);
    const nk = causal ? q + 1 : T;
    for (let h = 0; h < H; h++) {
      const Q = queries[h];
      const K = keys[Math.floor(h / g)];
      let mx = -Infinity;
      for (let j = 0; j < nk; j++) {
        let dot = 0;
        for (let i = 0; i < d; i++) dot += Q[q * d + i] * K[j * d + i];
        row[j] = dot * s;
        if (row[j] > mx) mx = row[j];
      }
      let z = 0;
      for (let j = 0; j < nk; j++) {
        row[j] = Math.exp(row[j] - mx);
        z += row[j];
      }
      for (let j = 0; j < nk; j++) m[j] += row[j] / z / H;
    }
    for (let j = 0; j < nk; j++) {
      sum[j] += m[j];
      if (m[j] > max[j]) max[j] = m[j];
    }
  }
  return { sum, max };
}

/**
 * The default (scaled, causal) window scores from causal attention probabilities that were
 * already computed, e.g. the reference model's prefill probabilities: probs[h] is T*T, row q =
 * softmax over keys 0..q of query q of head h. Same definition as staticWindowScores with
 * scaled = causal = true (up to the precision of the given probabilities).
 */
export function staticWindowScoresFromProbs(probs: readonly Float32Array[], T: number, window: number): { sum: Float64Array; max: Float64Array } {
  aPosInt(window, 'window');
  const H = probs.length;
  const w = Math.min(window, T);
  const sum = new Float64Array(T);
  const max = new Float64Array(T);
  const m = new Float64Array(T);
  for (let q = T - w; q < T; q++) {
    m.fill(0, 0, q + 1);
    for (let h = 0; h < H; h++) {
      const P = probs[h];
      const o = q * T;
      for (let j = 0; j <= q; j++) m[j] += P[o + j];
    }
    for (let j = 0; j <= q; j++) {
      const v = m[j] / H;
      sum[j] += v;
      if (v > max[j]) max[j] = v;
    }
  }
  return { sum, max };
}

/**
 * Public-budget keep rule (the project default): keep exactly min(budget, T) prompt tokens:
 * the last wk = min(window, max(1, floor(budget / 2))) tokens (the observation window; only
 * a budget under twice the window shrinks it, so that scores still choose half the budget)
 * plus the top (budget - wk) scores among the earlier tokens, ties to the lower index.
 */
export function staticKeepTopK(scores: ArrayLike<number>, T: number, budget: number, window: number): Int32Array {
  aPosInt(budget, 'budget', 0);
  if (budget >= T) return iota(T);
  const wk = Math.min(window, Math.max(1, Math.floor(budget / 2)));
  return unionSorted(topKWithForced(scores, budget - wk, [], iota(T - wk)), iota(wk, T - wk));
}

/**
 * The authors' threshold rule (option): keep token j when max_q m[q][j] >= tau, plus the
 * window. The kept COUNT depends on the data; under MPC revealing it is leakage.
 */
export function staticKeepThreshold(maxScores: ArrayLike<number>, T: number, tau: number, window: number): Int32Array {
  const wk = Math.min(window, T);
  const out: number[] = [];
  for (let j = 0; j < T - wk; j++) if (maxScores[j] >= tau) out.push(j);
  return unionSorted(out, iota(wk, T - wk));
}

// ---------------------------------------------------------------- 2. clustered selection

/** Per-block elementwise max and min of keys (nBlocks rows of d each). */
export interface BlockReps {
  readonly nBlocks: number;
  readonly blockSize: number;
  readonly d: number;
  readonly rmax: Float64Array;
  readonly rmin: Float64Array;
}

/**
 * Representatives of contiguous blocks of `blockSize` keys (rows 0..n-1): per dimension the
 * max and min over the REAL rows of the block. A partial last block is "padded": padding
 * never enters the max/min. nBlocks = ceil(n / blockSize).
 */
export function blockRepresentatives(keys: Float32Array, n: number, d: number, blockSize: number): BlockReps {
  aPosInt(blockSize, 'blockSize');
  const nBlocks = Math.ceil(n / blockSize);
  const rmax = new Float64Array(nBlocks * d).fill(-Infinity);
  const rmin = new Float64Array(nBlocks * d).fill(Infinity);
  for (let t = 0; t < n; t++) {
    const b = Math.floor(t / blockSize);
    for (let i = 0; i < d; i++) {
      const v = keys[t * d + i];
      if (v > rmax[b * d + i]) rmax[b * d + i] = v;
      if (v < rmin[b * d + i]) rmin[b * d + i] = v;
    }
  }
  return { nBlocks, blockSize, d, rmax, rmin };
}

/** Level-1 representatives from level-2 ones: block b of size 2s covers children 2b, 2b+1. */
export function mergeRepresentatives(child: BlockReps): BlockReps {
  const { d } = child;
  const nBlocks = Math.ceil(child.nBlocks / 2);
  const rmax = new Float64Array(nBlocks * d).fill(-Infinity);
  const rmin = new Float64Array(nBlocks * d).fill(Infinity);
  for (let c = 0; c < child.nBlocks; c++) {
    const b = c >> 1;
    for (let i = 0; i < d; i++) {
      rmax[b * d + i] = Math.max(rmax[b * d + i], child.rmax[c * d + i]);
      rmin[b * d + i] = Math.min(rmin[b * d + i], child.rmin[c * d + i]);
    }
  }
  return { nBlocks, blockSize: child.blockSize * 2, d, rmax, rmin };
}

/** MPCache's MPC-friendly linear similarity: s_b = q . (alpha r_max_b + (1 - alpha) r_min_b). */
export function linearSimilarity(q: ArrayLike<number>, reps: BlockReps, alpha = 0.6): Float64Array {
  const { nBlocks, d, rmax, rmin } = reps;
  const out = new Float64Array(nBlocks);
  for (let b = 0; b < nBlocks; b++) {
    let s = 0;
    for (let i = 0; i < d; i++) s += q[i] * (alpha * rmax[b * d + i] + (1 - alpha) * rmin[b * d + i]);
    out[b] = s;
  }
  return out;
}

/** The exact upper bound of q . k over a block (Quest's page score): sum_i max(q_i rmax_i, q_i rmin_i). */
export function exactBound(q: ArrayLike<number>, reps: BlockReps): Float64Array {
  const { nBlocks, d, rmax, rmin } = reps;
  const out = new Float64Array(nBlocks);
  for (let b = 0; b < nBlocks; b++) {
    let s = 0;
    for (let i = 0; i < d; i++) s += Math.max(q[i] * rmax[b * d + i], q[i] * rmin[b * d + i]);
    out[b] = s;
  }
  return out;
}

export interface TwoLevelOptions {
  /** level-1 block size (default 32) */
  readonly block1?: number;
  /** level-2 block size (default 16); block1 must be 2 * block2 */
  readonly block2?: number;
  /** level-1 keep ratio: k1 = int(G1 * ratio1) (default 0.5) */
  readonly ratio1?: number;
  /** level-2 keep ratio: k2 = int(G2 * ratio2) (default 0.2) */
  readonly ratio2?: number;
  /** similarity mix q . (alpha r_max + (1 - alpha) r_min) (default 0.6) */
  readonly alpha?: number;
  /** force the first block (attention sink) in, at both levels (default true) */
  readonly forceFirst?: boolean;
  /** force the last (newest, possibly partial) block in, at both levels (default true) */
  readonly forceLast?: boolean;
}

export interface TwoLevelSelection {
  /** chosen level-1 blocks (ascending) */
  readonly level1: Int32Array;
  /** chosen level-2 blocks (ascending), all children of level-1 choices */
  readonly level2: Int32Array;
  /** token (row) indices covered by level2 (ascending) */
  readonly tokens: Int32Array;
  readonly g1: number;
  readonly g2: number;
}

/** Block indices a level forces in: {0} and/or {G-1} (the secure plan uses the same rule). */
export function forcedBlocks(G: number, first: boolean, last: boolean): number[] {
  const f: number[] = [];
  if (G === 0) return f;
  if (first) f.push(0);
  if (last && !(first && G === 1)) f.push(G - 1);
  return f;
}

/**
 * Two-level selection for one query q over n keys (rows of d):
 * 1. level-2 representatives over blocks of block2 and level-1 over blocks of block1
 *    (G2 = ceil(n/block2), G1 = ceil(n/block1));
 * 2. level 1: k1 = max(int(G1 * ratio1), |forced1|) blocks: the forced ones (first, last)
 *    plus the best linear similarities, ties to the lower index;
 * 3. level 2: candidates = the children (2b, 2b+1 when < G2) of the level-1 choices;
 *    k2 = min(|candidates|, max(int(G2 * ratio2), |forced2|)): forced (first, last) plus
 *    the best linear similarities among the candidates, ties to the lower index;
 * 4. tokens = rows of the chosen level-2 blocks.
 * "int(x)" here is floor(x + 1e-9) (the authors' Python int() truncates: 100 * 0.29 gives 28
 * there, 29 here; mpcache-paper.ts pyInt), and the forced blocks are counted inside k (the
 * authors add them to the top k).
 */
export function twoLevelSelect(q: ArrayLike<number>, keys: Float32Array, n: number, d: number, opts: TwoLevelOptions = {}): TwoLevelSelection {
  const block2 = aPosInt(opts.block2 ?? 16, 'block2');
  const block1 = aPosInt(opts.block1 ?? 2 * block2, 'block1');
  if (block1 !== 2 * block2) throw new RangeError('block1 must be 2 * block2');
  const ratio1 = aRatio(opts.ratio1 ?? 0.5, 'ratio1');
  const ratio2 = aRatio(opts.ratio2 ?? 0.2, 'ratio2');
  const alpha = opts.alpha ?? 0.6;
  const first = opts.forceFirst ?? true;
  const last = opts.forceLast ?? true;
  const reps2 = blockRepresentatives(keys, n, d, block2);
  const reps1 = mergeRepresentatives(reps2);
  const G2 = reps2.nBlocks;
  const G1 = reps1.nBlocks;
  const f1 = forcedBlocks(G1, first, last);
  const level1 = topKWithForced(linearSimilarity(q, reps1, alpha), Math.floor(G1 * ratio1 + 1e-9), f1);
  const cand: number[] = [];
  for (const b of level1) for (const c of [2 * b, 2 * b + 1]) if (c < G2) cand.push(c);
  const f2 = forcedBlocks(G2, first, last);
  const k2 = Math.min(cand.length, Math.max(Math.floor(G2 * ratio2 + 1e-9), f2.length));
  const level2 = topKWithForced(linearSimilarity(q, reps2, alpha), k2, f2, cand);
  return { level1, level2, tokens: blockTokens(level2, block2, n), g1: G1, g2: G2 };
}

/** Rows covered by the given blocks of `blockSize` (the last block may be partial). */
export function blockTokens(blocks: ArrayLike<number>, blockSize: number, n: number): Int32Array {
  const out: number[] = [];
  for (let i = 0; i < blocks.length; i++) for (let t = blocks[i] * blockSize; t < Math.min(n, (blocks[i] + 1) * blockSize); t++) out.push(t);
  return Int32Array.from(out);
}

// ---------------------------------------------------------------- 3. cross-layer index sharing

/**
 * The layer whose selection `layer` uses: layers 0, 1 and the last two compute their own;
 * in between, each even layer computes and the following odd layer reuses it (the authors'
 * modeling_llama.py: start_idx 2, the last two layers excluded).
 */
export function selectionSourceLayer(layer: number, nLayers: number): number {
  if (layer < 2 || layer >= nLayers - 2) return layer;
  return layer % 2 === 0 ? layer : layer - 1;
}
