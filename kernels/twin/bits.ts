/** Twin: boolean words. Bitwise ops with BigInt (stores reduce mod 2^64); bit-indexed ops on 32-bit halves. */
import type { U64 } from '../api.js';
import { HI, LO, halves } from './words.js';

export function xor(a: U64, b: U64, out: U64): void {
  for (let i = 0; i < out.length; i++) out[i] = a[i] ^ b[i];
}

export function and(a: U64, b: U64, out: U64): void {
  for (let i = 0; i < out.length; i++) out[i] = a[i] & b[i];
}

export function or(a: U64, b: U64, out: U64): void {
  for (let i = 0; i < out.length; i++) out[i] = a[i] | b[i];
}

export function not(a: U64, out: U64): void {
  const ones = 0xffffffffffffffffn;
  for (let i = 0; i < out.length; i++) out[i] = a[i] ^ ones;
}

function popcount32(v: number): number {
  v = v - ((v >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24);
}

export function popcount(a: U64, out: Uint8Array): void {
  const x = halves(a);
  for (let i = 0; i < out.length; i++) out[i] = popcount32(x[2 * i]) + popcount32(x[2 * i + 1]);
}

export function extractBit(a: U64, bit: number, out: Uint8Array): void {
  const x = halves(a);
  const off = bit < 32 ? LO : HI;
  const s = bit & 31;
  for (let i = 0; i < out.length; i++) out[i] = (x[2 * i + off] >>> s) & 1;
}

export function packBits(a: U64, bit: number, out: U64): void {
  const x = halves(a), o = halves(out);
  const off = bit < 32 ? LO : HI;
  const s = bit & 31;
  const n = a.length;
  for (let w = 0; w < out.length; w++) {
    let lo = 0, hi = 0;
    const end = Math.min(64, n - 64 * w);
    for (let j = 0; j < end; j++) {
      const b = (x[2 * (64 * w + j) + off] >>> s) & 1;
      if (j < 32) lo |= b << j;
      else hi |= b << (j - 32);
    }
    o[2 * w + LO] = lo >>> 0;
    o[2 * w + HI] = hi >>> 0;
  }
}

export function unpackBits(packed: U64, n: number, bit: number, out: U64): void {
  const p = halves(packed), o = halves(out);
  const off = bit < 32 ? LO : HI;
  const s = bit & 31;
  for (let i = 0; i < n; i++) {
    const w = i >>> 6, j = i & 63;
    const b = (p[2 * w + (j < 32 ? LO : HI)] >>> (j & 31)) & 1;
    o[2 * i + LO] = 0;
    o[2 * i + HI] = 0;
    o[2 * i + off] = (b << s) >>> 0;
  }
}
