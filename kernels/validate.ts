/**
 * The validating front of every backend: checks types, lengths, shift ranges, seed length,
 * shapes and aliasing in TypeScript, allocates missing outputs, then calls the RawKernels
 * backend (which may assume well-formed arguments; the native one rechecks lengths anyway).
 *
 * Errors: TypeError for a wrong type, RangeError for a wrong length/shape/range/overlap.
 * Messages name the method and the argument.
 */
import type { EncodeResult, MatmulShape, RingKernels, U64 } from './api.js';
import type { RawKernels } from './raw.js';

const U64_MOD = 1n << 64n;

type View = ArrayBufferView;

function overlaps(a: View, b: View): boolean {
  if (a.buffer !== b.buffer || a.byteLength === 0 || b.byteLength === 0) return false;
  return a.byteOffset < b.byteOffset + b.byteLength && b.byteOffset < a.byteOffset + a.byteLength;
}

function sameRegion(a: View, b: View): boolean {
  return a.buffer === b.buffer && a.byteOffset === b.byteOffset && a.byteLength === b.byteLength;
}

function u64(method: string, name: string, v: unknown): U64 {
  if (!(v instanceof BigUint64Array)) throw new TypeError(`${method}: ${name} must be a BigUint64Array`);
  return v;
}

function sameLength(method: string, name: string, v: U64, n: number, ref: string): void {
  if (v.length !== n) throw new RangeError(`${method}: ${name} has length ${v.length}, expected ${n} (length of ${ref})`);
}

/** An elementwise output: allocated when missing; may be exactly an input, never partly overlap one. */
function elemOut(method: string, out: unknown, n: number, inputs: readonly View[]): U64 {
  if (out === undefined) return new BigUint64Array(n);
  const o = u64(method, 'out', out);
  if (o.length !== n) throw new RangeError(`${method}: out has length ${o.length}, expected ${n}`);
  for (const x of inputs) {
    if (overlaps(o, x) && !sameRegion(o, x)) throw new RangeError(`${method}: out partially overlaps an input (only exact aliasing is allowed)`);
  }
  return o;
}

/** An output that must not overlap any input (matmul, bit packing, typed outputs). */
function freshOut<T extends View & { length: number }>(
  method: string, out: T | undefined, n: number, inputs: readonly View[], make: (n: number) => T,
): T {
  if (out === undefined) return make(n);
  if (out.length !== n) throw new RangeError(`${method}: out has length ${out.length}, expected ${n}`);
  for (const x of inputs) {
    if (overlaps(out, x)) throw new RangeError(`${method}: out must not overlap an input`);
  }
  return out;
}

function shiftBits(method: string, name: string, bits: unknown): number {
  if (typeof bits !== 'number') throw new TypeError(`${method}: ${name} must be a number`);
  if (!Number.isInteger(bits) || bits < 0 || bits > 63) throw new RangeError(`${method}: ${name} must be an integer in [0, 63], got ${bits}`);
  return bits;
}

function scalar(method: string, s: unknown): bigint {
  if (typeof s !== 'bigint') throw new TypeError(`${method}: s must be a bigint`);
  return BigInt.asUintN(64, s);
}

function optMask(method: string, mask: unknown, n: number): U64 | undefined {
  if (mask === undefined) return undefined;
  const m = u64(method, 'mask', mask);
  sameLength(method, 'mask', m, n, 'the output');
  return m;
}

function dim(method: string, name: string, v: unknown): number {
  if (typeof v !== 'number') throw new TypeError(`${method}: shape.${name} must be a number`);
  if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`${method}: shape.${name} must be a non-negative integer, got ${v}`);
  return v;
}

interface Shape { batch: number; m: number; k: number; n: number; transA: boolean; transB: boolean }

function shapeOf(method: string, shape: unknown): Shape {
  if (typeof shape !== 'object' || shape === null) throw new TypeError(`${method}: shape must be an object`);
  const s = shape as MatmulShape;
  const m = dim(method, 'm', s.m), k = dim(method, 'k', s.k), n = dim(method, 'n', s.n);
  const batch = s.batch === undefined ? 1 : dim(method, 'batch', s.batch);
  for (const t of ['transA', 'transB'] as const) {
    if (s[t] !== undefined && typeof s[t] !== 'boolean') throw new TypeError(`${method}: shape.${t} must be a boolean`);
  }
  for (const [x, y, what] of [[m, k, 'm*k'], [k, n, 'k*n'], [m, n, 'm*n']] as const) {
    if (!Number.isSafeInteger(batch * x * y) || batch * x * y > 2 ** 32) throw new RangeError(`${method}: batch*${what} is too large`);
  }
  return { batch, m, k, n, transA: s.transA === true, transB: s.transB === true };
}

