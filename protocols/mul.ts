/**
 * Multiplication and truncation on arithmetic replicated shares.
 *
 * mul / matmul (1 round, every party sends 64 bits per OUTPUT element):
 *   party i computes z_i = x_i*y_i + x_i*y_{i+1} + x_{i+1}*y_i + alpha_i (the three z_i sum
 *   to the product) and sends z_i to party i-1, so it then holds (z_i, z_{i+1}).
 *   Reveals nothing: alpha_i = PRG(seed_{i,i+1}) - PRG(seed_{i-1,i}) is a fresh zero sharing,
 *   and the receiver i-1 does not hold seed_{i,i+1}, so z_i is uniformly random to it.
 *
 * trunc (1 round; the role of P0 sends 64 bits per element, to P2; for 192 elements or more
 * the roles rotate over three chunks (rotate.ts), so each party sends ~21 bits/element), ABY3 one-round
 * truncation (PROTOCOLS.md): first all parties shift the split by a public random offset
 * rho from the common stream (x0+x1+rho, x2-rho), which makes the 2-of-2 split uniformly
 * random even for non-random sharings such as constants; then P0 computes
 * a = trunc_hi(x0+x1+rho), P1 and P2 compute b = trunc_lo(x2-rho), r comes from seed_{0,1}
 * (P0's prgNext = P1's prgPrev), y0 = a - r goes to P2; the new sharing is (y0, r, b).
 *   Reveals nothing: P2 receives a - r, masked by r from a seed it does not hold.
 *   Error: result in {floor(x/2^f), floor(x/2^f) + 1} except with probability about
 *   |x| / 2^63 per element (then the result is garbage); see PROTOCOLS.md.
 *
 * mulFixed / matmulFixed (2 rounds, 64 bits per element per party on average):
 *   fused product and truncation. Round 1: P1 sends z1 to P0, P2 sends z2 to P1 (P0 sends
 *   nothing); P0 now knows z0+z1, P1 and P2 know z2. Round 2 is the truncation message
 *   above (P0 -> P2). Reveals nothing: z1 is masked by alpha_1 (seed_{1,2}, unknown to P0),
 *   z2 by alpha_2 (seed_{2,0}, unknown to P1); the truncation message as above. The z split
 *   is uniformly random (alpha), so no extra offset is needed.
 *
 * truncExact (comparison-based, exact floor for |x| < 2^62): boolean.ts/truncExactImpl.
 */
import type { MatmulShape, U64 } from '../kernels/api.js';
import type { Context } from './context.js';
import { ROTATE_MIN, chunkShare, joinShares, truncExactImpl } from './boolean.js';
import { rotated } from './rotate.js';
import { ArithShare, type Shape, sameShape, shapeSize } from './types.js';
import { zeroShareScratch } from './scratch.js';
import { concatWords, expectWords } from './wire.js';

function anArith(x: unknown, label: string): ArithShare {
  if (!(x instanceof ArithShare)) throw new TypeError(`${label} must be an ArithShare`);
  return x;
}

function resultScale(s: number, label: string): number {
  if (s > 62) throw new RangeError(`${label}: the product scale ${s} exceeds 62 bits`);
  return s;
}

/** Send this party's 3-of-3 term z_i to party i-1 and return the replicated (z_i, z_{i+1}). */
async function reshare(ctx: Context, z: U64, step: string): Promise<[U64, U64]> {
  const got = await ctx.ch.exchange({ step, send: { [ctx.prev]: z }, recv: [ctx.next] });
  return [z, expectWords(ctx, got, ctx.next, z.length, step)];
}

/** Elementwise ring product x*y; scale = x.scale + y.scale. 1 round, 8 bytes per element per party. */
export async function mul(ctx: Context, x: ArithShare, y: ArithShare): Promise<ArithShare> {
  anArith(x, 'mul: x');
  anArith(y, 'mul: y');
  if (!sameShape(x.shape, y.shape)) throw new RangeError(`mul: shapes differ ([${x.shape.join(',')}] vs [${y.shape.join(',')}])`);
  const scale = resultScale(x.scale + y.scale, 'mul');
  const z = ctx.k.rssMul(x.s0, x.s1, y.s0, y.s1, zeroShareScratch(ctx, x.size));
  const [a, b] = await reshare(ctx, z, 'mul');
  return new ArithShare(x.shape, a, b, scale);
}

export interface MatmulOptions {
  /** x is stored transposed: [..., k, m] */
  readonly transA?: boolean;
  /** y is stored transposed: [..., n, k] */
  readonly transB?: boolean;
}

interface MatmulPlan {
  readonly x0: U64;
  readonly x1: U64;
  readonly y0: U64;
  readonly y1: U64;
  readonly shape: MatmulShape;
  readonly out: Shape;
}

function tile(a: U64, times: number): U64 {
  return times === 1 ? a : concatWords(new Array<U64>(times).fill(a));
}

