/**
 * 64-bit words as pairs of 32-bit halves, for the twin kernels that work bit- or
 * half-wise (popcount, bit extraction and packing, fixed-point encoding). `halves(a)` views a
 * BigUint64Array as a Uint32Array; word i's low half is at 2i+LO, its high half at 2i+HI
 * (platform endianness).
 */
export const LO = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1 ? 0 : 1;
export const HI = 1 - LO;

export const TWO32 = 4294967296;

export function halves(a: BigUint64Array): Uint32Array {
  return new Uint32Array(a.buffer, a.byteOffset, a.length * 2);
}
