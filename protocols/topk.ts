/**
 * Top-k over the last axis: values (descending), indices and one-hot rows, exact, ties to the
 * lower index.
 *
 * method 'shuffle' (default; docs/PROTOCOLS.md "Secret shuffle and top-k"):
 *   0. Clamp (before anything is opened): x := min(max(x, -L), L) obliviously, with
 *      L = 2^(bitWidth - 1) - 1 ring units when opts.bitWidth is given, else 2^(62 - b) - 1
 *      (b below). One 64-bit msb of the 2 n stacked differences x + L, L - x and one bit
 *      injection round that also multiplies the bits by x (balanced.ts): msb(64) + 1 rounds.
 *      Every key difference then fits the comparison width, so the opened bits are the true
 *      outcomes between distinct keys whatever the input (the simulation argument below holds
 *      for ANY input; before this step it held only while |x| < 2^(62 - b), unchecked).
 *      Values beyond +-L rank as +-L (ties among them go to the lower index) and are returned
 *      clamped. (x + L itself wraps only for x within L of 2^63: such a value ranks as -L.)
 *   1. shuffle.ts shuffles (value, index) pairs of every row by a secret random permutation
 *      (3 rounds, 2 words per element).
 *   2. key = value * 2^b + (n - 1 - index), b = ceil(log2 n) (local): all keys of a row are
 *      distinct, and key order = value order with ties broken towards the lower index.
 *   3. Partial quicksort on the shuffled keys with REVEALED comparison outcomes: in each
 *      iteration, every open segment of every row (a segment is open while it has more than
 *      one element and starts before rank k) is either partitioned around its first element
 *      (a uniformly random element: the order is shuffled) or, when it has at most 8
 *      elements, sorted by comparing all its pairs; all comparisons of the iteration are ONE
 *      msb (msb.ts) and ONE opening of the packed result bits (1 round, 1 bit per
 *      comparison). Segments that start at rank >= k are dropped. Expected comparisons per
 *      row ~ 2n + k log2 k; iterations ~ 2 log2(n/8) + a few (data independent in law).
 *   4. The top k sit at public shuffled positions: values and indices are local selections of
 *      the shuffled shares; oneHot = unshuffleOneHot (= unshufflePublic) of the public one-hot rows of those
 *      positions (2 rounds, 8 bytes per one-hot element from every party).
 *   Reveals: the outcomes of comparisons between shuffled, pairwise distinct keys, and the
 *   shuffled positions of the result. These are a function of the rank order of the
 *   shuffled keys only, which is a uniformly random permutation independent of the input
 *   (the composed shuffle permutation is uniform and unknown to each party, and the keys are
 *   distinct), so the transcript can be simulated without the data: it reveals nothing about
 *   the values. The number of iterations and comparisons are random but likewise
 *   independent of the data. Everything else is masked (shuffle.ts, msb.ts). What IS opened:
 *   the comparison bits and the shuffled positions (nothing about the values).
 *   Exact range: |x| <= L (above); larger values are clamped (step 0).
 *   Cost: rounds = (msb(64) + 1) (clamp) + 3 + (msb + 1) * iterations (+ 2 for oneHot; msb = 6-7 rounds); bytes per party: the clamp, 32 per element
 *   (shuffle) + msb bytes per comparison (~25 on average over parties) + 1 bit per
 *   comparison + 8 per one-hot element.
 *
 * method 'argmax' (data-oblivious reference, reveals nothing): k rounds of max.ts argmax,
 *   each followed by pushing the winner below every other element (x - 2^58 * oneHot, local).
 *   Rounds: k * (argmax rounds); bytes ~ k * n * (ltz + 8 + ~16) per row. Needs |x| < 2^57
 *   ring units.
 */
import type { Context } from './context.js';
import { argmax } from './max.js';
import { msbSliced } from './msb.js';
import { bitTimesSlicedBalanced, msbSlicedBalanced } from './balanced.js';
import { stack } from './batching.js';
import { publicComponents, revealBool } from './sharing.js';
import { type ShuffleHandle, shuffle, unshuffleOneHot, unshufflePublic } from './shuffle.js';
import { ArithShare, BoolShare, PublicTensor, shapeSize } from './types.js';

