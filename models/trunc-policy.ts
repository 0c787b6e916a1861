/**
 * The truncation mode of the secure model (one place): every truncation of a secure prefill
 * or decode runs FAITHFUL (protocols/trunc-faithful.ts: floor or floor + 1 whenever the value
 * truncated is below 2^62 in magnitude, never garbage; 2 rounds). SecureDecoder installs it on
 * its context (ctx.state.trunc.mode) unless its options say otherwise (truncMode: 'prob' is
 * kept for measuring the old cost; it is not safe for long prompts).
 *
 * Why no site stays probabilistic. The target (issue 13) is <= 1e-6 expected truncation
 * failures for a whole run (default model: 2048-token prefill + 256 decode tokens; GPT-2-small
 * dimensions: 512 + 64). A probabilistic truncation of a value v fails with probability
 * |v| / 2^64; a product of two values ~1 at scale 2f = 36 is v ~ 2^36, i.e. 2^-28 = 3.7e-9 per
 * element. A decode token of the default model truncates ~10^4-10^5 elements (scores, exp,
 * reciprocal, FFN, norms), so even one token at magnitude ~1 exceeds the whole run's budget;
 * and a single rsqrt element (v ~ 2^45) is 2^-19 on its own. Only sites with values below
 * ~2^14 ring units (useless at f = 18) could stay probabilistic. Measured per site with the
 * recorder (protocols/trunc-record.ts) in bench/correctness.ts.
 *
 * Per-site bounds under this policy (each value truncated must be < 2^62 in magnitude; the
 * recorder checks it on real runs, `faithfulOutOfRange`):
 *   projections / FFN / attention matmuls (matmulFixed, scale 2f): |value| < 2^26
 *   (attention logits, FFN pre-activations of trained models are < 2^10);
 *   RMSNorm squares (scale 2(f - NORM_DROP_BITS)): |x| < 2^28; RoPE (scale 2f): |x| < 2^26;
 *   exp / reciprocal / rsqrt internals: bounded by their own headers (all < 2^53).
 */
import type { Context, TruncMode } from '../protocols/context.js';

/** the secure model's truncation mode */
export const MODEL_TRUNC_MODE: TruncMode = 'faithful';

/** Install the model's truncation mode on ctx (and every context derived from it). */
export function applyTruncPolicy(ctx: Context, mode: TruncMode = MODEL_TRUNC_MODE): void {
  if (mode !== 'faithful' && mode !== 'prob') throw new RangeError(`truncMode must be 'faithful' or 'prob', got ${String(mode)}`);
  ctx.state.trunc.mode = mode;
}