function fracBits(method: string, f: unknown): number {
  if (typeof f !== 'number') throw new TypeError(`${method}: f must be a number`);
  if (!Number.isInteger(f) || f < 0 || f > 63) throw new RangeError(`${method}: f must be an integer in [0, 63], got ${f}`);
  return f;
}

/** Wrap a backend with argument validation; the result is what loadKernels() hands out. */
export function validated(raw: RawKernels): RingKernels {
  const binary = (method: string, op: (a: U64, b: U64, out: U64) => void) =>
    (a: U64, b: U64, out?: U64): U64 => {
      u64(method, 'a', a);
      u64(method, 'b', b);
      sameLength(method, 'b', b, a.length, 'a');
      const o = elemOut(method, out, a.length, [a, b]);
      op(a, b, o);
      return o;
    };
  const unary = (method: string, op: (a: U64, out: U64) => void) =>
    (a: U64, out?: U64): U64 => {
      u64(method, 'a', a);
      const o = elemOut(method, out, a.length, [a]);
      op(a, o);
      return o;
    };
  const shift = (method: string, op: (a: U64, bits: number, out: U64) => void) =>
    (a: U64, bits: number, out?: U64): U64 => {
      u64(method, 'a', a);
      const s = shiftBits(method, 'bits', bits);
      const o = elemOut(method, out, a.length, [a]);
      op(a, s, o);
      return o;
    };
  const withScalar = (method: string, op: (a: U64, s: bigint, out: U64) => void) =>
    (a: U64, s: bigint, out?: U64): U64 => {
      u64(method, 'a', a);
      const v = scalar(method, s);
      const o = elemOut(method, out, a.length, [a]);
      op(a, v, o);
      return o;
    };
  const rss = (method: string, op: RawKernels['rssMul']) =>
    (x0: U64, x1: U64, y0: U64, y1: U64, mask?: U64, out?: U64): U64 => {
      u64(method, 'x0', x0);
      const n = x0.length;
      for (const [name, v] of [['x1', x1], ['y0', y0], ['y1', y1]] as const) sameLength(method, name, u64(method, name, v), n, 'x0');
      const mk = optMask(method, mask, n);
      const ins: View[] = [x0, x1, y0, y1];
      if (mk) ins.push(mk);
      const o = elemOut(method, out, n, ins);
      op(x0, x1, y0, y1, mk, o);
      return o;
    };

  return {
    backend: raw.backend,
    add: binary('add', raw.add),
    sub: binary('sub', raw.sub),
    mul: binary('mul', raw.mul),
    neg: unary('neg', raw.neg),
    mulScalar: withScalar('mulScalar', raw.mulScalar),
    addScalar: withScalar('addScalar', raw.addScalar),

    matmul(a: U64, b: U64, shape: MatmulShape, out?: U64): U64 {
      const method = 'matmul';
      u64(method, 'a', a);
      u64(method, 'b', b);
      const s = shapeOf(method, shape);
      sameLength(method, 'a', a, s.batch * s.m * s.k, 'batch*m*k');
      sameLength(method, 'b', b, s.batch * s.k * s.n, 'batch*k*n');
      if (out !== undefined) u64(method, 'out', out);
      const o = freshOut(method, out, s.batch * s.m * s.n, [a, b], (n) => new BigUint64Array(n));
      raw.matmul(a, b, s.batch, s.m, s.k, s.n, s.transA, s.transB, o);
      return o;
    },

    rssMul: rss('rssMul', raw.rssMul),

    rssMatmul(x0: U64, x1: U64, y0: U64, y1: U64, shape: MatmulShape, mask?: U64, out?: U64): U64 {
      const method = 'rssMatmul';
      const s = shapeOf(method, shape);
      const na = s.batch * s.m * s.k, nb = s.batch * s.k * s.n, no = s.batch * s.m * s.n;
      sameLength(method, 'x0', u64(method, 'x0', x0), na, 'batch*m*k');
      sameLength(method, 'x1', u64(method, 'x1', x1), na, 'batch*m*k');
      sameLength(method, 'y0', u64(method, 'y0', y0), nb, 'batch*k*n');
      sameLength(method, 'y1', u64(method, 'y1', y1), nb, 'batch*k*n');
      const mk = optMask(method, mask, no);
      if (out !== undefined) u64(method, 'out', out);
      const o = freshOut(method, out, no, mk ? [x0, x1, y0, y1, mk] : [x0, x1, y0, y1], (n) => new BigUint64Array(n));
      raw.rssMatmul(x0, x1, y0, y1, s.batch, s.m, s.k, s.n, s.transA, s.transB, mk, o);
      return o;
    },

    sar: shift('sar', raw.sar),
    shr: shift('shr', raw.shr),
    shl: shift('shl', raw.shl),
    truncHi: shift('truncHi', raw.shr),
    truncLo: shift('truncLo', raw.truncLo),

    encodeFixed(x: Float64Array, f: number, out?: U64): EncodeResult {
      const method = 'encodeFixed';
      if (!(x instanceof Float64Array)) throw new TypeError(`${method}: x must be a Float64Array`);
      const fb = fracBits(method, f);
      if (out !== undefined) u64(method, 'out', out);
      const o = freshOut(method, out, x.length, [x], (n) => new BigUint64Array(n));
      const [outOfRange, firstOutOfRange] = raw.encodeFixed(x, fb, o);
      return { values: o, outOfRange, firstOutOfRange };
    },

    decodeFixed(a: U64, f: number, out?: Float64Array): Float64Array {
      const method = 'decodeFixed';
      u64(method, 'a', a);
      const fb = fracBits(method, f);
      if (out !== undefined && !(out instanceof Float64Array)) throw new TypeError(`${method}: out must be a Float64Array`);
      const o = freshOut(method, out, a.length, [a], (n) => new Float64Array(n));
      raw.decodeFixed(a, fb, o);
      return o;
    },

    xor: binary('xor', raw.xor),
    and: binary('and', raw.and),
    or: binary('or', raw.or),
    not: unary('not', raw.not),
    rssAnd: rss('rssAnd', raw.rssAnd),

    popcount(a: U64, out?: Uint8Array): Uint8Array {
      const method = 'popcount';
      u64(method, 'a', a);
      if (out !== undefined && !(out instanceof Uint8Array)) throw new TypeError(`${method}: out must be a Uint8Array`);
      const o = freshOut(method, out, a.length, [a], (n) => new Uint8Array(n));
      raw.popcount(a, o);
      return o;
    },

    extractBit(a: U64, bit: number, out?: Uint8Array): Uint8Array {
      const method = 'extractBit';
      u64(method, 'a', a);
      const b = shiftBits(method, 'bit', bit);
      if (out !== undefined && !(out instanceof Uint8Array)) throw new TypeError(`${method}: out must be a Uint8Array`);
      const o = freshOut(method, out, a.length, [a], (n) => new Uint8Array(n));
      raw.extractBit(a, b, o);
      return o;
    },

    packBits(a: U64, bit: number, out?: U64): U64 {
      const method = 'packBits';
      u64(method, 'a', a);
      const b = shiftBits(method, 'bit', bit);
      if (out !== undefined) u64(method, 'out', out);
      const o = freshOut(method, out, Math.ceil(a.length / 64), [a], (n) => new BigUint64Array(n));
      raw.packBits(a, b, o);
      return o;
    },

    unpackBits(packed: U64, n: number, bit: number, out?: U64): U64 {
      const method = 'unpackBits';
      u64(method, 'packed', packed);
      if (typeof n !== 'number') throw new TypeError(`${method}: n must be a number`);
      if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`${method}: n must be a non-negative integer, got ${n}`);
      sameLength(method, 'packed', packed, Math.ceil(n / 64), 'ceil(n/64)');
      const b = shiftBits(method, 'bit', bit);
      if (out !== undefined) u64(method, 'out', out);
      const o = freshOut(method, out, n, [packed], (len) => new BigUint64Array(len));
      raw.unpackBits(packed, n, b, o);
      return o;
    },

    prgFill(seed: Uint8Array, counter: bigint, out: Uint8Array): Uint8Array {
      const method = 'prgFill';
      if (!(seed instanceof Uint8Array)) throw new TypeError(`${method}: seed must be a Uint8Array`);
      if (seed.length !== 16) throw new RangeError(`${method}: seed must be 16 bytes, got ${seed.length}`);
      if (typeof counter !== 'bigint') throw new TypeError(`${method}: counter must be a bigint`);
      if (counter < 0n || counter >= U64_MOD) throw new RangeError(`${method}: counter must be in [0, 2^64)`);
      if (!(out instanceof Uint8Array)) throw new TypeError(`${method}: out must be a Uint8Array`);
      if (overlaps(out, seed)) throw new RangeError(`${method}: out must not overlap seed`);
      raw.prgFill(seed, counter, out);
      return out;
    },
  };
}
