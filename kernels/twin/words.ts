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

/**
 * (aH:aL) * (bH:bL) mod 2^64, written to o[oi+LO], o[oi+HI].
 * The low x low product is split into 16-bit pieces so every intermediate is an exact double.
 */
export function mul64(o: Uint32Array, oi: number, aL: number, aH: number, bL: number, bH: number): void {
  const a0 = aL & 0xffff;
  const a1 = aL >>> 16;
  const b0 = bL & 0xffff;
  const b1 = bL >>> 16;
  const mid = a0 * b1 + a1 * b0; // < 2^33
  const low = a0 * b0 + (mid % 65536) * 65536; // < 2^33
  o[oi + LO] = low >>> 0;
  o[oi + HI] = (a1 * b1 + Math.floor(mid / 65536) + Math.floor(low / TWO32) + Math.imul(aH, bL) + Math.imul(aL, bH)) >>> 0;
}
