/**
 * Sharing, opening and public constants for three-party replicated secret sharing.
 *
 * Party i holds (x_i, x_{i+1}) of x = x0 + x1 + x2 mod 2^64 (s0 = x_i, s1 = x_{i+1}).
 *
 * input (owner o, 1 round, the owner sends 64 bits per element to party o-1, nobody else sends):
 *   x_{o+1} = PRG(seed_{o,o+1}) (the owner and party o+1 draw it), x_{o+2} = PRG(common)
 *   (all three draw it), x_o = v - x_{o+1} - x_{o+2} is sent by the owner to party o+2 = o-1.
 *   Reveals nothing: party o+1 sees two PRG outputs that do not depend on v; party o-1 sees
 *   the common word and x_o, which is masked by x_{o+1}, drawn from a seed it does not hold.
 *   (One component being known to all three is harmless: every party still lacks one
 *   component that masks the value, and the sharing is correct for truncation because
 *   x_{o+2} is uniformly random and independent of v.)
 * reveal (1 round): party i sends its s1 = x_{i+1} to party i-1, which misses exactly that
 *   component. Reveals the value to the named receiver(s) and nothing else: the
 *   component is determined by the value and the receiver's own two components.
 * constant / fromPublic: local; the value is put in component x0 (held by parties 0 and 2).
 *   Such a sharing is not random; every protocol here that needs random components
 *   (truncation) re-randomises first, so constants are safe inputs everywhere.
 */
import type { U64 } from '../kernels/api.js';
import type { PartyId } from './channel.js';
import type { Context } from './context.js';
import { ArithShare, BoolShare, PublicTensor, type Shape, aShape, shapeSize } from './types.js';
import { concatWords, expectWords, splitWords } from './wire.js';

/** Check a party index. */
export function aParty(p: unknown, label = 'party'): PartyId {
  if (p !== 0 && p !== 1 && p !== 2) throw new RangeError(`${label} must be 0, 1 or 2, got ${String(p)}`);
  return p;
}

/** Check a scale (fractional bits). */
export function aScale(s: unknown, label = 'scale'): number {
  if (typeof s !== 'number' || !Number.isInteger(s) || s < 0 || s > 62) {
    throw new RangeError(`${label} must be an integer in [0, 62], got ${String(s)}`);
  }
  return s;
}

/** Encode values as ring elements: Float64Array at `scale` (must fit), BigUint64Array as is. */
export function encodeValues(ctx: Context, values: Float64Array | BigUint64Array, scale: number, n: number, label: string): U64 {
  if (values instanceof BigUint64Array) {
    if (values.length !== n) throw new RangeError(`${label}: ${values.length} values, shape needs ${n}`);
    return values;
  }
  if (!(values instanceof Float64Array)) throw new TypeError(`${label}: values must be a Float64Array or BigUint64Array`);
  if (values.length !== n) throw new RangeError(`${label}: ${values.length} values, shape needs ${n}`);
  const r = ctx.k.encodeFixed(values, scale);
  if (r.outOfRange > 0) {
    throw new RangeError(`${label}: ${r.outOfRange} value(s) are not finite or do not fit at scale ${scale} (first at index ${r.firstOutOfRange})`);
  }
  return r.values;
}

export interface InputItem {
  readonly shape: Shape;
  /** the owner passes the values; the other parties leave it undefined */
  readonly values?: Float64Array | BigUint64Array;
  /** fractional bits (default ctx.f); ignored for BigUint64Array values except as the result's scale */
  readonly scale?: number;
}

/**
 * Secret-share tensors owned by `owner` in ONE round (the owner sends one message to party
 * owner-1 with 64 bits per element; the others send nothing). All parties call it with the
 * same shapes and scales; only the owner passes values.
 */
export async function inputMany(ctx: Context, owner: PartyId, items: readonly InputItem[]): Promise<ArithShare[]> {
  aParty(owner, 'inputMany: owner');
  if (!Array.isArray(items)) throw new TypeError('inputMany: items must be an array');
  const shapes = items.map((it, i) => aShape(it.shape, `inputMany: items[${i}].shape`));
  const sizes = shapes.map(shapeSize);
  const scales = items.map((it, i) => aScale(it.scale ?? ctx.f, `inputMany: items[${i}].scale`));
  const total = sizes.reduce((a, b) => a + b, 0);
  const step = 'input';
  const common = ctx.prgCommon.words(total); // x_{o+2}, drawn by all three
  const me = ctx.party;
  let mine0: U64; // s0
  let mine1: U64; // s1
  if (me === owner) {
    const vals = items.map((it, i) => {
      if (it.values === undefined) throw new TypeError(`inputMany: the owner (party ${owner}) must pass items[${i}].values`);
      return encodeValues(ctx, it.values, scales[i], sizes[i], `inputMany: items[${i}]`);
    });
    const v = concatWords(vals);
    const xNext = ctx.prgNext.words(total); // x_{o+1}
    const xo = ctx.k.sub(v, xNext); // a new array: the caller's values are never written
    ctx.k.sub(xo, common, xo);
    await ctx.ch.exchange({ step, send: { [ctx.prev]: xo } });
    mine0 = xo;
    mine1 = xNext;
  } else {
    items.forEach((it, i) => {
      if (it.values !== undefined) throw new TypeError(`inputMany: only the owner (party ${owner}) passes values (items[${i}])`);
    });
    if (me === (owner + 1) % 3) {
      const xNext = ctx.prgPrev.words(total); // x_{o+1} = my s0
      await ctx.ch.exchange({ step });
      mine0 = xNext;
      mine1 = common;
    } else {
      const got = await ctx.ch.exchange({ step, recv: [owner] });
      mine0 = common;
      mine1 = expectWords(ctx, got, owner, total, step);
    }
  }
  const p0 = splitWords(mine0, sizes);
  const p1 = splitWords(mine1, sizes);
  return shapes.map((s, i) => new ArithShare(s, p0[i], p1[i], scales[i]));
}

