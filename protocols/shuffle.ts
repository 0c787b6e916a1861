/**
 * Secret shuffle of replicated shares (docs/PROTOCOLS.md "Secret shuffle and top-k"): a uniformly random
 * permutation per row of the last axis, unknown to every single party, applied to several
 * tensors at once (a payload travels with its key), and its inverse (unshuffle).
 *
 * The permutation is the composition of three, sigma_0, sigma_1, sigma_2, where sigma_j is
 * drawn (Fisher-Yates) from the seed of the pair (j, j+1); every party misses exactly one of
 * them, so to it the composition is uniformly random. Applying sigma_j (pair a = j, b = j+1,
 * third party c = j+2), one round:
 *   a knows A = x_j + x_{j+1}, b knows B = x_{j+2}; both permute locally; with R, S from
 *   their pair stream the new sharing is y_j = sigma(A) - R + S (computed by a),
 *   y_{j+1} = R (both), y_{j+2} = sigma(B) - S (computed by b); a sends y_j and b sends
 *   y_{j+2} to c, which now holds (y_{j+2}, y_j).
 *   Reveals nothing: c receives (sigma(A) - R + S, sigma(B) - S), uniformly random pairs
 *   since R and S come from a seed c does not hold; a and b receive nothing.
 * shuffle = the steps for pairs 0, 1, 2 (3 rounds); unshuffle = the inverse permutations for
 * pairs 2, 1, 0 (3 rounds). For a PUBLIC tensor (unshufflePublic / unshuffleOneHot) party 2,
 * which holds sigma_1 and sigma_2, applies both inverses locally and only sigma_0^-1 needs
 * the others (finishFromParty2 below: 2 rounds).
 * Cost per shuffled element: each party sends one word in each of the two steps of its
 * pairs: 16 bytes per element per party (3 rounds). unshufflePublic: 2 rounds, 8 bytes per
 * element from every party.
 * Fisher-Yates draws j = floor(u (i + 1) / 2^53) from 53-bit PRG values: the permutation's
 * distance from uniform is below n^2 / 2^53 per row.
 */
import type { U64 } from '../kernels/api.js';
import type { PartyId } from './channel.js';
import type { Context, PrgStream } from './context.js';
import { publicComponents } from './sharing.js';
import { ArithShare, PublicTensor } from './types.js';
import { concatWords, expectWords, splitWords } from './wire.js';

/** What a party keeps to undo a shuffle: the two pair permutations it knows. */
export interface ShuffleHandle {
  readonly rows: number;
  readonly n: number;
  /** perms[j] = sigma_j (rows * n positions, out[i] = in[sigma[i]] per row), undefined where this party is not in pair j */
  readonly perms: readonly (Uint32Array | undefined)[];
}

/** the pair stream of pair j seen from this party, or undefined */
function pairStream(ctx: Context, j: PartyId): PrgStream | undefined {
  if (ctx.party === j) return ctx.prgNext;
  if (ctx.party === (j + 1) % 3) return ctx.prgPrev;
  return undefined;
}

/** rows independent Fisher-Yates permutations of n from the stream */
function drawPerms(stream: PrgStream, rows: number, n: number): Uint32Array {
  const perm = new Uint32Array(rows * n);
  const words = stream.words(rows * n);
  const w32 = new Uint32Array(words.buffer, words.byteOffset, words.length * 2);
  for (let r = 0; r < rows; r++) {
    const p = perm.subarray(r * n, (r + 1) * n);
    for (let i = 0; i < n; i++) p[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const o = 2 * (r * n + i);
      const u = (w32[o + 1] >>> 0) * 2 ** 21 + (w32[o] >>> 11); // 53 bits
      const j = Math.min(i, Math.floor((u / 2 ** 53) * (i + 1)));
      const t = p[i];
      p[i] = p[j];
      p[j] = t;
    }
  }
  return perm;
}

