/**
 * MiKV, "No Token Left Behind" (Yang et al., 2024), simulated; storage policy with a budget:
 * what an eviction policy would drop is kept at low precision instead, nothing is evicted.
 * - Importance is H2O's (h2o.ts): per KV head ('group-mean'), the attention every entry has
 *   received (all prompt rows, then every decode step); the B important entries are the
 *   `recent` newest (B * recentShare, default 0.5) plus the heaviest older ones. They stay at
 *   hiBits (default 16: exact, the paper's FP16 important cache).
 * - Every other entry is stored at loBits (default 2) with per-token asymmetric round-to-nearest
 *   (min/max over the head's channels, the paper's Section 3.1). Once demoted an entry stays low
 *   (H2O never brings an evicted token back) and no longer competes for the budget.
 * - Outlier-aware keys: before low-precision quantization the key channels are multiplied by
 *   the balancer b_c = sqrt(max |q_c| / max |k_c|) (prefill maxima per KV head over the
 *   group's queries and the cached keys) and divided back after: q.k is unchanged and the
 *   query-key outlier channels are evened out (the paper's Section 3.2).
 * Budget B = resolveBudget(ratio, T) entries at high precision per KV head.
 * Memory: important entries d * hiBits (plus 2 x 16 bits per token when hiBits < 16), the rest
 * d * loBits + 2 x 16 bits per token, for keys and values; the balancer 16 bits per channel.
 */
import type { AttendedContext, LayerCacheView, PrefillContext } from '../../models/attention-hooks.js';
import { aBudget, resolveBudget, type KvPolicy, type PolicyOptions } from '../policy.js';
import { fakeQuantGroup } from './kivi.js';
import { strided } from './quant-kit.js';
import { accumulateStepMass, headsOf, prefillMass } from './scores.js';
import { aPosInt, aRatio } from './select.js';
import { fastTopK } from './fast-topk.js';

export interface MikvOptions extends PolicyOptions {
  readonly loBits?: number;
  /** 16 = exact */
  readonly hiBits?: number;
  readonly recentShare?: number;
  /** use the query/key channel balancer for low-precision keys (default true) */
  readonly balancer?: boolean;
}

interface LayerState {
  readonly B: number;
  acc: Float64Array[];
  /** per KV head, per cache entry: 1 = stored at low precision */
  low: Uint8Array[];
  readonly balance: Float64Array[];
}

/** b_c = sqrt(max_t,h |q_hc| / max_t |k_c|) per channel of one KV head (1 where undefined). */
export function mikvBalancer(ctx: PrefillContext, kv: number): Float64Array {
  const d = ctx.cache.headDim;
  const T = ctx.length;
  const qm = new Float64Array(d);
  const km = new Float64Array(d);
  for (const h of headsOf(ctx.cache.nHeads, ctx.cache.nKvHeads, kv)) for (let t = 0; t < T; t++) for (let c = 0; c < d; c++) qm[c] = Math.max(qm[c], Math.abs(ctx.queries[h][t * d + c]));
  const K = ctx.cache.keys(kv);
  for (let t = 0; t < T; t++) for (let c = 0; c < d; c++) km[c] = Math.max(km[c], Math.abs(K[t * d + c]));
  return Float64Array.from({ length: d }, (_, c) => (qm[c] > 0 && km[c] > 0 ? Math.sqrt(qm[c] / km[c]) : 1));
}

export function mikvPolicy(o: MikvOptions): KvPolicy {
  const budget = aBudget(o.budget);
  const loBits = aPosInt(o.loBits ?? 2, 'loBits');
  const hiBits = aPosInt(o.hiBits ?? 16, 'hiBits');
  const recentShare = aRatio(o.recentShare ?? 0.5, 'recentShare');
  const balancer = o.balancer ?? true;
  const state = new Map<number, LayerState>();

  const quantizeToken = (cache: LayerCacheView, kv: number, row: number, bits: number, b: Float64Array): void => {
    if (bits >= 16) return;
    const d = cache.headDim;
    const K = cache.keys(kv);
    const idx = strided(row * d, d, 1);
    for (let c = 0; c < d; c++) K[row * d + c] *= b[c];
    fakeQuantGroup(K, idx, bits);
    for (let c = 0; c < d; c++) K[row * d + c] /= b[c];
    fakeQuantGroup(cache.values(kv), idx, bits);
  };
  /** demotes all but the B important entries among those still at high precision */
  const rebalance = (st: LayerState, cache: LayerCacheView): void => {
    for (let kv = 0; kv < cache.nKvHeads; kv++) {
      const n = cache.length(kv);
      const high: number[] = [];
      for (let i = 0; i < n; i++) if (!st.low[kv][i]) high.push(i);
      if (high.length <= st.B) continue;
      const recent = Math.floor(st.B * recentShare);
      const keep = new Set<number>(high.slice(high.length - recent));
      for (const i of fastTopK(st.acc[kv], st.B - recent, high.slice(0, high.length - recent))) keep.add(i);
      for (const i of high) {
        if (keep.has(i)) continue;
        st.low[kv][i] = 1;
        quantizeToken(cache, kv, i, loBits, st.balance[kv]);
      }
    }
  };

  return {
    name: 'mikv',
    kind: 'quantization',
    gqa: 'group-mean',
    params: { loBits, hiBits, recentShare, balancer },
    memoryRatio(n: number, d: number): number {
      const B = 'ratio' in budget ? resolveBudget(budget, n) : Math.min(n, budget.tokens);
      const hi = hiBits >= 16 ? d * 16 : d * hiBits + 32;
      const per = B * hi + (n - B) * (d * loBits + 32);
      return (2 * per + (balancer ? d * 16 : 0)) / (2 * n * d * 16);
    },
    onPrefill(ctx: PrefillContext) {
      const { cache } = ctx;
      const T = ctx.length;
      const st: LayerState = {
        B: resolveBudget(budget, T),
        acc: Array.from({ length: cache.nKvHeads }, (_, kv) => prefillMass(ctx, kv, 0, T)),
        low: Array.from({ length: cache.nKvHeads }, () => new Uint8Array(T)),
        balance: Array.from({ length: cache.nKvHeads }, (_, kv) => (balancer ? mikvBalancer(ctx, kv) : new Float64Array(cache.headDim).fill(1))),
      };
      state.set(ctx.layer, st);
      if (hiBits < 16) for (let kv = 0; kv < cache.nKvHeads; kv++) for (let t = 0; t < T; t++) quantizeToken(cache, kv, t, hiBits, st.balance[kv]);
      rebalance(st, cache);
    },
    onAttention(ctx: AttendedContext) {
      const st = state.get(ctx.layer);
      if (!st) return;
      const { cache } = ctx;
      accumulateStepMass(ctx, st.acc);
      for (let kv = 0; kv < cache.nKvHeads; kv++) {
        const n = cache.length(kv);
        if (st.low[kv].length < n) {
          const g = new Uint8Array(n);
          g.set(st.low[kv]);
          st.low[kv] = g;
          if (hiBits < 16) quantizeToken(cache, kv, n - 1, hiBits, st.balance[kv]);
        }
      }
      rebalance(st, cache);
    },
  };
}
