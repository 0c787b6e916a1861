/**
 * One layer's prefill attention as the secure decoder runs it, with progress events and the
 * per-family profile: 'causal' (models/causal-attention.ts, the default) or 'square' (the full
 * T x T scores through a masked softmax, the method before issue #14, composed here of the
 * same calls as protocols/softmax.ts so that its parts can be timed one by one).
 *
 * Progress: after every causal chunk (and at the end of each layer) every party gets a
 * PrefillProgress with the layer, the rows done in it, the elapsed time and an estimate of
 * the rest: the fraction done counts each layer as one unit, within a layer the visible
 * attention entries done (the attention dominates long prompts). Only public facts (shapes,
 * wall time) are in an event.
 */
import type { Context } from '../protocols/context.js';
import { broadcastLast, mulPublic, addPublic, sub, sumAxis } from '../protocols/linear.js';
import { max } from '../protocols/max.js';
import { exp } from '../protocols/exp.js';
import { matmulFixed, mulFixed } from '../protocols/mul.js';
import { reciprocal } from '../protocols/reciprocal.js';
import { defaultMaxAbsLogit, maskedLogit, softmaxBitWidth } from '../protocols/softmax.js';
import { publicTensor } from '../protocols/sharing.js';
import { ArithShare, PublicTensor } from '../protocols/types.js';
import { type PrefillProfile, causalAttention, entriesForBudget, track, visibleEntries } from './causal-attention.js';
import { type ModelConfig, qDim } from './config.js';
import { type PrefillAttention, causalMask, swapLeadingAxes } from './secure-layers.js';

export interface PrefillProgress {
  /** 0-based layer being processed */
  readonly layer: number;
  readonly layers: number;
  /** prompt length */
  readonly tokens: number;
  /** query rows of this layer's attention done */
  readonly tokensDone: number;
  /** fraction of the prefill done, in [0, 1] */
  readonly fraction: number;
  readonly elapsedMs: number;
  /** estimated ms still to go (NaN before anything is done) */
  readonly remainingMs: number;
}

export interface LayerAttentionOptions {
  readonly layer: number;
  /** performance.now() at the start of the prefill */
  readonly t0: number;
  readonly method: 'causal' | 'square';
  /** chunk memory budget, MB */
  readonly memMb: number;
  readonly onProgress?: (e: PrefillProgress) => void;
  readonly profile?: PrefillProfile;
  /** keep the probabilities of the last rows (causalAttention keepLast) */
  readonly keepLast?: number;
}

export interface LayerAttention extends PrefillAttention {
  /** with keepLast: [nHeads, keepLast, T] */
  readonly lastProbs?: ArithShare;
}

function progress(c: ModelConfig, T: number, o: LayerAttentionOptions, rowsDone: number): PrefillProgress {
  const within = visibleEntries(0, rowsDone, c.slidingWindow) / visibleEntries(0, T, c.slidingWindow);
  const fraction = Math.min(1, (o.layer + within) / c.nLayers);
  const elapsedMs = performance.now() - o.t0;
  return { layer: o.layer, layers: c.nLayers, tokens: T, tokensDone: rowsDone, fraction, elapsedMs, remainingMs: fraction > 0 ? (elapsedMs * (1 - fraction)) / fraction : Number.NaN };
}

/** The masked softmax of protocols/softmax.ts, step by step (same calls, same cost), each step tracked. */
async function squareSoftmax(ctx: Context, x: ArithShare, mask: PublicTensor, prof: PrefillProfile | undefined): Promise<ArithShare> {
  const B = defaultMaxAbsLogit(ctx.f); // protocols/softmax.ts's default bound
  const bitWidth = softmaxBitWidth(B, ctx.f);
  const n = x.shape[x.shape.length - 1];
  const reps = x.size / mask.size;
  const full = new BigUint64Array(x.size);
  for (let i = 0; i < reps; i++) full.set(mask.data, i * mask.size);
  const fill = new Float64Array(x.size);
  for (let i = 0; i < x.size; i++) fill[i] = full[i] === 0n ? maskedLogit(B) : 0;
  const xm = addPublic(ctx, mulPublic(ctx, x, new PublicTensor(x.shape, full, 0)), publicTensor(ctx, x.shape, fill, x.scale));
  const m = await track(ctx, prof, 'softmax.max', () => max(ctx, xm, { bitWidth }));
  const e = await track(ctx, prof, 'softmax.exp', () => exp(ctx, sub(ctx, xm, broadcastLast(ctx, m, n)), { bitWidth }));
  return track(ctx, prof, 'softmax.normalize', async () => {
    const r = await reciprocal(ctx, sumAxis(ctx, e), { maxLog2: Math.max(1, Math.ceil(Math.log2(n + 1))) });
    return mulFixed(ctx, e, broadcastLast(ctx, r, n));
  });
}

/** One layer's prefill attention (q [T, qDim], k and v [T, kvDim] post-RoPE, q pre-scaled). */
export async function prefillLayerAttention(ctx: Context, c: ModelConfig, q: ArithShare, k: ArithShare, v: ArithShare, o: LayerAttentionOptions): Promise<LayerAttention> {
  const T = q.shape[0];
  const hd = c.headDim;
  const G = c.nHeads / c.nKvHeads;
  const Q = swapLeadingAxes(q, T, c.nHeads, hd); // [nHeads, T, hd]
  const K = swapLeadingAxes(k, T, c.nKvHeads, hd);
  const V = swapLeadingAxes(v, T, c.nKvHeads, hd);
  const prof = o.profile;
  let O: ArithShare;
  let lastProbs: ArithShare | undefined;
  if (o.method === 'square') {
    const scores = await track(ctx, prof, 'attention.scores', () => matmulFixed(ctx, Q.reshape([c.nKvHeads, G * T, hd]), K, { transB: true }));
    const probs = await squareSoftmax(ctx, scores.reshape([c.nKvHeads, G, T, T]), causalMask(T, c.slidingWindow), prof);
    O = await track(ctx, prof, 'attention.pv', () => matmulFixed(ctx, probs.reshape([c.nKvHeads, G * T, T]), V));
  } else {
    const r = await causalAttention(ctx, Q, K, V, {
      maxEntries: entriesForBudget(o.memMb, c.nHeads, T),
      window: c.slidingWindow,
      keepLast: o.keepLast,
      profile: prof,
      onChunk: o.onProgress === undefined ? undefined : (done) => o.onProgress!(progress(c, T, o, done)),
    });
    O = r.out;
    lastProbs = r.lastProbs;
  }
  if (o.method === 'square') o.onProgress?.(progress(c, T, o, T));
  const out = swapLeadingAxes(O.reshape([c.nHeads, T, hd]), c.nHeads, T, hd).reshape([T, qDim(c)]);
  return { out, queries: Q, k: K, v: V, ...(lastProbs !== undefined ? { lastProbs } : {}) };
}
