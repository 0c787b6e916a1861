/**
 * Sharing types. Three-party replicated secret sharing over Z_{2^64}:
 * x = x0 + x1 + x2 (arithmetic) or x = x0 ^ x1 ^ x2 (boolean, 64-bit words), and party i
 * holds (x_i, x_{i+1}) with indices mod 3. In an ArithShare/BoolShare held by party i,
 * `s0` is x_i and `s1` is x_{i+1}.
 *
 * These classes are nominal (a private brand field), so the type checker never lets a share
 * pass where a plain array or a PublicTensor is expected, or the other way round.
 */
import type { U64 } from '../kernels/api.js';

export type Shape = readonly number[];

export function shapeSize(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Validate a shape: non-negative safe integers. Returns it. */
export function aShape(shape: Shape, label = 'shape'): Shape {
  if (!Array.isArray(shape)) throw new TypeError(`${label} must be an array of dimensions`);
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0) throw new RangeError(`${label} has a bad dimension ${String(d)}`);
  }
  return shape;
}

/** An arithmetic replicated share held by one party. */
export class ArithShare {
  readonly #brand = 'arith';
  readonly kind = 'arith' as const;
  /**
   * @param shape tensor shape (row-major)
   * @param s0 this party's first component x_i
   * @param s1 this party's second component x_{i+1}
   * @param scale fractional bits of the encoded value (0 for integers / raw ring elements)
   */
  constructor(
    readonly shape: Shape,
    readonly s0: U64,
    readonly s1: U64,
    readonly scale: number,
  ) {
    const n = shapeSize(aShape(shape));
    if (s0.length !== n || s1.length !== n) {
      throw new RangeError(`ArithShare: components have ${s0.length}/${s1.length} elements, shape needs ${n}`);
    }
    void this.#brand;
  }
  get size(): number {
    return this.s0.length;
  }
  /** Same components, different shape (same number of elements). */
  reshape(shape: Shape): ArithShare {
    return new ArithShare(shape, this.s0, this.s1, this.scale);
  }
}

/** A boolean (XOR) replicated share of 64-bit words held by one party. */
export class BoolShare {
  readonly #brand = 'bool';
  readonly kind = 'bool' as const;
  constructor(
    readonly shape: Shape,
    readonly s0: U64,
    readonly s1: U64,
  ) {
    const n = shapeSize(aShape(shape));
    if (s0.length !== n || s1.length !== n) {
      throw new RangeError(`BoolShare: components have ${s0.length}/${s1.length} words, shape needs ${n}`);
    }
    void this.#brand;
  }
  get size(): number {
    return this.s0.length;
  }
  reshape(shape: Shape): BoolShare {
    return new BoolShare(shape, this.s0, this.s1);
  }
}

/** Check that x is an ArithShare (TypeError naming `label` otherwise); returns it. */
export function anArith(x: unknown, label: string): ArithShare {
  if (!(x instanceof ArithShare)) throw new TypeError(`${label} must be an ArithShare`);
  return x;
}

/** Check that x is a BoolShare (TypeError naming `label` otherwise); returns it. */
export function aBoolShare(x: unknown, label: string): BoolShare {
  if (!(x instanceof BoolShare)) throw new TypeError(`${label} must be a BoolShare`);
  return x;
}

/** A value every party knows (an opened result or a public constant), as ring elements. */
export class PublicTensor {
  readonly #brand = 'public';
  readonly kind = 'public' as const;
  constructor(
    readonly shape: Shape,
    readonly data: U64,
    readonly scale: number,
  ) {
    const n = shapeSize(aShape(shape));
    if (data.length !== n) throw new RangeError(`PublicTensor: ${data.length} elements, shape needs ${n}`);
    void this.#brand;
  }
  get size(): number {
    return this.data.length;
  }
}
