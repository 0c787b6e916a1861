/**
 * The secure MPCache inside the secure decoder (stories260K, in-memory channel): greedy tokens
 * equal the float reference model running MPCache's plaintext twin with the same parameters
 * (eviction/secure/registry.ts createPlainTwin), and the decoder reaches the policy through
 * afterPrefill (static eviction), onAppend and attend.
 */
import { describe, expect, it } from 'vitest';
import { ReferenceModel } from '../../models/reference.js';
import { SecureDecoder } from '../../models/secure-decoder.js';
import { shareModel } from '../../models/secure-weights.js';
import { loadStories260k, stories260kPresent } from '../../models/test-support.js';
import { runTrio } from '../../testing/trio.js';
import { createPlainTwin } from './registry.js';
import { secureMpCachePolicy } from './mpcache.js';

const have = stories260kPresent();
const PROMPT =
  'Once upon a time, there was a little girl named Lily. She loved to play outside in the park with her friends. One day, she saw a big red ball under a tree and';

describe.runIf(have)('secure MPCache v1 in the secure decoder (stories260K)', () => {
  it('greedy tokens equal the reference with the plain MPCache twin; the cache keeps 30% of the prompt', async () => {
    const { weights, tokenizer } = await loadStories260k();
    const prompt = tokenizer.encode(PROMPT, { bos: true });
    const n = 5;
    const want = new ReferenceModel(weights).generate(prompt, n, createPlainTwin('mpcache-v1', weights.config));
    const out = await runTrio(async (ctx) => {
      const model = await shareModel(ctx, weights.config, ctx.party === 0 ? weights : undefined);
      const policy = secureMpCachePolicy(weights.config);
      const calls = { attend: 0 };
      const attend = policy.attend.bind(policy);
      const counted = { ...policy, attend: async (...a: Parameters<typeof attend>) => (calls.attend++, attend(...a)) };
      const dec = new SecureDecoder(ctx, model, { policy: counted });
      const r = await dec.generate(ctx.party === 1 ? prompt : undefined, prompt.length, n);
      return { tokens: r.tokens, kept: [...policy.keptAtPrefill.values()], lengths: dec.caches.map((c) => c.length), calls: calls.attend };
    });
    expect(out[1].tokens).toEqual(want);
    const T = prompt.length;
    const kept = Math.floor(0.3 * T);
    expect(out[0].kept).toEqual(Array(weights.config.nLayers).fill(kept));
    expect(out[0].lengths).toEqual(Array(weights.config.nLayers).fill(kept + n - 1));
    expect(out[0].calls).toBe((n - 1) * weights.config.nLayers);
  });
});
