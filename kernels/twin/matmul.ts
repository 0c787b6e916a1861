/**
 * Twin: matmul mod 2^64 and the replicated-sharing matmul.
 *
 * Operands are repacked into 32-bit halves (left operand row-major m x K, right operand
 * transposed n x K) so the inner loop is a contiguous dot product. Each product of 64-bit
 * words is accumulated mod 2^64 in four exact double accumulators (the 16-bit pieces of
 * low x low, and the two cross terms), normalised every CHUNK terms so no accumulator
 * ever exceeds 2^53.
 */
import type { U64 } from '../api.js';
import { add } from './arith.js';
import { HI, LO, TWO32, halves } from './words.js';

const CHUNK = 1 << 16;

/** Dot products of the rows of (lL, lH) (m x K) with the rows of (rL, rH) (n x K) into o (m x n words, halves). */
function dotAll(
  lL: Uint32Array, lH: Uint32Array, rL: Uint32Array, rH: Uint32Array,
  m: number, K: number, n: number, o: Uint32Array, oBase: number,
): void {
  for (let i = 0; i < m; i++) {
    const li = i * K;
    for (let j = 0; j < n; j++) {
      const rj = j * K;
      let s00 = 0, s01 = 0, s11 = 0, sx = 0;
      for (let p0 = 0; p0 < K; p0 += CHUNK) {
        const end = Math.min(K, p0 + CHUNK);
        for (let p = p0; p < end; p++) {
          const aL = lL[li + p], aH = lH[li + p], bL = rL[rj + p], bH = rH[rj + p];
          const a0 = aL & 0xffff, a1 = aL >>> 16, b0 = bL & 0xffff, b1 = bL >>> 16;
          s00 += a0 * b0;
          s01 += a0 * b1 + a1 * b0;
          s11 += a1 * b1;
          sx += Math.imul(aH, bL) + Math.imul(aL, bH);
        }
        // normalise: value = s00 + s01*2^16 + (s11 + sx)*2^32 (mod 2^64)
        const low = s00 + (s01 % 65536) * 65536;
        const hi = (s11 + Math.floor(s01 / 65536) + Math.floor(low / TWO32) + sx) >>> 0;
        s00 = low >>> 0;
        s01 = 0;
        s11 = 0;
        sx = hi;
      }
      const oi = oBase + 2 * (i * n + j);
      o[oi + LO] = s00;
      o[oi + HI] = sx;
    }
  }
}

/** Pack the logical (rows x cols) matrix stored in h (halves; stored transposed if trans) at word offset base into row-major halves at column offset col of a (rows x K) buffer. */
function packRows(
  h: Uint32Array, base: number, rows: number, cols: number, trans: boolean,
  dL: Uint32Array, dH: Uint32Array, K: number, col: number,
): void {
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const w = 2 * (base + (trans ? c * rows + r : r * cols + c));
      dL[r * K + col + c] = h[w + LO];
      dH[r * K + col + c] = h[w + HI];
    }
  }
}

/** Pack the logical (k x n) right operand as its transpose (n x K), at column offset col. */
function packCols(
  h: Uint32Array, base: number, k: number, n: number, trans: boolean,
  dL: Uint32Array, dH: Uint32Array, K: number, col: number,
): void {
  // transpose of a (k x n) matrix stored plainly = rows of length k, i.e. packRows of the (n x k) logical transpose
  packRows(h, base, n, k, !trans, dL, dH, K, col);
}

export function matmul(a: U64, b: U64, batch: number, m: number, k: number, n: number, transA: boolean, transB: boolean, out: U64): void {
  const ah = halves(a), bh = halves(b), o = halves(out);
  const lL = new Uint32Array(m * k), lH = new Uint32Array(m * k);
  const rL = new Uint32Array(n * k), rH = new Uint32Array(n * k);
  for (let t = 0; t < batch; t++) {
    packRows(ah, t * m * k, m, k, transA, lL, lH, k, 0);
    packCols(bh, t * k * n, k, n, transB, rL, rH, k, 0);
    dotAll(lL, lH, rL, rH, m, k, n, o, 2 * t * m * n);
  }
}

/** Z = X0 (Y0 + Y1) + X1 Y0 (+ mask), as one dot product over the concatenated inner dimension 2k. */
export function rssMatmul(
  x0: U64, x1: U64, y0: U64, y1: U64,
  batch: number, m: number, k: number, n: number, transA: boolean, transB: boolean,
  mask: U64 | undefined, out: U64,
): void {
  const K = 2 * k;
  const x0h = halves(x0), x1h = halves(x1), o = halves(out);
  const y01 = new BigUint64Array(y0.length);
  add(y0, y1, y01);
  const y01h = halves(y01), y0h = halves(y0);
  const lL = new Uint32Array(m * K), lH = new Uint32Array(m * K);
  const rL = new Uint32Array(n * K), rH = new Uint32Array(n * K);
  for (let t = 0; t < batch; t++) {
    packRows(x0h, t * m * k, m, k, transA, lL, lH, K, 0);
    packRows(x1h, t * m * k, m, k, transA, lL, lH, K, k);
    packCols(y01h, t * k * n, k, n, transB, rL, rH, K, 0);
    packCols(y0h, t * k * n, k, n, transB, rL, rH, K, k);
    dotAll(lL, lH, rL, rH, m, K, n, o, 2 * t * m * n);
  }
  if (mask !== undefined) {
    const mh = halves(mask);
    for (let i = 0; i < o.length; i += 2) {
      const lo = o[i + LO] + mh[i + LO];
      const hi = o[i + HI] + mh[i + HI] + (lo >= TWO32 ? 1 : 0);
      o[i + LO] = lo >>> 0;
      o[i + HI] = hi >>> 0;
    }
  }
}
