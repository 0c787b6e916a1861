/**
 * Local helpers of the non-linear protocols for batching several tensors into ONE protocol
 * call (one exchange per round for everything), and for integer combinations of 0/1 shares.
 * All local: nothing is sent, nothing is revealed.
 */
import type { U64 } from '../kernels/api.js';
import type { Context } from './context.js';
import { publicComponents } from './sharing.js';
import { ArithShare } from './types.js';
import { concatWords, splitWords } from './wire.js';

/** Flatten and concatenate shares into one 1-D share at `scale` (their own scales are ignored). */
export function stack(xs: readonly ArithShare[], scale: number): ArithShare {
  if (xs.length === 0) throw new RangeError('stack: nothing to stack');
  const s0 = concatWords(xs.map((x) => x.s0));
  const s1 = concatWords(xs.map((x) => x.s1));
  return new ArithShare([s0.length], s0, s1, scale);
}

/** [c_0 x, c_1 x, ...] stacked into one 1-D share at `scale`, written in place (one allocation per component). */
export function scaledRows(ctx: Context, x: ArithShare, coeffs: readonly bigint[], scale: number): ArithShare {
  const n = x.size;
  const s0 = new BigUint64Array(n * coeffs.length);
  const s1 = new BigUint64Array(n * coeffs.length);
  coeffs.forEach((c, i) => {
    ctx.k.mulScalar(x.s0, c, s0.subarray(i * n, (i + 1) * n));
    ctx.k.mulScalar(x.s1, c, s1.subarray(i * n, (i + 1) * n));
  });
  return new ArithShare([s0.length], s0, s1, scale);
}

/** Split a stacked share back into pieces with the given shapes, all at `scale` (views, no copy). */
export function unstack(x: ArithShare, shapes: readonly (readonly number[])[], scale: number): ArithShare[] {
  const sizes = shapes.map((s) => s.reduce((a, b) => a * b, 1));
  const total = sizes.reduce((a, b) => a + b, 0);
  if (total !== x.size) throw new RangeError(`unstack: pieces hold ${total} elements, the share ${x.size}`);
  const a = splitWords(x.s0, sizes);
  const b = splitWords(x.s1, sizes);
  return shapes.map((sh, i) => new ArithShare(sh, a[i], b[i], scale));
}

/** One term of an integer combination: coefficient * share. */
export interface IntTerm {
  readonly x: ArithShare;
  readonly c: bigint;
}

/**
 * sum_j c_j * x_j + constant (ring arithmetic, public integer coefficients), as a share with
 * the given shape and scale. Local. Used to turn comparison bits into segment indicators,
 * normalising multipliers and the like.
 */
export function intCombination(ctx: Context, shape: readonly number[], scale: number, terms: readonly IntTerm[], constant = 0n): ArithShare {
  const k = ctx.k;
  const n = shape.reduce((a, b) => a * b, 1);
  const s0 = new BigUint64Array(n);
  const s1 = new BigUint64Array(n);
  for (const { x, c } of terms) {
    if (x.size !== n) throw new RangeError(`intCombination: a term has ${x.size} elements, expected ${n}`);
    if (c === 0n) continue;
    k.add(s0, k.mulScalar(x.s0, c), s0);
    k.add(s1, k.mulScalar(x.s1, c), s1);
  }
  if (constant !== 0n) {
    const [p0, p1] = publicComponents(ctx, new BigUint64Array(n).fill(BigInt.asUintN(64, constant)));
    k.add(s0, p0, s0);
    k.add(s1, p1, s1);
  }
  return new ArithShare(shape, s0, s1, scale);
}

/** round(v * 2^scale) as a signed bigint (public constants). */
export function encodeConst(v: number, scale: number): bigint {
  if (!Number.isFinite(v)) throw new RangeError(`encodeConst: ${v} is not finite`);
  const r = Math.round(v * 2 ** scale);
  if (!Number.isSafeInteger(r)) {
    // exact for large scales: split into a safe integer part and a power of two
    const e = Math.max(0, Math.ceil(Math.log2(Math.abs(v) * 2 ** scale)) - 52);
    return BigInt(Math.round(v * 2 ** (scale - e))) << BigInt(e);
  }
  return BigInt(r);
}

/** A share's components gathered at the given element indices (local). */
export function gatherElems(x: ArithShare, idx: Uint32Array | readonly number[], shape: readonly number[], scale = x.scale): ArithShare {
  const n = idx.length;
  const s0 = new BigUint64Array(n);
  const s1 = new BigUint64Array(n);
  for (let i = 0; i < n; i++) {
    const j = idx[i];
    s0[i] = x.s0[j];
    s1[i] = x.s1[j];
  }
  return new ArithShare(shape, s0, s1, scale);
}

/** The public vector of a constant per element, as ring words. */
export function fillWords(n: number, v: bigint): U64 {
  return new BigUint64Array(n).fill(BigInt.asUintN(64, v));
}
