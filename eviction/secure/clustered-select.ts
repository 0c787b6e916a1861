/**
 * MPCache's two-level clustered selection on shares, for one decode step of one layer and
 * every query head at once (per query head, as the plaintext oracle twoLevelSelect).
 *
 * 1. Similarity (no comparisons): s_b = q . (a r_max_b + (d - a) r_min_b) with alpha = a/d
 *    (3/5 by default). Integer weights, so the representatives need no truncation: the secure
 *    similarity is EXACTLY d * 2^(2f) times the oracle's on the fixed-point inputs, which keeps
 *    the order and the ties. One matmul round for both levels: nHeads * (M1 + M2) outputs.
 * 2. Level 1: forced blocks (first, last) are selected publicly; the free ones are the secure
 *    top-(k1 - |forced|) among the other blocks (protocols/topk.ts: ties to the lower index,
 *    like the oracle). Only the chosen SET matters here: top-k's 0/1 membership mask (one
 *    unshuffle of M1 words per row, not k1 x M1 one-hot rows).
 * 3. Level 2: candidates are the children of chosen level-1 blocks. A non-candidate's score is
 *    lowered by P = 2^(60 - ceil(log2 M2)) ring units (local: (mask - 1) * P added), so it
 *    ranks below every candidate as long as |s| < P / 2, i.e. |q . (a r_max + (d-a) r_min)| <
 *    2^(59 - 36 - ceil(log2 M2)) (> 8000 for M2 <= 1024 at f = 18; similarities of real
 *    queries and keys are far smaller), and every value stays inside top-k's range
 *    |x| < 2^(62 - ceil(log2 M2)). Candidates keep their order and ties; then the secure
 *    top-(k2 - |forced|) among the non-forced level-2 blocks. k2 never exceeds the candidate
 *    count, so no non-candidate is picked.
 * Output: the level-2 top-k one-hot [nHeads, free2, M2] over the non-forced blocks [lo, hi).
 *
 * What it reveals: nothing. The top-k sizes and forced blocks follow from the public cache
 * length and parameters (mpcache-params.ts dynamicPlan).
 *
 * Cost: 1 matmul round (8 bytes per similarity per party) + topk(nHeads x M1, free1, mask) +
 * topk(nHeads x M2, free2, one-hot rows); a level whose choice is forced entirely (free = 0 or
 * all) skips its top-k.
 */
import type { Context } from '../../protocols/context.js';
import { add, concat, mulPublicInt, slice, subPublic, sumAxis, transpose, withScale } from '../../protocols/linear.js';
import { matmul } from '../../protocols/mul.js';
import { constant } from '../../protocols/sharing.js';
import { topk } from '../../protocols/topk.js';
import { ArithShare } from '../../protocols/types.js';
import type { BlockReps } from './block-reps.js';
import { type DynamicPlan, type SecureMpCacheParams, dynamicPlan } from './mpcache-params.js';

/** Penalty that pushes a non-candidate below every candidate among M blocks (ring units): 2^(60 - ceil(log2 M)). */
export function nonCandidatePenalty(M: number): bigint {
  return 1n << BigInt(60 - Math.ceil(Math.log2(Math.max(2, M))));
}

export interface BlockSelection {
  readonly plan: DynamicPlan;
  readonly nHeads: number;
  /**
   * Level-2 choice among the non-forced blocks [plan.level2.lo, plan.level2.hi): one-hot rows
   * [nHeads, free2, M2] (scale 0). Undefined when the choice is public (free2 = 0: forced
   * blocks only, or free2 = M2: every block).
   */
  readonly oneHot2: ArithShare | undefined;
  /** level-1 choice among [plan.level1.lo, hi) as a 0/1 mask [nHeads, M1] (for tests and reports); undefined when public */
  readonly mask1: ArithShare | undefined;
  /** top-k iterations of level 1 and level 2 (public facts of the shuffle-based top-k; 0 when a level needs no top-k) */
  readonly topkIterations?: readonly [number, number];
}

/** Sum of one-hot rows: [rows, k, n] -> [rows, n] (local). */
export function oneHotMask(ctx: Context, oneHot: ArithShare): ArithShare {
  const [rows, , n] = oneHot.shape;
  return sumAxis(ctx, transpose(ctx, oneHot)).reshape([rows, n]);
}

/** a r_max + (d - a) r_min over blocks [lo, hi) of [nKv, G, hd] (local, same scale). */
function mixed(ctx: Context, p: SecureMpCacheParams, mx: ArithShare, mn: ArithShare, lo: number, hi: number): ArithShare {
  return add(ctx, mulPublicInt(ctx, slice(ctx, mx, lo, hi, 1), p.alphaNum), mulPublicInt(ctx, slice(ctx, mn, lo, hi, 1), p.alphaDen - p.alphaNum));
}

