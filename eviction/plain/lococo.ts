/**
 * LoCoCo, "Dropping in convolutions for long context compression" (Cai et al., ICML 2024;
 * VITA-Group/LoCoCo, llama/memory_compressor.py), with a short calibration of its kernel;
 * merging policy: every KV head keeps a memory of FIXED size M = B (resolveBudget); the prompt is
 * squeezed to exactly M at prefill, new tokens wait uncompressed in a buffer of up to `buffer`
 * (16, the authors' args.buffer) and when the cache exceeds M + buffer it is squeezed back to
 * exactly M (so a step reads between M + 1 and M + buffer + 1 entries).
 * Squeezing n entries to M:
 * - M - C entries are kept as they are, C = floor(M * (1 - hhKeepRate)) (hhKeepRate 0.5, the
 *   authors' hh_keep_rate): the newest localShare (0.5) of them (the authors' local_len) and the
 *   heavy hitters among the older ones (H2O's accumulated attention, 'group-mean'). The authors'
 *   default local_len is 0 because their prompt is processed in 512-token chunks that attend to
 *   themselves uncompressed; token-by-token decoding has no such chunk, and without a local
 *   window the newest tokens (low accumulated scores) are the first fused (measured: +2.6 nats at
 *   10% on stories260K with local 0). Squeezing at every step (buffer 0) instead re-fuses the
 *   slots over and over and is worse (+0.229 vs +0.162 at 10% on stories260K);
 * - the other n - M + C entries, E in position order, are fused into C slots. Each slot m has an
 *   anchor a_m, the C best-scoring entries of E (the authors' residual_weight one-hots), and
 *   fusion weights W[m, .] = (1 - lambda) onehot(a_m) + lambda softmax_t(z[m, t]), where
 *   z[m, t] = c_t + u[t - a_m] over the `kernel` entries of E centred on a_m, and
 *   c_t = sum_{ch, j} w[ch, j] x[t + j - h, ch] is a 1-D convolution over E of x = [key; value]
 *   (2 * headDim input channels, zero padding); the slot holds W[m, .] K_E and W[m, .] V_E at
 *   its anchor's position; its score is W[m, .] acc_E.
 * - The newest token is appended after the compression (read at the next step on top of M).
 * Deviation from the authors: their conv has one output channel per slot (mem_size / 2 = 256
 * channels, kernel 21, trained end to end with the LM loss for 1,000 steps), which ties the
 * kernel to one cache size; here one content kernel w (2d x kernel), one positional kernel u
 * (kernel) and lambda per layer serve every cache size, each slot softmaxing over the window
 * around its anchor (kernel 5). They are calibrated (scripts/calibrate-lococo.ts, seeded, Adam on
 * CPU) on documents sampled from each model to minimise the error of the attention output of the
 * next 32 queries over the compressed prompt vs the full one; the result is
 * eviction/plain/lococo-kernels.json, looked up by model shape. A model without calibrated
 * kernels gets lambda = 0 (the authors' residual path: heavy hitters plus anchors, no fusion);
 * params.calibrated says which.
 */
import type { AttendedContext, LayerCacheView, PrefillContext } from '../../models/attention-hooks.js';
import { aBudget, resolveBudget, type KvPolicy, type ModelShape, type PolicyOptions } from '../policy.js';
import fixture from './lococo-kernels.json' with { type: 'json' };
import { accumulateStepMass, prefillMass } from './scores.js';
import { aPosInt, aRatio, compact, iota, unionSorted } from './select.js';
import { fastTopK } from './fast-topk.js';

/** One layer's calibrated fusion parameters. */
export interface LococoKernel {
  /** taps of both kernels (odd) */
  readonly kernel: number;
  /** content kernel, [2 * headDim][kernel] row-major (keys' channels first) */
  readonly w: readonly number[];
  /** positional kernel over the slot window, [kernel] */
  readonly u: readonly number[];
  /** lambda = sigmoid(logitLambda) */
  readonly logitLambda: number;
}

export interface LococoKernelSet {
  readonly model: string;
  readonly shape: ModelShape;
  readonly layers: readonly LococoKernel[];
  readonly calibration: Readonly<Record<string, string | number>>;
}

