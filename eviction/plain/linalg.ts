/**
 * Small dense linear algebra for the plaintext policies, in float64 on row-major arrays: the
 * eigen-decomposition of a symmetric matrix by cyclic Jacobi rotations (converges quadratically;
 * stops when the off-diagonal Frobenius norm falls below 1e-12 of the matrix's, or after 60
 * sweeps), top singular directions (kv-head-merge, CSKV, ShadowKV), projections, GEAR's power
 * iteration, the Walsh-Hadamard transform (RotateKV) and Cholesky factors (A^2ATS). Sizes here
 * are a head or a layer's KV width (<= a few hundred), so the O(n^3) methods are fine.
 */
import { SeededRng } from './seeded-rng.js';

/** X^T X of n rows of width d (row-major), d x d. */
export function gram(x: ArrayLike<number>, n: number, d: number): Float64Array {
  const g = new Float64Array(d * d);
  for (let t = 0; t < n; t++) {
    const o = t * d;
    for (let i = 0; i < d; i++) {
      const xi = x[o + i];
      if (xi === 0) continue;
      for (let j = i; j < d; j++) g[i * d + j] += xi * x[o + j];
    }
  }
  for (let i = 0; i < d; i++) for (let j = 0; j < i; j++) g[i * d + j] = g[j * d + i];
  return g;
}

