/** Twin: right shifts on 32-bit halves, left shift as a BigInt product (bits already checked to be in [0, 63]). */
import type { U64 } from '../api.js';
import { HI, LO, halves } from './words.js';

export function shr(a: U64, s: number, out: U64): void {
  const x = halves(a), o = halves(out);
  if (s === 0) { o.set(x); return; }
  for (let i = 0; i < o.length; i += 2) {
    const lo = x[i + LO], hi = x[i + HI];
    if (s < 32) {
      o[i + LO] = ((lo >>> s) | (hi << (32 - s))) >>> 0;
      o[i + HI] = hi >>> s;
    } else {
      o[i + LO] = hi >>> (s - 32);
      o[i + HI] = 0;
    }
  }
}

export function sar(a: U64, s: number, out: U64): void {
  const x = halves(a), o = halves(out);
  if (s === 0) { o.set(x); return; }
  for (let i = 0; i < o.length; i += 2) {
    const lo = x[i + LO], hi = x[i + HI] | 0;
    if (s < 32) {
      o[i + LO] = ((lo >>> s) | (hi << (32 - s))) >>> 0;
      o[i + HI] = (hi >> s) >>> 0;
    } else {
      o[i + LO] = (hi >> (s - 32)) >>> 0;
      o[i + HI] = (hi >> 31) >>> 0;
    }
  }
}

/** a << s mod 2^64 as a multiplication by 2^s (V8 lowers truncated BigInt products to machine code; shifts by a variable amount it does not) */
export function shl(a: U64, s: number, out: U64): void {
  const f = 1n << BigInt(s);
  for (let i = 0; i < out.length; i++) out[i] = a[i] * f;
}

/** -((-v) >>> s) mod 2^64 */
export function truncLo(a: U64, s: number, out: U64): void {
  const x = halves(a), o = halves(out);
  for (let i = 0; i < o.length; i += 2) {
    // n = -v
    let lo = -x[i + LO];
    let hi = (-x[i + HI] - (lo < 0 ? 1 : 0)) >>> 0;
    lo = lo >>> 0;
    // n >>>= s
    if (s >= 32) {
      lo = hi >>> (s - 32);
      hi = 0;
    } else if (s > 0) {
      lo = ((lo >>> s) | (hi << (32 - s))) >>> 0;
      hi = hi >>> s;
    }
    // -n
    const nl = -lo;
    o[i + LO] = nl >>> 0;
    o[i + HI] = (-hi - (nl < 0 ? 1 : 0)) >>> 0;
  }
}
