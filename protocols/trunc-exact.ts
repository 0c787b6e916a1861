/**
 * Exact truncation: floor(x / 2^bits) for |x| < 2^62, by a boolean carry computation
 * (the comparison-based alternative to mul.ts trunc, which is off by one with probability
 * 1/2 and fails with probability ~|x|/2^64; trunc-faithful.ts is the 2-round floor-or-floor+1 form).
 *
 * With x' = x + 2^62 in [0, 2^63), A = x0' + x1' (P0) and B = x2' (P1, P2):
 * floor(x' / 2^f) = (A >> f) + (B >> f) + c_f - w * 2^(64-f), c_f the carry into bit f of
 * A + B and w the carry out of bit 63; both come from one g/p round and two carry trees
 * (carry.ts), then one bit injection (conversions.ts). (A >> f) + (B >> f) is reshared like
 * trunc's message (P0 -> P2). 9 rounds. Reveals nothing beyond its parts (each masked as
 * described in carry.ts, conversions.ts and mul.ts).
 */
import type { U64 } from '../kernels/api.js';
import type { Context } from './context.js';
import { carryTrees, gpRound } from './carry.js';
import { b2aWords } from './conversions.js';
import { type TruncOptions, aTruncBits, truncResultScale } from './mul.js';
import { ArithShare, anArith } from './types.js';
import { concatWords, expectWords } from './wire.js';

/**
 * Exact truncation floor(x / 2^bits) for |x| < 2^62. 9 rounds. Scale becomes x.scale - bits
 * (or opts.scale).
 */
export async function truncExact(ctx: Context, x: ArithShare, bits: number = ctx.f, opts: TruncOptions = {}): Promise<ArithShare> {
  anArith(x, 'truncExact: x');
  aTruncBits(bits, 'truncExact');
  const scale = truncResultScale(x, bits, opts, 'truncExact');
  if (bits === 0) return new ArithShare(x.shape, x.s0, x.s1, scale);
  const [a, b] = await truncExactWords(ctx, x, bits);
  return new ArithShare(x.shape, a, b, scale);
}

/** This party's two components of floor(x / 2^f) (see the file header). */
async function truncExactWords(ctx: Context, x: ArithShare, f: number): Promise<[U64, U64]> {
  const k = ctx.k;
  const n = x.size;
  const OFF = 1n << 62n;
  let sVal: U64 | undefined;
  let xVal: U64 | undefined;
  if (ctx.party === 0) sVal = k.addScalar(k.add(x.s0, x.s1), OFF);
  else xVal = ctx.party === 1 ? x.s1 : x.s0;
  const st = await gpRound(ctx, sVal, xVal, n, 64, 'truncExact.gp');
  const [cf, w] = await carryTrees(ctx, st, [[0, f], [0, 64]], 'truncExact.carry');
  const both0 = concatWords([k.unpackBits(cf[0], n, 0), k.unpackBits(w[0], n, 0)]);
  const both1 = concatWords([k.unpackBits(cf[1], n, 0), k.unpackBits(w[1], n, 0)]);
  const [a0, a1] = await b2aWords(ctx, both0, both1, 'truncExact.b2a');
  // T = (A >> f) + (B >> f): components (y0, y1, y2) = (A>>f - r, r, B>>f), r from seed_{0,1}
  let t0: U64, t1: U64;
  const step = 'truncExact.hi';
  if (ctx.party === 0) {
    const r = ctx.prgNext.words(n);
    const y0 = k.sub(k.shr(sVal!, f), r);
    await ctx.ch.exchange({ step, send: { 2: y0 } });
    [t0, t1] = [y0, r];
  } else if (ctx.party === 1) {
    const r = ctx.prgPrev.words(n);
    await ctx.ch.exchange({ step });
    [t0, t1] = [r, k.shr(xVal!, f)];
  } else {
    const got = await ctx.ch.exchange({ step, recv: [0] });
    [t0, t1] = [k.shr(xVal!, f), expectWords(ctx, got, 0, n, step)];
  }
  // result = T + c_f - w * 2^(64-f) - 2^(62-f); the public constant goes into x0
  const wScale = BigInt.asUintN(64, -(1n << BigInt(64 - f)));
  const cA = [a0.subarray(0, n), a1.subarray(0, n)];
  const wA = [a0.subarray(n), a1.subarray(n)];
  const r0 = k.add(k.add(t0, cA[0]), k.mulScalar(wA[0], wScale));
  const r1 = k.add(k.add(t1, cA[1]), k.mulScalar(wA[1], wScale));
  const corr = BigInt.asUintN(64, -(1n << BigInt(62 - f)));
  if (ctx.party === 0) k.addScalar(r0, corr, r0);
  if (ctx.party === 2) k.addScalar(r1, corr, r1);
  return [r0, r1];
}
