/**
 * Reusable scratch memory for short-lived temporaries, per Context (the pool is
 * `ctx.state.scratch`; contexts derived for rotated chunks and parallel lanes share their
 * parent's, see Context.derive).
 *
 * Fresh multi-megabyte typed arrays are expensive here (page faults and GC pressure for
 * every allocation), and the protocols create many temporaries that live only within one
 * synchronous stretch of code (operand concatenations, zero-sharing masks). Those come from
 * this pool instead. Rules for callers:
 *  - a scratch buffer is valid only until the next `await` (another protocol call on the
 *    same Context may reuse it afterwards);
 *  - never send a scratch buffer and never store it in a share or a result.
 */
import type { U64 } from '../kernels/api.js';
import type { Context } from './context.js';

/** A scratch buffer of exactly n words for `slot` (contents undefined). */
export function scratch(ctx: Context, slot: string, n: number): U64 {
  const pool = ctx.state.scratch;
  let buf = pool.get(slot);
  if (buf === undefined || buf.length < n) {
    buf = new BigUint64Array(Math.max(n, Math.ceil((buf?.length ?? 0) * 1.5)));
    pool.set(slot, buf);
  }
  return buf.subarray(0, n);
}

/** Fill a scratch buffer of n words from a PRG stream (advances the stream like words(n)). */
function prgScratch(ctx: Context, slot: string, n: number, stream: Context['prgNext']): U64 {
  const b = scratch(ctx, slot, n);
  stream.fill(new Uint8Array(b.buffer, b.byteOffset, b.byteLength));
  return b;
}

/** A fresh arithmetic zero sharing like ctx.zeroShare(n), in scratch memory. */
export function zeroShareScratch(ctx: Context, n: number): U64 {
  const a = prgScratch(ctx, 'zs.a', n, ctx.prgNext);
  const b = prgScratch(ctx, 'zs.b', n, ctx.prgPrev);
  return ctx.k.sub(a, b, a);
}

/** A fresh boolean zero sharing like ctx.zeroShareBool(n), in scratch memory. */
export function zeroShareBoolScratch(ctx: Context, n: number): U64 {
  const a = prgScratch(ctx, 'zs.a', n, ctx.prgNext);
  const b = prgScratch(ctx, 'zs.b', n, ctx.prgPrev);
  return ctx.k.xor(a, b, a);
}

/** Concatenate word arrays into the scratch buffer `slot`. */
export function concatScratch(ctx: Context, slot: string, parts: readonly U64[]): U64 {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = scratch(ctx, slot, n);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}
