/**
 * Offline choice of DuoAttention/RazorAttention retrieval heads on synthetic data.
 * Procedure: for each calibration passkey prompt (lengths x depths, from a seed that the
 * evaluation does not use), run the full-cache prefill and read, in every layer, the
 * attention that the LAST prompt query (the one that must produce the key) gives to the
 * key's tokens (its first occurrence), summed over those tokens and averaged over the query
 * heads of each KV head. A head's score is the mean over prompts; the best-scoring heads
 * are the retrieval heads (how many depends on the budget, see duo-attention.ts).
 */
import type { PrefillContext } from '../../models/attention-hooks.js';
import type { ReferenceModel } from '../../models/reference.js';
import type { Tokenizer } from '../../models/tokenizer.js';
import { headsOf } from '../plain/scores.js';
import { passkeyPrompt } from './tasks.js';

export interface DuoCalibrationOptions {
  readonly lengths: readonly number[];
  readonly depths: readonly number[];
  readonly seed: number;
}

/** headScores[layer][kvHead] */
export function calibrateRetrievalHeads(model: ReferenceModel, tok: Tokenizer, o: DuoCalibrationOptions): number[][] {
  const c = model.config;
  const scores = Array.from({ length: c.nLayers }, () => new Array<number>(c.nKvHeads).fill(0));
  let n = 0;
  for (const length of o.lengths) {
    for (const depth of o.depths) {
      const p = passkeyPrompt(tok, length, depth, o.seed + 7919 * n);
      const [a, b] = p.keySpan;
      const T = p.tokens.length;
      const hooks = {
        onPrefill(ctx: PrefillContext) {
          for (let kv = 0; kv < c.nKvHeads; kv++) {
            const heads = headsOf(c.nHeads, c.nKvHeads, kv);
            let m = 0;
            for (const h of heads) for (let j = a; j < b; j++) m += ctx.probs[h][(T - 1) * T + j];
            scores[ctx.layer][kv] += m / heads.length;
          }
        },
      };
      model.newSession({ hooks }).prefill(p.tokens);
      n++;
    }
  }
  return scores.map((row) => row.map((v) => v / n));
}
