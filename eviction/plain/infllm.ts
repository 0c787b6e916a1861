/**
 * InfLLM (Xiao et al., 2024); query-aware, nothing evicted. Per KV head the cache is:
 * `init` initial tokens, a memory of blocks of `blockSize`, and a local window of the newest
 * tokens. Each memory block has representative keys: the `repTokens` tokens of the block
 * that received the most attention (accumulated per KV head, 'group-mean': at prefill from
 * the last `local` prompt queries, then from every decode step), and its score for a query
 * head ('per-query-head') is q . mean(representative keys). A step reads the initial tokens,
 * the top K blocks (ties to the lower block index) and the local window.
 * Budget B (over the prompt length): init = min(nInit, floor(B/2)), K = floor((B - init - floor(B/2)) / blockSize)
 * blocks, local = B - init - K * blockSize; so a step reads at most B cached tokens.
 * Memory blocks are aligned from `init`; the last memory block may be partial.
 * Defaults: blockSize 128 (the paper's; the eval uses 16 at context 512), repTokens 4, nInit 4.
 */
import type { AttendedContext, PrefillContext, StepContext } from '../../models/attention-hooks.js';
import { aBudget, kvHeadOf, resolveBudget, type KvPolicy, type PolicyOptions } from '../policy.js';
import { accumulateStepMass, prefillMass } from './scores.js';
import { aPosInt, grow, iota, topKAscending, unionSorted } from './select.js';

export interface InfLlmOptions extends PolicyOptions {
  readonly blockSize?: number;
  readonly repTokens?: number;
  readonly nInit?: number;
}

/** Budget split: initial tokens, number of memory blocks, local window. */
export function infllmSplit(B: number, nInit: number, blockSize: number): { init: number; blocks: number; local: number } {
  const init = Math.min(nInit, Math.floor(B / 2));
  const blocks = Math.max(0, Math.floor((B - init - Math.floor(B / 2)) / blockSize));
  return { init, blocks, local: B - init - blocks * blockSize };
}

export function infllmPolicy(o: InfLlmOptions): KvPolicy {
  const budget = aBudget(o.budget);
  const blockSize = aPosInt(o.blockSize ?? 128, 'blockSize');
  const repTokens = aPosInt(o.repTokens ?? 4, 'repTokens');
  const nInit = aPosInt(o.nInit ?? 4, 'nInit', 0);
  const state = new Map<number, { B: number; acc: Float64Array[] }>();
  return {
    name: 'infllm',
    kind: 'query-aware',
    gqa: 'per-query-head',
    params: { blockSize, repTokens, nInit },
    onPrefill(ctx: PrefillContext) {
      const T = ctx.length;
      const B = resolveBudget(budget, T);
      const { local } = infllmSplit(B, nInit, blockSize);
      state.set(ctx.layer, { B, acc: Array.from({ length: ctx.cache.nKvHeads }, (_, kv) => prefillMass(ctx, kv, T - Math.max(1, local), T)) });
    },
    selectForStep(ctx: StepContext) {
      const st = state.get(ctx.layer);
      if (!st) return undefined;
      const { cache } = ctx;
      const { init, blocks, local } = infllmSplit(st.B, nInit, blockSize);
      const d = cache.headDim;
      const out: (Int32Array | undefined)[] = [];
      const repsOf = new Map<number, { starts: number[]; reps: Float64Array }>();
      for (let h = 0; h < cache.nHeads; h++) {
        const kv = kvHeadOf(h, cache.nHeads, cache.nKvHeads);
        const n = cache.length(kv);
        const memEnd = n - local;
        if (memEnd <= init || n <= st.B) {
          out.push(undefined);
          continue;
        }
        let r = repsOf.get(kv);
        if (!r) {
          st.acc[kv] = grow(st.acc[kv], n);
          const K = cache.keys(kv);
          const starts: number[] = [];
          for (let s = init; s < memEnd; s += blockSize) starts.push(s);
          const reps = new Float64Array(starts.length * d);
          starts.forEach((s, b) => {
            const e = Math.min(s + blockSize, memEnd);
            const top = topKAscending(st.acc[kv], repTokens, iota(e - s, s));
            for (const t of top) for (let i = 0; i < d; i++) reps[b * d + i] += K[t * d + i] / top.length;
          });
          r = { starts, reps };
          repsOf.set(kv, r);
        }
        const q = ctx.query[h];
        const score = new Float64Array(r.starts.length);
        for (let b = 0; b < r.starts.length; b++) {
          let s = 0;
          for (let i = 0; i < d; i++) s += q[i] * r.reps[b * d + i];
          score[b] = s;
        }
        const chosen = topKAscending(score, blocks);
        const parts: Int32Array[] = [iota(init), iota(local, memEnd)];
        for (const b of chosen) parts.push(iota(Math.min(blockSize, memEnd - r.starts[b]), r.starts[b]));
        out.push(unionSorted(...parts));
      }
      return out;
    },
    onAttention(ctx: AttendedContext) {
      const st = state.get(ctx.layer);
      if (!st) return;
      accumulateStepMass(ctx, st.acc);
    },
  };
}
