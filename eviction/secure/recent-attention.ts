/**
 * Attention over selected blocks PLUS the newest `recent` cache entries (public positions), on
 * shares: the read set of MPCache-R (eviction/plain/mpcache.ts `recent`): blockTokens(level2)
 * union the last r = min(recent, n) rows.
 *
 *   S  = q K^T                  matmul at scale 2f (no truncation): nHeads n outputs
 *   S' = [pad(S) | last r rows, padded] + penalties   local: one VIRTUAL block (G2 + 1) holds
 *                               the last r <= block rows; padded positions AND the last r
 *                               positions inside the real blocks get a public PAD_LOGIT (their
 *                               block copies then weigh exactly 0: exp clips)
 *   O  = [selection one-hot rows | public row of the virtual block]
 *   Sg = O @ S'                 block gather, fused with the truncation back to f (1 round,
 *                               nHeads (total2 + 1) block outputs)
 *   P  = softmax(Sg)            the recent rows enter once, in the virtual block
 *   Pf = O^T @ P                scatter (1 round); the virtual block's row is added at the last r
 *                               positions (local)
 *   out = Pf V                  matmulFixed
 * So the read set is (selected blocks minus the recent rows) plus the recent rows = the union,
 * each token once. Rounds: 1 + 1 + softmax + 1 + 1 (as selectedAttention). Reveals nothing.
 */
import type { Context } from '../../protocols/context.js';
import { add, addPublic, concat, slice } from '../../protocols/linear.js';
import { matmul, matmulFixed } from '../../protocols/mul.js';
import { softmax } from '../../protocols/softmax.js';
import { constant, publicTensor } from '../../protocols/sharing.js';
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
  const b = plan.block2;
  const r = Math.min(recent, n, b);
  if (l2.total === l2.G || r >= n) return fullDecodeAttention(ctx, q, k, v);
  const G2 = l2.G;
  const G = nHeads / nKv;
  // scores at scale 2f (no truncation yet): the truncation is fused into the gather below
  const S = (await matmul(ctx, q.reshape([nKv, G, hd]), k, { transB: true })).reshape([nHeads, n]);
  // [blocks (padded, recent rows penalised) | one virtual block: the last r rows, padded]
  const W = (G2 + 1) * b;
  const pen = new Float64Array(W);
  pen.fill(PAD_LOGIT, n - r, G2 * b);
  pen.fill(PAD_LOGIT, G2 * b + r, W);
  const Sp = addPublic(ctx, add(ctx, placeCols(S, W, 0), placeCols(slice(ctx, S, n - r, n), W, G2 * b)), publicTensor(ctx, [W], pen, S.scale));
  const O0 = selectionOneHot(ctx, sel); // [nHeads, total2, G2]
  const total = O0.shape[1] + 1;
  const vb = new Float64Array(nHeads * (G2 + 1));
  for (let h = 0; h < nHeads; h++) vb[h * (G2 + 1) + G2] = 1;
  const O = concat(ctx, [placeCols(O0.reshape([nHeads * (total - 1), G2]), G2 + 1, 0).reshape([nHeads, total - 1, G2 + 1]), constant(ctx, [nHeads, 1, G2 + 1], vb, 0)], 1);
  const Sg = await matmulFixed(ctx, O, Sp.reshape([nHeads, G2 + 1, b])); // [nHeads, total, b] at f
  const P = await softmax(ctx, Sg.reshape([nHeads, total * b]));
  const Pf = (await matmul(ctx, O, P.reshape([nHeads, total, b]), { transA: true })).reshape([nHeads, W]); // scattered back
  const Pn = add(ctx, slice(ctx, Pf, 0, n), placeCols(slice(ctx, Pf, G2 * b, G2 * b + r), n, n - r));
  return (await matmulFixed(ctx, Pn.reshape([nKv, G, n]), v)).reshape([1, nHeads * hd]);
}
