/**
 * 64-bit words as pairs of 32-bit halves, so the twin can do ring arithmetic with plain
 * JavaScript numbers instead of (slow) BigInt. `halves(a)` views a BigUint64Array as a
 * Uint32Array; word i's low half is at 2i+LO, its high half at 2i+HI (platform endianness).
 */
export const LO = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1 ? 0 : 1;
export const HI = 1 - LO;

export const TWO32 = 4294967296;

export function halves(a: BigUint64Array): Uint32Array {
  return new Uint32Array(a.buffer, a.byteOffset, a.length * 2);
}

/** High 32 bits of the 64-bit product of two uint32 values (16-bit pieces keep every step exact). */
export function mulHi32(a: number, b: number): number {
  const a0 = a & 0xffff, a1 = a >>> 16, b0 = b & 0xffff, b1 = b >>> 16;
  const u = a1 * b0 + ((a0 * b0) >>> 16); // < 2^32 + 2^16
  const v = a0 * b1 + (u % 65536); // < 2^32
  return a1 * b1 + Math.floor(u / 65536) + Math.floor(v / 65536);
}

/**
 * (aH:aL) * (bH:bL) mod 2^64, written to o[oi+LO], o[oi+HI]: the low half is imul's exact
 * low 32 bits, the high half adds the cross terms mod 2^32.
 */
export function mul64(o: Uint32Array, oi: number, aL: number, aH: number, bL: number, bH: number): void {
  o[oi + LO] = Math.imul(aL, bL);
  o[oi + HI] = mulHi32(aL, bL) + Math.imul(aH, bL) + Math.imul(aL, bH);
}
