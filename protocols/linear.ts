/**
 * Local (0-round) operations on arithmetic shares: they act on each party's two components
 * separately, so nothing is sent and nothing is revealed. A public value enters through
 * component x0 only (held by parties 0 and 2), so that it is added exactly once.
 * The one exception is mulPublicFloat, which multiplies by an encoded real and truncates
 * (one round, see mul.ts/trunc for what that message reveals: nothing).
 *
 * Broadcasting: a public operand may have the full size of x, the size of x's last axis
 * (broadcast over the leading axes) or size 1.
 */
import type { U64 } from '../kernels/api.js';
import type { Context } from './context.js';
import { trunc } from './mul.js';
import { aScale, encodeValues } from './sharing.js';
import { ArithShare, PublicTensor, type Shape, sameShape, shapeSize, anArith } from './types.js';

function sameScale(x: ArithShare, y: ArithShare, label: string): void {
  if (x.scale !== y.scale) throw new RangeError(`${label}: scales differ (${x.scale} vs ${y.scale})`);
}

function sameShapes(x: ArithShare, y: ArithShare, label: string): void {
  if (!sameShape(x.shape, y.shape)) throw new RangeError(`${label}: shapes differ ([${x.shape.join(',')}] vs [${y.shape.join(',')}])`);
}

function lastDim(shape: Shape): number {
  return shape.length === 0 ? 1 : shape[shape.length - 1];
}

/** Ones vector (for sums and broadcasts done as kernel matmuls). */
function ones(n: number): U64 {
  return new BigUint64Array(n).fill(1n);
}

/**
 * Expand public ring elements to `n` elements of a tensor with last axis `last`:
 * full size (as is), one per position of the last axis (tiled over rows), or one value.
 */
export function expandPublic(ctx: Context, data: U64, n: number, last: number, label: string): U64 {
  if (data.length === n) return data;
  if (data.length === 1) return new BigUint64Array(n).fill(data[0]);
  if (last > 0 && data.length === last && n % last === 0) {
    const rows = n / last;
    return ctx.k.matmul(ones(rows), data, { m: rows, k: 1, n: last });
  }
  throw new RangeError(`${label}: public operand has ${data.length} elements; need ${n}, ${last} (last axis) or 1`);
}

/** Component-wise x op y of two shares of the same shape and scale (add, sub). */
function componentwise(ctx: Context, x: ArithShare, y: ArithShare, op: 'add' | 'sub'): ArithShare {
  anArith(x, `${op}: x`);
  anArith(y, `${op}: y`);
  sameShapes(x, y, op);
  sameScale(x, y, op);
  return new ArithShare(x.shape, ctx.k[op](x.s0, y.s0), ctx.k[op](x.s1, y.s1), x.scale);
}

/** x + y (scales must match) */
export function add(ctx: Context, x: ArithShare, y: ArithShare): ArithShare {
  return componentwise(ctx, x, y, 'add');
}

/** x - y (scales must match) */
export function sub(ctx: Context, x: ArithShare, y: ArithShare): ArithShare {
  return componentwise(ctx, x, y, 'sub');
}

/** -x */
export function neg(ctx: Context, x: ArithShare): ArithShare {
  anArith(x, 'neg: x');
  return new ArithShare(x.shape, ctx.k.neg(x.s0), ctx.k.neg(x.s1), x.scale);
}

function publicData(ctx: Context, x: ArithShare, p: PublicTensor | number, label: string): U64 {
  if (typeof p === 'number') return encodeValues(ctx, new Float64Array([p]), x.scale, 1, label);
  if (!(p instanceof PublicTensor)) throw new TypeError(`${label}: p must be a PublicTensor or a number`);
  if (p.scale !== x.scale) throw new RangeError(`${label}: public scale ${p.scale} differs from the share's ${x.scale}`);
  return p.data;
}

function addToX0(ctx: Context, x: ArithShare, v: U64): ArithShare {
  const k = ctx.k;
  if (ctx.party === 0) return new ArithShare(x.shape, k.add(x.s0, v), x.s1, x.scale);
  if (ctx.party === 2) return new ArithShare(x.shape, x.s0, k.add(x.s1, v), x.scale);
  return x;
}

/** x + p for a public p (a PublicTensor at x.scale, or a number encoded at x.scale). Local. */
export function addPublic(ctx: Context, x: ArithShare, p: PublicTensor | number): ArithShare {
  anArith(x, 'addPublic: x');
  const d = publicData(ctx, x, p, 'addPublic');
  return addToX0(ctx, x, expandPublic(ctx, d, x.size, lastDim(x.shape), 'addPublic'));
}

