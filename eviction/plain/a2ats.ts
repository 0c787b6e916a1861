/**
 * A^2ATS (He et al., ACL Findings 2025; junhuihe-hjh/A2ATS, vqkey/models/llama_masked.py +
 * notebooks/construct_codebooks.py), simulated; query-aware, nothing evicted.
 * - Windowed RoPE: for retrieval every key outside the local window is treated as if it stood at
 *   one fixed distance `relativePos` from the query: the approximate score of token j is
 *   RoPE(q_pre, relativePos) . k_pre,j, whatever j's position (the authors rotate the query by
 *   wrope_relative_pos and keep the keys un-rotated).
 * - Query-aware vector quantization of the pre-RoPE keys: per KV head, H = sum of q_w q_w^T over
 *   the group's windowed queries (normalized by its RMS), L its Cholesky factor; the codebook is
 *   k-means (k-means++ seeded init, Lloyd rounds) of the whitened keys k L, and a key's code is
 *   its nearest centroid there, i.e. argmin_c (k - c')^T H (k - c') with c' = c L^{-1}: the
 *   error that matters for q_w . k. Scores are q_w . c'_code.
 * - Selection: per query head the top k tokens by approximate score among those outside the
 *   `sinks` first and the `local` newest; the KV head reads the union over its query heads
 *   ('group-union', the authors' .any over the group) plus the sinks and the local window,
 *   exactly (keys and values fetched from the CPU in the paper).
 * Budget B = resolveBudget(ratio, T) tokens per KV head per step: sinks = min(8, floor(B / 8)),
 * local = min(64, max(1, floor(B / 4))) (the authors' attention_sink 8 and wrope_local_window
 * 64), and k = floor((B - sinks - local) / group) per query head, so the union is at most B.
 * Small-model notes: the codebook (4096 centroids from 80K calibration tokens in the paper) is
 * fitted on the prompt itself at prefill, with 2^round(log2(T / 16)) centroids (8..4096: 32 for
 * 448 tokens); relativePos defaults to floor(T / 2), the typical distance of a prompt token from
 * the decode position (the paper's 2048 is beyond these contexts). Decode tokens get codes as
 * they are written.
 */
import type { KeyRotary, PrefillContext, StepContext } from '../../models/attention-hooks.js';
import { aBudget, resolveBudget, type KvPolicy, type PolicyOptions } from '../policy.js';
import { cholesky, lowerInverse, rowTimes } from './linalg.js';
import { preRopePrompt, preRopeStep } from './pre-rope.js';
import { headsOf } from './scores.js';
import { mixSeed, SeededRng } from './seeded-rng.js';
import { aPosInt, iota, unionSorted } from './select.js';
import { fastTopK } from './fast-topk.js';

export interface A2atsOptions extends PolicyOptions {
  readonly codebook?: number;
  readonly iters?: number;
  readonly relativePos?: number;
}

/** The budget split: sinks, local window, top-k per query head. */
export function a2atsSplit(B: number, group: number): { sinks: number; local: number; k: number } {
  const sinks = Math.min(8, Math.floor(B / 8));
  const local = Math.min(64, Math.max(1, Math.floor(B / 4)));
  return { sinks, local, k: Math.max(0, Math.floor((B - sinks - local) / group)) };
}

/** The windowed query: the post-RoPE query q at `pos` moved to position `relativePos`. */
export function windowedQuery(q: ArrayLike<number>, pos: number, relativePos: number, rotary: KeyRotary): Float32Array {
  const w = Float32Array.from(q);
  rotary.unrotate(w, 0, pos);
  rotary.rotate(w, 0, relativePos);
  return w;
}

export interface A2atsHead {
  /** the query second moment H (d x d) */
  readonly H: Float64Array;
  readonly L: Float64Array;
  /** centroids mapped back to key space, c L^{-1}, C x d */
  readonly cHat: Float64Array;
  readonly nCodes: number;
  /** code per cache entry */
  codes: number[];
}

/** Nearest centroid (squared distance in the whitened space), ties to the lower index. */
function nearest(z: Float64Array, zOff: number, cent: Float64Array, C: number, d: number): number {
  let best = 0;
  let bd = Infinity;
  for (let j = 0; j < C; j++) {
    let s = 0;
    for (let i = 0; i < d; i++) s += (z[zOff + i] - cent[j * d + i]) ** 2;
    if (s < bd) {
      bd = s;
      best = j;
    }
  }
  return best;
}