export interface TopkOptions {
  /** 'shuffle' (default) or 'argmax' */
  readonly method?: 'shuffle' | 'argmax';
  /** compute the one-hot rows (default true) */
  readonly oneHot?: boolean;
  /**
   * also return `mask`: the 0/1 membership of the top k, [..., n] (default false). 'shuffle'
   * method: one public unshuffle of n words per row (2 rounds, 8 B/element), instead of the
   * k x n one-hot rows when only the chosen SET matters; 'argmax': the sum of the one-hot rows.
   */
  readonly mask?: boolean;
  /**
   * 'shuffle' method: promise that |x| < 2^(bitWidth-1) ring units (e.g. 31 for |x| < 2^12 at
   * f = 18); key comparisons then use bitWidth + ceil(log2 n) + 1 bits. Default: full width.
   */
  readonly bitWidth?: number;
}

export interface TopkStats {
  /** comparison iterations (each: one msb + one opening) */
  readonly iterations: number;
  /** comparisons per iteration (over all rows) */
  readonly comparisons: readonly number[];
}

export interface TopkResult {
  /** [..., k] at x's scale, descending */
  readonly values: ArithShare;
  /** [..., k] integers (scale 0) */
  readonly indices: ArithShare;
  /** [..., k, n] 0/1 (scale 0); row t is the one-hot of indices[t] */
  readonly oneHot: ArithShare;
  /** public facts about the run ('shuffle' method; they are part of the transcript) */
  readonly stats?: TopkStats;
  /** with opts.mask: [..., n] 0/1 (scale 0), 1 at the top-k positions */
  readonly mask?: ArithShare;
}

/** The clamp bound L (ring units) of the shuffle method for rows of n and the bitWidth promise. */
export function topkClampBound(n: number, bitWidth: number | undefined): bigint {
  const b = n <= 1 ? 0 : Math.ceil(Math.log2(n));
  return bitWidth === undefined ? (1n << BigInt(62 - b)) - 1n : (1n << BigInt(bitWidth - 1)) - 1n;
}

/** all pairs are compared in segments of at most this many elements */
const SMALL = 8;
/** how far the argmax method pushes a selected element down (ring units) */
const ARGMAX_PUSH = 1n << 58n;

export async function topk(ctx: Context, x: ArithShare, k: number, opts: TopkOptions & { oneHot: false }): Promise<Omit<TopkResult, 'oneHot'>>;
export async function topk(ctx: Context, x: ArithShare, k: number, opts?: TopkOptions): Promise<TopkResult>;
/** Top-k of the last axis of x ([..., n]): values descending, ties to the lower index. */
export async function topk(ctx: Context, x: ArithShare, k: number, opts: TopkOptions = {}): Promise<TopkResult | Omit<TopkResult, 'oneHot'>> {
  if (!(x instanceof ArithShare)) throw new TypeError('topk: x must be an ArithShare');
  if (x.shape.length === 0) throw new RangeError('topk: x must have at least one axis');
  const n = x.shape[x.shape.length - 1];
  if (!Number.isSafeInteger(k) || k < 1 || k > n) throw new RangeError(`topk: k must be an integer in [1, ${n}], got ${k}`);
  const method = opts.method ?? 'shuffle';
  if (method !== 'shuffle' && method !== 'argmax') throw new RangeError(`topk: unknown method '${String(method)}'`);
  const lead = x.shape.slice(0, -1);
  const rows = shapeSize(lead);
  const wantHot = opts.oneHot ?? true;
  if (opts.bitWidth !== undefined && (!Number.isInteger(opts.bitWidth) || opts.bitWidth < 2 || opts.bitWidth > 64)) {
    throw new RangeError(`topk: bitWidth must be an integer in [2, 64], got ${String(opts.bitWidth)}`);
  }
  const wantMask = opts.mask === true;
  const r = method === 'shuffle' ? await topkShuffle(ctx, x.reshape([rows, n]), rows, n, k, wantHot, opts.bitWidth, wantMask) : await topkArgmax(ctx, x.reshape([rows, n]), rows, n, k);
  const values = r.values.reshape([...lead, k]);
  const indices = r.indices.reshape([...lead, k]);
  let mask = r.mask;
  if (wantMask && mask === undefined) {
    // argmax method: the sum of the one-hot rows (local)
    const m0 = new BigUint64Array(rows * n);
    const m1 = new BigUint64Array(rows * n);
    const h = r.oneHot!;
    for (let q = 0; q < rows * k; q++) {
      const row = Math.floor(q / k) * n;
      for (let j = 0; j < n; j++) {
        m0[row + j] += h.s0[q * n + j];
        m1[row + j] += h.s1[q * n + j];
      }
    }
    mask = new ArithShare([rows, n], m0, m1, 0);
  }
  const base0 = r.stats === undefined ? { values, indices } : { values, indices, stats: r.stats };
  const base = mask === undefined ? base0 : { ...base0, mask: mask.reshape([...lead, n]) };
  if (!wantHot) return base;
  return { ...base, oneHot: r.oneHot!.reshape([...lead, k, n]) };
}

