/**
 * Multiplication and truncation on arithmetic replicated shares.
 *
 * mul / matmul (1 round, every party sends 64 bits per OUTPUT element):
 *   party i computes z_i = x_i*y_i + x_i*y_{i+1} + x_{i+1}*y_i + alpha_i (the three z_i sum
 *   to the product) and sends z_i to party i-1, so it then holds (z_i, z_{i+1}).
 *   Reveals nothing: alpha_i = PRG(seed_{i,i+1}) - PRG(seed_{i-1,i}) is a fresh zero sharing,
 *   and the receiver i-1 does not hold seed_{i,i+1}, so z_i is uniformly random to it.
 *
 * trunc (1 round; the role of P0 sends 64 bits per element, to P2; from ROTATE_MIN elements on
 * the roles rotate over three chunks (rotate.ts), so each party sends ~21 bits/element), ABY3 one-round
 * truncation (docs/PROTOCOLS.md "Truncation"): first all parties shift the split by a public random offset
 * rho from the common stream (x0+x1+rho, x2-rho), which makes the 2-of-2 split uniformly
 * random even for non-random sharings such as constants; then P0 computes
 * a = trunc_hi(x0+x1+rho), P1 and P2 compute b = trunc_lo(x2-rho), r comes from seed_{0,1}
 * (P0's prgNext = P1's prgPrev), y0 = a - r goes to P2; the new sharing is (y0, r, b).
 *   Reveals nothing: P2 receives a - r, masked by r from a seed it does not hold.
 *   Error: result in {floor(x/2^f), floor(x/2^f) + 1} except with probability about
 *   |x| / 2^64 per element (then the result is garbage: the 2-of-2 split wraps). Every call
 *   with opts.trunc = 'faithful' (or ctx.state.trunc.mode = 'faithful', what the secure model
 *   installs) runs trunc-faithful.ts instead: floor or floor + 1 for |x| < 2^62, never
 *   garbage, 2 rounds (its header has the cost); docs/PROTOCOLS.md "Truncation".
 *
 * mulTrunc / mulFixed / matmulFixed: product and truncation fused. Two forms, from the 3-of-3
 * terms z_i (each with its zero-sharing alpha_i):
 *   one round (the default up to ONE_ROUND_MAX elements; 40 bytes per element in all, i.e.
 *   ~13.3 bytes/element/party with the roles rotated over three chunks): P0 draws r from its
 *   OWN stream and sends m = z0 - r to P1 and P2, and y0 = trunc_hi(r) - u to P2, where u is
 *   drawn from seed_{0,1}; P1 sends z1 to P2 and P2 sends z2 to P1. P1 and P2 both get
 *   c = m + z1 + z2 = z - r and take y2 = trunc_lo(c). New sharing (y0, y1 = u, y2): P0 holds
 *   (y0, u), P1 (u, y2), P2 (y2, y0); y0 + y1 + y2 = trunc_hi(r) + trunc_lo(c) with
 *   r + c = z, r uniform: SecureML's pair, the same error as trunc below. P0 receives nothing.
 *   Reveals nothing: P1 sees m (masked by r, P0's own), z2 (masked by seed_{2,0} in alpha_2)
 *   and so c, which is uniform (r); P2 sees m (r), z1 (masked by seed_{0,1} in alpha_1), y0
 *   (masked by u, a later draw of seed_{0,1}) and c; the masks are independent.
 *   two rounds (above ONE_ROUND_MAX elements, or opts.rounds = 2; 24 bytes per element in
 *   all, 8 per party): round 1: P1 sends z1 to P0, P2 sends z2 to P1 (P0 sends nothing); P0
 *   now knows z0+z1, P1 and P2 know z2. Round 2 is the truncation message above (P0 -> P2).
 *   Reveals nothing: z1 is masked by alpha_1 (seed_{1,2}, unknown to P0), z2 by alpha_2
 *   (seed_{2,0}, unknown to P1); the truncation message as above. The z split is uniformly
 *   random (alpha), so no extra offset is needed.
 *   The one-round form trades bytes for a round: on loopback a round costs ~0.4 ms, so it
 *   wins below some tens of thousands of elements; the two-round form wins for large tensors
 *   (prefill). The default switch point is ONE_ROUND_MAX.
 *
 * truncExact (comparison-based, exact floor for |x| < 2^62, 9 rounds): trunc-exact.ts.
 * Faithful (known-MSB dealer truncation, floor or floor + 1 for |x| < 2^62, 2 rounds):
 * trunc-faithful.ts; every function here takes opts.trunc ('faithful' | 'prob'), default
 * ctx.state.trunc.mode. The recorder (trunc-record.ts) sees every call in measurement mode.
 *
 * Role balance: trunc, truncEach and the one-round fused form are asymmetric (P0 sends
 * most); they run through rotate.ts `balanced` (roles rotated over three chunks from
 * ROTATE_MIN elements on, else from call to call).
 */
