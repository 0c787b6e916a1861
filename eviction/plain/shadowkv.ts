/**
 * ShadowKV (Sun et al., 2024; bytedance/ShadowKV, models/kv_cache.py ShadowKVCache), simulated;
 * low-rank keys + per-step selection, nothing evicted. What the GPU would read is what attention
 * reads here; the offloaded values are read exactly (fetched from the CPU in the paper).
 * Prefill, per layer:
 * - the prompt is cut into chunks of `chunk` (8) tokens; the last `local` chunks plus the
 *   remainder T mod 8 stay exact (the authors' local_chunk 4);
 * - per KV head a chunk's landmark is the mean of its post-RoPE keys; the `outliers` chunks whose
 *   keys are least similar to their landmark (lowest minimum cosine similarity) stay exact
 *   (outlier_chunk); the other chunks are represented by their landmarks;
 * - the pre-RoPE keys of the whole prompt, concatenated over the layer's KV heads (T x kvDim),
 *   get a rank-r SVD (r = round(160/1024 kvDim), the authors' rank 160 of Llama-3-8B's 1024);
 *   every key of a landmarked chunk is replaced by its rank-r reconstruction, rotated (RoPE) at
 *   its position: what ShadowKV rebuilds on the GPU for a selected chunk.
 * Decode: per query head softmax(q . landmark / sqrt(d)) over the landmarked chunks; per KV head
 * the maximum over its query heads ('group-max'); the top `selected` chunks are read, plus the
 * outlier chunks, the local chunks and every generated token (exact).
 * Budget B = resolveBudget(ratio, T) prompt tokens read per step, in chunks: nChunks =
 * max(2, floor(B / chunk)), local = min(4, max(1, floor(nChunks / 4))), outliers =
 * floor((nChunks - local) * 48 / 304) (the authors' 48 outlier chunks beside 256 selected),
 * selected = the rest (at least 1). Generated tokens are read on top (as in the paper).
 * Small-model note: the paper's sparse budget is 1.56% of 128K tokens; here budgets are 5-50% of
 * a few hundred tokens, so local and outlier chunks take a larger share.
 */
import type { PrefillContext, StepContext } from '../../models/attention-hooks.js';
import { aBudget, resolveBudget, type KvPolicy, type PolicyOptions } from '../policy.js';
import { projectRow, topRightSingular } from './linalg.js';
import { preRopePrompt, writeRotatedKey } from './pre-rope.js';
import { headsOf } from './scores.js';
import { aPosInt, aRatio, bottomKAscending, iota, unionSorted } from './select.js';
import { fastTopK } from './fast-topk.js';

export interface ShadowKvOptions extends PolicyOptions {
  readonly chunk?: number;
  /** SVD rank as a fraction of nKvHeads * headDim (default 160 / 1024) */
  readonly rankRatio?: number;
}

/** The budget in chunks: local, outlier and selected chunks. */
export function shadowkvSplit(B: number, chunk: number): { local: number; outliers: number; selected: number } {
  const n = Math.max(2, Math.floor(B / chunk));
  const local = Math.min(4, Math.max(1, Math.floor(n / 4)));
  const outliers = Math.floor(((n - local) * 48) / 304);
  return { local, outliers, selected: Math.max(1, n - local - outliers) };
}

interface LayerState {
  /** cache entries from here on are read exactly (local chunks, remainder, generated tokens) */
  readonly localStart: number;
  readonly chunk: number;
  readonly selected: number;
  /** per KV head */
  readonly outlierChunks: Int32Array[];
  readonly landmarkChunks: Int32Array[];
  readonly landmarks: Float64Array[];
}

