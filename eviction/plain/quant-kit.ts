/**
 * Building blocks of the simulated (quantize-then-dequantize) KV-cache quantizers: clipped
 * asymmetric round-to-nearest over an index group, a non-uniform level set (1-D k-means),
 * block floating point, percentiles. Bit budgets for memoryRatio are counted by the callers.
 */

/** Minimum and maximum of x[idx[i]] (Infinity, -Infinity for an empty group). */
export function groupRange(x: ArrayLike<number>, idx: ArrayLike<number>): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < idx.length; i++) {
    const v = x[idx[i]];
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}

/**
 * Asymmetric RTN of x[idx[i]] as one group with an integer zero point (RotateKV's
 * fake_quant): lo/hi = clip * min/max, scale = (hi - lo) / (2^bits - 1), zero = round(-lo/scale),
 * q = clamp(round(x/scale) + zero, 0, 2^bits - 1), x' = scale (q - zero).
 */
export function fakeQuantClipped(x: Float32Array | Float64Array, idx: ArrayLike<number>, bits: number, clip: number): void {
  const [mn, mx] = groupRange(x, idx);
  const lo = mn * clip;
  const hi = mx * clip;
  const maxq = (1 << bits) - 1;
  const s = (hi - lo) / maxq;
  if (!(s > 0)) return;
  const zero = Math.round(-lo / s);
  for (let i = 0; i < idx.length; i++) {
    const q = Math.min(maxq, Math.max(0, Math.round(x[idx[i]] / s) + zero));
    x[idx[i]] = s * (q - zero);
  }
}

/** Indices base, base+stride, ... (n of them). */
export function strided(base: number, n: number, stride: number): Int32Array {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = base + i * stride;
  return out;
}

/** numpy-style percentile (linear interpolation) of the values, p in [0, 100]. */
export function percentile(values: ArrayLike<number>, p: number): number {
  const s = Float64Array.from(values).sort();
  if (s.length === 0) return NaN;
  const pos = (p / 100) * (s.length - 1);
  const i = Math.floor(pos);
  const f = pos - i;
  return i + 1 < s.length ? s[i] * (1 - f) + s[i + 1] * f : s[i];
}

/**
 * k levels fitting the values by Lloyd's 1-D k-means (unweighted), started at the
 * (i + 0.5)/k quantiles, `iters` rounds; ascending. Deterministic.
 */
export function kmeans1d(values: ArrayLike<number>, k: number, iters = 30): Float64Array {
  const s = Float64Array.from(values).sort();
  if (s.length === 0) return Float64Array.from({ length: k }, (_, i) => -1 + (2 * i + 1) / k);
  const c = Float64Array.from({ length: k }, (_, i) => s[Math.min(s.length - 1, Math.floor(((i + 0.5) / k) * s.length))]);
  for (let it = 0; it < iters; it++) {
    const sum = new Float64Array(k);
    const cnt = new Float64Array(k);
    let j = 0;
    for (const v of s) {
      while (j + 1 < k && Math.abs(v - c[j + 1]) <= Math.abs(v - c[j])) j++;
      sum[j] += v;
      cnt[j]++;
    }
    let moved = false;
    for (let i = 0; i < k; i++) {
      if (cnt[i] === 0) continue;
      const m = sum[i] / cnt[i];
      if (m !== c[i]) moved = true;
      c[i] = m;
    }
    c.sort();
    if (!moved) break;
  }
  return c;
}

/** The level nearest to v (levels ascending; ties to the lower). */
export function nearestLevel(levels: Float64Array, v: number): number {
  let best = levels[0];
  for (let i = 1; i < levels.length; i++) if (Math.abs(v - levels[i]) < Math.abs(v - best)) best = levels[i];
  return best;
}

/**
 * Block floating point of x[idx[i]] as one block: a shared power-of-two exponent e with
 * max|x| < 2^e, each value stored as sign + (mantissaBits - 1) magnitude bits:
 * x' = clamp(round(x / step), -(2^(m-1) - 1), 2^(m-1) - 1) * step with step = 2^(e - m + 1).
 */
export function bfpQuantBlock(x: Float32Array | Float64Array, idx: ArrayLike<number>, mantissaBits: number): void {
  let mx = 0;
  for (let i = 0; i < idx.length; i++) mx = Math.max(mx, Math.abs(x[idx[i]]));
  if (!(mx > 0)) return;
  const e = Math.floor(Math.log2(mx)) + 1;
  const step = 2 ** (e - mantissaBits + 1);
  const lim = 2 ** (mantissaBits - 1) - 1;
  for (let i = 0; i < idx.length; i++) x[idx[i]] = Math.max(-lim, Math.min(lim, Math.round(x[idx[i]] / step))) * step;
}

/** Number of distinct values (within tol) among x[idx[i]]; for tests of level counts. */
export function distinctCount(x: ArrayLike<number>, idx: ArrayLike<number>, tol = 1e-6): number {
  const v = Array.from({ length: idx.length }, (_, i) => x[idx[i]]).sort((a, b) => a - b);
  let n = 0;
  for (let i = 0; i < v.length; i++) if (i === 0 || v[i] - v[i - 1] > tol * Math.max(1, Math.abs(v[i]))) n++;
  return n;
}