import type { MatmulShape, U64 } from '../kernels/api.js';
import type { Context, TruncMode } from './context.js';
import { balanced, chunkShare, joinPairs, joinShares } from './rotate.js';
import { type Segment, clipSegments, faithfulFromShare, faithfulFromTerms } from './trunc-faithful.js';
import { noteTrunc } from './trunc-record.js';
import { ArithShare, type Shape, sameShape, shapeSize, anArith } from './types.js';
import { zeroShareScratch } from './scratch.js';
import { concatWords, expectWords } from './wire.js';

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

/** Check a truncation amount: an integer in [0, 62]. Returns it. */
export function aTruncBits(bits: unknown, label: string): number {
  if (typeof bits !== 'number' || !Number.isInteger(bits) || bits < 0 || bits > 62) {
    throw new RangeError(`${label}: bits must be an integer in [0, 62], got ${String(bits)}`);
  }
  return bits;
}

export interface TruncOptions {
  /** scale of the result (default x.scale - bits; required when that is negative) */
  readonly scale?: number;
  /** 'faithful' (trunc-faithful.ts, 2 rounds, never garbage for |x| < 2^62) or 'prob' (this file); default ctx.state.trunc.mode */
  readonly trunc?: TruncMode;
}

/** The truncation mode of a call: its own, else the context's default. */
export function truncModeOf(ctx: Context, mode: TruncMode | undefined, label: string): TruncMode {
  const m = mode ?? ctx.state.trunc.mode;
  if (m !== 'faithful' && m !== 'prob') throw new RangeError(`${label}: trunc must be 'faithful' or 'prob', got ${String(m)}`);
  return m;
}

/** The scale of x truncated by `bits` (opts.scale or x.scale - bits), checked to lie in [0, 62]. */
export function truncResultScale(x: ArithShare, bits: number, opts: TruncOptions, label: string): number {
  const s = opts.scale ?? x.scale - bits;
  if (!Number.isInteger(s) || s < 0 || s > 62) throw new RangeError(`${label}: result scale ${s} is out of range (pass opts.scale)`);
  return s;
}

/**
 * The truncation round given the 2-of-2 split: P0 passes a = x0+x1 (hi part), P1 and P2
 * pass b = x2 (lo part). Returns this party's two components of the truncated value.
 */
async function truncRound(ctx: Context, part: U64, bits: number | readonly Segment[], step: string): Promise<[U64, U64]> {
  const k = ctx.k;
  const n = part.length;
  const segs: readonly Segment[] = typeof bits === 'number' ? [{ lo: 0, hi: n, bits }] : bits;
  if (ctx.party === 0) {
    for (const g of segs) k.truncHi(part.subarray(g.lo, g.hi), g.bits, part.subarray(g.lo, g.hi));
    const r = ctx.prgNext.words(n);
    const y0 = k.sub(part, r, part);
    await ctx.ch.exchange({ step, send: { 2: y0 } });
    return [y0, r];
  }
  for (const g of segs) k.truncLo(part.subarray(g.lo, g.hi), g.bits, part.subarray(g.lo, g.hi));
  const b = part;
  if (ctx.party === 1) {
    const r = ctx.prgPrev.words(n);
    await ctx.ch.exchange({ step });
    return [r, b];
  }
  const got = await ctx.ch.exchange({ step, recv: [0] });
  return [b, expectWords(ctx, got, 0, n, step)];
}


