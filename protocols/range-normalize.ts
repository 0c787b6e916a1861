/**
 * Range normalisation shared by reciprocal and rsqrt: for a positive fixed-point x, the bits
 * b_i = [x >= base^i] for a list of thresholds, all from ONE batched comparison (ltz of the
 * stacked differences x - base^i). The bits are monotone (b_i >= b_{i+1}), so "the level of x"
 * (the number of thresholds below it) has the one-hot form b_i - b_{i+1}, and any public
 * function of the level is an integer combination of the bits: local.
 *
 * Cost: one ltz over (#thresholds * n) elements. Reveals nothing (ltz reveals nothing).
 */
import type { Context } from './context.js';
import { ltz } from './compare.js';
import { bitTimesSlicedBalanced, msbSlicedBalanced } from './balanced.js';
import { sub, subPublic } from './linear.js';
import { type IntTerm, intCombination, stack, unstack } from './batching.js';
import type { ArithShare } from './types.js';

/**
 * b_i = [x >= 2^(log2Thresholds[i])] as 0/1 integer shares (scale 0), one per threshold.
 * bitWidth: the caller's promise that every x - 2^e fits in bitWidth signed bits (ring units).
 */
export async function thresholdBits(ctx: Context, x: ArithShare, log2Thresholds: readonly number[], bitWidth = 64, dropBits = 0): Promise<ArithShare[]> {
  if (log2Thresholds.length === 0) return [];
  const diffs = log2Thresholds.map((e) => subPublic(ctx, x, 2 ** e));
  // dropBits (compare.ts): b_i may be 0 for x in [2^e, 2^e + 2^(dropBits+1) ulps)
  const below = await ltz(ctx, stack(diffs, x.scale), { bitWidth, dropBits }); // [x < 2^e]
  const parts = unstack(below, log2Thresholds.map(() => x.shape), 0);
  // b = 1 - below
  return parts.map((p) => intCombination(ctx, x.shape, 0, [{ x: p, c: -1n }], 1n));
}

/**
 * sum over levels L = 0..T of [level = L] * value(L) as an integer share at `scale`, where
 * level = number of set bits (bits sorted by ascending threshold) and value(L) is a public
 * integer. Local.
 */
export function levelFunction(ctx: Context, bits: readonly ArithShare[], value: (level: number) => bigint, shape: readonly number[], scale: number): ArithShare {
  // [level = L] = b_L - b_{L+1} with b_0 = 1 and b_{T+1} = 0 (bits[i] is b_{i+1})
  // => sum_L value(L) (b_L - b_{L+1}) = value(0) + sum_{i>=1} b_i (value(i) - value(i-1))
  const terms: IntTerm[] = bits.map((b, i) => ({ x: b, c: value(i + 1) - value(i) }));
  return intCombination(ctx, shape, scale, terms, value(0));
}

/**
 * thresholdBits and, from the same rounds, b_i * x for every threshold: the bit injection
 * round of the comparison also multiplies the bits by x (conversions.ts bitTimes), so a public
 * function of the level TIMES x is local too (levelFunctionTimes). Cost: one msb over
 * (#thresholds * n) elements and one round (ltz's rounds).
 */
export async function thresholdBitsTimes(
  ctx: Context, x: ArithShare, log2Thresholds: readonly number[], bitWidth = 64, step = 'levels',
): Promise<{ bits: ArithShare[]; times: ArithShare[] }> {
  if (log2Thresholds.length === 0) return { bits: [], times: [] };
  const T = log2Thresholds.length;
  const diffs = log2Thresholds.map((e) => subPublic(ctx, x, 2 ** e));
  const e = await msbSlicedBalanced(ctx, stack(diffs, x.scale), `${step}.msb`, bitWidth); // [x < 2^e]
  const xs = stack(log2Thresholds.map(() => x), x.scale);
  const { bit, prods } = await bitTimesSlicedBalanced(ctx, e, T * x.size, [xs], true, `${step}.select`);
  const below = unstack(bit!, log2Thresholds.map(() => x.shape), 0);
  const belowX = unstack(prods[0], log2Thresholds.map(() => x.shape), x.scale);
  return {
    bits: below.map((p) => intCombination(ctx, x.shape, 0, [{ x: p, c: -1n }], 1n)), // b = 1 - below
    times: belowX.map((p) => sub(ctx, x, p)), // b x = x - below x
  };
}

/**
 * x * value(level) as a share at `scale` from the products b_i * x (thresholdBitsTimes), the
 * same combination as levelFunction with x in place of 1. Local. x.scale + log2 of the
 * values' unit must equal `scale` (the caller's bookkeeping).
 */
export function levelFunctionTimes(ctx: Context, times: readonly ArithShare[], x: ArithShare, value: (level: number) => bigint, scale: number): ArithShare {
  const terms: IntTerm[] = times.map((b, i) => ({ x: b, c: value(i + 1) - value(i) }));
  terms.push({ x, c: value(0) });
  return intCombination(ctx, x.shape, scale, terms);
}
