/**
 * Attention over selected blocks PLUS the newest `recent` cache entries (public positions), on
 * shares: the read set of MPCache-R (eviction/plain/mpcache.ts `recent`): blockTokens(level2)
 * union the last r = min(recent, n) rows.
 *
 *   S  = q K^T                  matmulFixed (truncation fused): nHeads n outputs, at f
 *   S' = pad(S) + penalties     local: padded positions AND the last r positions get a public
 *                               PAD_LOGIT (their block copies then weigh exactly 0: exp clips)
 *   Sg = O @ S'                 block gather by one-hot matmul (1 round, no truncation)
 *   P  = softmax([Sg | S_last r])  the recent rows enter once, as their own columns
 *   Pf = O^T @ P_blocks + P_recent placed at the last r positions (1 round + local)
 *   out = Pf V                  matmulFixed
 * So the read set is (selected blocks minus the recent rows) plus the recent rows = the union,
 * each token once. Rounds: 1 + 1 + softmax + 1 + 1 (as selectedAttention). Reveals nothing.
 */
import type { Context } from '../../protocols/context.js';
import { add, addPublic, concat, slice } from '../../protocols/linear.js';
import { matmul, matmulFixed } from '../../protocols/mul.js';
import { softmax } from '../../protocols/softmax.js';
import { publicTensor } from '../../protocols/sharing.js';
import { ArithShare } from '../../protocols/types.js';
import type { BlockSelection } from './clustered-select.js';
import { PAD_LOGIT, fullDecodeAttention, selectionOneHot } from './sparse-attention.js';

/** [rows, n] -> [rows, m] (m >= n) with zeros appended; or [rows, m] placed at columns [off, off + m) of [rows, width]. Local. */
function placeCols(x: ArithShare, width: number, off: number): ArithShare {
  const [rows, m] = x.shape;
  const o0 = new BigUint64Array(rows * width);
  const o1 = new BigUint64Array(rows * width);
  for (let r = 0; r < rows; r++) {
    o0.set(x.s0.subarray(r * m, (r + 1) * m), r * width + off);
    o1.set(x.s1.subarray(r * m, (r + 1) * m), r * width + off);
  }
  return new ArithShare([rows, width], o0, o1, x.scale);
}

/** Attention of q [nHeads, hd] (times 1/sqrt(hd)) over the selection's blocks and the last `recent` rows: [1, nHeads hd]. */
export async function selectedRecentAttention(ctx: Context, q: ArithShare, k: ArithShare, v: ArithShare, sel: BlockSelection, recent: number): Promise<ArithShare> {
  const [nHeads, hd] = q.shape;
  const [nKv, n] = k.shape;
  const { plan } = sel;
  if (plan.n !== n || sel.nHeads !== nHeads) throw new RangeError(`selectedRecentAttention: the selection is for ${plan.n} tokens and ${sel.nHeads} heads, the cache has ${n} and q ${nHeads}`);
  const l2 = plan.level2;
  const r = Math.min(recent, n);
  if (l2.total === l2.G || r >= n) return fullDecodeAttention(ctx, q, k, v);
  const b = plan.block2;
  const G2 = l2.G;
  const G = nHeads / nKv;
  const S = (await matmulFixed(ctx, q.reshape([nKv, G, hd]), k, { transB: true })).reshape([nHeads, n]);
  const pen = new Float64Array(G2 * b);
  pen.fill(PAD_LOGIT, n - r);
  const Sp = addPublic(ctx, placeCols(S, G2 * b, 0), publicTensor(ctx, [G2 * b], pen, S.scale));
  const O = selectionOneHot(ctx, sel); // [nHeads, total2, G2]
  const total = O.shape[1];
  const Sg = (await matmul(ctx, O, Sp.reshape([nHeads, G2, b]))).reshape([nHeads, total * b]);
  const P = await softmax(ctx, concat(ctx, [Sg, slice(ctx, S, n - r, n)], 1));
  const Pf = await matmul(ctx, O, slice(ctx, P, 0, total * b).reshape([nHeads, total, b]), { transA: true }); // [nHeads, G2, b]
  const Pn = add(ctx, slice(ctx, Pf.reshape([nHeads, G2 * b]), 0, n), placeCols(slice(ctx, P, total * b, total * b + r), n, n - r));
  return (await matmulFixed(ctx, Pn.reshape([nKv, G, n]), v)).reshape([1, nHeads * hd]);
}
