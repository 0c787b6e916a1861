/**
 * Look-once static eviction PER KV HEAD on shares, the SnapKV form (and MPCache-R's static
 * part): scores from the prompt's last w queries, one public-size top-k per KV head, the
 * kept rows compacted in their original order.
 *
 * 1. windowMass: per KV head, the causal attention probabilities softmax(q k^T) of its G
 *    query heads' last w prompt queries (the decoder's queries carry 1/sqrt(d) already),
 *    summed over the G heads and the w queries: [nKv, T]. The plain twins (scores.ts
 *    prefillMass) take the MEAN over the G heads: a positive constant factor, so order and
 *    ties are the same and no truncation is spent on it. Rounds: 1 (q K^T, fused truncation)
 *    + softmax over nHeads x w rows of T.
 * 2. poolSum: the zero-padded moving SUM over `kernel` neighbours (avg_pool1d times kernel,
 *    again a positive constant), over the first `len` entries of each row. Local.
 * 3. keepRowsPerHead: per KV head, the secure top-c of its scores (protocols/topk.ts, ties to
 *    the lower index as topKAscending), the c one-hot rows sorted by index (c^2 lt + c^2 eq,
 *    batched over the heads) and the kept K|V rows gathered by one matmul; the last wk rows
 *    (the window: public positions) appended as they are.
 *    Ties: the scores carry fixed-point noise (softmax approximation, truncations), so tokens
 *    whose float scores differ by less than ~1e-4 may be ordered differently from the float
 *    twin (static-eviction.ts says the same); exactly tied secure values go to the lower index.
 *
 * Reveals: nothing (public budgets; topk.ts's transcript is data-independent).
 * Cost of keepRowsPerHead (c chosen of T' per head): topk(nKv x T', c) + lt and eq over
 * nKv c^2 + 2 matmul rounds (nKv c c T' ... nKv c 2d outputs).
 */
import type { SecureLayerCache } from '../../models/secure-hooks.js';
import type { Context } from '../../protocols/context.js';
import { eq, lt } from '../../protocols/compare.js';
import { broadcastLast, concat, mulPublic, slice, sumAxis, transpose } from '../../protocols/linear.js';
import { matmul, matmulFixed } from '../../protocols/mul.js';
import { softmax } from '../../protocols/softmax.js';
import { constant } from '../../protocols/sharing.js';
import { topk } from '../../protocols/topk.js';
import { ArithShare, PublicTensor } from '../../protocols/types.js';

/** Per KV head, the window probabilities summed over its query heads and the last w queries: [nKv, T] at ctx.f. */
export async function windowMass(ctx: Context, cache: SecureLayerCache, queries: ArithShare, w: number): Promise<ArithShare> {
  const { nHeads: H, nKvHeads: nKv, headDim: hd, length: T } = cache;
  if (queries.shape.length !== 3 || queries.shape[0] !== H || queries.shape[1] !== T || queries.shape[2] !== hd) {
    throw new RangeError(`queries must be [${H}, ${T}, ${hd}], got [${queries.shape.join(', ')}]`);
  }
  if (!Number.isSafeInteger(w) || w < 1 || w > T) throw new RangeError(`window must be an integer in [1, ${T}], got ${w}`);
  const G = H / nKv;
  const Qw = slice(ctx, queries, T - w, T, 1).reshape([nKv, G * w, hd]);
  const logits = await matmulFixed(ctx, Qw, cache.k, { transB: true }); // [nKv, G*w, T]
  const m = new BigUint64Array(nKv * G * w * T);
  for (let r = 0; r < nKv * G; r++) for (let i = 0; i < w; i++) m.fill(1n, (r * w + i) * T, (r * w + i) * T + (T - w + i) + 1);
  const probs = await softmax(ctx, logits, { mask: new PublicTensor([nKv, G * w, T], m, 0) });
  return sumAxis(ctx, transpose(ctx, probs)).reshape([nKv, T]); // sum over the G*w rows
}

