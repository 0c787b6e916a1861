/**
 * MiniCache (Liu et al., NeurIPS 2024, "MiniCache: KV Cache Compression in Depth Dimension for
 * Large Language Models", arXiv 2405.14366; the authors' repository holds only the project
 * page, whose algorithm figure was read for this file); merging across layers.
 * - From the start layer S = floor(L/2) on, adjacent layers are paired, (S, S+1), (S+2, S+3), ...
 *   (an odd last layer stays alone); layers below S are never merged.
 * - For a pair (l-1, l), per KV head, per token, separately for K and for V: the two vectors are
 *   split into magnitude and direction, the directions are interpolated by SLERP,
 *   e = sin((1-t) W)/sin W * x_{l-1}/|x_{l-1}| + sin(t W)/sin W * x_l/|x_l|,
 *   W = arccos(cos(x_{l-1}, x_l)), t = 0.6, and each layer is restored as its own magnitude times
 *   the shared direction (|x_{l-1}| e and |x_l| e).
 * - Token retention: the normalised angular distance d = W / pi is computed for every prompt
 *   token; tokens with d >= d_max - gamma (d_max - d_min) (gamma = 0.05, d_min/d_max over the
 *   prompt for that pair, head and K or V) are retained: both layers keep their own vectors.
 *   (The paper's gamma ablation - larger gamma keeps more tokens and compresses less - fixes the
 *   direction of the inequality; it is the reading used here.)
 * - While decoding, each new token is merged the same way right after the pair's attention at
 *   that step (the figure's "cross layer merging" after attention), retained by the prompt's
 *   d_min / d_max.
 * Budget: MiniCache alone stores at most ~2x fewer vectors, so a budget below that needs token
 * eviction too; the paper combines MiniCache with other compressions. Here every layer keeps the
 * same StreamingLLM window (4 sinks + newest, same positions in all layers so that pairs line
 * up), and the window W is the largest with which the STORED floats stay within the budget:
 * (unpaired layers) W * 2d + (per pair, per K/V) (W - r)(d + 2) + r * 2d <= L * B * 2d per KV head,
 * a merged token costing one shared direction plus two magnitudes and a retained one both
 * vectors (r = retained tokens in the window). So the cache reads W > B tokens from B-sized
 * storage; tokens retained while decoding may add up to 1 vector each per pair (not re-budgeted).
 * Small-model note: the paper merges from the middle of 32-80 layer models; with 5 layers
 * (stories260K) only layers 2-3 pair and with 6 (the default model) only 3-4, so at most a
 * fifth / a sixth of the cache is merged and the saving is small.
 * GQA: none needed (per KV head, no attention scores).
 */
import type { AttendedContext, LayerCacheView, PrefillContext } from '../../models/attention-hooks.js';
import { aBudget, resolveBudget, type KvPolicy, type PolicyOptions } from '../policy.js';
import { aPosInt, aRatio } from './select.js';
import { sinkPlusRecent, trimToWindow } from './streaming-llm.js';

export interface MiniCacheOptions extends PolicyOptions {
  /** first merged layer (default floor(L/2)) */
  readonly startLayer?: number;
  /** SLERP interpolation parameter (default 0.6) */
  readonly t?: number;
  /** retention threshold gamma (default 0.05) */
  readonly gamma?: number;
  readonly sinks?: number;
}

/** The merged layer pairs [l-1, l] from startLayer on. */
export function miniCachePairs(L: number, start: number): [number, number][] {
  const out: [number, number][] = [];
  for (let a = start; a + 1 < L; a += 2) out.push([a, a + 1]);
  return out;
}

/** x_i.y_j, |x_i|^2 and |y_j|^2 of row i of x and row j of y. */
function dots(x: Float32Array, i: number, y: Float32Array, j: number, d: number): { xy: number; xx: number; yy: number } {
  let xy = 0;
  let xx = 0;
  let yy = 0;
  for (let e = 0; e < d; e++) {
    xy += x[i * d + e] * y[j * d + e];
    xx += x[i * d + e] ** 2;
    yy += y[j * d + e] ** 2;
  }
  return { xy, xx, yy };
}

