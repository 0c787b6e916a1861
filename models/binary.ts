/**
 * Little-endian binary helpers for the file loaders: float arrays out of (possibly
 * unaligned) byte ranges, and f16 / bf16 <-> f32 conversion.
 */

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** Copies `n` little-endian float32 values starting at byte `offset` of `bytes`. */
export function readF32(bytes: Uint8Array, offset: number, n: number): Float32Array {
  const start = bytes.byteOffset + offset;
  if (LITTLE_ENDIAN_HOST) {
    if (start % 4 === 0) return new Float32Array(bytes.buffer, start, n).slice();
    const out = new Float32Array(n);
    new Uint8Array(out.buffer).set(bytes.subarray(offset, offset + 4 * n));
    return out;
  }
  const dv = new DataView(bytes.buffer, start, 4 * n);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = dv.getFloat32(4 * i, true);
  return out;
}

/** Copies `n` little-endian float64 values (narrowed to float32). */
export function readF64AsF32(bytes: Uint8Array, offset: number, n: number): Float32Array {
  const dv = new DataView(bytes.buffer, bytes.byteOffset + offset, 8 * n);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = dv.getFloat64(8 * i, true);
  return out;
}

function readU16(bytes: Uint8Array, offset: number, n: number): Uint16Array {
  const out = new Uint16Array(n);
  for (let i = 0, j = offset; i < n; i++, j += 2) out[i] = bytes[j] | (bytes[j + 1] << 8);
  return out;
}

const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);

/** IEEE half -> float (exact). */
export function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m === 0 ? s * Infinity : NaN;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/** float -> IEEE half, round to nearest even (overflow -> Infinity). */
export function floatToHalf(x: number): number {
  f32Scratch[0] = x;
  const b = u32Scratch[0];
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  const mant = b & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    const m = mant | 0x800000;
    const shift = 14 - e;
    let hm = m >>> shift;
    const rem = m & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rem > halfway || (rem === halfway && hm & 1)) hm++;
    return sign | hm;
  }
  let h = sign | (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h++;
  return h;
}

/** bfloat16 bits -> float (exact). */
export function bf16ToFloat(h: number): number {
  u32Scratch[0] = (h & 0xffff) << 16;
  return f32Scratch[0];
}

/** float -> bfloat16 bits, round to nearest even (NaN stays NaN). */
export function floatToBf16(x: number): number {
  f32Scratch[0] = x;
  const b = u32Scratch[0];
  if ((b & 0x7f800000) === 0x7f800000 && b & 0x7fffff) return ((b >>> 16) | 0x40) & 0xffff;
  const r = b + 0x7fff + ((b >>> 16) & 1);
  return (r >>> 16) & 0xffff;
}

/** Reads `n` little-endian f16 values as float32. */
export function readF16(bytes: Uint8Array, offset: number, n: number): Float32Array {
  const u = readU16(bytes, offset, n);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = halfToFloat(u[i]);
  return out;
}

/** Reads `n` little-endian bf16 values as float32. */
export function readBf16(bytes: Uint8Array, offset: number, n: number): Float32Array {
  const u = readU16(bytes, offset, n);
  const out = new Float32Array(n);
  const ob = new Uint32Array(out.buffer);
  for (let i = 0; i < n; i++) ob[i] = u[i] << 16;
  return out;
}

/** Rounds every value to the nearest bf16 (the values a bf16 file would store). */
export function roundToBf16(a: Float32Array): Float32Array {
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = bf16ToFloat(floatToBf16(a[i]));
  return out;
}

/** Rounds every value to the nearest f16. */
export function roundToF16(a: Float32Array): Float32Array {
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = halfToFloat(floatToHalf(a[i]));
  return out;
}

/** Little-endian bytes of float32 values. */
export function f32Bytes(a: Float32Array): Uint8Array {
  if (LITTLE_ENDIAN_HOST) return new Uint8Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength));
  const out = new Uint8Array(a.length * 4);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < a.length; i++) dv.setFloat32(4 * i, a[i], true);
  return out;
}

/** Little-endian bytes of 16-bit codes produced by `conv` (floatToHalf or floatToBf16). */
export function u16Bytes(a: Float32Array, conv: (x: number) => number): Uint8Array {
  const out = new Uint8Array(a.length * 2);
  for (let i = 0; i < a.length; i++) {
    const h = conv(a[i]);
    out[2 * i] = h & 0xff;
    out[2 * i + 1] = h >>> 8;
  }
  return out;
}

/** The arrays one after the other in a new array made by `make(total length)`. */
export function joinArrays<T extends Float32Array | Uint8Array>(parts: readonly T[], make: (n: number) => T): T {
  const out = make(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
