/**
 * D2O, Dynamic Discriminative Operations (Wan et al., ICLR 2025, arXiv 2406.13035; authors' code
 * github.com/AIoT-MLSys-Lab/d2o, read for this file); merging, evicting while decoding.
 * Layer level (authors' dynamic allocation): per layer, from the prompt's causal attention
 *   colsum_h[j] = sum over prompt queries of P_h[q][j] (per query head h),
 *   var_h = unbiased variance of colsum_h over the keys j (torch .var),
 *   v_l = mean over the layer's heads of (var_h - min_h var) / (max_h var - min_h var + 1e-6),
 *   w = softmax(-v) over layers, ratio_l = clamp(w_l * L * r, 0.01, 1) with r the budget ratio:
 *   layers whose attention is denser (lower normalised variance) get more of the budget; the
 *   ratios average to r before the clamp. B_l = max(1, floor(ratio_l * T)).
 * Token level (H2O with a compensation merge): per KV head, attention mass accumulated over
 * every prompt query and every decode step ('group-mean'); the cache keeps the newest
 * floor(B_l / 2) tokens and the B_l - recent heaviest older ones, the first 4 forced in (the
 * authors' code sets their scores to +inf). Each evicted token e finds the retained token c with
 * the largest key cosine similarity u_e; it is merged into c only if u_e >= tau, else dropped.
 * tau is one per layer: the mean of u_e over the first eviction's tokens, then
 * tau <- alpha tau + beta mean(u_e) at every later eviction (alpha = beta = 0.5, the code's
 * defaults). Merge ('paper', default): k_c <- (e k_c + sum_e exp(u_e) k_e) / (e + sum_e exp(u_e))
 * (the kept token's self-similarity 1 gives it weight exp(1) = e), the same for v; 'code': the
 * authors' scatter_reduce mean, k_c <- (k_c + sum_e u_e k_e) / (1 + |E_c|).
 * Differences from the authors' code, on purpose: (a) compression happens right after the last
 * layer's prefill (the code compresses at the first decode step, after that step's full-cache
 * attention, which would give every prompt one extra full-cache prediction here); (b) the code
 * leaves layers 0, 1 and L-1 uncompressed; with 5-6 layers that is half the cache, so here
 * every layer is compressed (`fullLayers` restores it); (c) the code decides "merge" per
 * position of the evicted list averaged over heads; here per KV head and token.
 * Small-model note: with 5-6 layers the softmax over layers has few entries, so the
 * allocation moves little budget.
 */
import type { AttendedContext, LayerCacheView, PrefillContext } from '../../models/attention-hooks.js';
import { aBudget, resolveBudget, type KvPolicy, type PolicyOptions } from '../policy.js';
import { complement, mergeRowsInto, rowCosine } from './merge-utils.js';
import { accumulateStepMass, prefillMass } from './scores.js';
import { aPosInt, aRatio, compact, iota, topKWithForced, unionSorted } from './select.js';

export type D2oMergeRule = 'paper' | 'code';

export interface D2oOptions extends PolicyOptions {
  readonly alpha?: number;
  readonly beta?: number;
  readonly mergeRule?: D2oMergeRule;
  /** layers left uncompressed (the authors' code: [0, 1, L-1]; default none) */
  readonly fullLayers?: readonly number[];
  /** tokens forced into the heavy set (default 4) */
  readonly sinks?: number;
  /** merge evicted tokens (default true; false leaves H2O with D2O's layer budgets, for ablation) */
  readonly merge?: boolean;
}

/** The authors' per-layer density statistic from the prompt's attention (query heads' P, T x T). */
export function d2oLayerStat(probs: readonly Float32Array[], T: number): number {
  const vars = probs.map((P) => {
    const col = new Float64Array(T);
    for (let q = 0; q < T; q++) for (let j = 0; j <= q; j++) col[j] += P[q * T + j];
    let mean = 0;
    for (const c of col) mean += c;
    mean /= T;
    let v = 0;
    for (const c of col) v += (c - mean) ** 2;
    return T > 1 ? v / (T - 1) : 0;
  });
  const lo = Math.min(...vars);
  const hi = Math.max(...vars);
  return vars.reduce((a, v) => a + (v - lo) / (hi - lo + 1e-6), 0) / vars.length;
}

/** Per-layer budget ratios: clamp(softmax(-stat) * L * r, 0.01, 1). */
export function d2oLayerRatios(stats: readonly number[], r: number): number[] {
  const m = Math.min(...stats);
  const e = stats.map((s) => Math.exp(-(s - m)));
  const z = e.reduce((a, b) => a + b, 0);
  return e.map((x) => Math.min(1, Math.max(0.01, (x / z) * stats.length * r)));
}

interface LayerState {
  readonly cache: LayerCacheView;
  readonly stat: number;
  readonly T: number;
  acc: Float64Array[];
  B: number;
  tau: number | undefined;
  full: boolean;
}

