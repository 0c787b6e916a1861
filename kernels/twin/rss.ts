/** Twin: the replicated-sharing products, elementwise (arithmetic and boolean). */
import type { U64 } from '../api.js';
import { HI, LO, TWO32, halves, mulHi32 } from './words.js';

/** z = x0*y0 + x0*y1 + x1*y0 (+ mask) = x0*(y0+y1) + x1*y0 (+ mask) mod 2^64 */
export function rssMul(x0: U64, x1: U64, y0: U64, y1: U64, mask: U64 | undefined, out: U64): void {
  const a = halves(x0), b = halves(x1), c = halves(y0), d = halves(y1), o = halves(out);
  const mh = mask === undefined ? undefined : halves(mask);
  for (let i = 0; i < o.length; i += 2) {
    const aL = a[i + LO], aH = a[i + HI], bL = b[i + LO], bH = b[i + HI];
    const cL = c[i + LO], cH = c[i + HI];
    const s = cL + d[i + LO];
    const sL = s >>> 0;
    const sH = (cH + d[i + HI] + (s >= TWO32 ? 1 : 0)) >>> 0;
    // x0*(y0+y1) and x1*y0, low halves as uint32, high halves mod 2^32
    const p1L = Math.imul(aL, sL) >>> 0;
    const p2L = Math.imul(bL, cL) >>> 0;
    let lo = p1L + p2L;
    let hi = mulHi32(aL, sL) + Math.imul(aH, sL) + Math.imul(aL, sH) + mulHi32(bL, cL) + Math.imul(bH, cL) + Math.imul(bL, cH);
    if (mh !== undefined) {
      lo += mh[i + LO];
      hi += mh[i + HI];
    }
    o[i + LO] = lo >>> 0;
    o[i + HI] = (hi + Math.floor(lo / TWO32)) >>> 0;
  }
}

/** z = (x0&y0) ^ (x0&y1) ^ (x1&y0) (^ mask) = (x0 & (y0^y1)) ^ (x1 & y0) (^ mask) */
export function rssAnd(x0: U64, x1: U64, y0: U64, y1: U64, mask: U64 | undefined, out: U64): void {
  const a = halves(x0), b = halves(x1), c = halves(y0), d = halves(y1), o = halves(out);
  if (mask === undefined) {
    for (let i = 0; i < o.length; i++) o[i] = (a[i] & (c[i] ^ d[i])) ^ (b[i] & c[i]);
  } else {
    const mh = halves(mask);
    for (let i = 0; i < o.length; i++) o[i] = (a[i] & (c[i] ^ d[i])) ^ (b[i] & c[i]) ^ mh[i];
  }
}