interface Raw {
  values: ArithShare;
  indices: ArithShare;
  oneHot?: ArithShare;
  stats?: TopkStats;
  mask?: ArithShare;
}

/** words of `src` at the given element positions (fast 32-bit copies) */
function pick(src: BigUint64Array, pos: Int32Array | Uint32Array): BigUint64Array {
  const out = new BigUint64Array(pos.length);
  const s = new Uint32Array(src.buffer, src.byteOffset, src.length * 2);
  const o = new Uint32Array(out.buffer);
  for (let i = 0; i < pos.length; i++) {
    o[2 * i] = s[2 * pos[i]];
    o[2 * i + 1] = s[2 * pos[i] + 1];
  }
  return out;
}

/**
 * min(max(x, -L), L) for a ring constant 0 < L < 2^62 (step 0 of the shuffle method):
 * lo = [x + L < 0], hi = [L - x < 0] from one 64-bit msb, then lo, hi, lo x, hi x from one bit
 * injection round; x' = x - lo x - hi x - L lo + L hi (local). Reveals nothing.
 */
export async function clampRing(ctx: Context, x: ArithShare, L: bigint): Promise<ArithShare> {
  const K = ctx.k;
  const n = x.size;
  const [c0, c1] = publicComponents(ctx, new BigUint64Array(n).fill(L));
  const up = new ArithShare([n], K.add(x.s0, c0), K.add(x.s1, c1), 0); // x + L
  const down = new ArithShare([n], K.sub(c0, x.s0), K.sub(c1, x.s1), 0); // L - x
  const e = await msbSlicedBalanced(ctx, stack([up, down], 0), 'topk.clamp', 64);
  const flat = x.reshape([n]);
  const { bit, prods } = await bitTimesSlicedBalanced(ctx, e, 2 * n, [stack([flat, flat], x.scale)], true, 'topk.clampSelect');
  const b = bit!;
  const p = prods[0];
  const Lw = BigInt.asUintN(64, L);
  const nL = BigInt.asUintN(64, -L);
  const part = (s: 's0' | 's1'): BigUint64Array => {
    const o = K.sub(K.sub(x[s], p[s].subarray(0, n)), p[s].subarray(n));
    K.add(o, K.mulScalar(b[s].subarray(0, n), nL), o);
    return K.add(o, K.mulScalar(b[s].subarray(n), Lw), o);
  };
  return new ArithShare(x.shape, part('s0'), part('s1'), x.scale);
}

