/**
 * Every secure policy of the registry inside the secure decoder (stories260K, in-memory
 * channel, a ~400-token prompt): greedy tokens equal the float reference model running the
 * policy's plaintext twin with the same budget (registry.ts createPlainTwin), and the cache
 * lengths are the twin's budgets.
 */
import { describe, expect, it } from 'vitest';
import { ReferenceModel } from '../../models/reference.js';
import { SecureDecoder } from '../../models/secure-decoder.js';
import { shareModel } from '../../models/secure-weights.js';
import { loadStories260k, stories260kPresent } from '../../models/test-support.js';
import { runTrio } from '../../testing/trio.js';
import type { Budget } from '../policy.js';
import { resolveBudget } from '../policy.js';
import { mpcacheRDefaults, mpcacheRSplit } from './mpcache-r.js';
import { createPlainTwin, createSecurePolicy } from './registry.js';

const have = stories260kPresent();
const STORY = [
  'Once upon a time, there was a little girl named Lily. She loved to play outside in the park with her friends.',
  'One day, she saw a big red ball under a tree. She ran to the ball and picked it up. It was soft and shiny.',
  'Her friend Tom came and said, "Can I play with the ball too?" Lily smiled and said yes. They threw the ball high.',
  'The sun was warm and the birds sang in the trees. Lily and Tom laughed and ran on the green grass all day long.',
  'Then a small dog came to them. The dog wanted the ball. Lily gave the dog the ball and the dog was very happy.',
  'When it was time to go home, Lily said goodbye to Tom and the dog. She went home and told her mom about the day.',
  'Her mom gave her a big hug and a cookie. Lily ate the cookie and went to bed. She dreamed of the red ball and',
].join(' ');

async function compare(name: string, budget: Budget, n: number): Promise<{ T: number; lengths: number[]; tokens: number[] }> {
  const { weights, tokenizer } = await loadStories260k();
  const prompt = tokenizer.encode(STORY + ' ' + STORY, { bos: true }).slice(0, 400);
  const want = new ReferenceModel(weights).generate(prompt, n, createPlainTwin(name, weights.config, { budget }));
  const out = await runTrio(async (ctx) => {
    const model = await shareModel(ctx, weights.config, ctx.party === 0 ? weights : undefined);
    const dec = new SecureDecoder(ctx, model, { policy: createSecurePolicy(name, weights.config, { budget }) });
    const r = await dec.generate(ctx.party === 1 ? prompt : undefined, prompt.length, n);
    return { tokens: r.tokens, lengths: dec.caches.map((c) => c.length) };
  }, { recvTimeoutMs: 120_000 });
  expect(out[1].tokens, name).toEqual(want);
  return { T: prompt.length, lengths: out[0].lengths, tokens: want };
}

describe.runIf(have)('secure policies in the secure decoder equal their plaintext twins (stories260K, 400-token prompt)', () => {
  const n = 4;
  it('streaming-llm 10%: the cache is trimmed back to B after every step', async () => {
    const r = await compare('streaming-llm', { ratio: 0.1 }, n);
    expect(r.lengths).toEqual(Array(r.lengths.length).fill(resolveBudget({ ratio: 0.1 }, r.T)));
  }, 600_000);
  it('snapkv 15%: B prompt tokens kept, generated ones appended', async () => {
    const r = await compare('snapkv', { ratio: 0.15 }, n);
    expect(r.lengths).toEqual(Array(r.lengths.length).fill(resolveBudget({ ratio: 0.15 }, r.T) + n - 1));
  }, 600_000);
  it('tova 15%: one entry evicted per step', async () => {
    const r = await compare('tova', { ratio: 0.15 }, n);
    expect(r.lengths).toEqual(Array(r.lengths.length).fill(resolveBudget({ ratio: 0.15 }, r.T)));
  }, 600_000);
  it('quest 25%: nothing evicted', async () => {
    const r = await compare('quest', { ratio: 0.25 }, n);
    expect(r.lengths).toEqual(Array(r.lengths.length).fill(r.T + n - 1));
  }, 600_000);
  it('mpcache (MPCache-R) 17%: Bs = floor(B / ratio2) kept at prefill, free blocks chosen', async () => {
    const r = await compare('mpcache', { ratio: 0.17 }, n);
    const B = resolveBudget({ ratio: 0.17 }, r.T);
    expect(r.lengths).toEqual(Array(r.lengths.length).fill(mpcacheRSplit(B, r.T, mpcacheRDefaults().ratio2, mpcacheRDefaults().recent).Bs + n - 1));
  }, 600_000);
});
