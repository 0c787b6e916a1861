/**
 * RazorAttention's training-free, data-free retrieval-head scores for RoPE models (Tang et al.
 * 2024, section 3): a sequence of `length` random tokens repeated `repeats` times (after BOS)
 * is prefilled with the full cache; for every query t in the 2nd and later repetitions, with
 * previous occurrences of its token at t - n, t - 2n, ... (n = length):
 * - echo score: attention from t to the previous occurrences themselves;
 * - induction score: attention from t to the tokens right after them (t - n + 1, ...).
 * A KV head's scores are the mean over those queries and over its query heads ('group-mean'),
 * averaged over `sequences` seeded sequences. Random ids are drawn from [3, vocabSize) so no
 * special token (unk / BOS / EOS of the llama2.c and HF vocabularies used here) appears.
 */
import type { PrefillContext } from '../../models/attention-hooks.js';
import type { ReferenceModel } from '../../models/reference.js';
import type { Tokenizer } from '../../models/tokenizer.js';
import type { RazorHeadScores } from '../plain/razor-attention.js';
import { headsOf } from '../plain/scores.js';
import { SeededRng } from '../plain/seeded-rng.js';

export interface RazorCalibrationOptions {
  /** random tokens per repetition (default 64) */
  readonly length?: number;
  /** repetitions (default 4) */
  readonly repeats?: number;
  /** sequences averaged (default 2) */
  readonly sequences?: number;
  readonly seed: number;
}

export function calibrateRazorHeads(model: ReferenceModel, tok: Pick<Tokenizer, 'bos'>, o: RazorCalibrationOptions): RazorHeadScores {
  const c = model.config;
  const n = o.length ?? 64;
  const R = o.repeats ?? 4;
  const S = o.sequences ?? 2;
  if (!Number.isSafeInteger(n) || n < 2 || !Number.isSafeInteger(R) || R < 2 || !Number.isSafeInteger(S) || S < 1) throw new RangeError('length >= 2, repeats >= 2 and sequences >= 1 must be integers');
  if (1 + n * R > c.maxSeqLen) throw new RangeError(`1 + length * repeats = ${1 + n * R} exceeds the model context ${c.maxSeqLen}`);
  if (c.vocabSize <= 4) throw new RangeError('vocabulary too small for random calibration tokens');
  const echo = Array.from({ length: c.nLayers }, () => new Array<number>(c.nKvHeads).fill(0));
  const induction = Array.from({ length: c.nLayers }, () => new Array<number>(c.nKvHeads).fill(0));
  for (let sq = 0; sq < S; sq++) {
    const rng = new SeededRng(o.seed + 104729 * sq);
    const base = Array.from({ length: n }, () => 3 + Math.floor(rng.next() * (c.vocabSize - 3)));
    const tokens = [tok.bos];
    for (let r = 0; r < R; r++) tokens.push(...base);
    const T = tokens.length;
    const hooks = {
      onPrefill(ctx: PrefillContext) {
        for (let kv = 0; kv < c.nKvHeads; kv++) {
          const heads = headsOf(c.nHeads, c.nKvHeads, kv);
          let e = 0;
          let ind = 0;
          let count = 0;
          for (let t = 1 + n; t < T; t++) {
            count++;
            for (const h of heads) {
              const row = ctx.probs[h].subarray(t * T, t * T + T);
              for (let p = t - n; p >= 1; p -= n) {
                e += row[p];
                ind += row[p + 1];
              }
            }
          }
          echo[ctx.layer][kv] += e / (heads.length * count * S);
          induction[ctx.layer][kv] += ind / (heads.length * count * S);
        }
      },
    };
    model.newSession({ hooks }).prefill(tokens);
  }
  return { echo, induction };
}