/** The committed calibrations (scripts/calibrate-lococo.ts). */
export const LOCOCO_KERNELS: readonly LococoKernelSet[] = (fixture as { sets: LococoKernelSet[] }).sets;

/** The calibrated kernels for a model shape, or undefined. */
export function lococoKernelsFor(m: ModelShape): readonly LococoKernel[] | undefined {
  const s = LOCOCO_KERNELS.find((k) => k.shape.nLayers === m.nLayers && k.shape.nHeads === m.nHeads && k.shape.nKvHeads === m.nKvHeads && k.shape.headDim === m.headDim);
  return s?.layers;
}

/** Default share of the kept entries that are the newest ones (the local window). */
export const LOCOCO_LOCAL_SHARE = 0.5;

export function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/** The forward pass of the fusion: W (C x nE, row-major, with the window's softmax S) and the fused keys/values. */
export interface Fusion {
  readonly W: Float64Array;
  readonly S: Float64Array;
  readonly K: Float64Array;
  readonly V: Float64Array;
  readonly c: Float64Array;
}

/**
 * Fuses nE entries (keys kE, values vE: nE x d) into the slots anchored at `anchors` (ascending
 * indices into E) with kernel k. lambda in [0, 1].
 */
export function lococoFuse(kE: ArrayLike<number>, vE: ArrayLike<number>, nE: number, d: number, anchors: ArrayLike<number>, k: LococoKernel, lambda: number): Fusion {
  const K = k.kernel;
  const h = (K - 1) / 2;
  const C = anchors.length;
  const c = new Float64Array(nE);
  for (let t = 0; t < nE; t++) {
    let s = 0;
    for (let j = 0; j < K; j++) {
      const src = t + j - h;
      if (src < 0 || src >= nE) continue;
      for (let ch = 0; ch < d; ch++) s += k.w[ch * K + j] * kE[src * d + ch] + k.w[(d + ch) * K + j] * vE[src * d + ch];
    }
    c[t] = s;
  }
  const S = new Float64Array(C * nE);
  const W = new Float64Array(C * nE);
  for (let m = 0; m < C; m++) {
    const a = anchors[m];
    const lo = Math.max(0, a - h);
    const hi = Math.min(nE - 1, a + h);
    let mx = -Infinity;
    for (let t = lo; t <= hi; t++) mx = Math.max(mx, c[t] + k.u[t - a + h]);
    let z = 0;
    for (let t = lo; t <= hi; t++) z += S[m * nE + t] = Math.exp(c[t] + k.u[t - a + h] - mx);
    for (let t = lo; t <= hi; t++) {
      S[m * nE + t] /= z;
      W[m * nE + t] = lambda * S[m * nE + t];
    }
    W[m * nE + a] += 1 - lambda;
  }
  const Kf = new Float64Array(C * d);
  const Vf = new Float64Array(C * d);
  for (let m = 0; m < C; m++) {
    const a = anchors[m];
    for (let t = Math.max(0, a - h); t <= Math.min(nE - 1, a + h); t++) {
      const wt = W[m * nE + t];
      if (wt === 0) continue;
      for (let i = 0; i < d; i++) {
        Kf[m * d + i] += wt * kE[t * d + i];
        Vf[m * d + i] += wt * vE[t * d + i];
      }
    }
  }
  return { W, S, K: Kf, V: Vf, c };
}

/**
 * Which entries stay (the `local` share of the M - C kept entries as the newest, the rest the
 * heaviest older ones) and which anchor a slot, for n entries with scores acc, cache size M.
 */
export function lococoPartition(acc: Float64Array, n: number, M: number, hhKeepRate: number, localShare: number): { hh: Int32Array; rest: Int32Array; anchors: Int32Array } {
  const C = Math.floor(M * (1 - hhKeepRate));
  const local = Math.floor((M - C) * localShare);
  const hh = unionSorted(fastTopK(acc, M - C - local, iota(n - local)), iota(local, n - local));
  const inHh = new Set(hh);
  const rest = Int32Array.from({ length: n }, (_, i) => i).filter((i) => !inHh.has(i));
  const accRest = Float64Array.from(rest, (i) => acc[i]);
  return { hh, rest, anchors: fastTopK(accRest, C) };
}