/** Normalised angular distance (in [0, 1]) of row i of x and row j of y; 1 when either is zero. */
export function angularDistance(x: Float32Array, i: number, y: Float32Array, j: number, d: number): number {
  const { xy, xx, yy } = dots(x, i, y, j, d);
  if (!(xx > 0 && yy > 0)) return 1;
  return Math.acos(Math.max(-1, Math.min(1, xy / Math.sqrt(xx * yy)))) / Math.PI;
}

/**
 * Merges row i of x (layer l-1) and row j of y (layer l) in place: SLERP of the directions at t,
 * each row rescaled to its own magnitude. Returns false (rows untouched) for a zero or
 * antiparallel pair.
 */
export function slerpMerge(x: Float32Array, i: number, y: Float32Array, j: number, d: number, t: number): boolean {
  const { xy, xx, yy } = dots(x, i, y, j, d);
  if (!(xx > 0 && yy > 0)) return false;
  const nx = Math.sqrt(xx);
  const ny = Math.sqrt(yy);
  const om = Math.acos(Math.max(-1, Math.min(1, xy / (nx * ny))));
  const so = Math.sin(om);
  let wx: number;
  let wy: number;
  if (om < 1e-6) {
    wx = 1 - t;
    wy = t;
  } else if (so < 1e-6) return false;
  else {
    wx = Math.sin((1 - t) * om) / so;
    wy = Math.sin(t * om) / so;
  }
  const dir = new Float64Array(d);
  let nd = 0;
  for (let e = 0; e < d; e++) {
    dir[e] = (wx * x[i * d + e]) / nx + (wy * y[j * d + e]) / ny;
    nd += dir[e] ** 2;
  }
  nd = Math.sqrt(nd);
  if (!(nd > 0)) return false;
  for (let e = 0; e < d; e++) {
    x[i * d + e] = (nx * dir[e]) / nd;
    y[j * d + e] = (ny * dir[e]) / nd;
  }
  return true;
}

interface PairHead {
  /** per tensor (0 = K, 1 = V): the retention cut d_max - gamma (d_max - d_min) */
  readonly cut: [number, number];
}

interface Plan {
  readonly W: number;
  readonly pairs: [number, number][];
  /** [pair][kvHead] */
  readonly heads: PairHead[][];
  /** merged (not retained) prompt tokens over pairs, heads and K/V, and all of them (for reports/tests) */
  merged: number;
  total: number;
}

