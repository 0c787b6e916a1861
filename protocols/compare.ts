/**
 * Comparisons, selection, ReLU, max and argmax on arithmetic shares.
 *
 * ltz(x) = [x < 0] = msb(x) (boolean.ts, 7 rounds) followed by bit injection (1 round):
 * 8 rounds and about 288 bits (36 bytes) sent per element per party on average
 * (P0 ~47 bytes, P1 and P2 ~31 bytes).
 * lt/le/gt/ge compare through the sign of a difference, so they are exact when
 * |x - y| < 2^63 (always for fixed-point values within the documented ranges).
 *
 * eq(x, y): z = x - y is zero iff s = z0 + z1 (known to P0) equals -z2 (known to P1 and P2).
 * P0 reshares s as a boolean sharing (t, u, 0) in one message to P1 (u = S ^ t, masked by
 * t from seed_{2,0}, which P1 lacks); the 64 bits e_j = NOT(s_j ^ (-z2)_j) are ANDed by a
 * tree (6 levels, 63 ANDs, each masked by a fresh boolean zero sharing), then bit
 * injection. 8 rounds, about 170 bits (21 bytes) per element per party on average.
 *
 * mux(c, a, b) = b + c * (a - b): one multiplication (1 round). relu(x) = x - msb(x) * x with
 * the product fused into the bit injection round (boolean.ts "bit times value"): 8 rounds.
 * max / argmax over the last axis: a tournament tree of adjacent pairs (ceil(log2 n) levels, each
 * one batched msb for all pairs of all rows and one fused select round: 8 rounds); on a tie
 * the lower index wins. argmax's one-hot is built top-down from the stored comparison bits
 * (log2 n more multiplication rounds, about 2n products per row).
 *
 * All of these reveal nothing: every message is one of the masked messages of msb, b2a,
 * the AND/reshare rounds or mul, whose masking is argued in boolean.ts and mul.ts.
 */
import type { U64 } from '../kernels/api.js';
import type { Context } from './context.js';
import { andSlices, b2aSliced, bitTimesSliced, msbSliced, sliceBits, sliceWords, type SlicePair } from './boolean.js';
import { add, concat, publicSub, slice, sub, transposeWords } from './linear.js';
import { mul } from './mul.js';
import { constant } from './sharing.js';
import { ArithShare, sameShape, shapeSize } from './types.js';
import { expectWords } from './wire.js';

function anArith(x: unknown, label: string): ArithShare {
  if (!(x instanceof ArithShare)) throw new TypeError(`${label} must be an ArithShare`);
  return x;
}

function sameOperands(x: ArithShare, y: ArithShare, label: string): void {
  if (!sameShape(x.shape, y.shape)) throw new RangeError(`${label}: shapes differ ([${x.shape.join(',')}] vs [${y.shape.join(',')}])`);
  if (x.scale !== y.scale) throw new RangeError(`${label}: scales differ (${x.scale} vs ${y.scale})`);
}

/**
 * Options of the comparisons. bitWidth = L (default 64) promises that the compared
 * difference lies in [-2^(L-1), 2^(L-1)): the sign is then bit L-1 and the carry circuit
 * shrinks (L = 32: 7 rounds and ~23 bytes/element/party for lt instead of 8 and ~36).
 * For fixed-point values with |v| < 2^12 at f = 18, differences fit in L = 32.
 */
export interface CompareOptions {
  readonly bitWidth?: number;
}

/** [x < 0] as an arithmetic 0/1 integer (scale 0). 8 rounds (fewer with opts.bitWidth). */
export async function ltz(ctx: Context, x: ArithShare, opts: CompareOptions = {}): Promise<ArithShare> {
  anArith(x, 'ltz: x');
  const m = await msbSliced(ctx, x, 'ltz.msb', opts.bitWidth ?? 64);
  return b2aSliced(ctx, m, x.size, x.shape, 'ltz.b2a');
}

/** [x < y] (0/1, scale 0). 8 rounds. */
export async function lt(ctx: Context, x: ArithShare, y: ArithShare, opts: CompareOptions = {}): Promise<ArithShare> {
  anArith(x, 'lt: x');
  anArith(y, 'lt: y');
  sameOperands(x, y, 'lt');
  return ltz(ctx, sub(ctx, x, y), opts);
}

