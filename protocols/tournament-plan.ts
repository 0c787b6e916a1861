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

/** Pairwise comparisons of one g-ary level over cnt columns (per row). */
function levelComparisons(cnt: number, g: number): number {
  const q = Math.floor(cnt / g);
  const rem = cnt - g * q;
  const tail = rem >= 2 ? rem : 0;
  return (q * g * (g - 1)) / 2 + (tail * (tail - 1)) / 2;
}

/** Group sizes the automatic plan chooses from. */
export const TOURNAMENT_ARITIES: readonly number[] = [2, 4, 8, 16];
/**
 * Bytes of comparison traffic (over the three parties) that the automatic plan treats as
 * costing as much as one round: ~0.4 ms of loopback round latency at ~0.3 GB/s sealed.
 */
export const ROUND_BYTES = 128 * 1024;

/**
 * The group size of each level of a tournament over n columns of `rows` rows: a public plan
 * (it depends on the shape only) minimising rounds + bytes / ROUND_BYTES, where a comparison
 * of `width` bits costs msbPlanCost(width) and the select about 3 words per column. Small inputs get wide groups (fewer rounds), large ones
 * narrow groups (fewer comparisons): e.g. 6 x 256 -> [16, 16], 1 x 50257 -> [2, 2, 2, 4, 8,
 * 16, 16]. With `keep` (argmax) each level costs one more round (the one-hot expansion).
 */
export function tournamentPlan(rows: number, n: number, width: number, arity: number | 'auto' = 'auto', keep = false): number[] {
  const { rounds: msbRounds, bytes: cmpBytes } = msbPlanCost(width);
  if (arity !== 'auto') {
    if (!Number.isInteger(arity) || arity < 2 || arity > 16) throw new RangeError(`tournamentPlan: arity must be 'auto' or an integer in [2, 16], got ${arity}`);
    const plan: number[] = [];
    for (let c = n; c > 1; c = nextCount(c, arity)) plan.push(arity);
    return plan;
  }
  const memo = new Map<number, { cost: number; plan: number[] }>();
  const best = (c: number): { cost: number; plan: number[] } => {
    if (c <= 1) return { cost: 0, plan: [] };
    const hit = memo.get(c);
    if (hit) return hit;
    let out = { cost: Infinity, plan: [] as number[] };
    for (const g of TOURNAMENT_ARITIES) {
      const bytes = rows * (levelComparisons(c, g) * cmpBytes + 3 * 8 * c);
      const rest = best(nextCount(c, g));
      const cost = levelRounds(c, g, msbRounds) + (keep ? 1 : 0) + bytes / ROUND_BYTES + rest.cost;
      if (cost < out.cost) out = { cost, plan: [g, ...rest.plan] };
    }
    memo.set(c, out);
    return out;
  };
  return best(n).plan;
}
