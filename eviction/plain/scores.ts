/**
 * Attention-mass scores read from the hook contexts, combined over the query heads of a
 * grouped-query-attention group ('group-mean') or of the whole layer ('layer-mean').
 */
import type { AttendedContext, PrefillContext } from '../../models/attention-hooks.js';
import { kvHeadOf } from '../policy.js';
import { grow } from './select.js';

/** Query heads whose scores feed KV head `kvHead` (or all heads when kvHead is 'layer'). */
export function headsOf(nHeads: number, nKvHeads: number, kvHead: number | 'layer'): number[] {
  const out: number[] = [];
  for (let h = 0; h < nHeads; h++) if (kvHead === 'layer' || kvHeadOf(h, nHeads, nKvHeads) === kvHead) out.push(h);
  return out;
}

/**
 * Per key j of the prompt: mean over the chosen query heads of sum over query rows
 * q in [from, to) of P_h[q][j] (the causal prefill probabilities). Length T.
 */
export function prefillMass(ctx: PrefillContext, kvHead: number | 'layer', from: number, to: number): Float64Array {
  const T = ctx.length;
  const heads = headsOf(ctx.cache.nHeads, ctx.cache.nKvHeads, kvHead);
  const out = new Float64Array(T);
  const lo = Math.max(0, from);
  const hi = Math.min(T, to);
  for (const h of heads) {
    const P = ctx.probs[h];
    for (let q = lo; q < hi; q++) {
      const row = q * T;
      for (let j = 0; j <= q; j++) out[j] += P[row + j];
    }
  }
  const inv = 1 / heads.length;
  for (let j = 0; j < T; j++) out[j] *= inv;
  return out;
}

/**
 * Per cache entry (n entries of the KV head): mean over the chosen query heads of the
 * probability the current query gave it at this step (0 for entries a head did not read).
 */
export function stepMass(ctx: AttendedContext, kvHead: number | 'layer', n: number): Float64Array {
  const heads = headsOf(ctx.cache.nHeads, ctx.cache.nKvHeads, kvHead);
  const out = new Float64Array(n);
  for (const h of heads) {
    const idx = ctx.attended[h];
    const p = ctx.probs[h];
    for (let i = 0; i < idx.length; i++) if (idx[i] < n) out[idx[i]] += p[i];
  }
  const inv = 1 / heads.length;
  for (let j = 0; j < n; j++) out[j] *= inv;
  return out;
}

/** Dot product of a query row with key row `row` of a row-major key array. */
export function dotRow(q: Float32Array, keys: Float32Array, row: number, d: number): number {
  let s = 0;
  const o = row * d;
  for (let i = 0; i < d; i++) s += q[i] * keys[o + i];
  return s;
}

/** Add this step's attention mass to per-KV-head accumulators (grown to the cache length), in place. */
export function accumulateStepMass(ctx: AttendedContext, acc: Float64Array[]): void {
  for (let kv = 0; kv < ctx.cache.nKvHeads; kv++) {
    const n = ctx.cache.length(kv);
    acc[kv] = grow(acc[kv], n);
    const m = stepMass(ctx, kv, n);
    for (let j = 0; j < n; j++) acc[kv][j] += m[j];
  }
}