/** [x > y] (0/1, scale 0). 8 rounds. */
export async function gt(ctx: Context, x: ArithShare, y: ArithShare, opts: CompareOptions = {}): Promise<ArithShare> {
  anArith(x, 'gt: x');
  anArith(y, 'gt: y');
  sameOperands(x, y, 'gt');
  return ltz(ctx, sub(ctx, y, x), opts);
}

/** [x <= y] (0/1, scale 0). 8 rounds. */
export async function le(ctx: Context, x: ArithShare, y: ArithShare, opts: CompareOptions = {}): Promise<ArithShare> {
  return publicSub(ctx, 1, await gt(ctx, x, y, opts));
}

/** [x >= y] (0/1, scale 0). 8 rounds. */
export async function ge(ctx: Context, x: ArithShare, y: ArithShare, opts: CompareOptions = {}): Promise<ArithShare> {
  return publicSub(ctx, 1, await lt(ctx, x, y, opts));
}

/** [x == y] (0/1, scale 0), exact on the ring. 8 rounds. */
export async function eq(ctx: Context, x: ArithShare, y: ArithShare): Promise<ArithShare> {
  anArith(x, 'eq: x');
  anArith(y, 'eq: y');
  sameOperands(x, y, 'eq');
  const k = ctx.k;
  const z = sub(ctx, x, y);
  const n = z.size;
  const W = sliceWords(n);
  const all = 64 * W;
  const step = 'eq.share';
  // e = NOT(s ^ X) with s = z0 + z1 (P0) and X = -z2 (P1, P2); sharing of s: (t, u, 0), of X: (0, 0, X)
  let e0: U64, e1: U64;
  if (ctx.party === 0) {
    const S = sliceBits(ctx, k.add(z.s0, z.s1), 64);
    const t = ctx.prgPrev.words(all);
    const u = k.xor(S, t, S);
    await ctx.ch.exchange({ step, send: { 1: u } });
    [e0, e1] = [k.not(t, t), u];
  } else if (ctx.party === 1) {
    const X = sliceBits(ctx, k.neg(z.s1), 64);
    const got = await ctx.ch.exchange({ step, recv: [0] });
    [e0, e1] = [expectWords(ctx, got, 0, all, step), X];
  } else {
    const X = sliceBits(ctx, k.neg(z.s0), 64);
    const t = ctx.prgNext.words(all);
    await ctx.ch.exchange({ step });
    [e0, e1] = [X, k.not(t, t)];
  }
  let cur: SlicePair[] = [];
  for (let j = 0; j < 64; j++) cur.push([e0.subarray(j * W, (j + 1) * W), e1.subarray(j * W, (j + 1) * W)]);
  let level = 0;
  while (cur.length > 1) {
    const h = cur.length >> 1;
    const xs = cur.slice(0, h);
    const ys = cur.slice(h, 2 * h);
    const zz = await andSlices(ctx, xs, ys, `eq.and.${level}`);
    if (cur.length % 2 === 1) zz.push(cur[cur.length - 1]);
    cur = zz;
    level++;
  }
  return b2aSliced(ctx, cur[0], n, z.shape, 'eq.b2a');
}

/** c ? a : b for an arithmetic 0/1 c (scale 0); result scale = a.scale. 1 round. */
export async function mux(ctx: Context, c: ArithShare, a: ArithShare, b: ArithShare): Promise<ArithShare> {
  anArith(c, 'mux: c');
  anArith(a, 'mux: a');
  anArith(b, 'mux: b');
  sameOperands(a, b, 'mux');
  if (!sameShape(c.shape, a.shape)) throw new RangeError('mux: c must have the shape of a and b');
  if (c.scale !== 0) throw new RangeError(`mux: c must be a 0/1 integer (scale 0), got scale ${c.scale}`);
  return add(ctx, b, await mul(ctx, c, sub(ctx, a, b)));
}

/** max(x, 0) = x - [x < 0] * x, the product fused with the bit injection. 8 rounds. */
export async function relu(ctx: Context, x: ArithShare, opts: CompareOptions = {}): Promise<ArithShare> {
  anArith(x, 'relu: x');
  const e = await msbSliced(ctx, x, 'relu.msb', opts.bitWidth ?? 64);
  const { prods } = await bitTimesSliced(ctx, e, x.size, [x], false, 'relu.select');
  return sub(ctx, x, prods[0]);
}

