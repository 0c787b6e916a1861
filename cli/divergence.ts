/**
 * Explaining where a private generation parts from its plaintext reference, in words (the
 * demo): which token (counted from 1), the two candidates there with their PLAINTEXT logits
 * (the float model run along the private tokens, so both runs had the same prefix), and the
 * secure logit error measured at that token when the secure logits were revealed
 * (`--reveal-logits`). A near-tie is a gap the secure error can flip: the two logits can move
 * by up to e each, so the order can change when gap <= 2e. Without revealed logits the error
 * is not measured in the run, and the gap is compared with NEAR_TIE_GAP instead.
 */
import type { KvPolicy } from '../eviction/policy.js';
import { ReferenceModel } from '../models/reference.js';
import type { Tokenizer } from '../models/tokenizer.js';
import type { ModelWeights } from '../models/weights.js';

/** a plaintext gap under this counts as a near-tie when the secure error was not measured (the fixed-point logit error of the secure decoder on the default model reaches ~0.2) */
export const NEAR_TIE_GAP = 0.25;

export interface Divergence {
  /** 1-based index of the first differing token */
  readonly token: number;
  readonly reference: { readonly id: number; readonly logit: number };
  readonly private: { readonly id: number; readonly logit: number };
  /** reference logit minus private pick's logit (>= 0 for a greedy reference) */
  readonly gap: number;
  /** max |secure - plaintext| logit at that token (with revealed logits) */
  readonly secureError?: number;
  readonly nearTie: boolean;
}

/**
 * The first divergence of `got` from `want` (undefined when equal as far as both go).
 * `twin`: a fresh plaintext twin of the policy (undefined: full attention); `revealed`: the
 * secure logits P1 saw at each step, when revealed.
 */
export function findDivergence(weights: ModelWeights, prompt: readonly number[], want: readonly number[], got: readonly number[], twin: KvPolicy | undefined, revealed?: readonly ArrayLike<number>[]): Divergence | undefined {
  const i = want.findIndex((t, j) => got[j] !== t);
  if (i < 0 || i >= got.length) return undefined;
  const s = new ReferenceModel(weights).newSession(twin ?? {});
  let logits: Float32Array = s.prefill(prompt);
  for (let j = 0; j < i; j++) logits = s.step(got[j]);
  const gap = logits[want[i]] - logits[got[i]];
  let secureError: number | undefined;
  const r = revealed?.[i];
  if (r !== undefined && r.length === logits.length) {
    secureError = 0;
    for (let v = 0; v < logits.length; v++) secureError = Math.max(secureError, Math.abs(r[v] - logits[v]));
  }
  const nearTie = secureError !== undefined ? Math.abs(gap) <= 2 * secureError : Math.abs(gap) < NEAR_TIE_GAP;
  return { token: i + 1, reference: { id: want[i], logit: logits[want[i]] }, private: { id: got[i], logit: logits[got[i]] }, gap, ...(secureError !== undefined ? { secureError } : {}), nearTie };
}

/** The divergence in words (two or three lines). */
export function describeDivergence(d: Divergence, tok: Tokenizer, policy: string): string[] {
  const piece = (id: number) => JSON.stringify(tok.decode([id]));
  const lines = [
    `demo: the private tokens part from the plaintext reference at token ${d.token}: the reference picks ${piece(d.reference.id)} (plaintext logit ${d.reference.logit.toFixed(3)}), ` +
      `the private run picked ${piece(d.private.id)} (plaintext logit ${d.private.logit.toFixed(3)}), ${Math.abs(d.gap).toFixed(3)} apart`,
  ];
  if (d.secureError !== undefined) {
    lines.push(
      `demo: measured secure logit error at that token: up to ${d.secureError.toFixed(3)} (max over the vocabulary of |secure - plaintext|); ` +
        (d.nearTie ? `the gap is within twice that: a NEAR-TIE that fixed-point arithmetic can flip, not a fault` : `the gap is larger than twice that: NOT a near-tie (worth a bug report)`),
    );
  } else {
    lines.push(
      `demo: the secure logits stay secret (secure argmax), so their error was not measured in this run (--reveal-logits measures it); ` +
        (d.nearTie ? `a gap under ${NEAR_TIE_GAP} is a NEAR-TIE for fixed-point logits` : `a gap of ${NEAR_TIE_GAP} or more is NOT a near-tie for fixed-point logits`),
    );
  }
  if (policy !== 'full') {
    lines.push(
      'demo: note: the policy also ranks cached tokens by fixed-point scores; where two scores are closer than the fixed-point error, the secure and float rankings can keep different tokens (eviction/secure/static-eviction.ts)',
    );
  }
  return lines;
}
