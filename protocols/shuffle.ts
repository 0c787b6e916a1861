/**
 * Secret shuffle of replicated shares (PROTOCOLS.md "Secret shuffle"): a uniformly random
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
 * pairs 2, 1, 0 (3 rounds; unshufflePublic skips the first, whose pair can apply it to a
 * public tensor locally: 2 rounds).
 * Cost per shuffled element: each party sends one word in each of the two steps of its
 * pairs: 16 bytes per element per party (3 rounds). unshufflePublic: 2 rounds, parties send
 * 8 / 16 / 8 bytes per element (mean 10.7).
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
 * Undo a shuffle on a PUBLIC tensor [rows, ..., n] (e.g. one-hot rows chosen at public
 * shuffled positions): pair 2 (parties 2 and 0) applies its inverse locally, then pairs 1
 * and 0 as in unshuffle. 2 rounds; parties 0, 1, 2 send 8, 16, 8 bytes per element.
 */
export async function unshufflePublic(ctx: Context, handle: ShuffleHandle, p: PublicTensor): Promise<ArithShare> {
  if (!(p instanceof PublicTensor)) throw new TypeError('unshufflePublic: p must be a PublicTensor');
  const { rows, n } = handle;
  if (p.shape.length < 2 || p.shape[0] !== rows || p.shape[p.shape.length - 1] !== n) {
    throw new RangeError(`unshufflePublic: p must have shape [${rows}, ..., ${n}]`);
  }
  // the sharing (x0, x1, x2) = (v, 0, 0) with v = sigma_2^-1(p), known to parties 2 and 0 (pair 2)
  const v = handle.perms[2] === undefined ? new BigUint64Array(p.size) : permuteWords(p.data, handle.perms[2], rows, n, true);
  const [s0, s1] = publicComponents(ctx, v); // x0 = v (held by parties 0 and 2): party 1 holds zeros
  let flat: Flat = { s0, s1 };
  for (const j of [1, 0] as const) flat = await pairStep(ctx, j, flat, [p.size], handle.perms[j], rows, n, true, `unshuffle.${j}`);
  return new ArithShare(p.shape, flat.s0, flat.s1, p.scale);
}

/**
 * unshufflePublic of one-hot rows: item [rows, groups, n] whose row (r, g) is the unit vector
 * at shuffled position positions[r * groups + g] (in [0, n)). Same protocol and cost as
 * unshufflePublic; pair 2's local step just places the ones (no dense permutation).
 */
export async function unshuffleOneHot(ctx: Context, handle: ShuffleHandle, groups: number, positions: Uint32Array): Promise<ArithShare> {
  const { rows, n } = handle;
  if (!Number.isSafeInteger(groups) || groups < 0 || positions.length !== rows * groups) {
    throw new RangeError(`unshuffleOneHot: need ${rows} x ${groups} positions, got ${positions.length}`);
  }
  const size = rows * groups * n;
  const v = new BigUint64Array(size);
  const sigma = handle.perms[2];
  if (sigma !== undefined) {
    // scatter by sigma_2: the 1 at p moves to sigma_2[p]
    for (let r = 0; r < rows; r++) {
      for (let g = 0; g < groups; g++) {
        const p = positions[r * groups + g];
        if (!(p < n)) throw new RangeError(`unshuffleOneHot: position ${p} is out of range`);
        v[(r * groups + g) * n + sigma[r * n + p]] = 1n;
      }
    }
  }
  // components of the sharing (v, 0, 0): party 0 holds (v, 0), party 2 (0, v), party 1 zeros
  const zero = new BigUint64Array(size);
  let flat: Flat = ctx.party === 0 ? { s0: v, s1: zero } : ctx.party === 2 ? { s0: zero, s1: v } : { s0: v, s1: zero };
  for (const j of [1, 0] as const) flat = await pairStep(ctx, j, flat, [size], handle.perms[j], rows, n, true, `unshuffle.${j}`);
  return new ArithShare([rows, groups, n], flat.s0, flat.s1, 0);
}
