/**
 * Test support: a small LayerCacheView over plain arrays, and a driver that runs one layer's
 * attention (prefill probabilities, then decode steps) through a policy's hooks exactly as
 * the reference model calls them. Lets policies be tested on hand-built keys/queries where
 * the right answer is known, independently of any model.
 */
import type { AttendedContext, KeyRotary, KvProjection, LayerCacheView, PlainKvHooks, PrefillContext, StepContext } from '../../../models/attention-hooks.js';

export class ArrayLayerCache implements LayerCacheView {
  private pos: number[][] = [];
  private k: Float32Array[] = [];
  private v: Float32Array[] = [];
  /** number of keep() calls (for tests of "evicts nothing") */
  keepCalls = 0;

  constructor(
    readonly layer: number,
    readonly nHeads: number,
    readonly nKvHeads: number,
    readonly headDim: number,
  ) {
    for (let h = 0; h < nKvHeads; h++) {
      this.pos.push([]);
      this.k.push(new Float32Array(0));
      this.v.push(new Float32Array(0));
    }
  }

  length(kvHead: number): number {
    return this.pos[kvHead].length;
  }
  positions(kvHead: number): Int32Array {
    return Int32Array.from(this.pos[kvHead]);
  }
  keys(kvHead: number): Float32Array {
    return this.k[kvHead];
  }
  values(kvHead: number): Float32Array {
    return this.v[kvHead];
  }
  keep(kvHead: number, idx: Int32Array): void {
    this.keepCalls++;
    const d = this.headDim;
    const n = this.length(kvHead);
    for (let i = 0; i < idx.length; i++) {
      if (idx[i] < 0 || idx[i] >= n || (i > 0 && idx[i] <= idx[i - 1])) throw new RangeError('keep: indices must be strictly increasing cache indices');
    }
    const nk = new Float32Array(idx.length * d);
    const nv = new Float32Array(idx.length * d);
    for (let i = 0; i < idx.length; i++) {
      nk.set(this.k[kvHead].subarray(idx[i] * d, idx[i] * d + d), i * d);
      nv.set(this.v[kvHead].subarray(idx[i] * d, idx[i] * d + d), i * d);
    }
    this.pos[kvHead] = Array.from(idx, (i) => this.pos[kvHead][i]);
    this.k[kvHead] = nk;
    this.v[kvHead] = nv;
  }
  /** Appends one token's key and value (headDim floats each) to a KV head. */
  append(kvHead: number, position: number, key: ArrayLike<number>, value: ArrayLike<number>): void {
    const d = this.headDim;
    const n = this.length(kvHead);
    const nk = new Float32Array((n + 1) * d);
    nk.set(this.k[kvHead]);
    nk.set(key, n * d);
    const nv = new Float32Array((n + 1) * d);
    nv.set(this.v[kvHead]);
    nv.set(value, n * d);
    this.k[kvHead] = nk;
    this.v[kvHead] = nv;
    this.pos[kvHead].push(position);
  }
}

/** Softmax of x (in place), returns x. */
function softmaxInPlace(x: Float64Array): Float64Array {
  let m = -Infinity;
  for (const v of x) if (v > m) m = v;
  let s = 0;
  for (let i = 0; i < x.length; i++) {
    x[i] = Math.exp(x[i] - m);
    s += x[i];
  }
  for (let i = 0; i < x.length; i++) x[i] /= s;
  return x;
}

export interface LayerScenario {
  layer?: number;
  nLayers?: number;
  nHeads: number;
  nKvHeads: number;
  headDim: number;
  /** prompt keys per KV head, T rows of headDim */
  keys: Float32Array[];
  /** prompt queries per query head, T rows */
  queries: Float32Array[];
  /** decode-step keys per KV head (step s row s) and queries per query head (step s row s) */
  stepKeys?: Float32Array[];
  stepQueries?: Float32Array[];
  steps?: number;
  /** values per KV head (default: the keys), and per decode step */
  values?: Float32Array[];
  stepValues?: Float32Array[];
  /**
   * When set, keys and queries above are PRE-RoPE: the driver caches rotate(key, position),
   * attends with rotate(query, position), and passes preRopeKeys / preRopeKey / rotary.
   */
  rotary?: KeyRotary;
  /** passed through to the prefill context */
  projection?: KvProjection;
  residual?: Float32Array;
}

export interface DriveResult {
  cache: ArrayLayerCache;
  /** per step, per query head: the original positions it attended to */
  attendedPositions: Int32Array[][];
}