/** Moving sum over `kernel` (odd) neighbours, zero-padded, of the first `len` columns of x [a, T]: [a, len]. Local. */
export function poolSum(ctx: Context, x: ArithShare, kernel: number, len = x.shape[1]): ArithShare {
  const [a, T] = x.shape;
  if (x.shape.length !== 2) throw new RangeError('poolSum: x must be [a, T]');
  if (!Number.isSafeInteger(kernel) || kernel < 1 || kernel % 2 !== 1) throw new RangeError(`kernel must be a positive odd integer, got ${kernel}`);
  if (!Number.isSafeInteger(len) || len < 1 || len > T) throw new RangeError(`len must be in [1, ${T}], got ${len}`);
  const base = slice(ctx, x, 0, len);
  if (kernel === 1) return base;
  const pad = kernel >> 1;
  const o0 = new BigUint64Array(a * len);
  const o1 = new BigUint64Array(a * len);
  for (let r = 0; r < a; r++) {
    const row = r * len;
    for (let off = -pad; off <= pad; off++) {
      const lo = Math.max(0, -off);
      const hi = Math.min(len, len - off);
      if (hi <= lo) continue;
      ctx.k.add(o0.subarray(row + lo, row + hi), base.s0.subarray(row + lo + off, row + hi + off), o0.subarray(row + lo, row + hi));
      ctx.k.add(o1.subarray(row + lo, row + hi), base.s1.subarray(row + lo + off, row + hi + off), o1.subarray(row + lo, row + hi));
    }
  }
  return new ArithShare([a, len], o0, o1, x.scale);
}

/** One-hot rows [a, c, n] (scale 0) reordered per batch so that the chosen indices ascend. */
export async function sortOneHotRowsBatched(ctx: Context, oneHot: ArithShare): Promise<ArithShare> {
  const [a, c, n] = oneHot.shape;
  if (c <= 1) return oneHot;
  const iota = new BigUint64Array(n);
  for (let j = 0; j < n; j++) iota[j] = BigInt(j);
  const idx = sumAxis(ctx, mulPublic(ctx, oneHot, new PublicTensor([n], iota, 0))); // [a, c, 1]
  const A = broadcastLast(ctx, idx, c); // A[., i, i'] = idx_i
  const B = transpose(ctx, A); // idx_i'
  const rank = sumAxis(ctx, await lt(ctx, B, A, { bitWidth: 32 })); // [a, c, 1]
  const R = transpose(ctx, broadcastLast(ctx, rank, c)); // R[., s, i] = rank_i
  const slots = new Float64Array(a * c * c);
  for (let h = 0; h < a; h++) for (let s = 0; s < c; s++) slots.fill(s, (h * c + s) * c, (h * c + s + 1) * c);
  const P = await eq(ctx, R, constant(ctx, [a, c, c], slots, 0));
  return matmul(ctx, P, oneHot);
}

/**
 * Keep, per KV head, the `chosen` best-scored of the first T' = scores.shape[1] cache rows
 * (in their order) plus the last `window` rows (T' + window = cache.length).
 */
export async function keepRowsPerHead(ctx: Context, cache: SecureLayerCache, scores: ArithShare, chosen: number, window: number): Promise<SecureLayerCache> {
  const { nKvHeads: nKv, headDim: hd, length: T } = cache;
  const Tp = T - window;
  if (scores.shape.length !== 2 || scores.shape[0] !== nKv || scores.shape[1] !== Tp) throw new RangeError(`scores must be [${nKv}, ${Tp}], got [${scores.shape.join(', ')}]`);
  if (!Number.isSafeInteger(chosen) || chosen < 0) throw new RangeError(`chosen must be a non-negative integer, got ${chosen}`);
  const kv = concat(ctx, [cache.k, cache.v], -1); // [nKv, T, 2hd]
  const parts: ArithShare[] = [];
  if (chosen >= Tp) parts.push(slice(ctx, kv, 0, Tp, 1));
  else if (chosen > 0) {
    const { oneHot } = await topk(ctx, scores, chosen); // [nKv, chosen, Tp]
    const sorted = await sortOneHotRowsBatched(ctx, oneHot);
    parts.push(await matmul(ctx, sorted, slice(ctx, kv, 0, Tp, 1))); // [nKv, chosen, 2hd]
  }
  if (window > 0) parts.push(slice(ctx, kv, Tp, T, 1));
  const kept = parts.length === 1 ? parts[0] : concat(ctx, parts, 1);
  return { ...cache, length: kept.shape[1], k: slice(ctx, kept, 0, hd, 2), v: slice(ctx, kept, hd, 2 * hd, 2) };
}
