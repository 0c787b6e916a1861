import { erf } from '../protocols/fit/special.js';

/**
 * Float kernels of the reference forward pass. Matrices are row-major [out][in] in
 * Float32Array; sums accumulate in float64 (JS numbers) and are stored as float32.
 */

/** y[r] = sum_i W[r*cols + i] * x[xOff + i], for r < rows; writes y[yOff + r]. */
export function matvec(y: Float32Array, yOff: number, w: Float32Array, x: Float32Array, xOff: number, rows: number, cols: number): void {
  const c4 = cols - (cols % 4);
  for (let r = 0; r < rows; r++) {
    const b = r * cols;
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    let i = 0;
    for (; i < c4; i += 4) {
      s0 += w[b + i] * x[xOff + i];
      s1 += w[b + i + 1] * x[xOff + i + 1];
      s2 += w[b + i + 2] * x[xOff + i + 2];
      s3 += w[b + i + 3] * x[xOff + i + 3];
    }
    for (; i < cols; i++) s0 += w[b + i] * x[xOff + i];
    y[yOff + r] = s0 + s1 + s2 + s3;
  }
}

/**
 * Y = X W^T for T rows of X: X is [T][cols], W is [rows][cols], Y is [T][rows].
 * Weight rows are outermost and four inputs share each weight load (register blocking).
 * Sums run in a different order than matvec's, so the two agree to float rounding.
 */
export function matmulRows(y: Float32Array, w: Float32Array, x: Float32Array, t: number, rows: number, cols: number): void {
  const t4 = t - (t % 4);
  for (let r = 0; r < rows; r++) {
    const b = r * cols;
    let k = 0;
    for (; k < t4; k += 4) {
      const x0 = k * cols;
      const x1 = x0 + cols;
      const x2 = x1 + cols;
      const x3 = x2 + cols;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let i = 0; i < cols; i++) {
        const wi = w[b + i];
        s0 += wi * x[x0 + i];
        s1 += wi * x[x1 + i];
        s2 += wi * x[x2 + i];
        s3 += wi * x[x3 + i];
      }
      y[k * rows + r] = s0;
      y[(k + 1) * rows + r] = s1;
      y[(k + 2) * rows + r] = s2;
      y[(k + 3) * rows + r] = s3;
    }
    for (; k < t; k++) {
      const x0 = k * cols;
      let s = 0;
      for (let i = 0; i < cols; i++) s += w[b + i] * x[x0 + i];
      y[k * rows + r] = s;
    }
  }
}

/** RMSNorm of `n` values of x at xOff into out at oOff: out = g * x / sqrt(mean(x^2) + eps). */
export function rmsnorm(out: Float32Array, oOff: number, x: Float32Array, xOff: number, g: Float32Array, n: number, eps: number): void {
  let ss = 0;
  for (let i = 0; i < n; i++) ss += x[xOff + i] * x[xOff + i];
  const inv = 1 / Math.sqrt(ss / n + eps);
  for (let i = 0; i < n; i++) out[oOff + i] = g[i] * (inv * x[xOff + i]);
}

/** LayerNorm of `n` values of x at xOff into out at oOff: out = g * (x - mean) / sqrt(var + eps) + b (biased variance, as torch). */
export function layernorm(out: Float32Array, oOff: number, x: Float32Array, xOff: number, g: Float32Array, b: Float32Array, n: number, eps: number): void {
  let m = 0;
  for (let i = 0; i < n; i++) m += x[xOff + i];
  m /= n;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (x[xOff + i] - m) * (x[xOff + i] - m);
  const inv = 1 / Math.sqrt(ss / n + eps);
  for (let i = 0; i < n; i++) out[oOff + i] = g[i] * ((x[xOff + i] - m) * inv) + b[i];
}

/** GeLU, tanh form (transformers' gelu_new / gelu_pytorch_tanh): x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) */
export function geluTanh(x: number): number {
  return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
}

/** GeLU, exact form: x Phi(x) = x/2 (1 + erf(x / sqrt 2)) */
export function geluErf(x: number): number {
  return 0.5 * x * (1 + erf(x / Math.SQRT2));
}

/** In-place softmax of a[off .. off+n) (max-subtracted, float64 sum). */
export function softmaxInPlace(a: Float32Array | Float64Array, off: number, n: number): void {
  let m = -Infinity;
  for (let i = 0; i < n; i++) if (a[off + i] > m) m = a[off + i];
  let s = 0;
  for (let i = 0; i < n; i++) {
    const e = Math.exp(a[off + i] - m);
    a[off + i] = e;
    s += e;
  }
  const inv = 1 / s;
  for (let i = 0; i < n; i++) a[off + i] *= inv;
}

/** silu(x) = x / (1 + e^-x) */
export function silu(x: number): number {
  return x / (1 + Math.exp(-x));
}

/** Index of the largest value (the lowest index on ties), as llama2.c's greedy sampler. */
export function argmax(a: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < a.length; i++) if (a[i] > a[best]) best = i;
  return best;
}

/** log softmax(logits)[target], in float64. */
export function logProb(logits: ArrayLike<number>, target: number): number {
  let m = -Infinity;
  for (let i = 0; i < logits.length; i++) if (logits[i] > m) m = logits[i];
  let s = 0;
  for (let i = 0; i < logits.length; i++) s += Math.exp(logits[i] - m);
  return logits[target] - m - Math.log(s);
}
