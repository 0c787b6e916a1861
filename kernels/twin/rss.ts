/** Twin: the replicated-sharing products, elementwise (arithmetic and boolean). */
import type { U64 } from '../api.js';
import { HI, LO, TWO32, halves, mul64 } from './words.js';

/** z = x0*y0 + x0*y1 + x1*y0 (+ mask) = x0*(y0+y1) + x1*y0 (+ mask) mod 2^64 */
export function rssMul(x0: U64, x1: U64, y0: U64, y1: U64, mask: U64 | undefined, out: U64): void {
  const a = halves(x0), b = halves(x1), c = halves(y0), d = halves(y1), o = halves(out);
  const mh = mask === undefined ? undefined : halves(mask);
  const t = new Uint32Array(4);
  for (let i = 0; i < o.length; i += 2) {
    const cL = c[i + LO], cH = c[i + HI];
    const sL = cL + d[i + LO];
    const sH = (cH + d[i + HI] + (sL >= TWO32 ? 1 : 0)) >>> 0;
    mul64(t, 0, a[i + LO], a[i + HI], sL >>> 0, sH);
    mul64(t, 2, b[i + LO], b[i + HI], cL, cH);
    let lo = t[LO] + t[2 + LO];
    let hi = t[HI] + t[2 + HI];
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