export interface LococoOptions extends PolicyOptions {
  readonly hhKeepRate?: number;
  /** share of the kept (non-fused) entries that are the newest (default 0.5) */
  readonly localShare?: number;
  /** per-layer kernels; default: the committed calibration for the model's shape */
  readonly kernels?: readonly LococoKernel[];
  /** new tokens that may wait uncompressed before the cache is squeezed back to M (default 16, the authors') */
  readonly buffer?: number;
}

export function lococoPolicy(o: LococoOptions): KvPolicy {
  const budget = aBudget(o.budget);
  const hhKeepRate = aRatio(o.hhKeepRate ?? 0.5, 'hhKeepRate');
  const localShare = aRatio(o.localShare ?? LOCOCO_LOCAL_SHARE, 'localShare');
  const kernels = o.kernels ?? lococoKernelsFor(o.model);
  const identity: LococoKernel = { kernel: 1, w: new Array(2 * o.model.headDim).fill(0), u: [0], logitLambda: -Infinity };
  const buffer = aPosInt(o.buffer ?? 16, 'buffer', 0);
  const state = new Map<number, { M: number; acc: Float64Array[] }>();

  const compress = (cache: LayerCacheView, layer: number, M: number, acc: Float64Array[], slack = 0): void => {
    const d = cache.headDim;
    const k = kernels?.[layer] ?? identity;
    const lambda = sigmoid(k.logitLambda);
    for (let kv = 0; kv < cache.nKvHeads; kv++) {
      const n = cache.length(kv);
      if (n <= M + slack) continue;
      const { hh, rest, anchors } = lococoPartition(acc[kv], n, M, hhKeepRate, localShare);
      const K = cache.keys(kv);
      const V = cache.values(kv);
      const kE = new Float64Array(rest.length * d);
      const vE = new Float64Array(rest.length * d);
      rest.forEach((i, t) => {
        for (let c = 0; c < d; c++) {
          kE[t * d + c] = K[i * d + c];
          vE[t * d + c] = V[i * d + c];
        }
      });
      const f = lococoFuse(kE, vE, rest.length, d, anchors, k, lambda);
      const slotOf = new Map<number, number>();
      anchors.forEach((a, m) => slotOf.set(rest[a], m));
      const keep = unionSorted(hh, Array.from(anchors, (a) => rest[a]));
      const newAcc = compact(acc[kv], keep);
      keep.forEach((i, j) => {
        const m = slotOf.get(i);
        if (m === undefined) return;
        let s = 0;
        for (let t = 0; t < rest.length; t++) s += f.W[m * rest.length + t] * acc[kv][rest[t]];
        newAcc[j] = s;
      });
      cache.keep(kv, keep);
      const K2 = cache.keys(kv);
      const V2 = cache.values(kv);
      keep.forEach((i, j) => {
        const m = slotOf.get(i);
        if (m === undefined) return;
        for (let c = 0; c < d; c++) {
          K2[j * d + c] = f.K[m * d + c];
          V2[j * d + c] = f.V[m * d + c];
        }
      });
      acc[kv] = newAcc;
    }
  };

  return {
    name: 'lococo',
    kind: 'merging',
    gqa: 'group-mean',
    params: { hhKeepRate, localShare, buffer, kernel: kernels?.[0]?.kernel ?? 0, calibrated: kernels !== undefined },
    onPrefill(ctx: PrefillContext) {
      const M = resolveBudget(budget, ctx.length);
      const acc = Array.from({ length: ctx.cache.nKvHeads }, (_, kv) => prefillMass(ctx, kv, 0, ctx.length));
      state.set(ctx.layer, { M, acc });
      compress(ctx.cache, ctx.layer, M, acc);
    },
    onAttention(ctx: AttendedContext) {
      const st = state.get(ctx.layer);
      if (!st) return;
      accumulateStepMass(ctx, st.acc);
      compress(ctx.cache, ctx.layer, st.M, st.acc, buffer);
    },
  };
}
