/**
 * One-hot encoding of a shared index, and gather by one-hot (MPCache: index -> one-hot ->
 * one-hot @ K / V).
 *
 * oneHot(index, n): out[..., j] = [index == j] for j = 0..n-1: ONE batched eq over
 *   (#indices * n) elements (compare.ts eq: its header gives the rounds and bytes).
 *   An index outside [0, n) gives an all-zero row.
 * gather(table, oneHot) = oneHot @ table: ONE matmul (1 round, 8 bytes per output element
 *   per party, independent of n). Scale of the result = table's scale.
 *
 * Reveals nothing: eq and matmul reveal nothing (compare.ts, mul.ts); only the public n and
 * shapes shape the program.
 */
import type { Context } from './context.js';
import { eq } from './compare.js';
import { matmul } from './mul.js';
import { publicComponents } from './sharing.js';
import { ArithShare } from './types.js';

/** [..., n] 0/1 (scale 0): out[..., j] = [index == j]. index: integers (scale 0), any shape. */
export async function oneHot(ctx: Context, index: ArithShare, n: number): Promise<ArithShare> {
  if (!(index instanceof ArithShare)) throw new TypeError('oneHot: index must be an ArithShare');
  if (index.scale !== 0) throw new RangeError(`oneHot: index must be an integer share (scale 0), got scale ${index.scale}`);
  if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`oneHot: n must be a positive integer, got ${n}`);
  const m = index.size;
  const shape = [...index.shape, n];
  const r0 = new BigUint64Array(m * n);
  const r1 = new BigUint64Array(m * n);
  const js = new BigUint64Array(m * n);
  for (let i = 0; i < m; i++) {
    r0.fill(index.s0[i], i * n, (i + 1) * n);
    r1.fill(index.s1[i], i * n, (i + 1) * n);
    for (let j = 0; j < n; j++) js[i * n + j] = BigInt(j);
  }
  const [c0, c1] = publicComponents(ctx, js);
  return eq(ctx, new ArithShare(shape, r0, r1, 0), new ArithShare(shape, c0, c1, 0));
}

/** oneHot @ table: [..., m, n] x [n, d] -> [..., m, d], scale = table.scale. 1 round. */
export async function gather(ctx: Context, table: ArithShare, hot: ArithShare): Promise<ArithShare> {
  if (!(table instanceof ArithShare)) throw new TypeError('gather: table must be an ArithShare');
  if (!(hot instanceof ArithShare)) throw new TypeError('gather: oneHot must be an ArithShare');
  if (hot.scale !== 0) throw new RangeError(`gather: oneHot must be 0/1 integers (scale 0), got scale ${hot.scale}`);
  if (table.shape.length !== 2) throw new RangeError('gather: table must have shape [n, d]');
  if (hot.shape.length < 2) throw new RangeError('gather: oneHot must have shape [..., m, n]');
  if (hot.shape[hot.shape.length - 1] !== table.shape[0]) {
    throw new RangeError(`gather: oneHot has ${hot.shape[hot.shape.length - 1]} columns, the table ${table.shape[0]} rows`);
  }
  return matmul(ctx, hot, table);
}
