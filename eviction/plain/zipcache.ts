/**
 * ZipCache (He et al., 2024; ThisisBillhe/ZipCache, modeling_llama.py + compress_function.py),
 * simulated; storage policy (mixed precision), nothing evicted.
 * - Saliency (per KV head, 'group-mean' = summed over the group's query heads as the authors'
 *   attn_weights_less_heads): probe queries are the last 5% of the prompt plus 5% drawn at random
 *   from the rest (seeded); a token's score is the attention the probes give it, summed, divided
 *   by the number of queries that can see it (T - j): the normalized attention, which does not
 *   favour early tokens the way accumulated attention does.
 * - The `unimportant` share (40%, the authors' k/v_unimportant_ratio) with the lowest
 *   normalized score is stored at loBits (2), the salient rest at hiBits (4).
 * - Keys (post-RoPE, as cached): channel-wise asymmetric quantization, min/max per channel over
 *   the tokens of each precision class (mixed_channelwiseQ).
 * - Values: channel-separable token-wise: every channel divided by sqrt(max_t |v_tc|), then
 *   per-token min/max quantization at the token's precision, then multiplied back.
 * - Decode tokens stay in full precision until `streamingGap` (100) of them accumulate; then
 *   that chunk is compressed the same way with the current query's attention as saliency (the
 *   authors' streaming mode). With 64-token continuations the chunk never fills here.
 * Per KV head, per-token value statistics over the head's channels (the authors' flatten all
 *   heads of a token into one vector after gathering per-head indices; per head is the
 *   consistent reading when the classes differ per head).
 * Memory: bits per value, key min/scale per channel per class (2 x 2 x 16 bits per channel),
 * value min/scale per token (2 x 16 bits) plus a 16-bit scale per channel.
 */
import type { AttendedContext, LayerCacheView, PrefillContext } from '../../models/attention-hooks.js';
import type { KvPolicy, PolicyOptions } from '../policy.js';
import { headsOf, stepMass } from './scores.js';
import { fakeQuantGroup } from './kivi.js';
import { mixSeed, SeededRng } from './seeded-rng.js';
import { aPosInt, aRatio, bottomKAscending, iota } from './select.js';
import { strided } from './quant-kit.js';

export interface ZipCacheOptions extends Omit<PolicyOptions, 'budget'> {
  readonly hiBits?: number;
  readonly loBits?: number;
  /** share of tokens stored at loBits (default 0.4) */
  readonly unimportant?: number;
  /** fraction of the prompt used as recent probes and as random probes (default 0.05 each) */
  readonly probe?: number;
  readonly streamingGap?: number;
}

/** Normalized attention of every prompt token from the probe rows, for one KV head. */
export function zipcacheSaliency(ctx: PrefillContext, kv: number, probes: ArrayLike<number>): Float64Array {
  const T = ctx.length;
  const s = new Float64Array(T);
  for (const h of headsOf(ctx.cache.nHeads, ctx.cache.nKvHeads, kv)) {
    const P = ctx.probs[h];
    for (let i = 0; i < probes.length; i++) {
      const q = probes[i];
      for (let j = 0; j <= q; j++) s[j] += P[q * T + j];
    }
  }
  for (let j = 0; j < T; j++) s[j] /= T - j;
  return s;
}

/** The probe rows: the last floor(probe*T) prompt positions plus as many drawn from the rest (seeded, with repeats as torch.randint). */
export function zipcacheProbes(T: number, probe: number, seed: number): Int32Array {
  const recent = Math.floor(probe * T);
  const rest = T - recent;
  const rng = new SeededRng(seed);
  const out: number[] = [];
  for (let t = rest; t < T; t++) out.push(t);
  if (rest > 0) for (let i = 0; i < recent; i++) out.push(Math.min(rest - 1, Math.floor(rng.next() * rest)));
  return Int32Array.from(out);
}