/** Builds one KV head's codebook from its pre-RoPE keys (T x d) and windowed queries (rows x d). */
export function a2atsHead(pre: Float32Array, T: number, d: number, windowed: readonly Float32Array[], C: number, iters: number, seed: number): A2atsHead {
  const H = new Float64Array(d * d);
  for (const q of windowed) for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) H[i * d + j] += q[i] * q[j];
  let rms = 0;
  for (const v of H) rms += v * v;
  rms = Math.sqrt(rms / H.length) || 1;
  for (let i = 0; i < d * d; i++) H[i] /= rms;
  for (let i = 0; i < d; i++) H[i * d + i] += 1e-6;
  const L = cholesky(H, d);
  const Linv = lowerInverse(L, d);
  const Z = new Float64Array(T * d);
  for (let t = 0; t < T; t++) rowTimes(pre, t * d, L, d, d, Z, t * d);
  const nC = Math.max(1, Math.min(C, T));
  // k-means++ init
  const rng = new SeededRng(seed);
  const cent = new Float64Array(nC * d);
  const first = Math.min(T - 1, Math.floor(rng.next() * T));
  cent.set(Z.subarray(first * d, first * d + d), 0);
  const dist = Float64Array.from({ length: T }, (_, t) => {
    let s = 0;
    for (let i = 0; i < d; i++) s += (Z[t * d + i] - cent[i]) ** 2;
    return s;
  });
  for (let j = 1; j < nC; j++) {
    let tot = 0;
    for (const v of dist) tot += v;
    let u = rng.next() * tot;
    let pick = T - 1;
    for (let t = 0; t < T; t++) {
      u -= dist[t];
      if (u <= 0) {
        pick = t;
        break;
      }
    }
    cent.set(Z.subarray(pick * d, pick * d + d), j * d);
    for (let t = 0; t < T; t++) {
      let s = 0;
      for (let i = 0; i < d; i++) s += (Z[t * d + i] - cent[j * d + i]) ** 2;
      if (s < dist[t]) dist[t] = s;
    }
  }
  const codes = new Array<number>(T);
  for (let it = 0; it <= iters; it++) {
    for (let t = 0; t < T; t++) codes[t] = nearest(Z, t * d, cent, nC, d);
    if (it === iters) break;
    const sum = new Float64Array(nC * d);
    const cnt = new Float64Array(nC);
    for (let t = 0; t < T; t++) {
      cnt[codes[t]]++;
      for (let i = 0; i < d; i++) sum[codes[t] * d + i] += Z[t * d + i];
    }
    for (let j = 0; j < nC; j++) if (cnt[j] > 0) for (let i = 0; i < d; i++) cent[j * d + i] = sum[j * d + i] / cnt[j];
  }
  const cHat = new Float64Array(nC * d);
  for (let j = 0; j < nC; j++) rowTimes(cent, j * d, Linv, d, d, cHat, j * d);
  return { H, L, cHat, nCodes: nC, codes };
}

/** The code of a new pre-RoPE key. */
export function a2atsEncode(head: A2atsHead, k: ArrayLike<number>, d: number): number {
  // nearest in the whitened space = nearest c' under the H metric
  let best = 0;
  let bd = Infinity;
  for (let j = 0; j < head.nCodes; j++) {
    let s = 0;
    for (let a = 0; a < d; a++) {
      const ea = k[a] - head.cHat[j * d + a];
      for (let b = 0; b < d; b++) s += ea * head.H[a * d + b] * (k[b] - head.cHat[j * d + b]);
    }
    if (s < bd) {
      bd = s;
      best = j;
    }
  }
  return best;
}

export function a2atsPolicy(o: A2atsOptions): KvPolicy {
  const budget = aBudget(o.budget);
  const iters = aPosInt(o.iters ?? 10, 'iters', 0);
  const seed = o.seed ?? 1;
  const state = new Map<number, { heads: A2atsHead[]; split: ReturnType<typeof a2atsSplit>; rel: number; rotary: KeyRotary }>();
  return {
    name: 'a2ats',
    kind: 'query-aware',
    gqa: 'group-union',
    params: { iters, codebook: o.codebook ?? 'auto', relativePos: o.relativePos ?? 'T/2' },
    onPrefill(ctx: PrefillContext) {
      const { keys: pre, rotary } = preRopePrompt(ctx, 'a2ats');
      const { cache } = ctx;
      const T = ctx.length;
      const d = cache.headDim;
      const G = cache.nHeads / cache.nKvHeads;
      const rel = aPosInt(o.relativePos ?? Math.max(1, Math.floor(T / 2)), 'relativePos');
      const C = o.codebook ?? Math.min(4096, Math.max(8, 2 ** Math.round(Math.log2(T / 16))));
      const heads = Array.from({ length: cache.nKvHeads }, (_, kv) => {
        const windowed: Float32Array[] = [];
        for (const h of headsOf(cache.nHeads, cache.nKvHeads, kv)) for (let t = 0; t < T; t++) windowed.push(windowedQuery(ctx.queries[h].subarray(t * d, t * d + d), t, rel, rotary));
        return a2atsHead(pre[kv], T, d, windowed, C, iters, mixSeed(seed, ctx.layer, kv));
      });
      state.set(ctx.layer, { heads, split: a2atsSplit(resolveBudget(budget, T), G), rel, rotary });
    },
    selectForStep(ctx: StepContext) {
      const st = state.get(ctx.layer);
      if (!st) return undefined;
      const { keys: pre } = preRopeStep(ctx, 'a2ats');
      const { cache } = ctx;
      const d = cache.headDim;
      const { sinks, local, k } = st.split;
      const out: (Int32Array | undefined)[] = new Array(cache.nHeads);
      for (let kv = 0; kv < cache.nKvHeads; kv++) {
        const head = st.heads[kv];
        head.codes.push(a2atsEncode(head, pre[kv], d));
        const n = cache.length(kv);
        const heads = headsOf(cache.nHeads, cache.nKvHeads, kv);
        const mid = iota(Math.max(0, n - local - sinks), sinks);
        if (mid.length <= k * heads.length) {
          for (const h of heads) out[h] = undefined;
          continue;
        }
        const parts: Int32Array[] = [iota(Math.min(sinks, n)), iota(Math.min(local, n), n - Math.min(local, n))];
        for (const h of heads) {
          const qw = windowedQuery(ctx.query[h], ctx.position, st.rel, st.rotary);
          const byCode = new Float64Array(head.nCodes);
          for (let j = 0; j < head.nCodes; j++) for (let i = 0; i < d; i++) byCode[j] += qw[i] * head.cHat[j * d + i];
          const score = new Float64Array(n);
          for (const t of mid) score[t] = byCode[head.codes[t]];
          parts.push(fastTopK(score, k, mid));
        }
        const sel = unionSorted(...parts);
        for (const h of heads) out[h] = sel;
      }
      return out;
    },
  };
}
