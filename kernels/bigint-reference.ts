/**
 * A deliberately naive BigInt model of the ring kernels, used only by the tests as an
 * independent oracle (it shares no code with either backend).
 */
const M = (1n << 64n) - 1n;

export const refAdd = (a: bigint, b: bigint): bigint => (a + b) & M;
export const refSub = (a: bigint, b: bigint): bigint => (a - b) & M;
export const refMul = (a: bigint, b: bigint): bigint => (a * b) & M;
export const refNeg = (a: bigint): bigint => -a & M;
export const refSar = (a: bigint, s: number): bigint => (BigInt.asIntN(64, a) >> BigInt(s)) & M;
export const refShr = (a: bigint, s: number): bigint => a >> BigInt(s);
export const refShl = (a: bigint, s: number): bigint => (a << BigInt(s)) & M;
export const refTruncLo = (a: bigint, s: number): bigint => -((-a & M) >> BigInt(s)) & M;
export const refRss = (x0: bigint, x1: bigint, y0: bigint, y1: bigint, mask = 0n): bigint =>
  (x0 * y0 + x0 * y1 + x1 * y0 + mask) & M;

/** Logical element (r, c) of a (rows x cols) matrix stored at `base`, transposed when `trans`. */
function at(a: BigUint64Array, base: number, rows: number, cols: number, trans: boolean, r: number, c: number): bigint {
  return a[base + (trans ? c * rows + r : r * cols + c)];
}

export function refMatmul(
  a: BigUint64Array, b: BigUint64Array, batch: number, m: number, k: number, n: number, transA = false, transB = false,
): BigUint64Array {
  const out = new BigUint64Array(batch * m * n);
  for (let t = 0; t < batch; t++) {
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0n;
        for (let p = 0; p < k; p++) s += at(a, t * m * k, m, k, transA, i, p) * at(b, t * k * n, k, n, transB, p, j);
        out[t * m * n + i * n + j] = s & M;
      }
    }
  }
  return out;
}
