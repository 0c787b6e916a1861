/**
 * Row arithmetic shared by the merging policies (kvmerger, d2o, ems, minicache, razor-attention,
 * kv-head-merge): norms and cosine similarity of cached key/value rows, weighted merges of
 * several rows into one, and the log-multiplicity accessor of the cache view. Rows are headDim
 * floats of a row-major Float32Array (LayerCacheView.keys / values). Sums run in float64.
 */
import type { LayerCacheView } from '../../models/attention-hooks.js';

/** Euclidean norm of row `r`. */
export function rowNorm(x: Float32Array, r: number, d: number): number {
  let s = 0;
  const o = r * d;
  for (let i = 0; i < d; i++) s += x[o + i] * x[o + i];
  return Math.sqrt(s);
}

/** Cosine similarity of row `ra` of `a` and row `rb` of `b`; 0 when either row is zero. */
export function rowCosine(a: Float32Array, ra: number, b: Float32Array, rb: number, d: number): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  const oa = ra * d;
  const ob = rb * d;
  for (let i = 0; i < d; i++) {
    ab += a[oa + i] * b[ob + i];
    aa += a[oa + i] * a[oa + i];
    bb += b[ob + i] * b[ob + i];
  }
  return aa > 0 && bb > 0 ? ab / Math.sqrt(aa * bb) : 0;
}

/** Squared Euclidean distance of rows `ra` and `rb` of `x`. */
export function rowDist2(x: Float32Array, ra: number, rb: number, d: number): number {
  let s = 0;
  for (let i = 0; i < d; i++) {
    const t = x[ra * d + i] - x[rb * d + i];
    s += t * t;
  }
  return s;
}

/**
 * Writes sum_i w_i x[rows_i] / sum_i w_i into row `target` of `x` (which may be one of the rows;
 * the sum is formed first). Weights must be non-negative with a positive sum.
 */
export function mergeRowsInto(x: Float32Array, target: number, rows: ArrayLike<number>, w: ArrayLike<number>, d: number): void {
  if (rows.length !== w.length) throw new RangeError('rows and weights must have the same length');
  let z = 0;
  for (let i = 0; i < w.length; i++) {
    if (!(w[i] >= 0)) throw new RangeError(`merge weight ${i} must be non-negative, got ${w[i]}`);
    z += w[i];
  }
  if (!(z > 0)) throw new RangeError('merge weights must have a positive sum');
  const acc = new Float64Array(d);
  for (let i = 0; i < rows.length; i++) {
    const o = rows[i] * d;
    const wi = w[i] / z;
    for (let e = 0; e < d; e++) acc[e] += wi * x[o + e];
  }
  x.set(acc, target * d);
}

/** The cache view's per-entry log multiplicities; a clear error for a view without them. */
export function logMassOf(cache: LayerCacheView, kvHead: number): Float32Array {
  if (!cache.logMass) throw new TypeError('this policy needs a cache view with logMass (per-entry multiplicity); models/kv-cache.ts has it');
  return cache.logMass(kvHead);
}

/** Indices 0..n-1 except those in `drop` (any order), ascending. */
export function complement(n: number, drop: ArrayLike<number>): Int32Array {
  const gone = new Uint8Array(n);
  for (let i = 0; i < drop.length; i++) gone[drop[i]] = 1;
  const out: number[] = [];
  for (let i = 0; i < n; i++) if (!gone[i]) out.push(i);
  return Int32Array.from(out);
}
