/**
 * The secure decoder past 1023 tokens of context: the decode step's softmax row then has
 * >= 1024 entries, where the reciprocal's range (maxLog2 11) once made the deferred softmax ask
 * for more dropped range bits than the reciprocal's band allows (a RangeError on every
 * private generation after a long prompt). A tiny random Llama, a 1100-token prompt: the
 * private tokens and revealed logits against the float reference.
 */
import { describe, expect, it } from 'vitest';
import { makeConfig } from './config.js';
import { NonSecretTestRng, randomWeights } from './random-weights.js';
import { ReferenceModel } from './reference.js';
import { SecureDecoder } from './secure-decoder.js';
import { shareModel } from './secure-weights.js';
import { runTrio } from '../testing/trio.js';

describe('secure decoder after a long prompt', () => {
  it('1100-token prompt, 3 new tokens: equal to the float reference, logits within 0.25', async () => {
    const config = makeConfig({ dim: 16, hiddenDim: 32, nLayers: 1, nHeads: 2, vocabSize: 24, maxSeqLen: 1200 });
    const weights = randomWeights(config, 5);
    const rng = new NonSecretTestRng(17);
    const T = 1100;
    const prompt = Array.from({ length: T }, () => rng.nextU32() % config.vocabSize);
    const ref = new ReferenceModel(weights);
    const want = ref.generate(prompt, 3);
    const out = await runTrio(async (ctx) => {
      const model = await shareModel(ctx, config, ctx.party === 0 ? weights : undefined);
      const dec = new SecureDecoder(ctx, model, { revealLogits: true });
      return dec.generate(ctx.party === 1 ? prompt : undefined, T, 3);
    });
    expect(out[1].tokens).toEqual(want);
    const s = ref.newSession();
    let lg = s.prefill(prompt);
    for (let i = 0; i < 3; i++) {
      let e = 0;
      for (let j = 0; j < lg.length; j++) e = Math.max(e, Math.abs(out[1].logits![i][j] - lg[j]));
      expect(e).toBeLessThan(0.25);
      if (i < 2) lg = s.step(want[i]);
    }
  }, 120_000);
});