/** x - p for a public p. Local. */
export function subPublic(ctx: Context, x: ArithShare, p: PublicTensor | number): ArithShare {
  anArith(x, 'subPublic: x');
  const d = publicData(ctx, x, p, 'subPublic');
  return addToX0(ctx, x, ctx.k.neg(expandPublic(ctx, d, x.size, lastDim(x.shape), 'subPublic')));
}

/** p - x for a public p (e.g. 1 - bit). Local. */
export function publicSub(ctx: Context, p: PublicTensor | number, x: ArithShare): ArithShare {
  anArith(x, 'publicSub: x');
  const d = publicData(ctx, x, p, 'publicSub');
  return addToX0(ctx, neg(ctx, x), expandPublic(ctx, d, x.size, lastDim(x.shape), 'publicSub'));
}

/** x * s for a public integer s (scale unchanged). Local. */
export function mulPublicInt(ctx: Context, x: ArithShare, s: bigint | number): ArithShare {
  anArith(x, 'mulPublicInt: x');
  let b: bigint;
  if (typeof s === 'bigint') b = s;
  else if (typeof s === 'number' && Number.isSafeInteger(s)) b = BigInt(s);
  else throw new TypeError(`mulPublicInt: s must be a bigint or a safe integer, got ${String(s)}`);
  return new ArithShare(x.shape, ctx.k.mulScalar(x.s0, b), ctx.k.mulScalar(x.s1, b), x.scale);
}

/**
 * x * p elementwise for a public tensor p (full size, last axis, or one value). The result's
 * scale is x.scale + p.scale (no truncation). Local.
 */
export function mulPublic(ctx: Context, x: ArithShare, p: PublicTensor): ArithShare {
  anArith(x, 'mulPublic: x');
  if (!(p instanceof PublicTensor)) throw new TypeError('mulPublic: p must be a PublicTensor');
  const scale = aScale(x.scale + p.scale, 'mulPublic: result scale');
  const d = expandPublic(ctx, p.data, x.size, lastDim(x.shape), 'mulPublic');
  return new ArithShare(x.shape, ctx.k.mul(x.s0, d), ctx.k.mul(x.s1, d), scale);
}

/**
 * x * c for real c (a number or one per element / per last-axis position): c is encoded at
 * ctx.f, multiplied, then truncated by ctx.f (1 round, party 0 sends 64 bits per element).
 * The scale stays x.scale. Error: the truncation's (at most one unit) plus c's rounding.
 */
export async function mulPublicFloat(ctx: Context, x: ArithShare, c: number | Float64Array): Promise<ArithShare> {
  anArith(x, 'mulPublicFloat: x');
  const vals = typeof c === 'number' ? new Float64Array([c]) : c;
  if (!(vals instanceof Float64Array)) throw new TypeError('mulPublicFloat: c must be a number or a Float64Array');
  const p = new PublicTensor([vals.length], encodeValues(ctx, vals, ctx.f, vals.length, 'mulPublicFloat'), ctx.f);
  return trunc(ctx, mulPublic(ctx, x, p), ctx.f);
}

/** Reinterpret the scale (no change to the ring elements). */
export function withScale(x: ArithShare, scale: number): ArithShare {
  anArith(x, 'withScale: x');
  return new ArithShare(x.shape, x.s0, x.s1, aScale(scale, 'withScale: scale'));
}

/** Sum over the last axis; shape [..., n] -> [..., 1]. Local. */
export function sumAxis(ctx: Context, x: ArithShare): ArithShare {
  anArith(x, 'sumAxis: x');
  if (x.shape.length === 0) throw new RangeError('sumAxis: x must have at least one axis');
  const n = lastDim(x.shape);
  const rows = n === 0 ? 0 : x.size / n;
  const o = ones(n);
  const sh = { m: rows, k: n, n: 1 };
  const shape = [...x.shape.slice(0, -1), 1];
  return new ArithShare(shape, ctx.k.matmul(x.s0, o, sh), ctx.k.matmul(x.s1, o, sh), x.scale);
}

/** Repeat a [..., 1] tensor along its last axis to [..., n]. Local. */
export function broadcastLast(ctx: Context, x: ArithShare, n: number): ArithShare {
  anArith(x, 'broadcastLast: x');
  if (x.shape.length === 0 || lastDim(x.shape) !== 1) throw new RangeError('broadcastLast: x must have shape [..., 1]');
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`broadcastLast: n must be a non-negative integer, got ${n}`);
  const rows = x.size;
  const o = ones(n);
  const sh = { m: rows, k: 1, n };
  const shape = [...x.shape.slice(0, -1), n];
  return new ArithShare(shape, ctx.k.matmul(x.s0, o, sh), ctx.k.matmul(x.s1, o, sh), x.scale);
}

