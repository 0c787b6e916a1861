/**
 * Boolean operations on whole 64-bit words of boolean shares: XOR, NOT and XOR with a public
 * value are local; AND is one round (bool-slices.ts andSlices, 64 bits per word per party).
 */
import type { Context } from './context.js';
import { andSlices } from './bool-slices.js';
import { BoolShare, aBoolShare, sameShape } from './types.js';

/** x ^ y (local) */
export function xorB(ctx: Context, x: BoolShare, y: BoolShare): BoolShare {
  aBoolShare(x, 'xorB: x');
  aBoolShare(y, 'xorB: y');
  if (!sameShape(x.shape, y.shape)) throw new RangeError('xorB: shapes differ');
  return new BoolShare(x.shape, ctx.k.xor(x.s0, y.s0), ctx.k.xor(x.s1, y.s1));
}

/** x ^ p for public words p (local; p enters component x0, held by parties 0 and 2) */
export function xorPublicB(ctx: Context, x: BoolShare, p: BigUint64Array): BoolShare {
  aBoolShare(x, 'xorPublicB: x');
  if (!(p instanceof BigUint64Array) || p.length !== x.size) throw new RangeError('xorPublicB: p must be a BigUint64Array of x.size words');
  if (ctx.party === 0) return new BoolShare(x.shape, ctx.k.xor(x.s0, p), x.s1);
  if (ctx.party === 2) return new BoolShare(x.shape, x.s0, ctx.k.xor(x.s1, p));
  return x;
}

/** ~x on all 64 bits (local) */
export function notB(ctx: Context, x: BoolShare): BoolShare {
  aBoolShare(x, 'notB: x');
  if (ctx.party === 0) return new BoolShare(x.shape, ctx.k.not(x.s0), x.s1);
  if (ctx.party === 2) return new BoolShare(x.shape, x.s0, ctx.k.not(x.s1));
  return x;
}

/** x & y word by word. 1 round, 64 bits per word per party. */
export async function andB(ctx: Context, x: BoolShare, y: BoolShare): Promise<BoolShare> {
  aBoolShare(x, 'andB: x');
  aBoolShare(y, 'andB: y');
  if (!sameShape(x.shape, y.shape)) throw new RangeError('andB: shapes differ');
  const [z] = await andSlices(ctx, [[x.s0, x.s1]], [[y.s0, y.s1]], 'andB');
  return new BoolShare(x.shape, z[0], z[1]);
}