/** Eigenvalues (descending) and eigenvectors (column k of `vectors`, n x n row-major) of symmetric A (n x n row-major). */
export function symmetricEigen(a: ArrayLike<number>, n: number): { values: Float64Array; vectors: Float64Array } {
  if (a.length !== n * n) throw new RangeError(`matrix must have ${n * n} entries, got ${a.length}`);
  const A = Float64Array.from(a);
  const V = new Float64Array(n * n);
  for (let i = 0; i < n; i++) V[i * n + i] = 1;
  let total = 0;
  for (let i = 0; i < n * n; i++) total += A[i] * A[i];
  const tol = 1e-24 * total;
  for (let sweep = 0; sweep < 60; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += 2 * A[p * n + q] ** 2;
    if (off <= tol) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = A[p * n + q];
        if (apq === 0) continue;
        const theta = (A[q * n + q] - A[p * n + p]) / (2 * apq);
        const tt = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(tt * tt + 1);
        const s = tt * c;
        for (let k = 0; k < n; k++) {
          const akp = A[k * n + p];
          const akq = A[k * n + q];
          A[k * n + p] = c * akp - s * akq;
          A[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = A[p * n + k];
          const aqk = A[q * n + k];
          A[p * n + k] = c * apk - s * aqk;
          A[q * n + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = V[k * n + p];
          const vkq = V[k * n + q];
          V[k * n + p] = c * vkp - s * vkq;
          V[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => A[j * n + j] - A[i * n + i] || i - j);
  const values = Float64Array.from(order, (i) => A[i * n + i]);
  const vectors = new Float64Array(n * n);
  order.forEach((src, k) => {
    for (let r = 0; r < n; r++) vectors[r * n + k] = V[r * n + src];
  });
  return { values, vectors };
}

/** The first r columns of an n x n column-eigenvector matrix, as n x r row-major. */
export function leadingColumns(vectors: Float64Array, n: number, r: number): Float64Array {
  const out = new Float64Array(n * r);
  for (let i = 0; i < n; i++) for (let j = 0; j < r; j++) out[i * r + j] = vectors[i * n + j];
  return out;
}

/**
 * The top-k right singular directions of X (rows x cols, row-major) as a cols x k row-major
 * matrix: eigenvectors of X^T X for its k largest eigenvalues.
 */
export function topRightSingular(x: ArrayLike<number>, rows: number, cols: number, k: number): Float64Array {
  return leadingColumns(symmetricEigen(gram(x, rows, cols), cols).vectors, cols, k);
}

/** In place: row x (width d, at offset) <- B B^T x for B d x r with orthonormal columns. */
export function projectRow(x: Float32Array | Float64Array, offset: number, basis: Float64Array, d: number, r: number): void {
  const c = new Float64Array(r);
  for (let i = 0; i < d; i++) {
    const xi = x[offset + i];
    for (let j = 0; j < r; j++) c[j] += xi * basis[i * r + j];
  }
  for (let i = 0; i < d; i++) {
    let s = 0;
    for (let j = 0; j < r; j++) s += basis[i * r + j] * c[j];
    x[offset + i] = s;
  }
}

/** Numerical rank of n rows of width d: eigenvalues of X^T X above rel * the largest. */
export function numericalRank(x: ArrayLike<number>, n: number, d: number, rel = 1e-8): number {
  const { values } = symmetricEigen(gram(x, n, d), d);
  return values.filter((v) => v > rel * Math.max(values[0], 1e-300)).length;
}

/** Modified Gram-Schmidt on the columns of an n x r row-major matrix, in place. */
export function orthonormalizeColumns(m: Float64Array, n: number, r: number): void {
  for (let j = 0; j < r; j++) {
    for (let k = 0; k < j; k++) {
      let dot = 0;
      for (let i = 0; i < n; i++) dot += m[i * r + j] * m[i * r + k];
      for (let i = 0; i < n; i++) m[i * r + j] -= dot * m[i * r + k];
    }
    let norm = 0;
    for (let i = 0; i < n; i++) norm += m[i * r + j] * m[i * r + j];
    norm = Math.sqrt(norm);
    for (let i = 0; i < n; i++) m[i * r + j] = norm > 1e-300 ? m[i * r + j] / norm : 0;
  }
}

/**
 * GEAR's rank-r approximation of an n x d matrix R by `loops` power iterations from a
 * seeded random start (the authors' fake_poweriteration_group): P (d x r) random; repeat:
 * Q = R P (orthonormalized on the last loop), P = R^T Q. Returns Q P^T (n x d), of rank <= r.
 */
export function powerIterationLowRank(r: ArrayLike<number>, n: number, d: number, rank: number, loops: number, seed: number): Float64Array {
  const rng = new SeededRng(seed);
  let P = Float64Array.from({ length: d * rank }, () => rng.next());
  let Q = new Float64Array(n * rank);
  for (let it = 0; it < loops; it++) {
    if (it === loops - 1) orthonormalizeColumns(P, d, rank);
    Q = new Float64Array(n * rank);
    for (let t = 0; t < n; t++) for (let i = 0; i < d; i++) {
      const v = r[t * d + i];
      if (v === 0) continue;
      for (let j = 0; j < rank; j++) Q[t * rank + j] += v * P[i * rank + j];
    }
    if (it === loops - 1) orthonormalizeColumns(Q, n, rank);
    P = new Float64Array(d * rank);
    for (let t = 0; t < n; t++) for (let i = 0; i < d; i++) {
      const v = r[t * d + i];
      if (v === 0) continue;
      for (let j = 0; j < rank; j++) P[i * rank + j] += v * Q[t * rank + j];
    }
  }
  const out = new Float64Array(n * d);
  for (let t = 0; t < n; t++) for (let i = 0; i < d; i++) {
    let s = 0;
    for (let j = 0; j < rank; j++) s += Q[t * rank + j] * P[i * rank + j];
    out[t * d + i] = s;
  }
  return out;
}

/** In place normalized fast Walsh-Hadamard transform of n (a power of two) entries from offset: orthogonal and its own inverse. */
export function fwht(x: Float32Array | Float64Array, offset: number, n: number): void {
  if (n < 1 || (n & (n - 1)) !== 0) throw new RangeError(`Hadamard size must be a power of two, got ${n}`);
  for (let h = 1; h < n; h *= 2) {
    for (let i = 0; i < n; i += 2 * h) {
      for (let j = i; j < i + h; j++) {
        const a = x[offset + j];
        const b = x[offset + j + h];
        x[offset + j] = a + b;
        x[offset + j + h] = a - b;
      }
    }
  }
  const s = 1 / Math.sqrt(n);
  for (let i = 0; i < n; i++) x[offset + i] *= s;
}

/** Lower Cholesky factor of a symmetric positive definite n x n matrix (row-major). */
export function cholesky(a: ArrayLike<number>, n: number): Float64Array {
  const L = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * n + j];
      for (let k = 0; k < j; k++) s -= L[i * n + k] * L[j * n + k];
      if (i === j) {
        if (!(s > 0)) throw new RangeError('cholesky: matrix is not positive definite');
        L[i * n + i] = Math.sqrt(s);
      } else L[i * n + j] = s / L[j * n + j];
    }
  }
  return L;
}

/** Inverse of a lower-triangular n x n matrix (row-major). */
export function lowerInverse(L: Float64Array, n: number): Float64Array {
  const inv = new Float64Array(n * n);
  for (let c = 0; c < n; c++) {
    for (let i = c; i < n; i++) {
      let s = i === c ? 1 : 0;
      for (let k = c; k < i; k++) s -= L[i * n + k] * inv[k * n + c];
      inv[i * n + c] = s / L[i * n + i];
    }
  }
  return inv;
}

/** y = x M for a row x of width n and an n x m matrix M (row-major). */
export function rowTimes(x: ArrayLike<number>, xOff: number, M: Float64Array, n: number, m: number, y: Float64Array, yOff = 0): void {
  for (let j = 0; j < m; j++) y[yOff + j] = 0;
  for (let i = 0; i < n; i++) {
    const xi = x[xOff + i];
    if (xi === 0) continue;
    for (let j = 0; j < m; j++) y[yOff + j] += xi * M[i * m + j];
  }
}