export function d2oPolicy(o: D2oOptions): KvPolicy {
  const budget = aBudget(o.budget);
  const alpha = aRatio(o.alpha ?? 0.5, 'alpha');
  const beta = aRatio(o.beta ?? 0.5, 'beta');
  const rule: D2oMergeRule = o.mergeRule ?? 'paper';
  if (rule !== 'paper' && rule !== 'code') throw new RangeError("mergeRule must be 'paper' or 'code'");
  const sinks = aPosInt(o.sinks ?? 4, 'sinks', 0);
  const L = aPosInt(o.model.nLayers, 'model.nLayers');
  const fullLayers = new Set(o.fullLayers ?? []);
  const merge = o.merge ?? true;
  const layers = new Map<number, LayerState>();

  /** H2O keep + D2O compensation merge on one layer, every KV head down to st.B. */
  const evict = (st: LayerState): void => {
    const { cache } = st;
    const d = cache.headDim;
    const plans: { kv: number; keep: Int32Array; gone: Int32Array; best: Int32Array; u: Float64Array }[] = [];
    let uSum = 0;
    let uN = 0;
    for (let kv = 0; kv < cache.nKvHeads; kv++) {
      const n = cache.length(kv);
      if (n <= st.B) continue;
      const recent = Math.floor(st.B / 2);
      const heavy = st.B - recent;
      const older = iota(n - recent);
      const keep = unionSorted(topKWithForced(st.acc[kv], heavy, iota(Math.min(sinks, heavy)), older), iota(recent, n - recent));
      const gone = complement(n, keep);
      const K = cache.keys(kv);
      const best = new Int32Array(gone.length);
      const u = new Float64Array(gone.length);
      gone.forEach((e, i) => {
        let bu = -Infinity;
        let bc = 0;
        for (let c = 0; c < keep.length; c++) {
          const s = rowCosine(K, e, K, keep[c], d);
          if (s > bu) {
            bu = s;
            bc = c;
          }
        }
        best[i] = bc;
        u[i] = bu;
        uSum += bu;
        uN++;
      });
      plans.push({ kv, keep, gone, best, u });
    }
    if (!uN) return;
    const mean = uSum / uN;
    st.tau = st.tau === undefined ? mean : alpha * st.tau + beta * mean;
    const tau = st.tau;
    for (const { kv, keep, gone, best, u } of plans) {
      const K = cache.keys(kv);
      const V = cache.values(kv);
      const into = new Map<number, number[]>();
      gone.forEach((e, i) => {
        if (!merge || !(u[i] >= tau)) return;
        const c = keep[best[i]];
        const list = into.get(c) ?? [];
        list.push(i);
        into.set(c, list);
      });
      for (const [c, list] of into) {
        const rows = [c, ...list.map((i) => gone[i])];
        if (rule === 'paper') {
          const w = [Math.E, ...list.map((i) => Math.exp(u[i]))];
          mergeRowsInto(K, c, rows, w, d);
          mergeRowsInto(V, c, rows, w, d);
        } else {
          // scatter_reduce 'mean' over {x_c} and the sources u_e x_e: (x_c + sum u_e x_e) / (1 + |E_c|)
          const w = [1, ...list.map((i) => u[i])];
          for (const X of [K, V]) {
            const acc = new Float64Array(d);
            rows.forEach((r, i) => {
              for (let e = 0; e < d; e++) acc[e] += w[i] * X[r * d + e];
            });
            for (let e = 0; e < d; e++) X[c * d + e] = acc[e] / rows.length;
          }
        }
      }
      cache.keep(kv, keep);
      st.acc[kv] = compact(st.acc[kv], keep);
    }
  };

  return {
    name: 'd2o',
    kind: 'merging',
    gqa: 'group-mean',
    params: { alpha, beta, mergeRule: rule, merge, sinks, fullLayers: [...fullLayers].join('/'), when: 'evicting' },
    onPrefill(ctx: PrefillContext) {
      const T = ctx.length;
      if (ctx.layer === 0) layers.clear();
      const acc = Array.from({ length: ctx.cache.nKvHeads }, (_, kv) => prefillMass(ctx, kv, 0, T));
      layers.set(ctx.layer, { cache: ctx.cache, stat: d2oLayerStat(ctx.probs, T), T, acc, B: T, tau: undefined, full: fullLayers.has(ctx.layer) });
      if (ctx.layer !== L - 1) return;
      const all = Array.from({ length: L }, (_, l) => layers.get(l));
      if (all.some((s) => s === undefined || s.T !== T)) throw new RangeError('d2o: every layer must be prefilled (in order) before the last one');
      const r = resolveBudget(budget, T) / T;
      const ratios = d2oLayerRatios(all.map((s) => s!.stat), r);
      all.forEach((s, l) => {
        s!.B = s!.full ? Number.MAX_SAFE_INTEGER : Math.max(1, Math.floor(ratios[l] * T + 1e-9));
        evict(s!);
      });
    },
    onAttention(ctx: AttendedContext) {
      const st = layers.get(ctx.layer);
      if (!st || st.full) return;
      accumulateStepMass(ctx, st.acc);
      evict(st);
    },
  };
}