/** Split [rows, 2h] into the even and odd columns, each [rows, h] (local word shuffling). */
function deinterleave(x: ArithShare, rows: number, h: number): [ArithShare, ArithShare] {
  const t0 = transposeWords(x.s0, 1, rows * h, 2);
  const t1 = transposeWords(x.s1, 1, rows * h, 2);
  const m = rows * h;
  const shape = [rows, h];
  return [
    new ArithShare(shape, t0.subarray(0, m), t1.subarray(0, m), x.scale),
    new ArithShare(shape, t0.subarray(m), t1.subarray(m), x.scale),
  ];
}

/** Inverse of deinterleave: columns a[i], b[i] -> positions 2i, 2i+1. */
function interleave(a: ArithShare, b: ArithShare, rows: number, h: number): ArithShare {
  const m = rows * h;
  const c0 = new BigUint64Array(2 * m);
  const c1 = new BigUint64Array(2 * m);
  c0.set(a.s0, 0);
  c0.set(b.s0, m);
  c1.set(a.s1, 0);
  c1.set(b.s1, m);
  return new ArithShare([rows, 2 * h], transposeWords(c0, 1, 2, m), transposeWords(c1, 1, 2, m), a.scale);
}

interface Level {
  readonly cnt: number;
  readonly h: number;
  /** [rows, h]: 1 where the left (lower-index) candidate won */
  readonly leftWins: ArithShare;
}

async function tournament(ctx: Context, x: ArithShare, keep: boolean, label: string, opts: CompareOptions): Promise<{ max: ArithShare; levels: Level[] }> {
  anArith(x, `${label}: x`);
  if (x.shape.length === 0) throw new RangeError(`${label}: x must have at least one axis`);
  const n = x.shape[x.shape.length - 1];
  if (n < 1) throw new RangeError(`${label}: the last axis is empty`);
  const lead = x.shape.slice(0, -1);
  const rows = shapeSize(lead);
  let cur = x.reshape([rows, n]);
  const levels: Level[] = [];
  while (cur.shape[1] > 1) {
    const cnt = cur.shape[1];
    const h = cnt >> 1;
    const main = cnt % 2 === 1 ? slice(ctx, cur, 0, cnt - 1) : cur;
    const [left, right] = deinterleave(main, rows, h);
    // e = [left < right]; winner = left + e * (right - left) (a tie keeps the left, lower index)
    const e = await msbSliced(ctx, sub(ctx, left, right), `${label}.msb`, opts.bitWidth ?? 64);
    const r = await bitTimesSliced(ctx, e, rows * h, [sub(ctx, right, left)], keep, `${label}.select`);
    const win = add(ctx, left, r.prods[0]);
    cur = cnt % 2 === 1 ? concat(ctx, [win, slice(ctx, cur, cnt - 1, cnt)]) : win;
    if (keep) levels.push({ cnt, h, leftWins: publicSub(ctx, 1, r.bit!) });
  }
  return { max: cur.reshape([...lead, 1]), levels };
}

/** Maximum over the last axis: shape [..., n] -> [..., 1]. ceil(log2 n) levels of 9 rounds. */
export async function max(ctx: Context, x: ArithShare, opts: CompareOptions = {}): Promise<ArithShare> {
  return (await tournament(ctx, x, false, 'max', opts)).max;
}

/**
 * Maximum and one-hot position of the maximum over the last axis (the lowest index on ties).
 * oneHot: [..., n] of 0/1 (scale 0).
 */
export async function argmax(ctx: Context, x: ArithShare, opts: CompareOptions = {}): Promise<{ max: ArithShare; oneHot: ArithShare }> {
  const { max: mx, levels } = await tournament(ctx, x, true, 'argmax', opts);
  const lead = x.shape.slice(0, -1);
  const rows = shapeSize(lead);
  let oh = constant(ctx, [rows, 1], 1, 0);
  for (let l = levels.length - 1; l >= 0; l--) {
    const { cnt, h, leftWins } = levels[l];
    const top = cnt % 2 === 1 ? slice(ctx, oh, 0, h) : oh;
    const leftPart = await mul(ctx, top, leftWins);
    const rightPart = sub(ctx, top, leftPart);
    const pairs = interleave(leftPart, rightPart, rows, h);
    oh = cnt % 2 === 1 ? concat(ctx, [pairs, slice(ctx, oh, h, h + 1)]) : pairs;
  }
  return { max: mx, oneHot: oh.reshape(x.shape) };
}