/**
 * Resolve shapes: x [...b, m, k] (or [...b, k, m] with transA), y [...b, k, n] (or
 * [...b, n, k] with transB). Batch dimensions must match, or one operand has none (it is
 * shared by every batch: folded into the rows when possible, else tiled).
 */
function planMatmul(x: ArithShare, y: ArithShare, opts: MatmulOptions, label: string): MatmulPlan {
  const transA = opts.transA === true;
  const transB = opts.transB === true;
  if (x.shape.length < 2 || y.shape.length < 2) throw new RangeError(`${label}: operands need at least two axes`);
  const bx = x.shape.slice(0, -2);
  const by = y.shape.slice(0, -2);
  const [xr, xc] = x.shape.slice(-2);
  const [yr, yc] = y.shape.slice(-2);
  const m = transA ? xc : xr;
  const k = transA ? xr : xc;
  const kb = transB ? yc : yr;
  const n = transB ? yr : yc;
  if (k !== kb) throw new RangeError(`${label}: inner dimensions differ (${k} vs ${kb})`);
  const batchX = shapeSize(bx);
  const batchY = shapeSize(by);
  if (sameShape(bx, by)) {
    return { x0: x.s0, x1: x.s1, y0: y.s0, y1: y.s1, shape: { m, k, n, batch: batchX, transA, transB }, out: [...bx, m, n] };
  }
  if (by.length === 0) {
    if (!transA) {
      return { x0: x.s0, x1: x.s1, y0: y.s0, y1: y.s1, shape: { m: m * batchX, k, n, batch: 1, transA, transB }, out: [...bx, m, n] };
    }
    return {
      x0: x.s0, x1: x.s1, y0: tile(y.s0, batchX), y1: tile(y.s1, batchX),
      shape: { m, k, n, batch: batchX, transA, transB }, out: [...bx, m, n],
    };
  }
  if (bx.length === 0) {
    return {
      x0: tile(x.s0, batchY), x1: tile(x.s1, batchY), y0: y.s0, y1: y.s1,
      shape: { m, k, n, batch: batchY, transA, transB }, out: [...by, m, n],
    };
  }
  throw new RangeError(`${label}: batch dimensions differ ([${bx.join(',')}] vs [${by.join(',')}])`);
}

function localMatmul(ctx: Context, p: MatmulPlan): U64 {
  const outN = shapeSize(p.out);
  return ctx.k.rssMatmul(p.x0, p.x1, p.y0, p.y1, p.shape, zeroShareScratch(ctx, outN));
}

/** Batched matrix product; 1 round, 8 bytes per OUTPUT element per party. Scale = x.scale + y.scale. */
export async function matmul(ctx: Context, x: ArithShare, y: ArithShare, opts: MatmulOptions = {}): Promise<ArithShare> {
  anArith(x, 'matmul: x');
  anArith(y, 'matmul: y');
  const scale = resultScale(x.scale + y.scale, 'matmul');
  const plan = planMatmul(x, y, opts, 'matmul');
  const [a, b] = await reshare(ctx, localMatmul(ctx, plan), 'matmul');
  return new ArithShare(plan.out, a, b, scale);
}

function aBits(bits: unknown, label: string): number {
  if (typeof bits !== 'number' || !Number.isInteger(bits) || bits < 0 || bits > 62) {
    throw new RangeError(`${label}: bits must be an integer in [0, 62], got ${String(bits)}`);
  }
  return bits;
}

export interface TruncOptions {
  /** scale of the result (default x.scale - bits; required when that is negative) */
  readonly scale?: number;
}

function truncScale(x: ArithShare, bits: number, opts: TruncOptions, label: string): number {
  const s = opts.scale ?? x.scale - bits;
  if (!Number.isInteger(s) || s < 0 || s > 62) throw new RangeError(`${label}: result scale ${s} is out of range (pass opts.scale)`);
  return s;
}

/**
 * The truncation round given the 2-of-2 split: P0 passes a = x0+x1 (hi part), P1 and P2
 * pass b = x2 (lo part). Returns this party's two components of the truncated value.
 */
async function truncRound(ctx: Context, part: U64, bits: number, step: string): Promise<[U64, U64]> {
  const k = ctx.k;
  const n = part.length;
  if (ctx.party === 0) {
    const a = k.truncHi(part, bits, part);
    const r = ctx.prgNext.words(n);
    const y0 = k.sub(a, r, a);
    await ctx.ch.exchange({ step, send: { 2: y0 } });
    return [y0, r];
  }
  const b = k.truncLo(part, bits, part);
  if (ctx.party === 1) {
    const r = ctx.prgPrev.words(n);
    await ctx.ch.exchange({ step });
    return [r, b];
  }
  const got = await ctx.ch.exchange({ step, recv: [0] });
  return [b, expectWords(ctx, got, 0, n, step)];
}

/**
 * ABY3 one-round probabilistic truncation by `bits` (default ctx.f). 1 round; party 0 sends
 * 64 bits per element, the others nothing. Result within one unit (floor or floor + 1) except
 * with probability ~|x|/2^63 per element. Scale becomes x.scale - bits (or opts.scale).
 */
