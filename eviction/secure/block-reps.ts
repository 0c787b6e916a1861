/**
 * Block representatives of the secret key cache: per KV head, per contiguous block, the
 * elementwise max and min of the keys (MPCache's cluster representatives r_max, r_min), kept
 * as shares at two levels (blocks of `block2` tokens and of 2 * block2).
 *
 * build (once, after prefill): pad the last block with a copy of one of its own rows (a
 * neutral element for max/min, so padding never enters a representative), then a tournament
 * max over each block's rows for [K; -K] together: ceil(log2 block2) levels (one comparison
 * and one multiplication round each), plus
 * one level for level 1 (the max/min of each pair of level-2 children).
 *
 * append (every decode step, the new token only touches its own block):
 * - level 2: if the token starts a new block, the block's representative IS the token (no
 *   comparison); otherwise one max and one min comparison per dimension against it;
 * - level 1, `eager`: the same against the level-1 block. Not eager (the default when the
 *   last block is always selected): the newest level-1 block's representative is never used
 *   (that block is forced in), so it is left stale and recomputed from its two children only
 *   when the block closes (one max and one min per dimension, at the step that opens the next
 *   level-1 block, when level 2 needs no comparison). Either way a step costs at most one
 *   batched comparison (ltz) of 2 * nKv * hd (eager: up to 4 * nKv * hd) elements and one
 *   multiplication round for the selects.
 *
 * What it reveals: nothing (comparisons and multiplications only; compare.ts, mul.ts).
 */
import type { Context } from '../../protocols/context.js';
import { ltz } from '../../protocols/compare.js';
import { max } from '../../protocols/max.js';
import { add, concat, neg, slice, sub, transposeWords } from '../../protocols/linear.js';
import { mul } from '../../protocols/mul.js';
import { constant } from '../../protocols/sharing.js';
import { ArithShare } from '../../protocols/types.js';

/**
 * Bit width of the key comparisons (compare.ts bitWidth): differences of two keys must lie in
 * [-2^(bits-1), 2^(bits-1)) ring units, i.e. |k - k'| < 2^13 = 8192 at f = 18 with 32 bits
 * (keys of trained models are within +-100 by a wide margin): a shorter carry circuit, fewer
 * rounds and about 2/3 of the bytes of a 64-bit comparison (compare.ts).
 */
export const DEFAULT_COMPARE_BITS = 32;

export interface BlockReps {
  /** tokens covered */
  readonly n: number;
  readonly nKv: number;
  readonly hd: number;
  readonly block2: number;
  /** level 2: [nKv, G2, hd] (scale of the keys) */
  readonly max2: ArithShare;
  readonly min2: ArithShare;
  /** level 1: [nKv, G1, hd] */
  readonly max1: ArithShare;
  readonly min1: ArithShare;
  /** the newest level-1 block's representative is not maintained (see the file comment) */
  readonly staleLast1: boolean;
}

function dims3(x: ArithShare, label: string): [number, number, number] {
  if (x.shape.length !== 3) throw new RangeError(`${label} must be [nKv, n, hd], got [${x.shape.join(', ')}]`);
  return [x.shape[0], x.shape[1], x.shape[2]];
}

/** Rows of x [a, n, hd] padded to [a, m, hd] (m >= n) by copying row `src(a)` of each head. */
function padRows(x: ArithShare, m: number, src: number): ArithShare {
  const [a, n, hd] = dims3(x, 'padRows: x');
  if (m === n) return x;
  const o0 = new BigUint64Array(a * m * hd);
  const o1 = new BigUint64Array(a * m * hd);
  for (let h = 0; h < a; h++) {
    o0.set(x.s0.subarray(h * n * hd, (h + 1) * n * hd), h * m * hd);
    o1.set(x.s1.subarray(h * n * hd, (h + 1) * n * hd), h * m * hd);
    const r0 = x.s0.subarray((h * n + src) * hd, (h * n + src + 1) * hd);
    const r1 = x.s1.subarray((h * n + src) * hd, (h * n + src + 1) * hd);
    for (let t = n; t < m; t++) {
      o0.set(r0, (h * m + t) * hd);
      o1.set(r1, (h * m + t) * hd);
    }
  }
  return new ArithShare([a, m, hd], o0, o1, x.scale);
}

/** Per block of `size` rows: [a, G*size, hd] -> elementwise max [a, G, hd] (one tournament, ceil(log2 size) levels). */
async function blockMax(ctx: Context, x: ArithShare, size: number, bits: number): Promise<ArithShare> {
  const [a, m, hd] = dims3(x, 'blockMax: x');
  const G = m / size;
  // [a*G, size, hd] -> [a*G, hd, size]: each (block, dimension) becomes one row of `size`
  const t = new ArithShare([a * G * hd, size], transposeWords(x.s0, a * G, size, hd), transposeWords(x.s1, a * G, size, hd), x.scale);
  return (await max(ctx, t, { bitWidth: bits })).reshape([a, G, hd]);
}