/** Secret-share one tensor owned by `owner` (1 round, owner sends 64 bits/element). */
export async function input(
  ctx: Context,
  owner: PartyId,
  shape: Shape,
  values?: Float64Array | BigUint64Array,
  scale: number = ctx.f,
): Promise<ArithShare> {
  const [x] = await inputMany(ctx, owner, [{ shape, values, scale }]);
  return x;
}

type Receivers = PartyId | 'all';

function aReceivers(to: unknown, label: string): Receivers {
  if (to === 'all') return to;
  return aParty(to, label);
}

async function openComponents(ctx: Context, s0: U64, s1: U64, to: Receivers, step: string): Promise<U64 | undefined> {
  // Party i holds (x_i, x_{i+1}) and misses x_{i+2}, which party i+1 holds as its s1.
  const me = ctx.party;
  const n = s0.length;
  const send = to === 'all' || to === ctx.prev ? { [ctx.prev]: s1 } : undefined;
  const recv = to === 'all' || to === me ? [ctx.next] : [];
  const got = await ctx.ch.exchange({ step, send, recv });
  if (recv.length === 0) return undefined;
  return expectWords(ctx, got, ctx.next, n, step);
}

/**
 * Open x to `to` ('all' by default). 1 round, each sender sends 64 bits per element.
 * Revealing to all returns the value on every party; revealing to one party returns it on
 * that party and undefined on the other two (typed `PublicTensor | undefined`).
 */
export async function reveal(ctx: Context, x: ArithShare, to?: 'all'): Promise<PublicTensor>;
export async function reveal(ctx: Context, x: ArithShare, to: PartyId | 'all'): Promise<PublicTensor | undefined>;
export async function reveal(ctx: Context, x: ArithShare, to: PartyId | 'all' = 'all'): Promise<PublicTensor | undefined> {
  if (!(x instanceof ArithShare)) throw new TypeError('reveal: x must be an ArithShare');
  const missing = await openComponents(ctx, x.s0, x.s1, aReceivers(to, 'reveal: to'), 'reveal');
  return missing && new PublicTensor(x.shape, ctx.k.add(ctx.k.add(x.s0, x.s1), missing), x.scale);
}

/** Open x and decode it as float64 with x.scale (typed by recipient as `reveal`). */
export async function revealFloat(ctx: Context, x: ArithShare, to?: 'all'): Promise<Float64Array>;
export async function revealFloat(ctx: Context, x: ArithShare, to: PartyId | 'all'): Promise<Float64Array | undefined>;
export async function revealFloat(ctx: Context, x: ArithShare, to: PartyId | 'all' = 'all'): Promise<Float64Array | undefined> {
  const p = await reveal(ctx, x, to);
  return p === undefined ? undefined : ctx.k.decodeFixed(p.data, p.scale);
}

/** Open a boolean sharing: the XOR of the three components, word by word (typed by recipient as `reveal`). */
export async function revealBool(ctx: Context, x: BoolShare, to?: 'all'): Promise<BigUint64Array>;
export async function revealBool(ctx: Context, x: BoolShare, to: PartyId | 'all'): Promise<BigUint64Array | undefined>;
export async function revealBool(ctx: Context, x: BoolShare, to: PartyId | 'all' = 'all'): Promise<BigUint64Array | undefined> {
  if (!(x instanceof BoolShare)) throw new TypeError('revealBool: x must be a BoolShare');
  const missing = await openComponents(ctx, x.s0, x.s1, aReceivers(to, 'revealBool: to'), 'revealBool');
  return missing && ctx.k.xor(ctx.k.xor(x.s0, x.s1), missing);
}

/** Components (s0, s1) of a public value v put in x0 (parties 0 and 2 hold x0). */
export function publicComponents(ctx: Context, v: U64): [U64, U64] {
  const n = v.length;
  if (ctx.party === 0) return [v.slice(), new BigUint64Array(n)];
  if (ctx.party === 2) return [new BigUint64Array(n), v.slice()];
  return [new BigUint64Array(n), new BigUint64Array(n)];
}

/** A public constant as a share (local). `value` is a number for every element or one per element. */
export function constant(ctx: Context, shape: Shape, value: number | Float64Array, scale: number = ctx.f): ArithShare {
  aShape(shape, 'constant: shape');
  aScale(scale, 'constant: scale');
  const n = shapeSize(shape);
  let vals: Float64Array;
  if (typeof value === 'number') vals = new Float64Array(n).fill(value);
  else if (value instanceof Float64Array) vals = value;
  else throw new TypeError('constant: value must be a number or a Float64Array');
  const v = encodeValues(ctx, vals, scale, n, 'constant');
  const [s0, s1] = publicComponents(ctx, v);
  return new ArithShare(shape, s0, s1, scale);
}

/** A public tensor as a share (local). */
export function fromPublic(ctx: Context, p: PublicTensor): ArithShare {
  if (!(p instanceof PublicTensor)) throw new TypeError('fromPublic: p must be a PublicTensor');
  const [s0, s1] = publicComponents(ctx, p.data);
  return new ArithShare(p.shape, s0, s1, p.scale);
}

/** A public tensor from float values encoded at `scale` (default ctx.f). */
export function publicTensor(ctx: Context, shape: Shape, values: Float64Array | BigUint64Array, scale: number = ctx.f): PublicTensor {
  aShape(shape, 'publicTensor: shape');
  aScale(scale, 'publicTensor: scale');
  return new PublicTensor(shape, encodeValues(ctx, values, scale, shapeSize(shape), 'publicTensor'), scale);
}