export async function trunc(ctx: Context, x: ArithShare, bits: number = ctx.f, opts: TruncOptions = {}): Promise<ArithShare> {
  anArith(x, 'trunc: x');
  aBits(bits, 'trunc');
  const scale = truncScale(x, bits, opts, 'trunc');
  if (bits === 0) return new ArithShare(x.shape, x.s0, x.s1, scale);
  if (x.size >= ROTATE_MIN) {
    // roles rotated over three chunks (rotate.ts): every party sends ~1/3 of the messages
    const parts = await rotated(ctx, x.size, async (v, lo, hi) => {
      const [a, b] = await truncPlain(v, chunkShare(x, lo, hi), bits);
      return new ArithShare([hi - lo], a, b, scale);
    });
    return joinShares(parts, x.shape, scale);
  }
  const [a, b] = await truncPlain(ctx, x, bits);
  return new ArithShare(x.shape, a, b, scale);
}

async function truncPlain(ctx: Context, x: ArithShare, bits: number): Promise<[U64, U64]> {
  const k = ctx.k;
  const rho = ctx.prgCommon.words(x.size); // public offset: makes the split random
  let part: U64;
  if (ctx.party === 0) part = k.add(k.add(x.s0, x.s1), rho, rho);
  else part = k.sub(ctx.party === 1 ? x.s1 : x.s0, rho, rho);
  return truncRound(ctx, part, bits, 'trunc');
}

/**
 * Product then truncation from the 3-of-3 terms z_i (with alpha): round 1 moves z1 to P0 and
 * z2 to P1; round 2 is the truncation message.
 */
async function fusedTrunc(ctx: Context, z: U64, bits: number, step: string): Promise<[U64, U64]> {
  const n = z.length;
  let part: U64;
  if (ctx.party === 0) {
    const got = await ctx.ch.exchange({ step: `${step}.mul`, recv: [1] });
    part = ctx.k.add(z, expectWords(ctx, got, 1, n, step), z);
  } else if (ctx.party === 1) {
    const got = await ctx.ch.exchange({ step: `${step}.mul`, send: { 0: z }, recv: [2] });
    part = expectWords(ctx, got, 2, n, step).slice();
  } else {
    await ctx.ch.exchange({ step: `${step}.mul`, send: { 1: z } });
    part = z;
  }
  return truncRound(ctx, part, bits, `${step}.trunc`);
}

/** Fixed-point product: ring product, then one truncation back to ctx.f fractional bits (2 rounds, ~8 bytes/element/party). */
export async function mulFixed(ctx: Context, x: ArithShare, y: ArithShare): Promise<ArithShare> {
  anArith(x, 'mulFixed: x');
  anArith(y, 'mulFixed: y');
  if (!sameShape(x.shape, y.shape)) throw new RangeError(`mulFixed: shapes differ ([${x.shape.join(',')}] vs [${y.shape.join(',')}])`);
  const s = resultScale(x.scale + y.scale, 'mulFixed');
  const bits = s - ctx.f;
  if (bits <= 0) return mul(ctx, x, y);
  const z = ctx.k.rssMul(x.s0, x.s1, y.s0, y.s1, zeroShareScratch(ctx, x.size));
  const [a, b] = await fusedTrunc(ctx, z, bits, 'mulFixed');
  return new ArithShare(x.shape, a, b, ctx.f);
}

/** Fixed-point matmul: product then one truncation back to ctx.f (2 rounds, ~8 bytes per output element per party). */
export async function matmulFixed(ctx: Context, x: ArithShare, y: ArithShare, opts: MatmulOptions = {}): Promise<ArithShare> {
  anArith(x, 'matmulFixed: x');
  anArith(y, 'matmulFixed: y');
  const s = resultScale(x.scale + y.scale, 'matmulFixed');
  const plan = planMatmul(x, y, opts, 'matmulFixed');
  const bits = s - ctx.f;
  if (bits <= 0) {
    const [a, b] = await reshare(ctx, localMatmul(ctx, plan), 'matmul');
    return new ArithShare(plan.out, a, b, s);
  }
  const [a, b] = await fusedTrunc(ctx, localMatmul(ctx, plan), bits, 'matmulFixed');
  return new ArithShare(plan.out, a, b, ctx.f);
}

/**
 * Exact truncation floor(x / 2^bits) for |x| < 2^62, by a boolean carry computation
 * (boolean.ts). 9 rounds. Scale becomes x.scale - bits (or opts.scale).
 */
export async function truncExact(ctx: Context, x: ArithShare, bits: number = ctx.f, opts: TruncOptions = {}): Promise<ArithShare> {
  anArith(x, 'truncExact: x');
  aBits(bits, 'truncExact');
  const scale = truncScale(x, bits, opts, 'truncExact');
  if (bits === 0) return new ArithShare(x.shape, x.s0, x.s1, scale);
  const [a, b] = await truncExactImpl(ctx, x, bits);
  return new ArithShare(x.shape, a, b, scale);
}
