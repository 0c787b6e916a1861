/**
 * Decode-step attention on shares: over the whole cache (the 'full' baseline) or over the
 * blocks an MPCache selection chose (attention over the gathered tokens only).
 *
 * Selected attention, for q [nHeads, hd] (already times 1/sqrt(hd), as the decoder passes it),
 * K, V [nKv, n, hd] and the block selection (clustered-select.ts):
 *   S = q K^T               one matmul, kept at scale 2f (no truncation): nHeads * n outputs
 *   S' = pad(S) + penalty   local: the partial last block is padded to whole blocks, padded
 *                           positions get a public -48 (exp of it is clipped to 0)
 *   O = [forced one-hots (public rows); top-k one-hot rows (secret)]  [nHeads, total2, G2]
 *   Sg = O @ S'             block gather by one-hot matmul, fused with the truncation back to f
 *                           (matmulFixed: 1 round, nHeads * total2 * block outputs)
 *   P = softmax(Sg)         over the selected tokens only
 *   Pf = O^T @ P            scatter the probabilities back to their blocks (1 round, nHeads * n
 *                           outputs; unselected positions get exactly 0)
 *   out = Pf V              matmulFixed, nHeads * hd outputs
 * The gather moves SCORES (block x 1 per selected block), not keys and values (block x hd):
 * by the RSS matmul rule (cost per output element) q K^T over all n tokens plus the scatter
 * cost 2 n words per head, while gathering K and V would cost 2 * total2 * block * hd. The
 * result is the same number: softmax over the selected tokens, weighted sum of their values.
 *
 * `gatherSelectedKv` builds the selected keys and values themselves (one-hot @ K|V at block
 * granularity, [nHeads, tokens, hd]) for callers that need them (SecureKvPolicy.selectForStep).
 *
 * What it reveals: nothing (matmul, softmax, truncation; the layout is public: plan).
 */
import type { Context } from '../../protocols/context.js';
import { addPublic, concat, slice } from '../../protocols/linear.js';
import { matmul, matmulFixed } from '../../protocols/mul.js';
import { softmax } from '../../protocols/softmax.js';
import { constant, publicTensor } from '../../protocols/sharing.js';
import { ArithShare } from '../../protocols/types.js';
import type { BlockSelection } from './clustered-select.js';

/** logit added to padded positions (exp clips below -14 after the max is subtracted) */
export const PAD_LOGIT = -48;

function checkQkv(q: ArithShare, k: ArithShare, v: ArithShare): { nHeads: number; nKv: number; n: number; hd: number } {
  if (q.shape.length !== 2) throw new RangeError(`q must be [nHeads, hd], got [${q.shape.join(', ')}]`);
  if (k.shape.length !== 3) throw new RangeError(`k must be [nKv, n, hd], got [${k.shape.join(', ')}]`);
  const [nHeads, hd] = q.shape;
  const [nKv, n, hk] = k.shape;
  if (hk !== hd || nHeads % nKv !== 0) throw new RangeError(`q [${q.shape.join(', ')}] does not fit k [${k.shape.join(', ')}]`);
  if (v.shape.length !== 3 || v.shape[0] !== nKv || v.shape[1] !== n || v.shape[2] !== hd) throw new RangeError(`v must be [${nKv}, ${n}, ${hd}], got [${v.shape.join(', ')}]`);
  return { nHeads, nKv, n, hd };
}

/** Attention of one query per head over the whole cache: [1, nHeads * hd]. Rounds: 1 + softmax + 1. */
export async function fullDecodeAttention(ctx: Context, q: ArithShare, k: ArithShare, v: ArithShare): Promise<ArithShare> {
  const { nHeads, nKv, hd } = checkQkv(q, k, v);
  const G = nHeads / nKv;
  const scores = await matmulFixed(ctx, q.reshape([nKv, G, hd]), k, { transB: true });
  const probs = await softmax(ctx, scores);
  return (await matmulFixed(ctx, probs, v)).reshape([1, nHeads * hd]);
}

/**
 * The selection as one-hot rows over all G2 blocks, [nHeads, total2, G2] (scale 0): first the
 * forced first block, then the top-k rows (placed at columns [lo, hi)), then the forced last
 * block (so that the padding of a partial last block is at the end of the gathered tokens).
 */
export function selectionOneHot(ctx: Context, sel: BlockSelection): ArithShare {
  const { plan, nHeads } = sel;
  const l2 = plan.level2;
  const G2 = l2.G;
  const head = l2.forced.filter((b) => b < l2.lo);
  const tail = l2.forced.filter((b) => b >= l2.hi);
  const pub = (blocks: readonly number[]): ArithShare => {
    const v = new Float64Array(nHeads * blocks.length * G2);
    for (let h = 0; h < nHeads; h++) blocks.forEach((b, i) => (v[(h * blocks.length + i) * G2 + b] = 1));
    return constant(ctx, [nHeads, blocks.length, G2], v, 0);
  };
  const parts: ArithShare[] = [];
  if (head.length > 0) parts.push(pub(head));
  if (sel.oneHot2 !== undefined) {
    const oh = sel.oneHot2;
    const [, r, M] = oh.shape;
    if (M !== l2.hi - l2.lo || oh.shape[0] !== nHeads) throw new RangeError('selectionOneHot: the one-hot does not match the plan');
    const o0 = new BigUint64Array(nHeads * r * G2);
    const o1 = new BigUint64Array(nHeads * r * G2);
    for (let row = 0; row < nHeads * r; row++) {
      o0.set(oh.s0.subarray(row * M, (row + 1) * M), row * G2 + l2.lo);
      o1.set(oh.s1.subarray(row * M, (row + 1) * M), row * G2 + l2.lo);
    }
    parts.push(new ArithShare([nHeads, r, G2], o0, o1, 0));
  } else if (l2.free > 0) {
    // every non-forced block is selected (public)
    parts.push(pub(Array.from({ length: l2.hi - l2.lo }, (_, i) => l2.lo + i)));
  }
  if (tail.length > 0) parts.push(pub(tail));
  return parts.length === 1 ? parts[0] : concat(ctx, parts, 1);
}

