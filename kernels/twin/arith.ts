/**
 * Twin: elementwise arithmetic mod 2^64 with BigInt. Storing into a BigUint64Array reduces
 * mod 2^64, and V8's optimising compiler lowers such truncated BigInt add/sub/mul to 64-bit
 * machine arithmetic, so these loops are fast once warm. Inputs are read before out[i] is
 * written, so exact aliasing is safe.
 */
import type { U64 } from '../api.js';

export function add(a: U64, b: U64, out: U64): void {
  for (let i = 0; i < out.length; i++) out[i] = a[i] + b[i];
}

export function sub(a: U64, b: U64, out: U64): void {
  for (let i = 0; i < out.length; i++) out[i] = a[i] - b[i];
}

export function neg(a: U64, out: U64): void {
  for (let i = 0; i < out.length; i++) out[i] = -a[i];
}

export function mul(a: U64, b: U64, out: U64): void {
  for (let i = 0; i < out.length; i++) out[i] = a[i] * b[i];
}

export function mulScalar(a: U64, s: bigint, out: U64): void {
  for (let i = 0; i < out.length; i++) out[i] = a[i] * s;
}

export function addScalar(a: U64, s: bigint, out: U64): void {
  for (let i = 0; i < out.length; i++) out[i] = a[i] + s;
}
