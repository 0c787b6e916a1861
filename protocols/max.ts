/**
 * Maximum and argmax over the last axis of an arithmetic share, by tournaments.
 *
 * max / argmax: a tournament whose levels compare columns in groups of g (2..16,
 * tournament-plan.ts picks g per level from the shape: wide groups for small inputs,
 * narrow ones for large): all pairwise comparisons of every group in one batched msb, the
 * winner bits by a tree of ANDs (ceil(log2(g - 1)) rounds), the winner's value by one fused
 * select round; opts.arity fixes g, and 'binary' gives the classic binary tournament (msb + 1
 * rounds per level, the fewest bytes). On a tie the lower index wins. argmax's one-hot is
 * built top-down from the stored win bits (one multiplication round per level).
 *
 * Reveals nothing: every message is one of the masked messages of msb, the AND rounds, the
 * bit-times-value round and mul (msb.ts, bool-slices.ts, conversions.ts, mul.ts).
 */
import type { U64 } from '../kernels/api.js';
import type { Context } from './context.js';
import { bitTimesSlicedBalanced as bitTimesSliced, msbSlicedBalanced as msbSliced } from './balanced.js';
import { type SlicePair, andSlices, notPair } from './bool-slices.js';
import type { CompareOptions } from './compare.js';
import { add, concat, publicSub, slice, sub, transposeWords } from './linear.js';
import { aBitWidth } from './msb.js';
import { mul } from './mul.js';
import { constant } from './sharing.js';
import { stack, unstack } from './batching.js';
import { MAX_ARITY, tournamentPlan } from './tournament-plan.js';
import { ArithShare, anArith, shapeSize } from './types.js';

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
    const e = await msbSliced(ctx, sub(ctx, left, right), `${label}.msb`, opts.bitWidth ?? 64, opts.dropBits ?? 0);
    const r = await bitTimesSliced(ctx, e, rows * h, [sub(ctx, right, left)], keep, `${label}.select`);
    const win = add(ctx, left, r.prods[0]);
    cur = cnt % 2 === 1 ? concat(ctx, [win, slice(ctx, cur, cnt - 1, cnt)]) : win;
    if (keep) levels.push({ cnt, h, leftWins: publicSub(ctx, 1, r.bit!) });
  }
  return { max: cur.reshape([...lead, 1]), levels };
}

// ---------------------------------------------------------------- g-ary tournament

/** Columns `cols` of a row-major [rows, cnt] word array -> [rows, cols.length] (no BigInt). */
function pickWords(src: U64, rows: number, cnt: number, cols: Int32Array): U64 {
  const m = cols.length;
  const out = new BigUint64Array(rows * m);
  const s = new Uint32Array(src.buffer, src.byteOffset, src.length * 2);
  const o = new Uint32Array(out.buffer, out.byteOffset, out.length * 2);
  for (let r = 0; r < rows; r++) {
    const sb = r * cnt;
    const ob = r * m;
    for (let j = 0; j < m; j++) {
      const si = 2 * (sb + cols[j]);
      const oi = 2 * (ob + j);
      o[oi] = s[si];
      o[oi + 1] = s[si + 1];
    }
  }
  return out;
}

function pickCols(x: ArithShare, rows: number, cnt: number, cols: Int32Array): ArithShare {
  return new ArithShare([rows, cols.length], pickWords(x.s0, rows, cnt, cols), pickWords(x.s1, rows, cnt, cols), x.scale);
}

function colRange(start: number, step: number, count: number): Int32Array {
  const c = new Int32Array(count);
  for (let i = 0; i < count; i++) c[i] = start + i * step;
  return c;
}

const pad64 = (n: number): number => Math.ceil(n / 64) * 64;

interface LevelG {
  readonly cnt: number;
  /** number of groups (columns of the next level) */
  readonly groups: number;
  /** group (next-level column) of each column */
  readonly groupOf: Int32Array;
  /** [rows, cnt] arithmetic 0/1: 1 where the column won its group (carried columns: 1) */
  readonly wins: ArithShare | undefined;
}

/**
 * One level of the g-ary tournament: columns in groups of g (the tail forms a group of
 * 2..g-1 or is carried alone). All pairwise comparisons of a group in one batched msb; a
 * column wins when it beats the lower columns strictly and the higher ones or ties (so the
 * lowest index wins ties); the (g-1)-input ANDs take ceil(log2(g-1)) rounds (a tree, all
 * groups together); the winner's value is selected with the fused bit-times-value round.
 * Rounds: msb + ceil(log2(g - 1)) + 1 (levelRounds).
 */
