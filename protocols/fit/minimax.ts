/**
 * Float64 polynomial fitting for the non-linear protocols' approximations (offline tool; the
 * protocols only carry the resulting constants). Weighted least squares by Householder QR,
 * and a near-minimax fit by Lawson's iteratively re-weighted least squares.
 */

/** Solve min ||W (A c - y)|| for c (A: rows x cols, row-major). Householder QR, float64. */
export function weightedLeastSquares(a: Float64Array, rows: number, cols: number, y: Float64Array, w?: Float64Array): Float64Array {
  if (a.length !== rows * cols || y.length !== rows) throw new RangeError('weightedLeastSquares: bad sizes');
  const m = new Float64Array(a);
  const b = new Float64Array(y);
  if (w) {
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < cols; j++) m[i * cols + j] *= w[i];
      b[i] *= w[i];
    }
  }
  for (let j = 0; j < cols; j++) {
    let norm = 0;
    for (let i = j; i < rows; i++) norm += m[i * cols + j] ** 2;
    norm = Math.sqrt(norm);
    if (norm === 0) throw new RangeError('weightedLeastSquares: rank deficient');
    const alpha = m[j * cols + j] > 0 ? -norm : norm;
    const v = new Float64Array(rows);
    for (let i = j; i < rows; i++) v[i] = m[i * cols + j];
    v[j] -= alpha;
    let vv = 0;
    for (let i = j; i < rows; i++) vv += v[i] * v[i];
    if (vv === 0) continue;
    for (let c = j; c < cols; c++) {
      let d = 0;
      for (let i = j; i < rows; i++) d += v[i] * m[i * cols + c];
      const s = (2 * d) / vv;
      for (let i = j; i < rows; i++) m[i * cols + c] -= s * v[i];
    }
    let d = 0;
    for (let i = j; i < rows; i++) d += v[i] * b[i];
    const s = (2 * d) / vv;
    for (let i = j; i < rows; i++) b[i] -= s * v[i];
  }
  const c = new Float64Array(cols);
  for (let j = cols - 1; j >= 0; j--) {
    let s = b[j];
    for (let k = j + 1; k < cols; k++) s -= m[j * cols + k] * c[k];
    c[j] = s / m[j * cols + j];
  }
  return c;
}

export interface PolyFit {
  /** coefficients of the fitted powers, in the order of `powers` */
  readonly coeffs: number[];
  /** max |weight * (p(t) - g(t))| on the sample grid */
  readonly maxError: number;
}

/**
 * Near-minimax fit of sum_k c_k t^powers[k] to g on [lo, hi] with error weight `weight(t)`
 * (1 for absolute error, 1/|g| for relative): Lawson's algorithm (IRLS), `iters` rounds.
 */
export function minimaxFit(
  g: (t: number) => number,
  lo: number,
  hi: number,
  powers: readonly number[],
  weight: (t: number) => number = () => 1,
  samples = 4001,
  iters = 300,
): PolyFit {
  const cols = powers.length;
  const ts = new Float64Array(samples);
  for (let i = 0; i < samples; i++) ts[i] = lo + ((hi - lo) * i) / (samples - 1);
  const a = new Float64Array(samples * cols);
  const y = new Float64Array(samples);
  const base = new Float64Array(samples);
  for (let i = 0; i < samples; i++) {
    for (let j = 0; j < cols; j++) a[i * cols + j] = ts[i] ** powers[j];
    y[i] = g(ts[i]);
    base[i] = weight(ts[i]);
  }
  const lw = new Float64Array(samples).fill(1);
  let c: Float64Array = new Float64Array(cols);
  let maxError = Infinity;
  const w = new Float64Array(samples);
  for (let it = 0; it < iters; it++) {
    for (let i = 0; i < samples; i++) w[i] = base[i] * Math.sqrt(lw[i]);
    c = weightedLeastSquares(a, samples, cols, y, w);
    const err = new Float64Array(samples);
    let mx = 0;
    for (let i = 0; i < samples; i++) {
      let p = 0;
      for (let j = 0; j < cols; j++) p += c[j] * a[i * cols + j];
      err[i] = Math.abs(base[i] * (p - y[i]));
      mx = Math.max(mx, err[i]);
    }
    maxError = mx;
    let sum = 0;
    for (let i = 0; i < samples; i++) {
      lw[i] *= 1 + err[i] / mx;
      sum += lw[i];
    }
    for (let i = 0; i < samples; i++) lw[i] *= samples / sum;
  }
  return { coeffs: Array.from(c), maxError };
}