export function zipcachePolicy(o: ZipCacheOptions): KvPolicy {
  const hiBits = aPosInt(o.hiBits ?? 4, 'hiBits');
  const loBits = aPosInt(o.loBits ?? 2, 'loBits');
  const unimportant = aRatio(o.unimportant ?? 0.4, 'unimportant');
  const probe = aRatio(o.probe ?? 0.05, 'probe', 0, 0.5);
  const gap = aPosInt(o.streamingGap ?? 100, 'streamingGap');
  const seed = o.seed ?? 1;
  /** per layer: cache entries [0, done) are compressed */
  const state = new Map<number, { done: number }>();

  /** Compresses cache entries [from, to) of every KV head, `low[kv]` flagging the 2-bit ones (indices relative to from). */
  const compress = (cache: LayerCacheView, from: number, to: number, low: readonly Uint8Array[]): void => {
    const d = cache.headDim;
    for (let kv = 0; kv < cache.nKvHeads; kv++) {
      const K = cache.keys(kv);
      const V = cache.values(kv);
      for (const cls of [0, 1]) {
        const rows: number[] = [];
        for (let t = from; t < to; t++) if (low[kv][t - from] === cls) rows.push(t);
        if (!rows.length) continue;
        const bits = cls ? loBits : hiBits;
        for (let c = 0; c < d; c++) fakeQuantGroup(K, rows.map((t) => t * d + c), bits);
      }
      // channel scales over the compressed tokens, then per-token quantization
      const scale = new Float64Array(d);
      for (let t = from; t < to; t++) for (let c = 0; c < d; c++) scale[c] = Math.max(scale[c], Math.abs(V[t * d + c]));
      for (let c = 0; c < d; c++) scale[c] = Math.sqrt(scale[c]) || 1;
      const row = new Float64Array(d);
      for (let t = from; t < to; t++) {
        for (let c = 0; c < d; c++) row[c] = V[t * d + c] / scale[c];
        fakeQuantGroup(row, strided(0, d, 1), low[kv][t - from] ? loBits : hiBits);
        for (let c = 0; c < d; c++) V[t * d + c] = row[c] * scale[c];
      }
    }
  };
  const lowFlags = (scores: Float64Array, n: number): Uint8Array => {
    const f = new Uint8Array(n);
    for (const i of bottomKAscending(scores, Math.floor(unimportant * n), iota(n))) f[i] = 1;
    return f;
  };

  return {
    name: 'zipcache',
    kind: 'quantization',
    gqa: 'group-mean',
    params: { hiBits, loBits, unimportant, probe, streamingGap: gap },
    memoryRatio(n: number, d: number): number {
      const lo = Math.floor(unimportant * n);
      const payload = (n - lo) * d * hiBits + lo * d * loBits;
      const keyBits = payload + 2 * d * 32;
      const valBits = payload + n * 32 + d * 16;
      return (keyBits + valBits) / (2 * n * d * 16);
    },
    onPrefill(ctx: PrefillContext) {
      const { cache } = ctx;
      const T = ctx.length;
      const probes = zipcacheProbes(T, probe, mixSeed(seed, ctx.layer));
      const low = Array.from({ length: cache.nKvHeads }, (_, kv) => lowFlags(zipcacheSaliency(ctx, kv, probes), T));
      compress(cache, 0, T, low);
      state.set(ctx.layer, { done: T });
    },
    onAttention(ctx: AttendedContext) {
      const st = state.get(ctx.layer);
      if (!st) return;
      const { cache } = ctx;
      const n = cache.length(0);
      if (n - st.done < gap) return;
      // the current query's attention over the buffered chunk (summed over the group) decides its classes
      const low = Array.from({ length: cache.nKvHeads }, (_, kv) => {
        const m = stepMass(ctx, kv, n);
        return lowFlags(m.subarray(st.done, n), n - st.done);
      });
      compress(cache, st.done, n, low);
      st.done = n;
    },
  };
}