export function shadowkvPolicy(o: ShadowKvOptions): KvPolicy {
  const budget = aBudget(o.budget);
  const chunk = aPosInt(o.chunk ?? 8, 'chunk');
  const rankRatio = aRatio(o.rankRatio ?? 160 / 1024, 'rankRatio');
  const state = new Map<number, LayerState>();
  return {
    name: 'shadowkv',
    kind: 'low-rank+query-aware',
    gqa: 'group-max',
    params: { chunk, rankRatio },
    onPrefill(ctx: PrefillContext) {
      const { keys: pre, rotary } = preRopePrompt(ctx, 'shadowkv');
      const { cache } = ctx;
      const T = ctx.length;
      const d = cache.headDim;
      const nKv = cache.nKvHeads;
      const kd = nKv * d;
      const B = resolveBudget(budget, T);
      const split = shadowkvSplit(B, chunk);
      const chunks = Math.max(0, Math.floor(T / chunk) - split.local);
      const localStart = chunks * chunk;
      const outlierChunks: Int32Array[] = [];
      const landmarkChunks: Int32Array[] = [];
      const landmarks: Float64Array[] = [];
      for (let kv = 0; kv < nKv; kv++) {
        const K = cache.keys(kv);
        const lm = new Float64Array(chunks * d);
        const minCos = new Float64Array(chunks);
        for (let c = 0; c < chunks; c++) {
          for (let t = c * chunk; t < (c + 1) * chunk; t++) for (let i = 0; i < d; i++) lm[c * d + i] += K[t * d + i] / chunk;
          let nl = 0;
          for (let i = 0; i < d; i++) nl += lm[c * d + i] ** 2;
          let m = Infinity;
          for (let t = c * chunk; t < (c + 1) * chunk; t++) {
            let dot = 0;
            let nk = 0;
            for (let i = 0; i < d; i++) {
              dot += lm[c * d + i] * K[t * d + i];
              nk += K[t * d + i] ** 2;
            }
            m = Math.min(m, dot / Math.max(Math.sqrt(nl * nk), 1e-8));
          }
          minCos[c] = m;
        }
        const out = bottomKAscending(minCos, Math.min(split.outliers, chunks));
        const outSet = new Set(out);
        const rest = Int32Array.from(iota(chunks).filter((c) => !outSet.has(c)));
        outlierChunks.push(out);
        landmarkChunks.push(rest);
        landmarks.push(Float64Array.from({ length: rest.length * d }, (_, j) => lm[rest[Math.floor(j / d)] * d + (j % d)]));
      }
      // rank-r SVD of the layer's pre-RoPE keys; landmarked chunks are read reconstructed
      const rank = Math.max(1, Math.min(kd, Math.round(rankRatio * kd)));
      const joint = new Float64Array(T * kd);
      for (let t = 0; t < T; t++) for (let kv = 0; kv < nKv; kv++) for (let i = 0; i < d; i++) joint[t * kd + kv * d + i] = pre[kv][t * d + i];
      const basis = topRightSingular(joint, T, kd, rank);
      for (let t = 0; t < localStart; t++) projectRow(joint, t * kd, basis, kd, rank);
      for (let kv = 0; kv < nKv; kv++) {
        const outSet = new Set(outlierChunks[kv]);
        for (let t = 0; t < localStart; t++) if (!outSet.has(Math.floor(t / chunk))) writeRotatedKey(cache, kv, t, joint, t * kd + kv * d, t, rotary);
      }
      state.set(ctx.layer, { localStart, chunk, selected: split.selected, outlierChunks, landmarkChunks, landmarks });
    },
    selectForStep(ctx: StepContext) {
      const st = state.get(ctx.layer);
      if (!st) return undefined;
      const { cache } = ctx;
      const d = cache.headDim;
      const scale = 1 / Math.sqrt(d);
      const out: (Int32Array | undefined)[] = new Array(cache.nHeads);
      for (let kv = 0; kv < cache.nKvHeads; kv++) {
        const n = cache.length(kv);
        const ids = st.landmarkChunks[kv];
        const L = st.landmarks[kv];
        const score = new Float64Array(ids.length);
        const heads = headsOf(cache.nHeads, cache.nKvHeads, kv);
        for (const h of heads) {
          const q = ctx.query[h];
          const p = new Float64Array(ids.length);
          let mx = -Infinity;
          for (let c = 0; c < ids.length; c++) {
            let s = 0;
            for (let i = 0; i < d; i++) s += q[i] * L[c * d + i];
            p[c] = s * scale;
            mx = Math.max(mx, p[c]);
          }
          let z = 0;
          for (let c = 0; c < ids.length; c++) z += p[c] = Math.exp(p[c] - mx);
          for (let c = 0; c < ids.length; c++) score[c] = Math.max(score[c], p[c] / z);
        }
        const chosen = fastTopK(score, Math.min(st.selected, ids.length));
        const parts: Int32Array[] = [iota(n - st.localStart, st.localStart)];
        for (const c of st.outlierChunks[kv]) parts.push(iota(st.chunk, c * st.chunk));
        for (const j of chosen) parts.push(iota(st.chunk, ids[j] * st.chunk));
        const sel = unionSorted(...parts);
        for (const h of heads) out[h] = sel.length >= n ? undefined : sel;
      }
      return out;
    },
  };
}