async function levelG(
  ctx: Context, cur: ArithShare, rows: number, g: number, keep: boolean, label: string, width: number, drop: number,
): Promise<{ next: ArithShare; level: LevelG }> {
  const k = ctx.k;
  const cnt = cur.shape[1];
  const q = Math.floor(cnt / g);
  const rem = cnt - g * q;
  const tail = rem >= 2 ? rem : 0;
  const carried = rem === 1;
  const Gq = rows * q;
  const Pq = pad64(Gq);
  const Pt = pad64(rows);
  const fullN = q > 0 ? g : 0;
  const V = Array.from({ length: fullN }, (_, i) => pickCols(cur, rows, cnt, colRange(i, g, q)));
  const T = Array.from({ length: tail }, (_, i) => pickCols(cur, rows, cnt, colRange(g * q + i, 1, 1)));
  const pairsOf = (m: number): [number, number][] => {
    const out: [number, number][] = [];
    for (let i = 0; i < m; i++) for (let j = i + 1; j < m; j++) out.push([i, j]);
    return out;
  };
  const fullPairs = pairsOf(fullN);
  const tailPairs = pairsOf(tail);
  // all differences V_i - V_j in word-aligned blocks (padding is zero)
  const total = fullPairs.length * Pq + tailPairs.length * Pt;
  const d0 = new BigUint64Array(total);
  const d1 = new BigUint64Array(total);
  let off = 0;
  for (const [i, j] of fullPairs) {
    k.sub(V[i].s0, V[j].s0, d0.subarray(off, off + Gq));
    k.sub(V[i].s1, V[j].s1, d1.subarray(off, off + Gq));
    off += Pq;
  }
  for (const [i, j] of tailPairs) {
    k.sub(T[i].s0, T[j].s0, d0.subarray(off, off + rows));
    k.sub(T[i].s1, T[j].s1, d1.subarray(off, off + rows));
    off += Pt;
  }
  const e = await msbSliced(ctx, new ArithShare([total], d0, d1, cur.scale), `${label}.msb`, width, drop);
  const blk = (start: number, len: number): SlicePair => [e[0].subarray(start / 64, (start + len) / 64), e[1].subarray(start / 64, (start + len) / 64)];
  const index = (m: number, i: number, j: number): number => i * m - (i * (i + 1)) / 2 + (j - i - 1); // position of (i, j) in pairsOf(m)
  const cF = (i: number, j: number): SlicePair => blk(index(fullN, i, j) * Pq, Pq);
  const cT = (i: number, j: number): SlicePair => blk(fullPairs.length * Pq + index(tail, i, j) * Pt, Pt);
  // win terms: column i beats j < i strictly (c_ji) and j > i or ties (not c_ij)
  const terms = (c: (i: number, j: number) => SlicePair, m: number): SlicePair[][] =>
    Array.from({ length: m }, (_, i) => {
      const t: SlicePair[] = [];
      for (let j = 0; j < m; j++) if (j !== i) t.push(j < i ? c(j, i) : notPair(ctx, c(i, j)));
      return t;
    });
  // AND tree: each round pairs up the remaining terms of every win (all groups at once)
  let wins: SlicePair[][] = [...terms(cF, fullN), ...terms(cT, tail)];
  for (let round = 0; wins.some((t) => t.length > 1); round++) {
    const xs: SlicePair[] = [];
    const ys: SlicePair[] = [];
    for (const t of wins) for (let a = 0; a + 1 < t.length; a += 2) {
      xs.push(t[a]);
      ys.push(t[a + 1]);
    }
    const z = await andSlices(ctx, xs, ys, `${label}.and.${round}`);
    let zi = 0;
    wins = wins.map((t) => {
      const nt: SlicePair[] = [];
      for (let a = 0; a + 1 < t.length; a += 2) nt.push(z[zi++]);
      if (t.length % 2 === 1) nt.push(t[t.length - 1]);
      return nt;
    });
  }
  const win = wins.map((t) => t[0]);
  // select: sum_i win_i * value_i per group, one round for everything
  const selN = fullN * Pq + tail * Pt;
  const eAll: SlicePair = [new BigUint64Array(selN / 64), new BigUint64Array(selN / 64)];
  const v0 = new BigUint64Array(selN);
  const v1 = new BigUint64Array(selN);
  const starts: number[] = [];
  off = 0;
  const put = (w: SlicePair, x: ArithShare, padded: number): void => {
    eAll[0].set(w[0], off / 64);
    eAll[1].set(w[1], off / 64);
    v0.set(x.s0, off);
    v1.set(x.s1, off);
    starts.push(off);
    off += padded;
  };
  for (let i = 0; i < fullN; i++) put(win[i], V[i], Pq);
  for (let i = 0; i < tail; i++) put(win[fullN + i], T[i], Pt);
  const sel = await bitTimesSliced(ctx, eAll, selN, [new ArithShare([selN], v0, v1, cur.scale)], keep, `${label}.select`);
  const prod = sel.prods[0];
  const parts: ArithShare[] = [];
  if (q > 0) {
    const s0 = new BigUint64Array(Gq);
    const s1 = new BigUint64Array(Gq);
    for (let i = 0; i < fullN; i++) {
      k.add(s0, prod.s0.subarray(starts[i], starts[i] + Gq), s0);
      k.add(s1, prod.s1.subarray(starts[i], starts[i] + Gq), s1);
    }
    parts.push(new ArithShare([rows, q], s0, s1, cur.scale));
  }
  if (tail > 0) {
    const s0 = new BigUint64Array(rows);
    const s1 = new BigUint64Array(rows);
    for (let i = 0; i < tail; i++) {
      const st = starts[fullN + i];
      k.add(s0, prod.s0.subarray(st, st + rows), s0);
      k.add(s1, prod.s1.subarray(st, st + rows), s1);
    }
    parts.push(new ArithShare([rows, 1], s0, s1, cur.scale));
  }
  if (carried) parts.push(pickCols(cur, rows, cnt, colRange(cnt - 1, 1, 1)));
  const next = parts.length === 1 ? parts[0] : concat(ctx, parts);
  const groups = q + (tail > 0 ? 1 : 0) + (carried ? 1 : 0);
  const groupOf = new Int32Array(cnt);
  for (let c = 0; c < cnt; c++) groupOf[c] = c < g * q ? Math.floor(c / g) : q + (c - g * q < tail ? 0 : tail > 0 ? 1 : 0);
  let winsA: ArithShare | undefined;
  if (keep) {
    // arithmetic wins in column order; a carried column has win 1 (a public constant in x0)
    const w0 = new BigUint64Array(rows * cnt);
    const w1 = new BigUint64Array(rows * cnt);
    const b = sel.bit!;
    const src0 = new Uint32Array(b.s0.buffer, b.s0.byteOffset, b.s0.length * 2);
    const src1 = new Uint32Array(b.s1.buffer, b.s1.byteOffset, b.s1.length * 2);
    const o0 = new Uint32Array(w0.buffer);
    const o1 = new Uint32Array(w1.buffer);
    const copy = (from: number, to: number): void => {
      o0[2 * to] = src0[2 * from];
      o0[2 * to + 1] = src0[2 * from + 1];
      o1[2 * to] = src1[2 * from];
      o1[2 * to + 1] = src1[2 * from + 1];
    };
    for (let r = 0; r < rows; r++) {
      for (let gi = 0; gi < q; gi++) for (let i = 0; i < fullN; i++) copy(starts[i] + r * q + gi, r * cnt + g * gi + i);
      for (let i = 0; i < tail; i++) copy(starts[fullN + i] + r, r * cnt + g * q + i);
      if (carried) {
        if (ctx.party === 0) w0[r * cnt + cnt - 1] = 1n;
        if (ctx.party === 2) w1[r * cnt + cnt - 1] = 1n;
      }
    }
    winsA = new ArithShare([rows, cnt], w0, w1, 0);
  }
  return { next, level: { cnt, groups, groupOf, wins: winsA } };
}