/** [rows, n] -> [rows, m] (m >= n) with zeros appended (local). */
function padCols(x: ArithShare, m: number): ArithShare {
  const [rows, n] = x.shape;
  if (m === n) return x;
  const o0 = new BigUint64Array(rows * m);
  const o1 = new BigUint64Array(rows * m);
  for (let r = 0; r < rows; r++) {
    o0.set(x.s0.subarray(r * n, (r + 1) * n), r * m);
    o1.set(x.s1.subarray(r * n, (r + 1) * n), r * m);
  }
  return new ArithShare([rows, m], o0, o1, x.scale);
}

/**
 * Attention over the selected blocks only (see the file comment): [1, nHeads * hd].
 * Falls back to full attention when the plan selects every block.
 * Rounds: 1 + 1 + softmax + 1 + 1.
 */
export async function selectedAttention(ctx: Context, q: ArithShare, k: ArithShare, v: ArithShare, sel: BlockSelection): Promise<ArithShare> {
  const { nHeads, nKv, n, hd } = checkQkv(q, k, v);
  const { plan } = sel;
  if (plan.n !== n || sel.nHeads !== nHeads) throw new RangeError(`selectedAttention: the selection is for ${plan.n} tokens and ${sel.nHeads} heads, the cache has ${n} and q ${nHeads}`);
  const l2 = plan.level2;
  if (l2.total === l2.G) return fullDecodeAttention(ctx, q, k, v);
  const b = plan.block2;
  const G2 = l2.G;
  const G = nHeads / nKv;
  const S = (await matmul(ctx, q.reshape([nKv, G, hd]), k, { transB: true })).reshape([nHeads, n]);
  let Sp = padCols(S, G2 * b);
  if (G2 * b > n) {
    const pen = new Float64Array(G2 * b);
    pen.fill(PAD_LOGIT, n);
    Sp = addPublic(ctx, Sp, publicTensor(ctx, [G2 * b], pen, S.scale));
  }
  const O = selectionOneHot(ctx, sel); // [nHeads, total2, G2]
  const total = O.shape[1];
  const Sg = await matmulFixed(ctx, O, Sp.reshape([nHeads, G2, b])); // [nHeads, total, b] at f
  const P = await softmax(ctx, Sg.reshape([nHeads, total * b]));
  const Pf = await matmul(ctx, O, P.reshape([nHeads, total, b]), { transA: true }); // [nHeads, G2, b]
  const Pn = slice(ctx, Pf.reshape([nHeads, G2 * b]), 0, n).reshape([nKv, G, n]);
  return (await matmulFixed(ctx, Pn, v)).reshape([1, nHeads * hd]);
}

/**
 * The selected keys and values per query head, [nHeads, tokens, hd] each (block gather by one
 * one-hot matmul over K|V; 1 round, 2 * nHeads * total2 * block * hd outputs). The padding of a
 * partial last block is trimmed when that block is forced (its slot is public, the last one);
 * when it is not forced its slot is secret, so this throws (use selectedAttention instead).
 */
export async function gatherSelectedKv(ctx: Context, k: ArithShare, v: ArithShare, sel: BlockSelection): Promise<{ k: ArithShare; v: ArithShare }> {
  const [nKv, n, hd] = k.shape;
  const { plan, nHeads } = sel;
  const l2 = plan.level2;
  const b = plan.block2;
  const G2 = l2.G;
  const pad = G2 * b - n;
  const lastForced = l2.forced.includes(G2 - 1);
  if (pad > 0 && !lastForced) throw new RangeError('gatherSelectedKv: the partial last block is not forced in, its padding cannot be trimmed; use selectedAttention');
  if (plan.n !== n) throw new RangeError(`gatherSelectedKv: the selection is for ${plan.n} tokens, the cache has ${n}`);
  const G = nHeads / nKv;
  const kv = concat(ctx, [k, v], -1); // [nKv, n, 2hd]
  const w = b * 2 * hd;
  // per query head, padded to whole blocks: [nHeads, G2, b * 2hd]
  const o0 = new BigUint64Array(nHeads * G2 * w);
  const o1 = new BigUint64Array(nHeads * G2 * w);
  for (let h = 0; h < nHeads; h++) {
    const src = Math.floor(h / G) * n * 2 * hd;
    o0.set(kv.s0.subarray(src, src + n * 2 * hd), h * G2 * w);
    o1.set(kv.s1.subarray(src, src + n * 2 * hd), h * G2 * w);
  }
  const blocks = new ArithShare([nHeads, G2, w], o0, o1, k.scale);
  const O = selectionOneHot(ctx, sel);
  const total = O.shape[1];
  const g = (await matmul(ctx, O, blocks)).reshape([nHeads, total * b, 2 * hd]); // scale 0 + f
  const tokens = total * b - pad;
  const t = pad > 0 ? slice(ctx, g, 0, tokens, 1) : g;
  return { k: slice(ctx, t, 0, hd, 2), v: slice(ctx, t, hd, 2 * hd, 2) };
}
