/**
 * The ring-kernel API: local arithmetic mod 2^64 on BigUint64Array and bitwise work on
 * 64-bit boolean words. No protocol knowledge, no I/O.
 *
 * Two backends implement this interface with bit-identical results:
 *  - `native`: the C++ addon (node-addon-api), built by node-gyp at `npm install`;
 *  - `twin`: pure TypeScript, always available.
 * `kernels/index.ts` picks one (native when it loads, twin otherwise or when
 * MPCACHE_NO_NATIVE=1) and validates every argument before calling the backend.
 *
 * Conventions for every method:
 *  - Arrays are BigUint64Array (ring elements / boolean words) unless said otherwise.
 *  - `out` is an optional output array; when omitted a new array is allocated and returned.
 *    `out` may alias an input for elementwise kernels (in place), never for matmul.
 *  - Lengths must match exactly; mismatches throw RangeError before any native call.
 *  - Matrices are row-major. `transA`/`transB` mean the stored operand is the transpose:
 *    with transA, `a` is stored as (k x m); with transB, `b` is stored as (n x k).
 *  - Batched matmul: `batch` independent products stored back to back.
 */
export interface MatmulShape {
  /** rows of the (logical) left operand and of the output */
  readonly m: number;
  /** inner dimension */
  readonly k: number;
  /** columns of the (logical) right operand and of the output */
  readonly n: number;
  /** number of independent products stored back to back (default 1) */
  readonly batch?: number;
  /** `a` is stored transposed, as (k x m) */
  readonly transA?: boolean;
  /** `b` is stored transposed, as (n x k) */
  readonly transB?: boolean;
}

export type U64 = BigUint64Array;

/** Result of fixed-point encoding: the ring elements and how many inputs did not fit. */
export interface EncodeResult {
  readonly values: U64;
  /** number of inputs that were non-finite or outside the representable range (they are clamped, never wrapped) */
  readonly outOfRange: number;
  /** index of the first out-of-range input, or -1 */
  readonly firstOutOfRange: number;
}

export interface RingKernels {
  /** Which backend this is. */
  readonly backend: 'native' | 'twin';

  // ---- arithmetic mod 2^64, elementwise ----
  add(a: U64, b: U64, out?: U64): U64;
  sub(a: U64, b: U64, out?: U64): U64;
  neg(a: U64, out?: U64): U64;
  mul(a: U64, b: U64, out?: U64): U64;
  /** a * s mod 2^64 for a public scalar s (given as bigint, taken mod 2^64) */
  mulScalar(a: U64, s: bigint, out?: U64): U64;
  /** a + s mod 2^64 for a public scalar s */
  addScalar(a: U64, s: bigint, out?: U64): U64;

  // ---- matmul mod 2^64 ----
  /** (m x k)(k x n) mod 2^64, cache-blocked; out has batch*m*n elements */
  matmul(a: U64, b: U64, shape: MatmulShape, out?: U64): U64;

  // ---- the replicated-sharing product (hot loop of every secure multiplication) ----
  /** z = x0*y0 + x0*y1 + x1*y0 (+ mask) elementwise, one pass */
  rssMul(x0: U64, x1: U64, y0: U64, y1: U64, mask?: U64, out?: U64): U64;
  /** Z = X0 Y0 + X0 Y1 + X1 Y0 (+ mask) as matrices with the given shape; one pass over k */
  rssMatmul(x0: U64, x1: U64, y0: U64, y1: U64, shape: MatmulShape, mask?: U64, out?: U64): U64;

  // ---- shifts and truncation helpers ----
  /** signed (arithmetic) shift right by `bits` (0..63), two's complement */
  sar(a: U64, bits: number, out?: U64): U64;
  /** logical shift right by `bits` (0..63) */
  shr(a: U64, bits: number, out?: U64): U64;
  /** shift left by `bits` (0..63) */
  shl(a: U64, bits: number, out?: U64): U64;
  /** SecureML's trunc_hi: v >> f as unsigned (logical) — same as shr, named for protocols */
  truncHi(a: U64, f: number, out?: U64): U64;
  /** SecureML's trunc_lo: -((-v) >> f) with logical shift */
  truncLo(a: U64, f: number, out?: U64): U64;

  // ---- fixed point ----
  /** round(x * 2^f) as two's complement; non-finite / out-of-range inputs are clamped and counted */
  encodeFixed(x: Float64Array, f: number, out?: U64): EncodeResult;
  /** signed value / 2^f */
  decodeFixed(a: U64, f: number, out?: Float64Array): Float64Array;

  // ---- boolean words (64 bits each) ----
  xor(a: U64, b: U64, out?: U64): U64;
  and(a: U64, b: U64, out?: U64): U64;
  or(a: U64, b: U64, out?: U64): U64;
  not(a: U64, out?: U64): U64;
  /** boolean replicated AND: z = (x0&y0) ^ (x0&y1) ^ (x1&y0) (^ mask) */
  rssAnd(x0: U64, x1: U64, y0: U64, y1: U64, mask?: U64, out?: U64): U64;
  /** population count of each word, into a Uint8Array */
  popcount(a: U64, out?: Uint8Array): Uint8Array;
  /** bit `bit` (0..63) of each word, as 0/1 in a Uint8Array */
  extractBit(a: U64, bit: number, out?: Uint8Array): Uint8Array;
  /**
   * Pack bit `bit` of each of the n input words into ceil(n/64) words: bit j of word w is
   * bit `bit` of element 64*w + j. Unused high bits are zero.
   */
  packBits(a: U64, bit: number, out?: U64): U64;
  /** Inverse of packBits for n elements: element i gets (bit i%64 of word i/64) << `bit`, other bits 0 */
  unpackBits(packed: U64, n: number, bit: number, out?: U64): U64;

  // ---- PRG ----
  /**
   * Fill `out` with AES-128-CTR keystream: key = seed (16 bytes), counter block =
   * 64-bit big-endian zero high half || 64-bit big-endian `counter` low half, incremented per
   * 16-byte block (as a 128-bit big-endian integer). Identical streams in both backends.
   * Returns `out`. `out.byteLength` need not be a multiple of 16 (the tail block is truncated).
   */
  prgFill(seed: Uint8Array, counter: bigint, out: Uint8Array): Uint8Array;
}
