/**
 * ActQKV, activation-aware probe-query (Xiao et al., 2025; MrXiaoaa/ActQKV, built on InfLLM:
 * benchmark/actqkv/attention/context_manager_activate.py); query-aware, nothing evicted,
 * training-free.
 * - Cache layout as InfLLM (infllm.ts): `init` initial tokens, memory blocks of `blockSize`
 *   represented by the mean of their `repTokens` most-attended keys, a local window.
 * - Probe-query: per query head, over the window of its `local` most recent queries (the
 *   prompt's last queries at prefill, then sliding over the generated ones), each query's
 *   activation bias phi_t = sum_j (q_tj - mean_j)^2 / (var_j + mean(var) / 100) (per-channel
 *   mean and variance over the window; the authors' dev with the same 1/100 floor), and the
 *   probe p = sum_t phi_t q_t / sum_t phi_t: the window's anchor tokens (activation outliers)
 *   dominate it, instead of the plain mean InfLLM uses.
 * - Block scores s_b = sum over the KV head's query heads of p_h . rep_b (one selection per KV
 *   head, the authors' unit = KV head with concatenated group queries: 'group-mean').
 * - Dynamic KV cut-off (information density): with H the entropy of softmax(s) and
 *   Hmax = log(nBlocks + 1), K = Kmin + (Kmax - Kmin) exp(10 (2 sigmoid(10 (H - Hmax)) - 1)),
 *   rounded, Kmin = min(6, Kmax) (the authors' adjust_tok_K: a flat score distribution keeps
 *   most of Kmax, a peaked one drops towards Kmin).
 * Budget B split as InfLLM's (infllmSplit with nInit 4): Kmax = its block count, so a step reads
 * at most B cached tokens. Block size 16 (InfLLM's setting for prompts <= 1,024 tokens).
 * Small-model note: at these budgets Kmax <= 6 blocks, so the cut-off keeps Kmax (it acts from
 * seven blocks on); the question-aware term of the authors' code (Q-LLM's) is not used.
 */
import type { AttendedContext, PrefillContext, StepContext } from '../../models/attention-hooks.js';
import { aBudget, resolveBudget, type KvPolicy, type PolicyOptions } from '../policy.js';
import { infllmSplit } from './infllm.js';
import { accumulateStepMass, headsOf, prefillMass } from './scores.js';
import { aPosInt, grow, iota, unionSorted } from './select.js';
import { fastTopK } from './fast-topk.js';

export interface ActQkvOptions extends PolicyOptions {
  readonly blockSize?: number;
  readonly repTokens?: number;
  readonly nInit?: number;
}

/** The activation-bias weighted probe of a window of queries (rows of width d). */
export function activationProbe(window: readonly Float32Array[], d: number): Float64Array {
  const n = window.length;
  const mean = new Float64Array(d);
  const vr = new Float64Array(d);
  for (const q of window) for (let j = 0; j < d; j++) mean[j] += q[j] / n;
  for (const q of window) for (let j = 0; j < d; j++) vr[j] += (q[j] - mean[j]) ** 2 / n;
  let mv = 0;
  for (const v of vr) mv += v / d;
  const floor = mv / 100 || 1e-12;
  const phi = window.map((q) => {
    let s = 0;
    for (let j = 0; j < d; j++) s += (q[j] - mean[j]) ** 2 / (vr[j] + floor);
    return s;
  });
  const tot = phi.reduce((a, b) => a + b, 0);
  const p = new Float64Array(d);
  window.forEach((q, t) => {
    const w = tot > 0 ? phi[t] / tot : 1 / n;
    for (let j = 0; j < d; j++) p[j] += w * q[j];
  });
  return p;
}