async function topkShuffle(ctx: Context, xIn: ArithShare, rows: number, n: number, k: number, wantHot: boolean, bitWidth: number | undefined, wantMask = false): Promise<Raw> {
  const K = ctx.k;
  const N = rows * n;
  // 0. clamp so that every key difference fits the comparison width (file header)
  const bKey = n <= 1 ? 0 : Math.ceil(Math.log2(n));
  const x = await clampRing(ctx, xIn, topkClampBound(n, bitWidth));
  // 1. shuffle (value, index)
  const idxPub = new BigUint64Array(N);
  for (let r = 0; r < rows; r++) for (let i = 0; i < n; i++) idxPub[r * n + i] = BigInt(i);
  const [i0, i1] = publicComponents(ctx, idxPub);
  const { out, handle } = await shuffle(ctx, [x, new ArithShare([rows, n], i0, i1, 0)]);
  const [sv, si] = out;
  // 2. keys
  const b = bKey;
  const width = bitWidth === undefined ? 64 : Math.min(64, bitWidth + b + 1);
  const keyOf = (s: BigUint64Array, t: BigUint64Array): BigUint64Array => K.sub(K.shl(s, b), t);
  const top = BigInt(n - 1);
  const key0 = keyOf(sv.s0, si.s0);
  const key1 = keyOf(sv.s1, si.s1);
  // the public n - 1 enters component x0 only
  const [c0, c1] = publicComponents(ctx, new BigUint64Array(N).fill(top));
  K.add(key0, c0, key0);
  K.add(key1, c1, key1);
  // 3. partial quicksort with revealed comparisons
  const order = new Int32Array(N); // per row: shuffled positions in the current arrangement
  for (let i = 0; i < N; i++) order[i] = i;
  type Seg = { row: number; s: number; e: number };
  let open: Seg[] = [];
  for (let r = 0; r < rows; r++) if (n > 1) open.push({ row: r, s: 0, e: n });
  const perIteration: number[] = [];
  const scratch = new Int32Array(n);
  while (open.length > 0) {
    // comparisons: bit = [key[q] > key[p]] = msb(key[p] - key[q])
    let C = 0;
    for (const g of open) {
      const m = g.e - g.s;
      C += m <= SMALL ? (m * (m - 1)) / 2 : m - 1;
    }
    const P = new Int32Array(C);
    const Q = new Int32Array(C);
    let c = 0;
    for (const g of open) {
      const base = g.row * n;
      const m = g.e - g.s;
      if (m <= SMALL) {
        for (let i = 0; i < m; i++) for (let j = i + 1; j < m; j++) {
          P[c] = order[base + g.s + i];
          Q[c++] = order[base + g.s + j];
        }
      } else {
        const pv = order[base + g.s];
        for (let i = 1; i < m; i++) {
          P[c] = pv;
          Q[c++] = order[base + g.s + i];
        }
      }
    }
    const d = new ArithShare([C], K.sub(pick(key0, P), pick(key0, Q)), K.sub(pick(key1, P), pick(key1, Q)), 0);
    const bits = await msbSliced(ctx, d, 'topk.msb', width);
    const W = bits[0].length;
    const opened = (await revealBool(ctx, new BoolShare([W], bits[0], bits[1])))!;
    perIteration.push(C);
    const o32 = new Uint32Array(opened.buffer, opened.byteOffset, opened.length * 2); // little-endian: bit i of the stream
    const bit = (i: number): boolean => ((o32[i >>> 5] >>> (i & 31)) & 1) === 1;
    const next: Seg[] = [];
    c = 0;
    for (const g of open) {
      const base = g.row * n;
      const m = g.e - g.s;
      if (m <= SMALL) {
        // wins[i] = how many of the segment key i exceeds; rank (descending) = m - 1 - wins
        const wins = new Int32Array(m);
        for (let i = 0; i < m; i++) for (let j = i + 1; j < m; j++) {
          if (bit(c++)) wins[j]++; // key[j] > key[i]
          else wins[i]++;
        }
        for (let i = 0; i < m; i++) scratch[m - 1 - wins[i]] = order[base + g.s + i];
        for (let i = 0; i < m; i++) order[base + g.s + i] = scratch[i];
      } else {
        const pv = order[base + g.s];
        let hi = 0;
        let lo = 0;
        const less = new Int32Array(m - 1);
        for (let i = 1; i < m; i++) {
          const q = order[base + g.s + i];
          if (bit(c++)) scratch[hi++] = q;
          else less[lo++] = q;
        }
        scratch[hi] = pv;
        for (let i = 0; i < lo; i++) scratch[hi + 1 + i] = less[i];
        for (let i = 0; i < m; i++) order[base + g.s + i] = scratch[i];
        const mid = g.s + hi;
        if (hi > 1 && g.s < k) next.push({ row: g.row, s: g.s, e: mid });
        if (lo > 1 && mid + 1 < k) next.push({ row: g.row, s: mid + 1, e: g.e });
      }
    }
    open = next;
  }
  // 4. outputs at public shuffled positions
  const sel = new Int32Array(rows * k);
  for (let r = 0; r < rows; r++) for (let t = 0; t < k; t++) sel[r * k + t] = order[r * n + t];
  const values = new ArithShare([rows, k], pick(sv.s0, sel), pick(sv.s1, sel), x.scale);
  const indices = new ArithShare([rows, k], pick(si.s0, sel), pick(si.s1, sel), 0);
  const stats = { iterations: perIteration.length, comparisons: perIteration };
  let mask: ArithShare | undefined;
  if (wantMask) {
    const member = new BigUint64Array(rows * n);
    for (const q of sel) member[q] = 1n;
    mask = await unshufflePublic(ctx, handle, new PublicTensor([rows, n], member, 0));
  }
  const extra = mask === undefined ? {} : { mask };
  if (!wantHot) return { values, indices, stats, ...extra };
  return { values, indices, oneHot: await oneHotOfPositions(ctx, handle, sel, rows, n, k), stats, ...extra };
}

