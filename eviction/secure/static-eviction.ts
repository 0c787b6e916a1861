/**
 * MPCache's look-once static eviction on shares (prefill, once per layer; oracle:
 * staticWindowScores + staticKeepTopK / staticKeepThreshold in eviction/plain/mpcache-oracle.ts).
 *
 * 1. Window scores: the last w prompt queries of every head against all T keys,
 *    softmax per head (scaled by 1/sqrt(d) and causal by default; options), summed over
 *    heads and window queries: one score per token, shared by all heads of the layer.
 *    The head MEAN of the oracle is the sum divided by H: a positive constant, so the order
 *    and ties are the same and no truncation is spent on it (the threshold rule compares
 *    the sum against H * tau instead).
 * 2. Keep rule 'topk' (default, nothing revealed): the last wk tokens (the window, wk from the
 *    public budget, staticPlan) plus the secure top-(Bs - wk) of the scores of the others
 *    (protocols/topk.ts, ties to the lower index as in the oracle). The score of a token is
 *    the sum over window queries (default) or, with aggregate 'max', the max (a max tree).
 *    Ties: the scores carry fixed-point noise (softmax approximation, +-1 ulp truncations), so
 *    tokens whose float scores tie or differ by less than that noise (~1e-4 of a probability)
 *    may be ordered differently from the float oracle; exactly tied secure values go to the
 *    lower index. (The decode-time selection has no such noise: clustered-select.ts.)
 *    Keep rule 'threshold' (the authors' threshold; the project's variant): keep token j when
 *    the max over window queries of its head-mean probability is >= tau, plus the whole window
 *    (the authors' code forces no window: eviction/plain/mpcache-paper.ts P3). The kept COUNT c is
 *    revealed (leakage, stated in the policy's `leaks`): then the kept set is the top-c of
 *    those max scores (exactly the tokens >= tau).
 * 3. Compaction keeping the original order: top-k returns the chosen tokens in score order,
 *    with one-hot rows H [c, T']. Their indices idx_i = H_i . (0..T'-1) (local); the rank of
 *    each in ascending index order r_i = sum_i' [idx_i' < idx_i] (c^2 comparisons, one batch);
 *    the permutation P[s, i] = [r_i == s] (c^2 equality tests, one batch); the sorted one-hot
 *    is P @ H (one matmul) and the kept keys and values are (P @ H) @ [K | V] (one matmul,
 *    batched over KV heads). The window rows are appended as they are (public positions).
 *
 * What it reveals: nothing with 'topk' (the budget is public); the kept count with 'threshold'.
 * Cost ('topk', c = Bs - wk chosen of T' = T - wk): matmulFixed (H * w * T scores) + softmax
 * over H * w rows of T + topk(1 x T', c) + lt and eq over c^2 + 2 matmul rounds (c T' and
 * nKv c 2d outputs).
 */
import type { SecureLayerCache } from '../../models/secure-hooks.js';
import type { Context } from '../../protocols/context.js';
import { eq, ge, lt } from '../../protocols/compare.js';
import { max } from '../../protocols/max.js';
import { broadcastLast, concat, mulPublic, mulPublicFloat, slice, sumAxis, transpose } from '../../protocols/linear.js';
import { matmul, matmulFixed } from '../../protocols/mul.js';
import { softmax } from '../../protocols/softmax.js';
import { constant, reveal } from '../../protocols/sharing.js';
import { topk } from '../../protocols/topk.js';
import { type ArithShare, PublicTensor } from '../../protocols/types.js';
import { staticWindowSize } from '../plain/mpcache-oracle.js';
import { type SecureMpCacheParams, staticPlan } from './mpcache-params.js';

export interface StaticEvictionResult {
  readonly cache: SecureLayerCache;
  /** prompt tokens kept */
  readonly kept: number;
  /** with keepRule 'threshold': the revealed number of tokens >= tau outside the window */
  readonly revealedCount?: number;
}

/** One-hot rows [c, n] (scale 0) reordered so that the chosen indices ascend. */
export async function sortOneHotRows(ctx: Context, oneHot: ArithShare): Promise<ArithShare> {
  const [c, n] = oneHot.shape;
  if (c <= 1) return oneHot;
  const iota = new BigUint64Array(n);
  for (let j = 0; j < n; j++) iota[j] = BigInt(j);
  const idx = sumAxis(ctx, mulPublic(ctx, oneHot, new PublicTensor([n], iota, 0))); // [c, 1]
  const A = broadcastLast(ctx, idx, c); // A[i, i'] = idx_i
  const B = transpose(ctx, A); // B[i, i'] = idx_i'
  const rank = sumAxis(ctx, await lt(ctx, B, A, { bitWidth: 32 })); // [c, 1] (indices < 2^31)
  const R = transpose(ctx, broadcastLast(ctx, rank, c)); // R[s, i] = rank_i
  const slots = new Float64Array(c * c);
  for (let s = 0; s < c; s++) slots.fill(s, s * c, (s + 1) * c);
  const P = await eq(ctx, R, constant(ctx, [c, c], slots, 0));
  return matmul(ctx, P, oneHot);
}

