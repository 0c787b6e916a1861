/**
 * Small dense linear algebra for plaintext policies: the eigen-decomposition of a symmetric
 * matrix by cyclic Jacobi rotations (float64), used for the top principal directions of a
 * stacked KV cache (kv-head-merge.ts). Converges quadratically; stops when the off-diagonal
 * Frobenius norm falls below 1e-12 of the matrix's, or after 60 sweeps.
 */

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

/**
 * The top-k right singular directions of X (rows x cols, row-major) as a cols x k row-major
 * matrix: eigenvectors of X^T X for its k largest eigenvalues.
 */
export function topRightSingular(x: ArrayLike<number>, rows: number, cols: number, k: number): Float64Array {
  const G = new Float64Array(cols * cols);
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    for (let i = 0; i < cols; i++) {
      const xi = x[o + i];
      if (xi === 0) continue;
      for (let j = i; j < cols; j++) G[i * cols + j] += xi * x[o + j];
    }
  }
  for (let i = 0; i < cols; i++) for (let j = 0; j < i; j++) G[i * cols + j] = G[j * cols + i];
  const { vectors } = symmetricEigen(G, cols);
  const out = new Float64Array(cols * k);
  for (let r = 0; r < cols; r++) for (let c = 0; c < k; c++) out[r * k + c] = vectors[r * cols + c];
  return out;
}
