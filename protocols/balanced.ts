/**
 * The role-balanced forms of the boolean building blocks: msbSliced, b2aSliced and
 * bitTimesSliced through rotate.ts `balanced` (from ROTATE_MIN elements on the roles rotate
 * over three chunks: the same rounds, every party sends the mean of the three roles' bytes
 * plus 24 bytes per message; below it the roles rotate from call to call, at no cost).
 * The comparisons, range normalisation and the nonlinear blocks use these.
 */
import type { Context } from './context.js';
import { type SlicePair, chunkBits } from './bool-slices.js';
import { b2aSliced, bitTimesSliced } from './conversions.js';
import { msbSliced } from './msb.js';
import { balanced, chunkShare, joinPairs, joinShares } from './rotate.js';
import type { ArithShare, Shape } from './types.js';

/** msbSliced with balanced roles. */
export function msbSlicedBalanced(ctx: Context, x: ArithShare, step = 'msb', bitWidth = 64, dropBits = 0): Promise<SlicePair> {
  return balanced<SlicePair>(ctx, x.size, {
    whole: (v) => msbSliced(v, x, step, bitWidth, dropBits),
    chunk: (v, lo, hi) => msbSliced(v, chunkShare(x, lo, hi), step, bitWidth, dropBits),
    join: joinPairs,
  });
}

/** b2aSliced with balanced roles. */
export function b2aSlicedBalanced(ctx: Context, b: SlicePair, n: number, shape: Shape, step = 'b2a'): Promise<ArithShare> {
  return balanced<ArithShare>(ctx, n, {
    whole: (v) => b2aSliced(v, b, n, shape, step),
    chunk: (v, lo, hi) => b2aSliced(v, chunkBits(b, lo, hi), hi - lo, [hi - lo], step),
    join: (parts) => joinShares(parts, shape, 0),
  });
}

/** bitTimesSliced with balanced roles. */
export function bitTimesSlicedBalanced(
  ctx: Context, e: SlicePair, n: number, ds: readonly ArithShare[], withBit: boolean, step = 'bitTimes',
): Promise<{ bit?: ArithShare; prods: ArithShare[] }> {
  return balanced(ctx, n, {
    whole: (v) => bitTimesSliced(v, e, n, ds, withBit, step),
    chunk: (v, lo, hi) => bitTimesSliced(v, chunkBits(e, lo, hi), hi - lo, ds.map((d) => chunkShare(d, lo, hi)), withBit, step),
    join: (parts) => ({
      ...(withBit ? { bit: joinShares(parts.map((p) => p.bit!), ds[0]?.shape ?? [n], 0) } : {}),
      prods: ds.map((d, j) => joinShares(parts.map((p) => p.prods[j]), d.shape, d.scale)),
    }),
  });
}