async function oneHotOfPositions(ctx: Context, handle: ShuffleHandle, sel: Int32Array, rows: number, n: number, k: number): Promise<ArithShare> {
  const pos = new Uint32Array(rows * k);
  for (let r = 0; r < rows; r++) for (let t = 0; t < k; t++) pos[r * k + t] = sel[r * k + t] - r * n;
  return unshuffleOneHot(ctx, handle, k, pos);
}

async function topkArgmax(ctx: Context, x: ArithShare, rows: number, n: number, k: number): Promise<Raw> {
  const K = ctx.k;
  const jvec = BigUint64Array.from({ length: n }, (_, j) => BigInt(j));
  const v0 = new BigUint64Array(rows * k);
  const v1 = new BigUint64Array(rows * k);
  const x0 = new BigUint64Array(rows * k);
  const x1 = new BigUint64Array(rows * k);
  const h0 = new BigUint64Array(rows * k * n);
  const h1 = new BigUint64Array(rows * k * n);
  let cur = x;
  for (let t = 0; t < k; t++) {
    const { max, oneHot } = await argmax(ctx, cur);
    const sh = { m: rows, k: n, n: 1 };
    const i0 = K.matmul(oneHot.s0, jvec, sh);
    const i1 = K.matmul(oneHot.s1, jvec, sh);
    for (let r = 0; r < rows; r++) {
      v0[r * k + t] = max.s0[r];
      v1[r * k + t] = max.s1[r];
      x0[r * k + t] = i0[r];
      x1[r * k + t] = i1[r];
      h0.set(oneHot.s0.subarray(r * n, (r + 1) * n), (r * k + t) * n);
      h1.set(oneHot.s1.subarray(r * n, (r + 1) * n), (r * k + t) * n);
    }
    cur = new ArithShare(cur.shape, K.sub(cur.s0, K.mulScalar(oneHot.s0, ARGMAX_PUSH)), K.sub(cur.s1, K.mulScalar(oneHot.s1, ARGMAX_PUSH)), cur.scale);
  }
  return {
    values: new ArithShare([rows, k], v0, v1, x.scale),
    indices: new ArithShare([rows, k], x0, x1, 0),
    oneHot: new ArithShare([rows, k, n], h0, h1, 0),
  };
}