/** The concatenated result components (a, b) cut back into shares of the given shapes and scales. */
function splitBack(shapes: readonly Shape[], a: U64, b: U64, scales: readonly number[]): ArithShare[] {
  let off = 0;
  return shapes.map((shape, i) => {
    const sz = shapeSize(shape);
    const out = new ArithShare(shape, a.subarray(off, off + sz), b.subarray(off, off + sz), scales[i]);
    off += sz;
    return out;
  });
}

/**
 * Several truncations in ONE round: part i is truncated by parts[i].bits to parts[i].scale
 * (default x.scale - bits). Same protocol, cost and error as trunc on the concatenation (the
 * shift amount is public per element, so each element uses its own). Useful when values at
 * different scales are ready at the same time.
 */
export async function truncEach(
  ctx: Context, parts: readonly { readonly x: ArithShare; readonly bits: number; readonly scale?: number }[], opts: { readonly trunc?: TruncMode } = {},
): Promise<ArithShare[]> {
  const mode = truncModeOf(ctx, opts.trunc, 'truncEach');
  if (!Array.isArray(parts) || parts.length === 0) throw new RangeError('truncEach: parts must be a non-empty array');
  const segs: Segment[] = [];
  const scales: number[] = [];
  let n = 0;
  parts.forEach((p, i) => {
    anArith(p.x, `truncEach: parts[${i}].x`);
    aTruncBits(p.bits, `truncEach: parts[${i}]`);
    scales.push(truncResultScale(p.x, p.bits, { scale: p.scale }, `truncEach: parts[${i}]`));
    if (p.bits > 0 && p.x.size > 0) segs.push({ lo: n, hi: n + p.x.size, bits: p.bits });
    n += p.x.size;
  });
  const x = new ArithShare([n], concatWords(parts.map((p) => p.x.s0)), concatWords(parts.map((p) => p.x.s1)), 0);
  noteTrunc(ctx, 'truncEach', mode, x.s0);
  if (mode === 'faithful') {
    const [a, b] = await faithfulFromShare(ctx, x.s0, x.s1, segs, 'truncF');
    return splitBack(parts.map((p) => p.x.shape), a, b, scales);
  }
  const [a, b] = await balanced<[U64, U64]>(ctx, n, {
    whole: (v) => truncPlain(v, x, segs),
    chunk: (v, lo, hi) => truncPlain(v, chunkShare(x, lo, hi), clipSegments(segs, lo, hi)),
    join: joinPairs,
  });
  return splitBack(parts.map((p) => p.x.shape), a, b, scales);
}

/**
 * ABY3 one-round probabilistic truncation by `bits` (default ctx.f). 1 round; party 0 sends
 * 64 bits per element, the others nothing. Result within one unit (floor or floor + 1) except
 * with probability ~|x|/2^64 per element (opts.trunc 'faithful': trunc-faithful.ts, 2 rounds, never). Scale becomes x.scale - bits (or opts.scale).
 */
export async function trunc(ctx: Context, x: ArithShare, bits: number = ctx.f, opts: TruncOptions = {}): Promise<ArithShare> {
  anArith(x, 'trunc: x');
  aTruncBits(bits, 'trunc');
  const scale = truncResultScale(x, bits, opts, 'trunc');
  if (bits === 0) return new ArithShare(x.shape, x.s0, x.s1, scale);
  const mode = truncModeOf(ctx, opts.trunc, 'trunc');
  noteTrunc(ctx, 'trunc', mode, x.s0);
  if (mode === 'faithful') {
    const [a, b] = await faithfulFromShare(ctx, x.s0, x.s1, bits, 'truncF');
    return new ArithShare(x.shape, a, b, scale);
  }
  // roles balanced (rotate.ts): over a chunked call every party sends ~1/3 of the messages
  return balanced<ArithShare>(ctx, x.size, {
    whole: async (v) => {
      const [a, b] = await truncPlain(v, x, bits);
      return new ArithShare(x.shape, a, b, scale);
    },
    chunk: async (v, lo, hi) => {
      const [a, b] = await truncPlain(v, chunkShare(x, lo, hi), bits);
      return new ArithShare([hi - lo], a, b, scale);
    },
    join: (parts) => joinShares(parts, x.shape, scale),
  });
}

