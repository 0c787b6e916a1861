/**
 * The tournament planner of max/argmax (max.ts): which group size each level of a
 * tournament uses, from the shape alone (a public plan), and the rounds of a level.
 *
 * A level over cnt columns with group size g compares all pairs within each group in one
 * batched msb, ANDs each column's g - 1 win terms (a tree of ceil(log2(g - 1)) rounds) and
 * selects the winner's value in one fused round: levelRounds. The automatic plan minimises
 * rounds + bytes / ROUND_BYTES over the group sizes TOURNAMENT_ARITIES.
 */
import { msbPlanCost } from './msb.js';

/** ceil(log2(m)) for m >= 1: the AND rounds of an m-input AND tree. */
function andDepth(m: number): number {
  return m <= 1 ? 0 : Math.ceil(Math.log2(m));
}

/**
 * Rounds of one g-ary tournament level over cnt columns, given the msb's rounds: the
 * comparison, the AND tree of the largest group's g - 1 win terms, the select.
 */
export function levelRounds(cnt: number, g: number, msbRounds: number): number {
  const q = Math.floor(cnt / g);
  const rem = cnt - g * q;
  const biggest = q > 0 ? g : rem >= 2 ? rem : 1;
  return msbRounds + andDepth(biggest - 1) + 1;
}

/** Columns after one g-ary level over cnt columns. */
export function nextCount(cnt: number, g: number): number {
  return Math.ceil(cnt / g);
}

const pad64 = (n: number): number => Math.ceil(n / 64) * 64;

/**
 * Comparisons one g-ary level over cnt columns of `rows` rows runs, as max.ts lays them
 * out: each pair position of the full groups is a block of rows * q elements and each of the
 * tail group's a block of rows elements, every block padded to whole 64-element words.
 */
function levelComparisons(rows: number, cnt: number, g: number): number {
  const q = Math.floor(cnt / g);
  const rem = cnt - g * q;
  const tail = rem >= 2 ? rem : 0;
  return (q > 0 ? ((g * (g - 1)) / 2) * pad64(rows * q) : 0) + ((tail * (tail - 1)) / 2) * pad64(rows);
}

/**
 * Group sizes the automatic plan chooses from: powers of two and one more (a group of
 * 2^k + 1 has 2^k win terms per column, the same AND depth k as a group of 2^k, and covers
 * one more column: 257 columns take two levels of 17 instead of three of 16).
 */
export const TOURNAMENT_ARITIES: readonly number[] = [2, 3, 4, 5, 8, 9, 16, 17, 32, 33];
/** The largest group size (fixed or planned). */
export const MAX_ARITY = 33;
/**
 * Bytes of comparison traffic (over the three parties) that the automatic plan treats as
 * costing as much as one round: ~0.4 ms of loopback round latency at ~0.3 GB/s sealed.
 */
export const ROUND_BYTES = 128 * 1024;

/**
 * The group size of each level of a tournament over n columns of `rows` rows: a public plan
 * (it depends on the shape only) minimising rounds + bytes / ROUND_BYTES, where a comparison
 * of `width` bits costs msbPlanCost(width) and the select about 3 words per column. Small inputs get wide groups (fewer rounds), large ones
 * narrow groups (fewer comparisons). With `keep` (argmax) the one-hot costs ceil(log2(levels))
 * more rounds (max.ts: a product tree over the levels' win bits) and n words per level.
 */
export function tournamentPlan(rows: number, n: number, width: number, arity: number | 'auto' = 'auto', keep = false): number[] {
  const { rounds: msbRounds, bytes: cmpBytes } = msbPlanCost(width);
  if (arity !== 'auto') {
    if (!Number.isInteger(arity) || arity < 2 || arity > MAX_ARITY) throw new RangeError(`tournamentPlan: arity must be 'auto' or an integer in [2, ${MAX_ARITY}], got ${arity}`);
    const plan: number[] = [];
    for (let c = n; c > 1; c = nextCount(c, arity)) plan.push(arity);
    return plan;
  }
  // best(c, d): the cheapest plan reducing c columns to one in at most d levels
  const memo = new Map<string, { cost: number; plan: number[] }>();
  const best = (c: number, d: number): { cost: number; plan: number[] } => {
    if (c <= 1) return { cost: 0, plan: [] };
    if (d === 0) return { cost: Infinity, plan: [] };
    const key = `${c}/${d}`;
    const hit = memo.get(key);
    if (hit) return hit;
    let out = { cost: Infinity, plan: [] as number[] };
    for (const g of TOURNAMENT_ARITIES) {
      const bytes = levelComparisons(rows, c, g) * cmpBytes + rows * (3 * 8 * c + (keep ? 8 * n : 0));
      const rest = best(nextCount(c, g), d - 1);
      const cost = levelRounds(c, g, msbRounds) + bytes / ROUND_BYTES + rest.cost;
      if (cost < out.cost) out = { cost, plan: [g, ...rest.plan] };
    }
    memo.set(key, out);
    return out;
  };
  // argmax (keep) adds the one-hot's product tree over the levels: ceil(log2(levels)) rounds
  let out = { cost: Infinity, plan: [] as number[] };
  for (let d = 1; d <= 20; d++) {
    const b = best(n, d);
    const cost = b.cost + (keep ? andDepth(d) : 0);
    if (cost < out.cost) out = { cost, plan: b.plan };
  }
  return out.plan;
}
