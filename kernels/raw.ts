/**
 * The backend contract below the validating wrapper (kernels/validate.ts).
 *
 * A RawKernels implementation (the C++ addon or the TypeScript twin) receives arguments that
 * have already been checked: types, lengths, shift ranges, seed length, shapes, aliasing.
 * Every output array is supplied by the caller (already allocated with the right length),
 * scalars are reduced mod 2^64, shapes are normalised (batch filled in). Backends write
 * into `out` and return nothing (encodeFixed returns its out-of-range count).
 *
 * Both backends must produce bit-identical results for every input.
 *
 * KERNEL_NAMES is the one list of the backend functions: the native loader checks the addon
 * exports each of them, and both backends are assembled from it (pickKernels); the compiler
 * checks it names exactly the functions of RawKernels.
 */
import type { U64 } from './api.js';

export interface RawKernels {
  readonly backend: 'native' | 'twin';

  add(a: U64, b: U64, out: U64): void;
  sub(a: U64, b: U64, out: U64): void;
  neg(a: U64, out: U64): void;
  mul(a: U64, b: U64, out: U64): void;
  /** s already in [0, 2^64) */
  mulScalar(a: U64, s: bigint, out: U64): void;
  /** s already in [0, 2^64) */
  addScalar(a: U64, s: bigint, out: U64): void;

  /** out (batch*m*n) must not overlap a or b */
  matmul(a: U64, b: U64, batch: number, m: number, k: number, n: number, transA: boolean, transB: boolean, out: U64): void;

  rssMul(x0: U64, x1: U64, y0: U64, y1: U64, mask: U64 | undefined, out: U64): void;
  rssMatmul(
    x0: U64, x1: U64, y0: U64, y1: U64,
    batch: number, m: number, k: number, n: number, transA: boolean, transB: boolean,
    mask: U64 | undefined, out: U64,
  ): void;

  /** bits in [0, 63] for all shifts */
  sar(a: U64, bits: number, out: U64): void;
  shr(a: U64, bits: number, out: U64): void;
  shl(a: U64, bits: number, out: U64): void;
  truncLo(a: U64, bits: number, out: U64): void;

  /** returns [outOfRange, firstOutOfRange] */
  encodeFixed(x: Float64Array, f: number, out: U64): [number, number];
  decodeFixed(a: U64, f: number, out: Float64Array): void;

  xor(a: U64, b: U64, out: U64): void;
  and(a: U64, b: U64, out: U64): void;
  or(a: U64, b: U64, out: U64): void;
  not(a: U64, out: U64): void;
  rssAnd(x0: U64, x1: U64, y0: U64, y1: U64, mask: U64 | undefined, out: U64): void;
  popcount(a: U64, out: Uint8Array): void;
  extractBit(a: U64, bit: number, out: Uint8Array): void;
  /** out has ceil(a.length/64) words */
  packBits(a: U64, bit: number, out: U64): void;
  /** out has n words; packed has ceil(n/64) words */
  unpackBits(packed: U64, n: number, bit: number, out: U64): void;

  /** seed is 16 bytes; counter in [0, 2^64) */
  prgFill(seed: Uint8Array, counter: bigint, out: Uint8Array): void;
}

/** The backend functions, by name (the one list; see the file header). */
export const KERNEL_NAMES = [
  'add', 'sub', 'neg', 'mul', 'mulScalar', 'addScalar', 'matmul', 'rssMul', 'rssMatmul',
  'sar', 'shr', 'shl', 'truncLo', 'encodeFixed', 'decodeFixed',
  'xor', 'and', 'or', 'not', 'rssAnd', 'popcount', 'extractBit', 'packBits', 'unpackBits', 'prgFill',
] as const;

export type KernelName = (typeof KERNEL_NAMES)[number];
export type KernelFunctions = Omit<RawKernels, 'backend'>;

// compile-time check: KERNEL_NAMES names exactly the functions of RawKernels
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const namesMatch: Same<KernelName, keyof KernelFunctions> = true;
void namesMatch;

/** The KERNEL_NAMES functions of `src` (a module namespace, an addon), and nothing else. */
export function pickKernels(src: KernelFunctions): KernelFunctions {
  const out: Partial<Record<KernelName, unknown>> = {};
  for (const name of KERNEL_NAMES) out[name] = src[name];
  return out as KernelFunctions;
}
