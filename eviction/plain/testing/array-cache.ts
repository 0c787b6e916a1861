/**
 * Test support: a small LayerCacheView over plain arrays, and a driver that runs one layer's
 * attention (prefill probabilities, then decode steps) through a policy's hooks exactly as
 * the reference model calls them. Lets policies be tested on hand-built keys/queries where
 * the right answer is known, independently of any model.
 */
import type { AttendedContext, LayerCacheView, PlainKvHooks, PrefillContext, StepContext } from '../../../models/attention-hooks.js';

export class ArrayLayerCache implements LayerCacheView {
  private pos: number[][] = [];
  private k: Float32Array[] = [];
  private v: Float32Array[] = [];
  private lm: Float32Array[] = [];
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
      this.lm.push(new Float32Array(0));
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
  logMass(kvHead: number): Float32Array {
    return this.lm[kvHead];
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
    this.lm[kvHead] = Float32Array.from(idx, (i) => this.lm[kvHead][i]);
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
    const nl = new Float32Array(n + 1);
    nl.set(this.lm[kvHead]);
    this.lm[kvHead] = nl;
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
  /** prompt values per KV head (default: the keys) */
  values?: Float32Array[];
  /** prompt queries per query head, T rows */
  queries: Float32Array[];
  /** decode-step keys per KV head (step s row s) and queries per query head (step s row s) */
  stepKeys?: Float32Array[];
  /** decode-step values per KV head (default: the step keys) */
  stepValues?: Float32Array[];
  stepQueries?: Float32Array[];
  steps?: number;
}

export interface DriveResult {
  cache: ArrayLayerCache;
  /** per step, per query head: the original positions it attended to */
  attendedPositions: Int32Array[][];
  /** per step, per query head: the attention probabilities over those entries */
  attendedProbs: Float32Array[][];
}

function causalProbs(sc: LayerScenario, T: number): Float32Array[] {
  const { nHeads, nKvHeads, headDim: d } = sc;
  const g = nHeads / nKvHeads;
  const scale = 1 / Math.sqrt(d);
  const probs: Float32Array[] = [];
  for (let h = 0; h < nHeads; h++) {
    const K = sc.keys[Math.floor(h / g)];
    const Q = sc.queries[h];
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
  return probs;
}

/** One decode step of one layer: append, selectForStep, attend (with logMass), onAttention. */
function stepLayer(hooks: PlainKvHooks, sc: LayerScenario, cache: ArrayLayerCache, layer: number, s: number, T: number): { pos: Int32Array[]; probs: Float32Array[] } {
  const { nHeads, nKvHeads, headDim: d } = sc;
  const g = nHeads / nKvHeads;
  const scale = 1 / Math.sqrt(d);
  const position = T + s;
  for (let kv = 0; kv < nKvHeads; kv++) {
    const key = sc.stepKeys![kv].subarray(s * d, s * d + d);
    cache.append(kv, position, key, (sc.stepValues ?? sc.stepKeys)![kv].subarray(s * d, s * d + d));
  }
  const query = Array.from({ length: nHeads }, (_, h) => sc.stepQueries![h].subarray(s * d, s * d + d));
  const sctx: StepContext = { layer, step: s, position, cache, query };
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
    const lm = cache.logMass(kv);
    const row = new Float64Array(idx.length);
    for (let i = 0; i < idx.length; i++) {
      let sum = 0;
      for (let c = 0; c < d; c++) sum += query[h][c] * K[idx[i] * d + c];
      row[i] = sum * scale + lm[idx[i]];
    }
    softmaxInPlace(row);
    attended.push(idx);
    aprobs.push(Float32Array.from(row));
    const p = cache.positions(kv);
    posNow.push(Int32Array.from(idx, (i) => p[i]));
  }
  const actx: AttendedContext = { ...sctx, attended, probs: aprobs };
  hooks.onAttention?.(actx);
  return { pos: posNow, probs: aprobs };
}

/**
 * Runs the scenario through the hooks: fills the cache with the prompt, calls onPrefill
 * with exact causal softmax(QK^T/sqrt d) probabilities, then for each decode step appends the
 * step's K/V (value = key unless values are given), calls selectForStep, attends (adding each
 * entry's logMass to its score, as the reference model does), and calls onAttention.
 */
export function driveLayer(hooks: PlainKvHooks, sc: LayerScenario): DriveResult {
  return driveLayers(hooks, [{ ...sc, layer: sc.layer ?? 0 }])[0];
}

/**
 * Several layers in model order (scenario i is layer i unless it says otherwise): every
 * layer's prefill hook in turn, then each decode step through every layer in turn, as the
 * reference model calls them. All scenarios must have the same prompt length and steps.
 */
export function driveLayers(hooks: PlainKvHooks, scs: readonly LayerScenario[]): DriveResult[] {
  const T = scs[0].keys[0].length / scs[0].headDim;
  const steps = scs[0].steps ?? 0;
  const out = scs.map((sc, i) => {
    const { nHeads, nKvHeads, headDim: d } = sc;
    if (sc.keys[0].length / d !== T || (sc.steps ?? 0) !== steps) throw new Error('driveLayers: scenarios must share the prompt length and steps');
    const layer = sc.layer ?? i;
    const cache = new ArrayLayerCache(layer, nHeads, nKvHeads, d);
    const vals = sc.values ?? sc.keys;
    for (let kv = 0; kv < nKvHeads; kv++) for (let t = 0; t < T; t++) cache.append(kv, t, sc.keys[kv].subarray(t * d, t * d + d), vals[kv].subarray(t * d, t * d + d));
    return { sc, layer, cache, attendedPositions: [] as Int32Array[][], attendedProbs: [] as Float32Array[][] };
  });
  for (const o of out) {
    const pctx: PrefillContext = { layer: o.layer, length: T, cache: o.cache, queries: o.sc.queries, probs: causalProbs(o.sc, T) };
    hooks.onPrefill?.(pctx);
  }
  for (let s = 0; s < steps; s++) {
    for (const o of out) {
      const r = stepLayer(hooks, o.sc, o.cache, o.layer, s, T);
      o.attendedPositions.push(r.pos);
      o.attendedProbs.push(r.probs);
    }
  }
  return out.map(({ cache, attendedPositions, attendedProbs }) => ({ cache, attendedPositions, attendedProbs }));
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