async function truncPlain(ctx: Context, x: ArithShare, bits: number | readonly Segment[]): Promise<[U64, U64]> {
  const k = ctx.k;
  const rho = ctx.prgCommon.words(x.size); // public offset: makes the split random
  let part: U64;
  if (ctx.party === 0) part = k.add(k.add(x.s0, x.s1), rho, rho);
  else part = k.sub(ctx.party === 1 ? x.s1 : x.s0, rho, rho);
  return truncRound(ctx, part, bits, 'trunc');
}

/** Largest tensor (elements) for which the fused product-truncation runs in one round by default. */
export const ONE_ROUND_MAX = 1 << 15;

export interface MulTruncOptions extends TruncOptions {
  /** 1: one round, more bytes; 2: two rounds, fewer bytes (default: 1 up to ONE_ROUND_MAX elements) */
  readonly rounds?: 1 | 2;
}

function fusedRounds(n: number, opts: MulTruncOptions, label: string): 1 | 2 {
  const r = opts.rounds ?? (n <= ONE_ROUND_MAX ? 1 : 2);
  if (r !== 1 && r !== 2) throw new RangeError(`${label}: rounds must be 1 or 2, got ${String(r)}`);
  return r;
}

/**
 * Two-round form: round 1 moves z1 to P0 and z2 to P1; round 2 is the truncation message.
 */
