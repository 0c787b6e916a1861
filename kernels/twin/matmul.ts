/**
 * Twin: matmul mod 2^64 and the replicated-sharing matmul, with BigInt (see arith.ts).
 *
 * Operands are first copied into plain row-major layout (left m x k, right k x n), then each
 * output row is accumulated as out[i, :] += a[i, p] * b[p, :] over p: the inner loop runs over
 * contiguous memory and every store reduces mod 2^64.
 */
import type { U64 } from '../api.js';

/** The logical (rows x cols) matrix stored at `src[base..]`, transposed when `trans`, as a plain row-major copy (or a view when already plain). */
function plain(src: U64, base: number, rows: number, cols: number, trans: boolean): U64 {
  if (!trans) return src.subarray(base, base + rows * cols);
  const out = new BigUint64Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[r * cols + c] = src[base + c * rows + r];
  return out;
}

/** out[0 .. m*n) += A (m x k) B (k x n), all plain row-major; out is at offset `o0`. */
function accumulate(A: U64, B: U64, m: number, k: number, n: number, out: U64, o0: number): void {
  for (let i = 0; i < m; i++) {
    const row = o0 + i * n;
    for (let p = 0; p < k; p++) {
      const av = A[i * k + p];
      const b0 = p * n;
      for (let j = 0; j < n; j++) out[row + j] += av * B[b0 + j];
    }
  }
}

export function matmul(a: U64, b: U64, batch: number, m: number, k: number, n: number, transA: boolean, transB: boolean, out: U64): void {
  out.fill(0n);
  for (let t = 0; t < batch; t++) {
    const A = plain(a, t * m * k, m, k, transA);
    const B = plain(b, t * k * n, k, n, transB);
    accumulate(A, B, m, k, n, out, t * m * n);
  }
}

/** Z = X0 (Y0 + Y1) + X1 Y0 (+ mask) */
export function rssMatmul(
  x0: U64, x1: U64, y0: U64, y1: U64,
  batch: number, m: number, k: number, n: number, transA: boolean, transB: boolean,
  mask: U64 | undefined, out: U64,
): void {
  if (mask === undefined) out.fill(0n);
  else out.set(mask);
  const y01 = new BigUint64Array(k * n);
  for (let t = 0; t < batch; t++) {
    const Y0 = plain(y0, t * k * n, k, n, transB);
    const Y1 = plain(y1, t * k * n, k, n, transB);
    for (let i = 0; i < y01.length; i++) y01[i] = Y0[i] + Y1[i];
    accumulate(plain(x0, t * m * k, m, k, transA), y01, m, k, n, out, t * m * n);
    accumulate(plain(x1, t * m * k, m, k, transA), Y0, m, k, n, out, t * m * n);
  }
}