/**
 * Permute the words of `src` laid out as [rows, groups, n] along n, with one permutation per
 * row: gather (out[i] = in[sigma[i]]) or scatter (out[sigma[i]] = in[i], the inverse).
 */
function permuteWords(src: U64, perm: Uint32Array, rows: number, n: number, inverse: boolean): U64 {
  const out = new BigUint64Array(src.length);
  const groups = src.length / (rows * n);
  const s = new Uint32Array(src.buffer, src.byteOffset, src.length * 2);
  const o = new Uint32Array(out.buffer, out.byteOffset, out.length * 2);
  for (let r = 0; r < rows; r++) {
    const p = perm.subarray(r * n, (r + 1) * n);
    for (let g = 0; g < groups; g++) {
      const base = 2 * (r * groups + g) * n;
      if (inverse) scatter(s, o, p, base, n);
      else gatherInto(s, o, p, base, n);
    }
  }
  return out;
}

/** o[base + 2i..] = s[base + 2p[i]..] (one group) */
function gatherInto(s: Uint32Array, o: Uint32Array, p: Uint32Array, base: number, n: number): void {
  for (let i = 0; i < n; i++) {
    const a = base + 2 * i;
    const b = base + 2 * p[i];
    o[a] = s[b];
    o[a + 1] = s[b + 1];
  }
}

/** o[base + 2p[i]..] = s[base + 2i..] (one group) */
function scatter(s: Uint32Array, o: Uint32Array, p: Uint32Array, base: number, n: number): void {
  for (let i = 0; i < n; i++) {
    const a = base + 2 * i;
    const b = base + 2 * p[i];
    o[b] = s[a];
    o[b + 1] = s[a + 1];
  }
}

interface Flat {
  s0: U64;
  s1: U64;
}

/** One pair step on the concatenated components (sizes: each item's word count). */
async function pairStep(ctx: Context, j: PartyId, flat: Flat, sizes: readonly number[], perm: Uint32Array | undefined, rows: number, n: number, inverse: boolean, step: string): Promise<Flat> {
  const k = ctx.k;
  const a = j;
  const b = ((j + 1) % 3) as PartyId;
  const c = ((j + 2) % 3) as PartyId;
  const total = flat.s0.length;
  const permAll = (v: U64): U64 => {
    if (sizes.length === 1) return permuteWords(v, perm!, rows, n, inverse);
    return concatWords(splitWords(v, sizes).map((p) => permuteWords(p, perm!, rows, n, inverse)));
  };
  if (ctx.party === c) {
    const got = await ctx.ch.exchange({ step, recv: [a, b] });
    return { s0: expectWords(ctx, got, b, total, step), s1: expectWords(ctx, got, a, total, step) };
  }
  const stream = pairStream(ctx, j)!;
  const R = stream.words(total);
  const S = stream.words(total);
  if (ctx.party === a) {
    const A = permAll(k.add(flat.s0, flat.s1));
    const yj = k.add(k.sub(A, R, A), S, A);
    await ctx.ch.exchange({ step, send: { [c]: yj } });
    return { s0: yj, s1: R };
  }
  const B = permAll(flat.s1);
  const y2 = k.sub(B, S, B);
  await ctx.ch.exchange({ step, send: { [c]: y2 } });
  return { s0: R, s1: y2 };
}

function checkItems(xs: readonly ArithShare[], rows: number, n: number, label: string): void {
  if (!Array.isArray(xs as unknown) || xs.length === 0) throw new RangeError(`${label}: nothing to permute`);
  xs.forEach((x, i) => {
    if (!(x instanceof ArithShare)) throw new TypeError(`${label}: item ${i} must be an ArithShare`);
    if (x.shape.length < 2 || x.shape[0] !== rows || x.shape[x.shape.length - 1] !== n) {
      throw new RangeError(`${label}: item ${i} must have shape [${rows}, ..., ${n}], got [${x.shape.join(',')}]`);
    }
  });
}