function normAxis(axis: number, rank: number, label: string): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) throw new RangeError(`${label}: axis ${axis} is out of range for rank ${rank}`);
  return a;
}

/** Concatenate along `axis` (default last). Scales and the other dimensions must match. Local. */
export function concat(ctx: Context, xs: readonly ArithShare[], axis = -1): ArithShare {
  void ctx;
  if (!Array.isArray(xs as unknown) || xs.length === 0) throw new RangeError('concat: xs must be a non-empty array');
  xs.forEach((x, i) => anArith(x, `concat: xs[${i}]`));
  const rank = xs[0].shape.length;
  const a = normAxis(axis, rank, 'concat');
  for (const x of xs) {
    if (x.shape.length !== rank || x.shape.some((d, i) => i !== a && d !== xs[0].shape[i])) throw new RangeError('concat: shapes differ outside the axis');
    if (x.scale !== xs[0].scale) throw new RangeError('concat: scales differ');
  }
  const outer = shapeSize(xs[0].shape.slice(0, a));
  const inner = shapeSize(xs[0].shape.slice(a + 1));
  const chunks = xs.map((x) => x.shape[a] * inner);
  const width = chunks.reduce((p, c) => p + c, 0);
  const shape = xs[0].shape.slice();
  shape[a] = xs.reduce((p, x) => p + x.shape[a], 0);
  const o0 = new BigUint64Array(outer * width);
  const o1 = new BigUint64Array(outer * width);
  for (let r = 0; r < outer; r++) {
    let off = r * width;
    xs.forEach((x, i) => {
      const c = chunks[i];
      o0.set(x.s0.subarray(r * c, (r + 1) * c), off);
      o1.set(x.s1.subarray(r * c, (r + 1) * c), off);
      off += c;
    });
  }
  return new ArithShare(shape, o0, o1, xs[0].scale);
}

/** Elements [start, end) along `axis` (default last). Local. */
export function slice(ctx: Context, x: ArithShare, start: number, end: number, axis = -1): ArithShare {
  void ctx;
  anArith(x, 'slice: x');
  const a = normAxis(axis, x.shape.length, 'slice');
  const d = x.shape[a];
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end > d || start > end) {
    throw new RangeError(`slice: bad range [${start}, ${end}) for an axis of ${d}`);
  }
  const outer = shapeSize(x.shape.slice(0, a));
  const inner = shapeSize(x.shape.slice(a + 1));
  const w = (end - start) * inner;
  const shape = x.shape.slice();
  shape[a] = end - start;
  const o0 = new BigUint64Array(outer * w);
  const o1 = new BigUint64Array(outer * w);
  for (let r = 0; r < outer; r++) {
    const from = r * d * inner + start * inner;
    o0.set(x.s0.subarray(from, from + w), r * w);
    o1.set(x.s1.subarray(from, from + w), r * w);
  }
  return new ArithShare(shape, o0, o1, x.scale);
}

/** Transpose the words of row-major [batch, a, b] matrices to [batch, b, a] (no BigInt). */
export function transposeWords(src: U64, batch: number, a: number, b: number): U64 {
  const out = new BigUint64Array(src.length);
  const s = new Uint32Array(src.buffer, src.byteOffset, src.length * 2);
  const o = new Uint32Array(out.buffer, out.byteOffset, out.length * 2);
  for (let t = 0; t < batch; t++) {
    const base = t * a * b;
    for (let i = 0; i < a; i++) {
      for (let j = 0; j < b; j++) {
        const si = 2 * (base + i * b + j);
        const oi = 2 * (base + j * a + i);
        o[oi] = s[si];
        o[oi + 1] = s[si + 1];
      }
    }
  }
  return out;
}

/** Swap the last two axes. Local. */
export function transpose(ctx: Context, x: ArithShare): ArithShare {
  void ctx;
  anArith(x, 'transpose: x');
  const r = x.shape.length;
  if (r < 2) throw new RangeError('transpose: x must have at least two axes');
  const a = x.shape[r - 2];
  const b = x.shape[r - 1];
  const batch = shapeSize(x.shape.slice(0, -2));
  const shape = [...x.shape.slice(0, -2), b, a];
  return new ArithShare(shape, transposeWords(x.s0, batch, a, b), transposeWords(x.s1, batch, a, b), x.scale);
}
