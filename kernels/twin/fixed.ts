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
  const o = halves(out);
  const scale = 2 ** f;
  let bad = 0;
  let first = -1;
  for (let i = 0; i < x.length; i++) {
    const r = roundHalfAway(x[i] * scale);
    let lo: number, hi: number;
    if (r >= -TWO63 && r < TWO63) {
      const mag = Math.abs(r);
      lo = mag % TWO32;
      hi = Math.floor(mag / TWO32);
      if (r < 0) {
        // two's complement negation of (hi:lo)
        const nl = -lo;
        hi = (-hi - (nl < 0 ? 1 : 0)) >>> 0;
        lo = nl >>> 0;
      }
    } else {
      if (bad === 0) first = i;
      bad++;
      if (Number.isNaN(r)) { lo = 0; hi = 0; }
      else if (r > 0) { lo = 0xffffffff; hi = 0x7fffffff; }
      else { lo = 0; hi = 0x80000000; }
    }
    o[2 * i + LO] = lo;
    o[2 * i + HI] = hi;
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
      out[i] = Number(BigInt.asIntN(64, a[i])) / scale;
    }
  }
}