async function tournamentG(ctx: Context, x: ArithShare, keep: boolean, label: string, opts: MaxOptions): Promise<{ max: ArithShare; levels: LevelG[] }> {
  anArith(x, `${label}: x`);
  if (x.shape.length === 0) throw new RangeError(`${label}: x must have at least one axis`);
  const n = x.shape[x.shape.length - 1];
  if (n < 1) throw new RangeError(`${label}: the last axis is empty`);
  const width = aBitWidth(opts.bitWidth ?? 64, label);
  // approximate comparisons are not transitive: a group of three or more could then have no
  // winner (a cycle), so the g-ary levels compare exactly; dropBits is for arity 'binary'
  if ((opts.dropBits ?? 0) !== 0) throw new RangeError(`${label}: dropBits needs arity 'binary' (approximate comparisons are not transitive)`);
  const drop = 0;
  const lead = x.shape.slice(0, -1);
  const rows = shapeSize(lead);
  const arity: unknown = opts.arity ?? 'auto';
  if (arity !== 'auto' && (typeof arity !== 'number' || !Number.isInteger(arity) || arity < 2 || arity > MAX_ARITY)) throw new RangeError(`${label}: arity must be 'auto', 'binary' or an integer in [2, ${MAX_ARITY}], got ${String(arity)}`);
  const plan = tournamentPlan(rows, n, width - drop, arity, keep);
  let cur = x.reshape([rows, n]);
  const levels: LevelG[] = [];
  for (const g of plan) {
    const r = await levelG(ctx, cur, rows, g, keep, `${label}.${levels.length}`, width, drop);
    cur = r.next;
    levels.push(r.level);
  }
  return { max: cur.reshape([...lead, 1]), levels };
}

