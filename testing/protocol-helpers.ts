/**
 * Helpers shared by the protocol unit tests: deterministic random inputs, float references
 * and the expected costs of role-rotated protocols. Test-only (not part of the build).
 */
import type { Context } from '../protocols/context.js';
import { msbPlanCost } from '../protocols/msb.js';
import { ROTATE_MIN, balancedBytes, rotationChunks } from '../protocols/rotate.js';
import { input } from '../protocols/sharing.js';
import type { ArithShare, Shape } from '../protocols/types.js';

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

/** Element counts of the three chunks of protocols/rotate.ts rotated() (its rotationChunks). */
export function rotatedChunks(n: number): [number, number, number] {
  return rotationChunks(n).map(([lo, hi]) => hi - lo) as [number, number, number];
}

/**
 * Bytes `party` sends for one call (the first of a session) of a protocol whose roles send
 * perRole[role] bytes per element, with `header` framing bytes when rotated: rotate.ts
 * balancedBytes, the module's cost function (thresholds.test.ts checks it independently).
 */
export function roleBytes(n: number, perRole: readonly [number, number, number], party: number, header: number): number {
  return balancedBytes(n, perRole, party, header / 24);
}

/**
 * Bytes `party` sends over successive small calls (below ROTATE_MIN) whose roles send
 * perCall[c][role] bytes per element: call c runs with the roles rotated by (start + c) mod 3
 * (rotate.ts rolled: physical party p plays role p - r).
 */
export function rolledBytes(n: number, perCall: readonly (readonly [number, number, number])[], party: number, start = 0): number {
  return perCall.reduce((acc, roles, c) => acc + n * roles[(((party - start - c) % 3) + 3) % 3], 0);
}

/** Rotation framing (24 bytes per message) counted in a cost, when n is large enough to rotate. */
export function framingOf(n: number, messagesSent: number): number {
  return n >= ROTATE_MIN ? 24 * messagesSent : 0;
}

/**
 * Payload bytes a party sends in a role-rotated protocol, without the 24-byte chunk headers:
 * in chunk r it plays role (party - r) mod 3; perRole[role] = bytes per element of that role.
 */
export function rotatedBytes(n: number, perRole: readonly [number, number, number], party: number): number {
  return rotatedChunks(n).reduce((acc, nr, r) => acc + nr * perRole[(party - r + 3) % 3], 0);
}

/** Documented cost of msb over L bits (msb.ts msbPlanCost): rounds, and the bits each role sends per element. */
export function msbCost(L: number): { rounds: number; roleBits: [number, number, number] } {
  const { rounds, roleBits } = msbPlanCost(L);
  return { rounds, roleBits };
}

/** n log-uniform values in [lo, hi] (deterministic LCG; test data, not randomness). */
export function logUniform(n: number, lo: number, hi: number, seed: number): Float64Array {
  let s = seed >>> 0;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = lo * (hi / lo) ** (s / 2 ** 32);
  }
  return out;
}

/** float64 softmax attention of one query q over rows of one head's K, V (row width hd). */
export function refAttention(q: Float64Array, K: Float64Array, V: Float64Array, hd: number, rows: ArrayLike<number>): Float64Array {
  const s = Array.from(rows, (r) => q.reduce((a, qi, i) => a + qi * K[r * hd + i], 0));
  const mx = Math.max(...s);
  const e = s.map((x) => Math.exp(x - mx));
  const z = e.reduce((a, b) => a + b, 0);
  const out = new Float64Array(hd);
  Array.from(rows).forEach((r, j) => {
    for (let i = 0; i < hd; i++) out[i] += (e[j] / z) * V[r * hd + i];
  });
  return out;
}