function flatten(xs: readonly ArithShare[]): Flat {
  return { s0: concatWords(xs.map((x) => x.s0)), s1: concatWords(xs.map((x) => x.s1)) };
}

function unflatten(flat: Flat, xs: readonly ArithShare[]): ArithShare[] {
  const sizes = xs.map((x) => x.size);
  const a = splitWords(flat.s0, sizes);
  const b = splitWords(flat.s1, sizes);
  return xs.map((x, i) => new ArithShare(x.shape, a[i], b[i], x.scale));
}

/**
 * Shuffle the last axis of every item ([rows, ..., n], same rows and n) by one secret random
 * permutation per row (the same for all items). 3 rounds, 16 bytes per element per party.
 */
export async function shuffle(ctx: Context, xs: readonly ArithShare[]): Promise<{ out: ArithShare[]; handle: ShuffleHandle }> {
  if (!Array.isArray(xs as unknown) || xs.length === 0) throw new RangeError('shuffle: nothing to shuffle');
  const first = xs[0];
  if (!(first instanceof ArithShare) || first.shape.length < 2) throw new RangeError('shuffle: items must have shape [rows, ..., n]');
  const rows = first.shape[0];
  const n = first.shape[first.shape.length - 1];
  checkItems(xs, rows, n, 'shuffle');
  const perms: (Uint32Array | undefined)[] = [];
  for (const j of [0, 1, 2] as const) {
    const st = pairStream(ctx, j);
    perms.push(st === undefined ? undefined : drawPerms(st, rows, n));
  }
  let flat = flatten(xs);
  const sizes = xs.map((x) => x.size);
  for (const j of [0, 1, 2] as const) flat = await pairStep(ctx, j, flat, sizes, perms[j], rows, n, false, `shuffle.${j}`);
  return { out: unflatten(flat, xs), handle: { rows, n, perms } };
}

/** Undo a shuffle on items [rows, ..., n] (any number of groups per row). 3 rounds, 16 bytes per element per party. */
export async function unshuffle(ctx: Context, handle: ShuffleHandle, xs: readonly ArithShare[]): Promise<ArithShare[]> {
  checkItems(xs, handle.rows, handle.n, 'unshuffle');
  let flat = flatten(xs);
  const sizes = xs.map((x) => x.size);
  for (const j of [2, 1, 0] as const) flat = await pairStep(ctx, j, flat, sizes, handle.perms[j], handle.rows, handle.n, true, `unshuffle.${j}`);
  return unflatten(flat, xs);
}

/**
 * The last inverse step for a value w known to party 2 only, w = sigma_1^-1(sigma_2^-1(p))
 * (party 2 holds both of those permutations): the result is a sharing of sigma_0^-1(w).
 * Round 1: party 2 sends w0 = w - w1 to party 0 (w1 from seed_{1,2}); party 1 sends
 * z1 - T to party 0 (z1 = sigma_0^-1(w1), T from seed_{1,2}). Round 2: party 0 sends
 * y0 = sigma_0^-1(w0) + (z1 - T) - R to party 2 (R from seed_{0,1}). Shares: (y0, R, T).
 * Reveals nothing: party 0 sees w0 and z1 - T, masked by w1 and T (seed_{1,2}, which it
 * lacks); party 2 sees y0, masked by R (seed_{0,1}); party 1 receives nothing.
 * Cost: 2 rounds, every party sends 8 bytes per element.
 */