/** max over blocks of [X; -X] stacked on the head axis, split back into (max, min). */
async function blockMaxMin(ctx: Context, x: ArithShare, size: number, bits: number): Promise<[ArithShare, ArithShare]> {
  const a = x.shape[0];
  const both = await blockMax(ctx, concat(ctx, [x, neg(ctx, x)], 0), size, bits);
  return [slice(ctx, both, 0, a, 0), neg(ctx, slice(ctx, both, a, 2 * a, 0))];
}

/** Level-1 representatives from level-2 ones (pairs of children; an odd last child pairs with itself). */
async function mergeLevel(ctx: Context, max2: ArithShare, min2: ArithShare, bits: number): Promise<[ArithShare, ArithShare]> {
  const [a, G2] = dims3(max2, 'mergeLevel: max2');
  const G1 = Math.ceil(G2 / 2);
  const both = await blockMax(ctx, concat(ctx, [padRows(max2, 2 * G1, G2 - 1), neg(ctx, padRows(min2, 2 * G1, G2 - 1))], 0), 2, bits);
  return [slice(ctx, both, 0, a, 0), neg(ctx, slice(ctx, both, a, 2 * a, 0))];
}

/** Representatives of the whole cache k [nKv, n, hd]. Rounds: 9 * (ceil(log2 block2) + 1). */
export async function buildBlockReps(ctx: Context, k: ArithShare, block2: number, bits = DEFAULT_COMPARE_BITS): Promise<BlockReps> {
  const [nKv, n, hd] = dims3(k, 'buildBlockReps: k');
  if (!Number.isSafeInteger(block2) || block2 < 1) throw new RangeError(`block2 must be a positive integer, got ${block2}`);
  if (n < 1) throw new RangeError('buildBlockReps: the cache is empty');
  const G2 = Math.ceil(n / block2);
  const padded = padRows(k, G2 * block2, (G2 - 1) * block2);
  const [max2, min2] = await blockMaxMin(ctx, padded, block2, bits);
  const [max1, min1] = await mergeLevel(ctx, max2, min2, bits);
  return { n, nKv, hd, block2, max2, min2, max1, min1, staleLast1: false };
}

/** Row b of x [a, G, hd] for every head: [a, hd] (copy). */
export function blockRow(x: ArithShare, b: number): ArithShare {
  const [a, G, hd] = dims3(x, 'blockRow: x');
  if (!Number.isInteger(b) || b < 0 || b >= G) throw new RangeError(`blockRow: block ${b} out of [0, ${G})`);
  const o0 = new BigUint64Array(a * hd);
  const o1 = new BigUint64Array(a * hd);
  for (let h = 0; h < a; h++) {
    o0.set(x.s0.subarray((h * G + b) * hd, (h * G + b + 1) * hd), h * hd);
    o1.set(x.s1.subarray((h * G + b) * hd, (h * G + b + 1) * hd), h * hd);
  }
  return new ArithShare([a, hd], o0, o1, x.scale);
}

/** x [a, G, hd] with row b replaced by r [a, hd] (b = G appends a row). Copy, local. */
export function withRow(x: ArithShare, b: number, r: ArithShare): ArithShare {
  const [a, G, hd] = dims3(x, 'withRow: x');
  const G2 = b === G ? G + 1 : G;
  const o0 = new BigUint64Array(a * G2 * hd);
  const o1 = new BigUint64Array(a * G2 * hd);
  for (let h = 0; h < a; h++) {
    o0.set(x.s0.subarray(h * G * hd, (h + 1) * G * hd), h * G2 * hd);
    o1.set(x.s1.subarray(h * G * hd, (h + 1) * G * hd), h * G2 * hd);
    o0.set(r.s0.subarray(h * hd, (h + 1) * hd), (h * G2 + b) * hd);
    o1.set(r.s1.subarray(h * hd, (h + 1) * hd), (h * G2 + b) * hd);
  }
  return new ArithShare([a, G2, hd], o0, o1, x.scale);
}

interface Pending {
  /** which representative array and block */
  readonly key: 'max2' | 'min2' | 'max1' | 'min1';
  readonly block: number;
  readonly cur: ArithShare;
  readonly cand: ArithShare;
}

/**
 * Account for one new token kNew [nKv, 1, hd] (or [nKv, hd]) appended at index reps.n.
 * `eager`: keep the newest level-1 block's representative exact (needed when the last block
 * is not forced in). Returns new representatives (the old object is not modified).
 */
