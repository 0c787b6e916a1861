/**
 * Twin: fixed-point encode/decode with f fractional bits.
 *
 * encode: v = x * 2^f (exact: scaling by a power of two), rounded to nearest with ties away
 * from zero (C's round()). A result outside [-2^63, 2^63) or a non-finite input is counted
 * and clamped: NaN -> 0, too large / +Inf -> 2^63-1, too small / -Inf -> -2^63.
 * decode: the signed (two's complement) value converted to the nearest double (ties to
 * even, as both ECMAScript Number(bigint) and the C++ int64 -> double conversion do), then
 * divided by 2^f (exact).
 */
import type { U64 } from '../api.js';
import { HI, LO, TWO32, halves } from './words.js';

const TWO63 = 9223372036854775808;

/** C round(): nearest, ties away from zero (exact: v - trunc(v) is exact for doubles) */
export function roundHalfAway(v: number): number {
  const t = Math.trunc(v);
  const d = v - t;
  if (d >= 0.5) return t + 1;
  if (d <= -0.5) return t - 1;
  return t;
}

export function encodeFixed(x: Float64Array, f: number, out: U64): [number, number] {
  const u = halves(out);
  const s = new Int32Array(out.buffer, out.byteOffset, out.length * 2);
  const scale = 2 ** f;
  let bad = 0;
  let first = -1;
  for (let i = 0; i < x.length; i++) {
    const r = roundHalfAway(x[i] * scale);
    if (r >= -TWO63 && r < TWO63) {
      // r = hi * 2^32 + lo with hi signed, 0 <= lo < 2^32; both steps are exact for integer doubles
      const hi = Math.floor(r / TWO32);
      s[2 * i + HI] = hi;
      u[2 * i + LO] = r - hi * TWO32;
    } else {
      if (bad === 0) first = i;
      bad++;
      if (Number.isNaN(r)) {
        u[2 * i + LO] = 0;
        u[2 * i + HI] = 0;
      } else if (r > 0) {
        u[2 * i + LO] = 0xffffffff;
        u[2 * i + HI] = 0x7fffffff;
      } else {
        u[2 * i + LO] = 0;
        u[2 * i + HI] = 0x80000000;
      }
    }
  }
  return [bad, first];
}

export function decodeFixed(a: U64, f: number, out: Float64Array): void {
  const h = halves(a);
  const scale = 2 ** f;
  for (let i = 0; i < out.length; i++) {
    const hi = h[2 * i + HI] | 0;
    if (hi >= -0x200000 && hi < 0x200000) {
      out[i] = (hi * TWO32 + h[2 * i + LO]) / scale; // |value| < 2^53: exact
    } else {
      out[i] = Number(BigInt.asIntN(64, a[i])) / scale; // one rounding to nearest, ties to even
    }
  }
}
