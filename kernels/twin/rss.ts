/** Twin: the replicated-sharing products, elementwise (arithmetic and boolean), with BigInt (see arith.ts). */
import type { U64 } from '../api.js';

/** z = x0*y0 + x0*y1 + x1*y0 (+ mask) = x0*(y0+y1) + x1*y0 (+ mask) mod 2^64 */
export function rssMul(x0: U64, x1: U64, y0: U64, y1: U64, mask: U64 | undefined, out: U64): void {
  if (mask === undefined) {
    for (let i = 0; i < out.length; i++) out[i] = x0[i] * (y0[i] + y1[i]) + x1[i] * y0[i];
  } else {
    for (let i = 0; i < out.length; i++) out[i] = x0[i] * (y0[i] + y1[i]) + x1[i] * y0[i] + mask[i];
  }
}

/** z = (x0&y0) ^ (x0&y1) ^ (x1&y0) (^ mask) = (x0 & (y0^y1)) ^ (x1 & y0) (^ mask) */
export function rssAnd(x0: U64, x1: U64, y0: U64, y1: U64, mask: U64 | undefined, out: U64): void {
  if (mask === undefined) {
    for (let i = 0; i < out.length; i++) out[i] = (x0[i] & (y0[i] ^ y1[i])) ^ (x1[i] & y0[i]);
  } else {
    for (let i = 0; i < out.length; i++) out[i] = (x0[i] & (y0[i] ^ y1[i])) ^ (x1[i] & y0[i]) ^ mask[i];
  }
}