/**
 * Maximum over the last axis: shape [..., n] -> [..., 1]. Default: a tournament whose group
 * size per level (2, 4, 8 or 16; all pairs compared within a group) follows
 * tournamentPlan (fewest rounds for small inputs, fewer bytes for large ones); opts.arity
 * fixes one group size for every level; arity 'binary' is the classic binary tournament
 * (ceil(log2 n) levels of msb + 1 rounds, the fewest bytes).
 */
export async function max(ctx: Context, x: ArithShare, opts: MaxOptions = {}): Promise<ArithShare> {
  if (opts.arity === 'binary') return (await tournament(ctx, x, false, 'max', opts)).max;
  return (await tournamentG(ctx, x, false, 'max', opts)).max;
}

/**
 * Maximum and one-hot position of the maximum over the last axis (the lowest index on ties).
 * oneHot: [..., n] of 0/1 (scale 0). The one-hot is expanded top-down from the stored win bits
 * (one multiplication round per level).
 */
export async function argmax(ctx: Context, x: ArithShare, opts: MaxOptions = {}): Promise<{ max: ArithShare; oneHot: ArithShare }> {
  if (opts.arity === 'binary') return argmax2(ctx, x, opts);
  const { max: mx, levels } = await tournamentG(ctx, x, true, 'argmax', opts);
  const rows = shapeSize(x.shape.slice(0, -1));
  const n = x.shape[x.shape.length - 1];
  if (levels.length === 0) return { max: mx, oneHot: constant(ctx, x.shape, 1, 0) };
  // leaf j's one-hot entry = the product over levels of the win bit of the column holding j
  // at that level (the wins of a group are exclusive): one factor [rows, n] per level,
  // multiplied by a balanced tree, ceil(log2(levels)) rounds for all rows
  let col = colRange(0, 1, n);
  let factors: ArithShare[] = levels.map(({ cnt, groupOf, wins }) => {
    const f = pickCols(wins!, rows, cnt, col);
    col = col.map((c) => groupOf[c]);
    return f;
  });
  while (factors.length > 1) {
    const h = factors.length >> 1;
    const prod = await mul(ctx, stack(factors.slice(0, h), 0), stack(factors.slice(h, 2 * h), 0));
    const next = unstack(prod, factors.slice(0, h).map(() => [rows, n]), 0);
    if (factors.length % 2 === 1) next.push(factors[factors.length - 1]);
    factors = next;
  }
  return { max: mx, oneHot: factors[0].reshape(x.shape) };
}

/**
 * Options of max/argmax: the comparison width and the tournament's group size: 'auto' (the
 * default, tournamentPlan), a fixed 2..16 for every level (all pairs within a group), or
 * 'binary' (the classic binary tournament).
 */
export interface MaxOptions extends CompareOptions {
  readonly arity?: 'auto' | 'binary' | number;
}

async function argmax2(ctx: Context, x: ArithShare, opts: CompareOptions): Promise<{ max: ArithShare; oneHot: ArithShare }> {
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