/**
 * Head-summed window probabilities [nHeads, w, T] -> per window query the sum over heads,
 * [w, T] (local).
 */
function headSum(ctx: Context, probs: ArithShare, H: number, w: number, T: number): ArithShare {
  const flat = transpose(ctx, probs.reshape([H, w * T])); // [w*T, H]
  return sumAxis(ctx, flat).reshape([w, T]);
}

/**
 * Static eviction of one layer's cache. `queries` [nHeads, T, hd] are the prompt's post-RoPE
 * queries; `prescaled` says they already carry the 1/sqrt(hd) factor (the secure decoder's
 * do), so the 'scaled' form uses them as they are and the unscaled form multiplies back.
 */
export async function secureStaticEviction(
  ctx: Context,
  p: SecureMpCacheParams,
  cache: SecureLayerCache,
  queries: ArithShare,
  prescaled = true,
): Promise<StaticEvictionResult> {
  const { nHeads: H, nKvHeads: nKv, headDim: hd, length: T } = cache;
  if (queries.shape.length !== 3 || queries.shape[0] !== H || queries.shape[1] !== T || queries.shape[2] !== hd) {
    throw new RangeError(`queries must be [${H}, ${T}, ${hd}], got [${queries.shape.join(', ')}]`);
  }
  const threshold = p.keepRule === 'threshold';
  const plan = staticPlan(p, T);
  if (!threshold && plan.budget >= T) return { cache, kept: T };
  const w = threshold ? Math.min(staticWindowSize(T, p.windowRatio), T) : plan.window;
  const wk = threshold ? w : plan.forcedWindow; // kept unconditionally (the last wk tokens)
  const Tp = T - wk; // tokens that compete
  if (Tp <= 0) return { cache, kept: T };
  // 1. window scores
  let Qw = slice(ctx, queries, T - w, T, 1); // [H, w, hd]
  const wantScale = p.scaled ? 1 / Math.sqrt(hd) : 1;
  const haveScale = prescaled ? 1 / Math.sqrt(hd) : 1;
  if (wantScale !== haveScale) Qw = await mulPublicFloat(ctx, Qw, wantScale / haveScale);
  const G = H / nKv;
  const logits = await matmulFixed(ctx, Qw.reshape([nKv, G * w, hd]), cache.k, { transB: true }); // [nKv, G*w, T]
  let mask: PublicTensor | undefined;
  if (p.causal) {
    const m = new BigUint64Array(H * w * T);
    for (let r = 0; r < H; r++) for (let i = 0; i < w; i++) m.fill(1n, (r * w + i) * T, (r * w + i) * T + (T - w + i) + 1);
    mask = new PublicTensor([nKv, G * w, T], m, 0);
  }
  const probs = await softmax(ctx, logits, mask === undefined ? undefined : { mask });
  const perQuery = headSum(ctx, probs, H, w, T); // [w, T], sum over heads
  let scores: ArithShare; // [1, Tp]
  let chosen: number;
  let revealedCount: number | undefined;
  if (!threshold) {
    const perToken = transpose(ctx, slice(ctx, perQuery, 0, Tp)); // [Tp, w]
    scores = transpose(ctx, p.aggregate === 'max' ? await max(ctx, perToken) : sumAxis(ctx, perToken)); // [1, Tp]
    chosen = plan.chosen;
  } else {
    const mx = await max(ctx, transpose(ctx, slice(ctx, perQuery, 0, Tp))); // [Tp, 1]
    const keep = await ge(ctx, mx, constant(ctx, [Tp, 1], H * p.tau));
    const opened = await reveal(ctx, sumAxis(ctx, keep.reshape([1, Tp])));
    revealedCount = Number(opened!.data[0]);
    if (!Number.isSafeInteger(revealedCount) || revealedCount < 0 || revealedCount > Tp) throw new RangeError(`static eviction: revealed count ${revealedCount} is out of [0, ${Tp}]`);
    scores = transpose(ctx, mx);
    chosen = revealedCount;
  }
  // 2. choose, 3. compact
  const kv = concat(ctx, [cache.k, cache.v], -1); // [nKv, T, 2hd]
  const window = slice(ctx, kv, Tp, T, 1);
  let kept: ArithShare;
  if (chosen === 0) {
    kept = window;
  } else {
    let rows: ArithShare;
    if (chosen >= Tp) {
      rows = slice(ctx, kv, 0, Tp, 1);
    } else {
      const { oneHot } = await topk(ctx, scores, chosen);
      const sorted = await sortOneHotRows(ctx, oneHot.reshape([chosen, Tp]));
      rows = await matmul(ctx, sorted, slice(ctx, kv, 0, Tp, 1)); // [nKv, chosen, 2hd]
    }
    kept = concat(ctx, [rows, window], 1);
  }
  const n = kept.shape[1];
  const out: SecureLayerCache = { ...cache, length: n, k: slice(ctx, kept, 0, hd, 2), v: slice(ctx, kept, hd, 2 * hd, 2) };
  return { cache: out, kept: n, ...(revealedCount !== undefined ? { revealedCount } : {}) };
}
