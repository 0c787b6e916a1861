/**
 * Checks on what arrives from a peer. A received payload is untrusted data: its type and
 * length are checked before any kernel touches it, and a mismatch is MPC_ERR_PROTOCOL
 * (the parties disagree on the program), never a crash deep inside a kernel.
 */
import type { U64 } from '../kernels/api.js';
import type { PartyId, Payload } from './channel.js';
import type { Context } from './context.js';
import { MpcError } from './errors.js';

/** The ring-element payload received from `from`, which must hold exactly `n` words. */
export function expectWords(ctx: Context, got: Map<PartyId, Payload>, from: PartyId, n: number, step: string): U64 {
  const p = got.get(from);
  if (p === undefined) {
    throw new MpcError('MPC_ERR_PROTOCOL', `no payload from party ${from}`, { party: ctx.party, peer: from, step });
  }
  if (!(p instanceof BigUint64Array)) {
    throw new MpcError('MPC_ERR_PROTOCOL', `expected 64-bit words from party ${from}, got bytes`, { party: ctx.party, peer: from, step });
  }
  if (p.length !== n) {
    throw new MpcError('MPC_ERR_PROTOCOL', `expected ${n} words from party ${from}, got ${p.length}`, { party: ctx.party, peer: from, step });
  }
  return p;
}

/** Split a received payload into consecutive parts of the given lengths (views, no copy). */
export function splitWords(w: U64, lengths: readonly number[]): U64[] {
  const out: U64[] = [];
  let off = 0;
  for (const len of lengths) {
    out.push(w.subarray(off, off + len));
    off += len;
  }
  return out;
}

/** Concatenate word arrays into one new array (one message for several tensors). */
export function concatWords(parts: readonly U64[]): U64 {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new BigUint64Array(n);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}