/** The authors' dynamic cut-off: blocks to read given the block scores. */
export function dynamicCutoff(scores: ArrayLike<number>, kMax: number): number {
  const n = scores.length;
  const kMin = Math.min(6, kMax, n);
  const top = Math.min(kMax, n);
  if (top <= kMin) return top;
  let mx = -Infinity;
  for (let i = 0; i < n; i++) mx = Math.max(mx, scores[i]);
  let z = 0;
  for (let i = 0; i < n; i++) z += Math.exp(scores[i] - mx);
  let H = 0;
  for (let i = 0; i < n; i++) {
    const p = Math.exp(scores[i] - mx) / z;
    if (p > 0) H -= p * Math.log(p);
  }
  const Hmax = Math.log(n + 1);
  const sig = 2 / (1 + Math.exp(-10 * (H - Hmax)));
  const k = Math.round(kMin + (top - kMin) * Math.exp(10 * (sig - 1)));
  return Math.max(kMin, Math.min(top, k));
}

interface LayerState {
  readonly B: number;
  acc: Float64Array[];
  /** per query head: its recent queries (the probe window) */
  readonly window: Float32Array[][];
}

export function actqkvPolicy(o: ActQkvOptions): KvPolicy {
  const budget = aBudget(o.budget);
  const blockSize = aPosInt(o.blockSize ?? 16, 'blockSize');
  const repTokens = aPosInt(o.repTokens ?? 4, 'repTokens');
  const nInit = aPosInt(o.nInit ?? 4, 'nInit', 0);
  const state = new Map<number, LayerState>();
  return {
    name: 'actqkv',
    kind: 'query-aware',
    gqa: 'group-mean',
    params: { blockSize, repTokens, nInit, probe: 'activation-bias weighted window', cutoff: 'entropy' },
    onPrefill(ctx: PrefillContext) {
      const T = ctx.length;
      const d = ctx.cache.headDim;
      const B = resolveBudget(budget, T);
      const { local } = infllmSplit(B, nInit, blockSize);
      const w = Math.max(1, local);
      state.set(ctx.layer, {
        B,
        acc: Array.from({ length: ctx.cache.nKvHeads }, (_, kv) => prefillMass(ctx, kv, T - w, T)),
        window: ctx.queries.map((Q) => Array.from({ length: Math.min(w, T) }, (_, i) => Q.slice((T - Math.min(w, T) + i) * d, (T - Math.min(w, T) + i + 1) * d))),
      });
    },
    selectForStep(ctx: StepContext) {
      const st = state.get(ctx.layer);
      if (!st) return undefined;
      const { cache } = ctx;
      const d = cache.headDim;
      const { init, blocks, local } = infllmSplit(st.B, nInit, blockSize);
      const w = Math.max(1, local);
      for (let h = 0; h < cache.nHeads; h++) {
        st.window[h].push(Float32Array.from(ctx.query[h]));
        if (st.window[h].length > w) st.window[h].shift();
      }
      const out: (Int32Array | undefined)[] = new Array(cache.nHeads);
      for (let kv = 0; kv < cache.nKvHeads; kv++) {
        const heads = headsOf(cache.nHeads, cache.nKvHeads, kv);
        const n = cache.length(kv);
        const memEnd = n - local;
        if (memEnd <= init || n <= st.B) {
          for (const h of heads) out[h] = undefined;
          continue;
        }
        st.acc[kv] = grow(st.acc[kv], n);
        const K = cache.keys(kv);
        const starts: number[] = [];
        for (let s = init; s < memEnd; s += blockSize) starts.push(s);
        const score = new Float64Array(starts.length);
        const probes = heads.map((h) => activationProbe(st.window[h], d));
        starts.forEach((s, b) => {
          const e = Math.min(s + blockSize, memEnd);
          const top = fastTopK(st.acc[kv], repTokens, iota(e - s, s));
          for (const p of probes) for (const t of top) for (let i = 0; i < d; i++) score[b] += (p[i] * K[t * d + i]) / top.length;
        });
        const chosen = fastTopK(score, dynamicCutoff(score, blocks));
        const parts: Int32Array[] = [iota(init), iota(local, memEnd)];
        for (const b of chosen) parts.push(iota(Math.min(blockSize, memEnd - starts[b]), starts[b]));
        const sel = unionSorted(...parts);
        for (const h of heads) out[h] = sel;
      }
      return out;
    },
    onAttention(ctx: AttendedContext) {
      const st = state.get(ctx.layer);
      if (st) accumulateStepMass(ctx, st.acc);
    },
  };
}