export async function appendBlockReps(ctx: Context, reps: BlockReps, kNew: ArithShare, eager: boolean, bits = DEFAULT_COMPARE_BITS): Promise<BlockReps> {
  const { nKv, hd, block2 } = reps;
  if (kNew.size !== nKv * hd) throw new RangeError(`appendBlockReps: kNew must have ${nKv} x ${hd} elements, got [${kNew.shape.join(', ')}]`);
  if (kNew.scale !== reps.max2.scale) throw new RangeError('appendBlockReps: kNew has another scale than the representatives');
  const k = kNew.reshape([nKv, hd]);
  const t = reps.n;
  const block1 = 2 * block2;
  const b2 = Math.floor(t / block2);
  const b1 = Math.floor(t / block1);
  const pend: Pending[] = [];
  let { max2, min2, max1, min1 } = reps;
  let stale = reps.staleLast1;
  if (t % block2 === 0) {
    max2 = withRow(max2, b2, k);
    min2 = withRow(min2, b2, k);
  } else {
    pend.push({ key: 'max2', block: b2, cur: blockRow(max2, b2), cand: k });
    pend.push({ key: 'min2', block: b2, cur: blockRow(min2, b2), cand: k });
  }
  if (t % block1 === 0) {
    if (stale) {
      // close block b1 - 1: the max/min of its two (final) children
      pend.push({ key: 'max1', block: b1 - 1, cur: blockRow(reps.max2, 2 * b1 - 2), cand: blockRow(reps.max2, 2 * b1 - 1) });
      pend.push({ key: 'min1', block: b1 - 1, cur: blockRow(reps.min2, 2 * b1 - 2), cand: blockRow(reps.min2, 2 * b1 - 1) });
    }
    max1 = withRow(max1, b1, k);
    min1 = withRow(min1, b1, k);
    stale = false;
  } else if (eager && !stale) {
    pend.push({ key: 'max1', block: b1, cur: blockRow(max1, b1), cand: k });
    pend.push({ key: 'min1', block: b1, cur: blockRow(min1, b1), cand: k });
  } else {
    stale = true;
  }
  if (pend.length > 0) {
    // max rows: [cur < cand] = ltz(cur - cand); min rows: [cand < cur] = ltz(cand - cur)
    const diffs = pend.map((p) => (p.key.startsWith('max') ? sub(ctx, p.cur, p.cand) : sub(ctx, p.cand, p.cur)));
    const c = await ltz(ctx, concat(ctx, diffs, 0), { bitWidth: bits });
    const delta = concat(ctx, pend.map((p) => sub(ctx, p.cand, p.cur)), 0);
    const moved = await mul(ctx, c, delta);
    const arrays = { max2, min2, max1, min1 };
    pend.forEach((p, i) => {
      arrays[p.key] = withRow(arrays[p.key], p.block, add(ctx, p.cur, slice(ctx, moved, i * nKv, (i + 1) * nKv, 0).reshape([nKv, hd])));
    });
    ({ max2, min2, max1, min1 } = arrays);
  }
  return { n: t + 1, nKv, hd, block2, max2, min2, max1, min1, staleLast1: stale };
}

/**
 * Representatives of keys that are PUBLIC test data (benchmarks, tests): computed in the clear
 * and turned into trivial sharings (local, no communication). `keys` is head-major
 * [nKv, n, hd]. Equal to what buildBlockReps computes on a sharing of the same keys.
 */
export function publicBlockReps(ctx: Context, keys: Float64Array, nKv: number, n: number, hd: number, block2: number): BlockReps {
  if (keys.length !== nKv * n * hd) throw new RangeError(`publicBlockReps: keys must hold ${nKv} x ${n} x ${hd} values`);
  const G2 = Math.ceil(n / block2);
  const G1 = Math.ceil(G2 / 2);
  const mx2 = new Float64Array(nKv * G2 * hd).fill(-Infinity);
  const mn2 = new Float64Array(nKv * G2 * hd).fill(Infinity);
  const mx1 = new Float64Array(nKv * G1 * hd).fill(-Infinity);
  const mn1 = new Float64Array(nKv * G1 * hd).fill(Infinity);
  for (let h = 0; h < nKv; h++) {
    for (let t = 0; t < n; t++) {
      const b2 = h * G2 + Math.floor(t / block2);
      const b1 = h * G1 + Math.floor(t / (2 * block2));
      for (let i = 0; i < hd; i++) {
        const v = keys[(h * n + t) * hd + i];
        if (v > mx2[b2 * hd + i]) mx2[b2 * hd + i] = v;
        if (v < mn2[b2 * hd + i]) mn2[b2 * hd + i] = v;
        if (v > mx1[b1 * hd + i]) mx1[b1 * hd + i] = v;
        if (v < mn1[b1 * hd + i]) mn1[b1 * hd + i] = v;
      }
    }
  }
  const sh = (v: Float64Array, G: number): ArithShare => constant(ctx, [nKv, G, hd], v);
  return { n, nKv, hd, block2, max2: sh(mx2, G2), min2: sh(mn2, G2), max1: sh(mx1, G1), min1: sh(mn1, G1), staleLast1: false };
}
