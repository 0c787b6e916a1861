/** Twin: elementwise arithmetic mod 2^64 on 32-bit halves. Inputs are read before out[i] is written, so exact aliasing is safe. */
import type { U64 } from '../api.js';
import { HI, LO, TWO32, halves, mul64 } from './words.js';

export function add(a: U64, b: U64, out: U64): void {
  const x = halves(a), y = halves(b), o = halves(out);
  for (let i = 0; i < o.length; i += 2) {
    const lo = x[i + LO] + y[i + LO];
    const hi = x[i + HI] + y[i + HI] + (lo >= TWO32 ? 1 : 0);
    o[i + LO] = lo >>> 0;
    o[i + HI] = hi >>> 0;
  }
}

export function sub(a: U64, b: U64, out: U64): void {
  const x = halves(a), y = halves(b), o = halves(out);
  for (let i = 0; i < o.length; i += 2) {
    const lo = x[i + LO] - y[i + LO];
    const hi = x[i + HI] - y[i + HI] - (lo < 0 ? 1 : 0);
    o[i + LO] = lo >>> 0;
    o[i + HI] = hi >>> 0;
  }
}

export function neg(a: U64, out: U64): void {
  const x = halves(a), o = halves(out);
  for (let i = 0; i < o.length; i += 2) {
    const lo = -x[i + LO];
    const hi = -x[i + HI] - (lo < 0 ? 1 : 0);
    o[i + LO] = lo >>> 0;
    o[i + HI] = hi >>> 0;
  }
}

export function mul(a: U64, b: U64, out: U64): void {
  const x = halves(a), y = halves(b), o = halves(out);
  for (let i = 0; i < o.length; i += 2) {
    mul64(o, i, x[i + LO], x[i + HI], y[i + LO], y[i + HI]);
  }
}

export function mulScalar(a: U64, s: bigint, out: U64): void {
  const x = halves(a), o = halves(out);
  const sL = Number(s & 0xffffffffn), sH = Number(s >> 32n);
  for (let i = 0; i < o.length; i += 2) {
    mul64(o, i, x[i + LO], x[i + HI], sL, sH);
  }
}

export function addScalar(a: U64, s: bigint, out: U64): void {
  const x = halves(a), o = halves(out);
  const sL = Number(s & 0xffffffffn), sH = Number(s >> 32n);
  for (let i = 0; i < o.length; i += 2) {
    const lo = x[i + LO] + sL;
    const hi = x[i + HI] + sH + (lo >= TWO32 ? 1 : 0);
    o[i + LO] = lo >>> 0;
    o[i + HI] = hi >>> 0;
  }
}