async function finishFromParty2(ctx: Context, handle: ShuffleHandle, w: U64 | undefined, size: number): Promise<[U64, U64]> {
  const k = ctx.k;
  const { rows, n } = handle;
  const step = 'unshuffle.public';
  if (ctx.party === 2) {
    const w1 = ctx.prgPrev.words(size);
    const T = ctx.prgPrev.words(size);
    await ctx.ch.exchange({ step: `${step}.1`, send: { 0: k.sub(w!, w1, w1) } });
    const got = await ctx.ch.exchange({ step: `${step}.2`, recv: [0] });
    return [T, expectWords(ctx, got, 0, size, step)];
  }
  if (ctx.party === 1) {
    const w1 = ctx.prgNext.words(size);
    const T = ctx.prgNext.words(size);
    const R = ctx.prgPrev.words(size);
    const z1 = permuteWords(w1, handle.perms[0]!, rows, n, true);
    await ctx.ch.exchange({ step: `${step}.1`, send: { 0: k.sub(z1, T, z1) } });
    await ctx.ch.exchange({ step: `${step}.2` });
    return [R, T];
  }
  const R = ctx.prgNext.words(size);
  const got = await ctx.ch.exchange({ step: `${step}.1`, recv: [1, 2] });
  const w0 = expectWords(ctx, got, 2, size, step);
  const z1T = expectWords(ctx, got, 1, size, step);
  const y0 = permuteWords(w0, handle.perms[0]!, rows, n, true);
  k.add(y0, z1T, y0);
  k.sub(y0, R, y0);
  await ctx.ch.exchange({ step: `${step}.2`, send: { 2: y0 } });
  return [y0, R];
}

/**
 * Undo a shuffle on a PUBLIC tensor [rows, ..., n] (e.g. one-hot rows chosen at public
 * shuffled positions): party 2 applies sigma_2^-1 and sigma_1^-1 locally (it holds both),
 * then finishFromParty2 applies sigma_0^-1. 2 rounds, 8 bytes per element from every party.
 */
export async function unshufflePublic(ctx: Context, handle: ShuffleHandle, p: PublicTensor): Promise<ArithShare> {
  if (!(p instanceof PublicTensor)) throw new TypeError('unshufflePublic: p must be a PublicTensor');
  const { rows, n } = handle;
  if (p.shape.length < 2 || p.shape[0] !== rows || p.shape[p.shape.length - 1] !== n) {
    throw new RangeError(`unshufflePublic: p must have shape [${rows}, ..., ${n}]`);
  }
  const w = ctx.party === 2 ? permuteWords(permuteWords(p.data, handle.perms[2]!, rows, n, true), handle.perms[1]!, rows, n, true) : undefined;
  const [s0, s1] = await finishFromParty2(ctx, handle, w, p.size);
  return new ArithShare(p.shape, s0, s1, p.scale);
}

/**
 * unshufflePublic of one-hot rows: item [rows, groups, n] whose row (r, g) is the unit vector
 * at shuffled position positions[r * groups + g] (in [0, n)). Same protocol and cost as
 * unshufflePublic; party 2 just places the ones (no dense permutation).
 */
export async function unshuffleOneHot(ctx: Context, handle: ShuffleHandle, groups: number, positions: Uint32Array): Promise<ArithShare> {
  const { rows, n } = handle;
  if (!Number.isSafeInteger(groups) || groups < 0 || positions.length !== rows * groups) {
    throw new RangeError(`unshuffleOneHot: need ${rows} x ${groups} positions, got ${positions.length}`);
  }
  for (const p of positions) if (!(p < n)) throw new RangeError(`unshuffleOneHot: position ${p} is out of range`);
  const size = rows * groups * n;
  let w: U64 | undefined;
  if (ctx.party === 2) {
    const s1 = handle.perms[1]!;
    const s2 = handle.perms[2]!;
    w = new BigUint64Array(size);
    // scatter by sigma_2 then sigma_1: the 1 at p moves to sigma_1[sigma_2[p]]
    for (let r = 0; r < rows; r++) {
      for (let g = 0; g < groups; g++) w[(r * groups + g) * n + s1[r * n + s2[r * n + positions[r * groups + g]]]] = 1n;
    }
  }
  const [s0, s1] = await finishFromParty2(ctx, handle, w, size);
  return new ArithShare([rows, groups, n], s0, s1, 0);
}