async function fusedTrunc2(ctx: Context, z: U64, bits: number | readonly Segment[], step: string): Promise<[U64, U64]> {
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

/** One-round form for one chunk (roles as given by ctx): see the file header. */
async function fusedTrunc1Plain(ctx: Context, z: U64, bits: number | readonly Segment[], step: string): Promise<[U64, U64]> {
  const k = ctx.k;
  const n = z.length;
  const segs: readonly Segment[] = typeof bits === 'number' ? [{ lo: 0, hi: n, bits }] : bits;
  const each = (v: U64, fn: 'truncHi' | 'truncLo'): U64 => {
    for (const g of segs) k[fn](v.subarray(g.lo, g.hi), g.bits, v.subarray(g.lo, g.hi));
    return v;
  };
  if (ctx.party === 0) {
    const r = ctx.prgOwn.words(n);
    const u = ctx.prgNext.words(n);
    const msg = new BigUint64Array(2 * n);
    const m = k.sub(z, r, msg.subarray(0, n));
    const y0 = k.sub(each(r, 'truncHi'), u, msg.subarray(n));
    await ctx.ch.exchange({ step, send: { 1: m, 2: msg } });
    return [y0, u];
  }
  if (ctx.party === 1) {
    const u = ctx.prgPrev.words(n);
    const got = await ctx.ch.exchange({ step, send: { 2: z }, recv: [0, 2] });
    const c = k.add(k.add(z, expectWords(ctx, got, 0, n, step)), expectWords(ctx, got, 2, n, step));
    return [u, each(c, 'truncLo')];
  }
  const got = await ctx.ch.exchange({ step, send: { 1: z }, recv: [0, 1] });
  const from0 = expectWords(ctx, got, 0, 2 * n, step);
  const c = k.add(k.add(z, from0.subarray(0, n)), expectWords(ctx, got, 1, n, step));
  return [each(c, 'truncLo'), from0.slice(n)];
}

/** One-round form with balanced roles (rotate.ts balanced). */
function fusedTrunc1(ctx: Context, z: U64, bits: number | readonly Segment[], step: string): Promise<[U64, U64]> {
  return balanced<[U64, U64]>(ctx, z.length, {
    whole: (v) => fusedTrunc1Plain(v, z, bits, step),
    chunk: (v, lo, hi) => fusedTrunc1Plain(v, z.subarray(lo, hi), typeof bits === 'number' ? bits : clipSegments(bits, lo, hi), step),
    join: joinPairs,
  });
}

/**
 * From this party's 3-of-3 term z (which MUST include a fresh zero sharing: every message of
 * both forms is masked by it) to a replicated sharing of trunc(z0 + z1 + z2, bits).
 */
function fusedTrunc(ctx: Context, z: U64, bits: number | readonly Segment[], rounds: 1 | 2, step: string, mode: TruncMode): Promise<[U64, U64]> {
  noteTrunc(ctx, step, mode, z);
  if (mode === 'faithful') return faithfulFromTerms(ctx, z, bits, `${step}F`);
  return rounds === 1 ? fusedTrunc1(ctx, z, bits, step) : fusedTrunc2(ctx, z, bits, step);
}

/**
 * Product truncated by `bits`: trunc(x * y, bits), scale x.scale + y.scale - bits (or
 * opts.scale). 1 round up to ONE_ROUND_MAX elements (40 bytes per element over the three
 * parties), else 2 rounds (24 bytes); opts.rounds overrides. Same error as trunc.
 */
export async function mulTrunc(ctx: Context, x: ArithShare, y: ArithShare, bits: number, opts: MulTruncOptions = {}): Promise<ArithShare> {
  anArith(x, 'mulTrunc: x');
  anArith(y, 'mulTrunc: y');
  if (!sameShape(x.shape, y.shape)) throw new RangeError(`mulTrunc: shapes differ ([${x.shape.join(',')}] vs [${y.shape.join(',')}])`);
  aTruncBits(bits, 'mulTrunc');
  const s = resultScale(x.scale + y.scale, 'mulTrunc');
  const scale = opts.scale ?? s - bits;
  if (!Number.isInteger(scale) || scale < 0 || scale > 62) throw new RangeError(`mulTrunc: result scale ${scale} is out of range (pass opts.scale)`);
  const rounds = fusedRounds(x.size, opts, 'mulTrunc');
  if (bits === 0) {
    const m = await mul(ctx, x, y);
    return new ArithShare(x.shape, m.s0, m.s1, scale);
  }
  const z = ctx.k.rssMul(x.s0, x.s1, y.s0, y.s1, zeroShareScratch(ctx, x.size));
  const [a, b] = await fusedTrunc(ctx, z, bits, rounds, rounds === 1 ? 'mulTrunc' : 'mulFixed', truncModeOf(ctx, opts.trunc, 'mulTrunc'));
  return new ArithShare(x.shape, a, b, scale);
}

/**
 * Several fixed-point products in ONE fused exchange, each truncated by its own bits:
 * out_i = trunc(x_i * y_i, bits_i) at scale x_i.scale + y_i.scale - bits_i (or scale_i).
 * Rounds and bytes as mulTrunc on the total element count.
 */
export async function mulTruncEach(
  ctx: Context, parts: readonly { readonly x: ArithShare; readonly y: ArithShare; readonly bits: number; readonly scale?: number }[], opts: { readonly rounds?: 1 | 2; readonly trunc?: TruncMode } = {},
): Promise<ArithShare[]> {
  if (!Array.isArray(parts) || parts.length === 0) throw new RangeError('mulTruncEach: parts must be a non-empty array');
  const segs: Segment[] = [];
  const scales: number[] = [];
  let n = 0;
  parts.forEach((p, i) => {
    anArith(p.x, `mulTruncEach: parts[${i}].x`);
    anArith(p.y, `mulTruncEach: parts[${i}].y`);
    if (!sameShape(p.x.shape, p.y.shape)) throw new RangeError(`mulTruncEach: parts[${i}]: shapes differ`);
    aTruncBits(p.bits, `mulTruncEach: parts[${i}]`);
    const s = resultScale(p.x.scale + p.y.scale, 'mulTruncEach');
    const scale = p.scale ?? s - p.bits;
    if (!Number.isInteger(scale) || scale < 0 || scale > 62) throw new RangeError(`mulTruncEach: parts[${i}]: result scale ${scale} is out of range`);
    scales.push(scale);
    segs.push({ lo: n, hi: n + p.x.size, bits: p.bits });
    n += p.x.size;
  });
  const cat = (f: (p: (typeof parts)[number]) => U64): U64 => concatWords(parts.map(f));
  const z = ctx.k.rssMul(cat((p) => p.x.s0), cat((p) => p.x.s1), cat((p) => p.y.s0), cat((p) => p.y.s1), zeroShareScratch(ctx, n));
  const rounds = fusedRounds(n, opts, 'mulTruncEach');
  const [a, b] = await fusedTrunc(ctx, z, segs, rounds, rounds === 1 ? 'mulTrunc' : 'mulFixed', truncModeOf(ctx, opts.trunc, 'mulTruncEach'));
  return splitBack(parts.map((p) => p.x.shape), a, b, scales);
}

/**
 * Truncate a sum of 3-of-3 terms in one fused exchange: `z` is this party's term (the
 * caller adds the ring products and the s0 components of any replicated shares; a fresh
 * zero sharing is added here). Returns trunc(sum, bits) at `scale` with `shape`.
 * Rounds and bytes as mulTrunc for the same element count.
 */
export async function truncTerms(ctx: Context, z: U64, shape: Shape, bits: number, scale: number, opts: MulTruncOptions = {}): Promise<ArithShare> {
  if (!(z instanceof BigUint64Array)) throw new TypeError('truncTerms: z must be a BigUint64Array');
  if (shapeSize(shape) !== z.length) throw new RangeError(`truncTerms: shape [${shape.join(',')}] does not match ${z.length} words`);
  aTruncBits(bits, 'truncTerms');
  if (!Number.isInteger(scale) || scale < 0 || scale > 62) throw new RangeError(`truncTerms: scale ${scale} is out of range`);
  const masked = ctx.k.add(z, ctx.zeroShare(z.length));
  if (bits === 0) {
    const [a, b] = await reshare(ctx, masked, 'mul');
    return new ArithShare(shape, a, b, scale);
  }
  const rounds = fusedRounds(z.length, opts, 'truncTerms');
  const [a, b] = await fusedTrunc(ctx, masked, bits, rounds, rounds === 1 ? 'mulTrunc' : 'mulFixed', truncModeOf(ctx, opts.trunc, 'truncTerms'));
  return new ArithShare(shape, a, b, scale);
}

/** This party's 3-of-3 term of x * y (no zero sharing; for truncTerms, which adds one). */
export function productTerm(ctx: Context, x: ArithShare, y: ArithShare): U64 {
  anArith(x, 'productTerm: x');
  anArith(y, 'productTerm: y');
  if (!sameShape(x.shape, y.shape)) throw new RangeError(`productTerm: shapes differ ([${x.shape.join(',')}] vs [${y.shape.join(',')}])`);
  return ctx.k.rssMul(x.s0, x.s1, y.s0, y.s1);
}

/** Fixed-point product: ring product and one truncation back to ctx.f (mulTrunc: 1 round up to ONE_ROUND_MAX elements, else 2). */
export async function mulFixed(ctx: Context, x: ArithShare, y: ArithShare, opts: { readonly rounds?: 1 | 2; readonly trunc?: TruncMode } = {}): Promise<ArithShare> {
  anArith(x, 'mulFixed: x');
  anArith(y, 'mulFixed: y');
  if (!sameShape(x.shape, y.shape)) throw new RangeError(`mulFixed: shapes differ ([${x.shape.join(',')}] vs [${y.shape.join(',')}])`);
  const s = resultScale(x.scale + y.scale, 'mulFixed');
  const bits = s - ctx.f;
  if (bits <= 0) return mul(ctx, x, y);
  return mulTrunc(ctx, x, y, bits, { scale: ctx.f, rounds: opts.rounds, trunc: opts.trunc });
}

/** Fixed-point matmul: product then one truncation back to ctx.f (1 round up to ONE_ROUND_MAX output elements, else 2; as mulTrunc). */
export async function matmulFixed(ctx: Context, x: ArithShare, y: ArithShare, opts: MatmulOptions & { readonly rounds?: 1 | 2; readonly trunc?: TruncMode } = {}): Promise<ArithShare> {
  anArith(x, 'matmulFixed: x');
  anArith(y, 'matmulFixed: y');
  const s = resultScale(x.scale + y.scale, 'matmulFixed');
  const plan = planMatmul(x, y, opts, 'matmulFixed');
  const bits = s - ctx.f;
  if (bits <= 0) {
    const [a, b] = await reshare(ctx, localMatmul(ctx, plan), 'matmul');
    return new ArithShare(plan.out, a, b, s);
  }
  const rounds = fusedRounds(shapeSize(plan.out), opts, 'matmulFixed');
  const [a, b] = await fusedTrunc(ctx, localMatmul(ctx, plan), bits, rounds, rounds === 1 ? 'matmulTrunc' : 'matmulFixed', truncModeOf(ctx, opts.trunc, 'matmulFixed'));
  return new ArithShare(plan.out, a, b, ctx.f);
}