export function miniCachePolicy(o: MiniCacheOptions): KvPolicy {
  const budget = aBudget(o.budget);
  const L = aPosInt(o.model.nLayers, 'model.nLayers');
  const start = aPosInt(o.startLayer ?? Math.floor(L / 2), 'startLayer', 0);
  const t = aRatio(o.t ?? 0.6, 't');
  const gamma = aRatio(o.gamma ?? 0.05, 'gamma');
  const sinks = aPosInt(o.sinks ?? 4, 'sinks', 0);
  const pairs = miniCachePairs(L, start);
  const upper = new Map(pairs.map(([a, b], p) => [b, { a, p }]));
  let views: LayerCacheView[] = [];
  let plan: Plan | undefined;

  const trim = (cache: LayerCacheView, W: number): void => trimToWindow(cache, W, sinks);

  const planFor = (T: number, B: number): Plan => {
    const c0 = views[0];
    const d = c0.headDim;
    const nKv = c0.nKvHeads;
    const heads: PairHead[][] = [];
    /** retained[pair][kv][tensor][token] */
    const retained: Uint8Array[][][] = [];
    for (const [a, b] of pairs) {
      const ph: PairHead[] = [];
      const pr: Uint8Array[][] = [];
      for (let kv = 0; kv < nKv; kv++) {
        const cut: [number, number] = [0, 0];
        const rt: Uint8Array[] = [];
        for (const ti of [0, 1]) {
          const X = ti === 0 ? views[a].keys(kv) : views[a].values(kv);
          const Y = ti === 0 ? views[b].keys(kv) : views[b].values(kv);
          const dist = Float64Array.from({ length: T }, (_, j) => angularDistance(X, j, Y, j, d));
          let lo = Infinity;
          let hi = -Infinity;
          for (const v of dist) {
            lo = Math.min(lo, v);
            hi = Math.max(hi, v);
          }
          cut[ti] = hi - gamma * (hi - lo);
          rt.push(Uint8Array.from(dist, (v) => (v >= cut[ti] ? 1 : 0)));
        }
        ph.push({ cut });
        pr.push(rt);
      }
      heads.push(ph);
      retained.push(pr);
    }
    const cost = (W: number): number => {
      const idx = sinkPlusRecent(T, W, sinks);
      let floats = (L - 2 * pairs.length) * W * 2 * d * nKv;
      for (const pr of retained)
        for (const rt of pr)
          for (const flags of rt) {
            let r = 0;
            for (const j of idx) r += flags[j];
            floats += (W - r) * (d + 2) + r * 2 * d;
          }
      return floats;
    };
    const allowed = L * B * 2 * d * nKv;
    let lo = Math.min(B, T);
    let hi = T;
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      if (cost(mid) <= allowed) lo = mid;
      else hi = mid - 1;
    }
    return { W: lo, pairs, heads, merged: 0, total: 0 };
  };

  /** Merge entries ia of layer a and ib of layer b (one token) for every KV head, K and V. */
  const mergeToken = (p: number, ia: (kv: number) => number, ib: (kv: number) => number, cutOf: (p: number, kv: number, ti: number) => number): void => {
    const [a, b] = pairs[p];
    const A = views[a];
    const Bv = views[b];
    const d = A.headDim;
    for (let kv = 0; kv < A.nKvHeads; kv++) {
      const i = ia(kv);
      const j = ib(kv);
      for (const ti of [0, 1]) {
        const X = ti === 0 ? A.keys(kv) : A.values(kv);
        const Y = ti === 0 ? Bv.keys(kv) : Bv.values(kv);
        plan!.total++;
        if (angularDistance(X, i, Y, j, d) >= cutOf(p, kv, ti)) continue;
        if (slerpMerge(X, i, Y, j, d, t)) plan!.merged++;
      }
    }
  };

  return {
    name: 'minicache',
    kind: 'merging',
    gqa: 'none',
    params: { startLayer: start, t, gamma, sinks, pairs: pairs.map(([a, b]) => `${a}-${b}`).join(' ') || 'none' },
    onPrefill(ctx: PrefillContext) {
      if (ctx.layer === 0) {
        views = [];
        plan = undefined;
      }
      views[ctx.layer] = ctx.cache;
      if (ctx.layer !== L - 1) return;
      if (views.length !== L || views.some((v, l) => !v || v.layer !== l)) throw new RangeError('minicache: every layer must be prefilled, in order, before the last one');
      const T = ctx.length;
      plan = planFor(T, resolveBudget(budget, T));
      for (const v of views) trim(v, plan.W);
      const pl = plan;
      pl.pairs.forEach(([a], p) => {
        const n = views[a].length(0);
        for (let j = 0; j < n; j++) mergeToken(p, () => j, () => j, (pp, kv, ti) => pl.heads[pp][kv].cut[ti]);
      });
    },
    onAttention(ctx: AttendedContext) {
      if (!plan) return;
      trim(ctx.cache, plan.W);
      const u = upper.get(ctx.layer);
      if (!u) return;
      const pl = plan;
      mergeToken(u.p, (kv) => views[u.a].length(kv) - 1, (kv) => ctx.cache.length(kv) - 1, (pp, kv, ti) => pl.heads[pp][kv].cut[ti]);
    },
  };
}