/**
 * Two-level selection for the query q [nHeads, hd] (any scale; ctx.f in the decoder) against
 * the representatives of a cache of reps.n tokens. Query head h uses KV head floor(h / (nHeads / nKv)).
 */
export async function selectBlocks(ctx: Context, p: SecureMpCacheParams, q: ArithShare, reps: BlockReps): Promise<BlockSelection> {
  const { nKv, hd } = reps;
  if (q.shape.length !== 2 || q.shape[1] !== hd || q.shape[0] % nKv !== 0) throw new RangeError(`selectBlocks: q must be [nHeads, ${hd}] with nHeads a multiple of ${nKv}, got [${q.shape.join(', ')}]`);
  if (reps.block2 !== p.block2) throw new RangeError('selectBlocks: representatives were built with another block size');
  if (reps.staleLast1 && !p.forceLast) throw new RangeError('selectBlocks: the newest level-1 representative is stale; build with eager updates when forceLast is off');
  const nHeads = q.shape[0];
  const plan = dynamicPlan(p, reps.n);
  const l1 = plan.level1;
  const l2 = plan.level2;
  const M1 = l1.hi - l1.lo;
  const M2 = l2.hi - l2.lo;
  const need1 = l1.free > 0 && l1.free < M1;
  const need2 = l2.free > 0 && l2.free < M2;
  if (!need2) return { plan, nHeads, oneHot2: undefined, mask1: undefined, topkIterations: [0, 0] };
  const parts: ArithShare[] = [];
  if (need1) parts.push(mixed(ctx, p, reps.max1, reps.min1, l1.lo, l1.hi));
  parts.push(mixed(ctx, p, reps.max2, reps.min2, l2.lo, l2.hi));
  const R = parts.length === 1 ? parts[0] : concat(ctx, parts, 1); // [nKv, M1? + M2, hd]
  const G = nHeads / nKv;
  const width = R.shape[1];
  const S = (await matmul(ctx, q.reshape([nKv, G, hd]), R, { transB: true })).reshape([nHeads, width]);
  const s1 = need1 ? slice(ctx, S, 0, M1) : undefined;
  const s2 = need1 ? slice(ctx, S, M1, M1 + M2) : S;
  // level-1 choice per block of [0, G1): forced -> 1, free -> the top-k mask (or all/none)
  let mask1: ArithShare | undefined;
  let chosen1: ArithShare; // [nHeads, G1] 0/1, scale 0
  let it1 = 0;
  if (need1) {
    const t1 = await topk(ctx, s1!, l1.free, { oneHot: false, mask: true }); // only the chosen SET matters at level 1
    it1 = t1.stats?.iterations ?? 0;
    mask1 = t1.mask!;
    const pieces: ArithShare[] = [];
    if (l1.lo > 0) pieces.push(constant(ctx, [nHeads, l1.lo], 1, 0));
    pieces.push(mask1);
    if (l1.hi < l1.G) pieces.push(constant(ctx, [nHeads, l1.G - l1.hi], 1, 0));
    chosen1 = pieces.length === 1 ? pieces[0] : concat(ctx, pieces);
  } else {
    const v = new Float64Array(nHeads * l1.G);
    for (let h = 0; h < nHeads; h++) {
      for (let b = 0; b < l1.G; b++) v[h * l1.G + b] = l1.forced.includes(b) || (b >= l1.lo && b < l1.hi && l1.free === M1) ? 1 : 0;
    }
    chosen1 = constant(ctx, [nHeads, l1.G], v, 0);
  }
  // candidates of level 2 among [lo2, hi2): parent chosen
  const cand = childrenOf(ctx, chosen1, l2.lo, l2.hi);
  const penalty = withScale(mulPublicInt(ctx, subPublic(ctx, cand, 1), nonCandidatePenalty(M2)), s2.scale);
  const t2 = await topk(ctx, add(ctx, s2, penalty), l2.free);
  return { plan, nHeads, oneHot2: t2.oneHot, mask1, topkIterations: [it1, t2.stats?.iterations ?? 0] };
}

/** [rows, G1] -> [rows, hi - lo]: entry b (of level 2) = entry floor(b / 2) (local copy). */
function childrenOf(ctx: Context, chosen1: ArithShare, lo: number, hi: number): ArithShare {
  const [rows, G1] = chosen1.shape;
  const w = hi - lo;
  const o0 = new BigUint64Array(rows * w);
  const o1 = new BigUint64Array(rows * w);
  for (let r = 0; r < rows; r++) {
    for (let b = lo; b < hi; b++) {
      o0[r * w + b - lo] = chosen1.s0[r * G1 + (b >> 1)];
      o1[r * w + b - lo] = chosen1.s1[r * G1 + (b >> 1)];
    }
  }
  void ctx;
  return new ArithShare([rows, w], o0, o1, chosen1.scale);
}