/**
 * Runs the scenario through the hooks: fills the cache with the prompt, calls onPrefill
 * with exact causal softmax(QK^T/sqrt d) probabilities, then for each decode step appends the
 * step's K/V (value = key), calls selectForStep, attends, and calls onAttention.
 */
export function driveLayer(hooks: PlainKvHooks, sc: LayerScenario): DriveResult {
  const { nHeads, nKvHeads, headDim: d } = sc;
  const layer = sc.layer ?? 0;
  const T = sc.keys[0].length / d;
  const cache = new ArrayLayerCache(layer, nHeads, nKvHeads, d);
  const rot = sc.rotary;
  /** rows of x (pre-RoPE when rot is set) rotated to their positions from..from+rows-1 */
  const roped = (x: Float32Array, from: number): Float32Array => {
    if (!rot) return x;
    const y = Float32Array.from(x);
    for (let t = 0; t < y.length / d; t++) rot.rotate(y, t * d, from + t);
    return y;
  };
  const keys = sc.keys.map((K) => roped(K, 0));
  const queries = sc.queries.map((Q) => roped(Q, 0));
  const values = sc.values ?? sc.keys;
  for (let kv = 0; kv < nKvHeads; kv++) for (let t = 0; t < T; t++) cache.append(kv, t, keys[kv].subarray(t * d, t * d + d), values[kv].subarray(t * d, t * d + d));
  const g = nHeads / nKvHeads;
  const scale = 1 / Math.sqrt(d);
  const probs: Float32Array[] = [];
  for (let h = 0; h < nHeads; h++) {
    const K = keys[Math.floor(h / g)];
    const Q = queries[h];
    const P = new Float32Array(T * T);
    for (let q = 0; q < T; q++) {
      const row = new Float64Array(q + 1);
      for (let j = 0; j <= q; j++) {
        let s = 0;
        for (let i = 0; i < d; i++) s += Q[q * d + i] * K[j * d + i];
        row[j] = s * scale;
      }
      softmaxInPlace(row);
      for (let j = 0; j <= q; j++) P[q * T + j] = row[j];
    }
    probs.push(P);
  }
  const extra = rot ? { preRopeKeys: sc.keys.map((K) => Float32Array.from(K)), rotary: rot } : {};
  const pctx: PrefillContext = { layer, length: T, cache, queries, probs, ...extra, projection: sc.projection, residual: sc.residual };
  hooks.onPrefill?.(pctx);
  const attendedPositions: Int32Array[][] = [];
  const steps = sc.steps ?? 0;
  for (let s = 0; s < steps; s++) {
    const position = T + s;
    const preRopeKey: Float32Array[] = [];
    for (let kv = 0; kv < nKvHeads; kv++) {
      const pre = sc.stepKeys![kv].slice(s * d, s * d + d);
      preRopeKey.push(pre);
      const value = sc.stepValues ? sc.stepValues[kv].subarray(s * d, s * d + d) : pre;
      cache.append(kv, position, roped(pre, position), value);
    }
    const query = Array.from({ length: nHeads }, (_, h) => roped(sc.stepQueries![h].slice(s * d, s * d + d), position));
    const sctx: StepContext = { layer, step: s, position, cache, query, ...(rot ? { preRopeKey, rotary: rot } : {}) };
    const sel = hooks.selectForStep?.(sctx);
    const attended: Int32Array[] = [];
    const aprobs: Float32Array[] = [];
    const posNow: Int32Array[] = [];
    for (let h = 0; h < nHeads; h++) {
      const kv = Math.floor(h / g);
      const n = cache.length(kv);
      const idx = sel?.[h] ?? Int32Array.from({ length: n }, (_, i) => i);
      if (idx[idx.length - 1] !== n - 1) throw new Error(`selection of head ${h} misses the current token`);
      const K = cache.keys(kv);
      const row = new Float64Array(idx.length);
      for (let i = 0; i < idx.length; i++) {
        let sum = 0;
        for (let c = 0; c < d; c++) sum += query[h][c] * K[idx[i] * d + c];
        row[i] = sum * scale;
      }
      softmaxInPlace(row);
      attended.push(idx);
      aprobs.push(Float32Array.from(row));
      const p = cache.positions(kv);
      posNow.push(Int32Array.from(idx, (i) => p[i]));
    }
    attendedPositions.push(posNow);
    const actx: AttendedContext = { ...sctx, attended, probs: aprobs };
    hooks.onAttention?.(actx);
  }
  return { cache, attendedPositions };
}

/** Deterministic pseudo-random floats in [-1, 1) (mulberry32), for building scenarios. */
export function noise(n: number, seed: number, amp = 1): Float32Array {
  let a = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1) * amp;
  }
  return out;
}
