/**
 * Helpers shared by the protocol unit tests: deterministic random inputs and float
 * references. Test-only (imported by *.test.ts files).
 */
import type { Context } from './context.js';
import { input } from './sharing.js';
import type { ArithShare, Shape } from './types.js';

/** n uniform floats in [lo, hi) from a small LCG (test data only, not secret). */
export function randFloats(n: number, lo: number, hi: number, seed: number): Float64Array {
  let s = (seed * 2654435761) >>> 0;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = lo + ((hi - lo) * s) / 2 ** 32;
  }
  return out;
}

/** Values rounded to the fixed-point grid (so references see exactly what was shared). */
export function onGrid(v: Float64Array, f: number): Float64Array {
  return v.map((x) => Math.round(x * 2 ** f) / 2 ** f);
}

/** Party `owner` shares v (others pass nothing). */
export function share(ctx: Context, owner: 0 | 1 | 2, shape: Shape, v: Float64Array, scale?: number): Promise<ArithShare> {
  return input(ctx, owner, shape, ctx.party === owner ? v : undefined, scale ?? ctx.f);
}

/** Mean over the three parties of bytes sent, divided by n. */
export function meanBytesPerElem(costs: readonly { bytesSent: number }[], n: number): number {
  return costs.reduce((a, c) => a + c.bytesSent, 0) / costs.length / n;
}
