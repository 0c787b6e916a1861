/**
 * Secure decoder on stories260K over the in-memory channel (three parties in one process):
 * greedy tokens equal the float reference, logits close to float, the policy hooks' calls
 * and a selecting policy against the reference with the same selection, argument errors.
 */
import { describe, expect, it } from 'vitest';
import type { PlainKvHooks } from './attention-hooks.js';
import { makeConfig } from './config.js';
import { randomWeights } from './random-weights.js';
import { ReferenceModel } from './reference.js';
import { SecureDecoder } from './secure-decoder.js';
import type { SecureKvPolicy, SecureLayerCache } from './secure-hooks.js';
import { shareModel } from './secure-weights.js';
import { loadStories260k, stories260kPresent } from './test-support.js';
import { slice } from '../protocols/linear.js';
import { revealFloat } from '../protocols/sharing.js';
import { runTrio } from '../testing/trio.js';

const have = stories260kPresent();
const PROMPT = 'Once upon a time';

/** Largest |secure - float| over the revealed logits of each step (teacher-forced on the reference tokens). */
function maxLogitError(ref: ReferenceModel, prompt: number[], tokens: number[], secure: Float64Array[]): number[] {
  const s = ref.newSession();
  let lg = s.prefill(prompt);
  const errs: number[] = [];
  for (let i = 0; i < secure.length; i++) {
    let e = 0;
    for (let j = 0; j < lg.length; j++) e = Math.max(e, Math.abs(secure[i][j] - lg[j]));
    errs.push(e);
    if (i + 1 < secure.length) lg = s.step(tokens[i]);
  }
  return errs;
}

describe.runIf(have)('secure decoder on stories260K', () => {
  it('greedy decoding of 20 tokens equals the plaintext reference (in-memory channel)', async () => {
    const { weights, tokenizer } = await loadStories260k();
    const prompt = tokenizer.encode(PROMPT, { bos: true });
    const want = new ReferenceModel(weights).generate(prompt, 20);
    const t0 = performance.now();
    const out = await runTrio(async (ctx) => {
      const model = await shareModel(ctx, weights.config, ctx.party === 0 ? weights : undefined);
      const dec = new SecureDecoder(ctx, model);
      const r = await dec.generate(ctx.party === 1 ? prompt : undefined, prompt.length, 20);
      return { r, rounds: ctx.ch.stats.rounds, bytes: ctx.ch.stats.bytesSent };
    });
    const ms = performance.now() - t0;
    console.log(
      `secure stories260K, 20 tokens: ${ms.toFixed(0)} ms in all (prefill ${out[1].r.prefillMs.toFixed(0)} ms, ` +
        `decode ${(out[1].r.stepMs.reduce((a, b) => a + b, 0) / out[1].r.stepMs.length).toFixed(1)} ms/token), ` +
        `${out[0].rounds} rounds, bytes sent ${out.map((o) => o.bytes).join('/')}: "${tokenizer.decode([...prompt, ...out[1].r.tokens!])}"`,
    );
    expect(out[1].r.tokens).toEqual(want);
    // only the user learns the tokens
    expect(out[0].r.tokens).toBeUndefined();
    expect(out[2].r.tokens).toBeUndefined();
    expect(out[1].r.stepMs).toHaveLength(19);
  });

  it('revealLogits: the logits revealed to the user are within 0.25 of float (stated error; measured ~0.1, mostly SiLU\'s 4e-3 approximation) and the user picks the same tokens', async () => {
    const { weights, tokenizer } = await loadStories260k();
    const ref = new ReferenceModel(weights);
    const prompt = tokenizer.encode(PROMPT, { bos: true });
    const n = 6;
    const want = ref.generate(prompt, n);
    const out = await runTrio(async (ctx) => {
      const model = await shareModel(ctx, weights.config, ctx.party === 0 ? weights : undefined);
      const dec = new SecureDecoder(ctx, model, { revealLogits: true });
      return dec.generate(ctx.party === 1 ? prompt : undefined, prompt.length, n);
    });
    expect(out[0].logits).toBeUndefined();
    expect(out[2].logits).toBeUndefined();
    expect(out[1].tokens).toEqual(want);
    const errs = maxLogitError(ref, prompt, want, out[1].logits!);
    console.log(`secure vs float logits, max abs error per step (logits span about [-20, 22]): ${errs.map((e) => e.toExponential(2)).join(', ')}`);
    for (const e of errs) expect(e).toBeLessThan(0.25);
  });

  it('calls the policy hooks per layer in order, and a selecting policy matches the reference with the same selection', async () => {
    const { weights, tokenizer } = await loadStories260k();
    const c = weights.config;
    const prompt = tokenizer.encode(PROMPT, { bos: true });
    const n = 4;
    const recent = 3;
    // plaintext twin: every query head attends to the last `recent` cache entries
    const hooks: PlainKvHooks = {
      selectForStep: (sc) => Array.from({ length: c.nHeads }, (_, h) => {
        const len = sc.cache.length(Math.floor(h / (c.nHeads / c.nKvHeads)));
        return Int32Array.from({ length: recent }, (_, j) => len - recent + j);
      }),
    };
    const want = new ReferenceModel(weights).generate(prompt, n, hooks);
    const out = await runTrio(async (ctx) => {
      const calls: string[] = [];
      const policy: SecureKvPolicy = {
        name: 'recent-test',
        leaks: '',
        afterPrefill: async (_ctx, cache, queries) => {
          calls.push(`prefill:${cache.layer}:${cache.length}:${queries.shape.join('x')}`);
          return cache;
        },
        onAppend: async (_ctx, cache, k, v, step) => {
          calls.push(`append:${cache.layer}:${step}:${cache.length}:${k.shape.join('x')}:${v.shape.join('x')}`);
        },
        selectForStep: async (ctx2, cache: SecureLayerCache, query, step) => {
          calls.push(`select:${cache.layer}:${step}:${query.shape.join('x')}`);
          return {
            k: slice(ctx2, cache.k, cache.length - recent, cache.length, 1),
            v: slice(ctx2, cache.v, cache.length - recent, cache.length, 1),
            perQueryHead: false,
          };
        },
      };
      const model = await shareModel(ctx, c, ctx.party === 0 ? weights : undefined);
      const dec = new SecureDecoder(ctx, model, { policy });
      const r = await dec.generate(ctx.party === 1 ? prompt : undefined, prompt.length, n);
      return { r, calls, lengths: dec.caches.map((lc) => lc.length) };
    });
    expect(out[1].r.tokens).toEqual(want);
    const T = prompt.length;
    const expected: string[] = [];
    for (let l = 0; l < c.nLayers; l++) expected.push(`prefill:${l}:${T}:${c.nHeads}x${T}x${c.headDim}`);
    for (let s = 0; s < n - 1; s++) {
      for (let l = 0; l < c.nLayers; l++) {
        expected.push(`append:${l}:${s}:${T + s + 1}:${c.nKvHeads}x1x${c.headDim}:${c.nKvHeads}x1x${c.headDim}`, `select:${l}:${s}:${c.nHeads}x${c.headDim}`);
      }
    }
    for (const o of out) expect(o.calls).toEqual(expected);
    expect(out[0].lengths).toEqual(new Array(c.nLayers).fill(T + n - 1));
  });
});

describe('secure decoder arguments', () => {
  const config = makeConfig({ dim: 8, hiddenDim: 12, nLayers: 1, nHeads: 2, nKvHeads: 1, vocabSize: 16, maxSeqLen: 8, tiedEmbeddings: true });
  const weights = randomWeights(config, 5);

  it('shareModel: the owner must pass weights, the others must not, and the configs must agree', async () => {
    await expect(runTrio(async (ctx) => shareModel(ctx, config, undefined))).rejects.toThrow(/owner \(party 0\) must pass/);
    await expect(runTrio(async (ctx) => shareModel(ctx, config, weights))).rejects.toThrow(/only the owner/);
    const other = makeConfig({ ...config, maxSeqLen: 9 });
    await expect(runTrio(async (ctx) => shareModel(ctx, other, ctx.party === 0 ? weights : undefined))).rejects.toThrow(/differs from the public config/);
    await expect(runTrio(async (ctx) => shareModel(ctx, config, ctx.party === 0 ? weights : undefined, { maxRoundWords: 0 }))).rejects.toThrow(RangeError);
  });

  it('shareModel groups tensors into rounds of at most maxRoundWords words', async () => {
    const [r] = await runTrio(async (ctx) => {
      await shareModel(ctx, config, ctx.party === 0 ? weights : undefined, { maxRoundWords: 200 });
      return ctx.ch.stats.rounds;
    });
    // tensors: embedding 128, finalNorm 8, wqkv 128, wo 64, w13 192, w2 96 words -> groups of <= 200
    expect(r).toBe(4);
  });

  it('rejects bad options, bad prompts and calls out of order', async () => {
    await expect(
      runTrio(async (ctx) => {
        const model = await shareModel(ctx, config, ctx.party === 0 ? weights : undefined);
        expect(() => new SecureDecoder(ctx, {} as never)).toThrow(TypeError);
        expect(() => new SecureDecoder(ctx, model, { user: 3 as never })).toThrow(RangeError);
        expect(() => new SecureDecoder(ctx, model, { revealLogits: 'yes' as never })).toThrow(TypeError);
        expect(() => new SecureDecoder(ctx, model, { policy: {} as never })).toThrow(TypeError);
        expect(() => new SecureDecoder(ctx, model, { maxSeqLen: 0 })).toThrow(RangeError);
        const dec = new SecureDecoder(ctx, model);
        await expect(dec.step(undefined as never)).rejects.toThrow(/prefill first/);
        await expect(dec.prefill(undefined, 0)).rejects.toThrow(/positive integer/);
        await expect(dec.prefill(undefined, 9)).rejects.toThrow(/exceeds maxSeqLen/);
        await expect(dec.generate(undefined, 3, 0)).rejects.toThrow(/nNew/);
        await expect(dec.generate(undefined, 5, 5)).rejects.toThrow(/exceeds maxSeqLen/);
        // wrong role: a non-user passing tokens, or the user passing none / bad ids
        if (ctx.party !== 1) await expect(dec.inputTokens([1], 1)).rejects.toThrow(/only the user/);
        else {
          await expect(dec.inputTokens(undefined, 1)).rejects.toThrow(/must pass the token ids/);
          await expect(dec.inputTokens([16], 1)).rejects.toThrow(/tokens\[0\]/);
          await expect(dec.inputTokens([1, 2], 1)).rejects.toThrow(/count says/);
        }
        return true;
      }),
    ).resolves.toEqual([true, true, true]);
  });

  it('resume continues from another decoder\'s cache like the original decoder', async () => {
    const [a, b] = await runTrio(async (ctx) => {
      const model = await shareModel(ctx, config, ctx.party === 0 ? weights : undefined);
      const first = new SecureDecoder(ctx, model);
      const choice = await first.nextToken(await first.prefill(ctx.party === 1 ? [1, 5, 7] : undefined, 3));
      const second = new SecureDecoder(ctx, model);
      expect(() => second.resume(first.caches.slice(1), 3)).toThrow(/one SecureLayerCache per layer/);
      expect(() => second.resume(first.caches, 8)).toThrow(/position/);
      second.resume(first.caches, first.position);
      expect(() => second.resume(first.caches, 3)).toThrow(/fresh decoder/);
      const l2 = await second.step(choice.oneHot);
      const l1 = await first.step(choice.oneHot);
      return [await revealFloat(ctx, l1), await revealFloat(ctx, l2)];
    });
    void b;
    const [l1, l2] = a as Float64Array[];
    // the same computation with independent truncation noise (a few 2^-18 per truncation, amplified by the layers)
    for (let i = 0; i < l1.length; i++) expect(Math.abs(l1[i] - l2[i])).toBeLessThan(1e-2);
  });

  it('rejects a policy that returns a cache or selection of the wrong shape', async () => {
    const bad: SecureKvPolicy = { name: 'bad', leaks: '', afterPrefill: async (_c, cache) => ({ ...cache, length: cache.length + 1 }) };
    await expect(
      runTrio(async (ctx) => {
        const model = await shareModel(ctx, config, ctx.party === 0 ? weights : undefined);
        return new SecureDecoder(ctx, model, { policy: bad }).generate(ctx.party === 1 ? [1, 2] : undefined, 2, 1);
      }),
    ).rejects.toThrow(/afterPrefill: cache k must be/);
    const badSel: SecureKvPolicy = { name: 'bad', leaks: '', selectForStep: async (_c, cache) => ({ k: cache.k, v: cache.v, perQueryHead: true }) };
    await expect(
      runTrio(async (ctx) => {
        const model = await shareModel(ctx, config, ctx.party === 0 ? weights : undefined);
        return new SecureDecoder(ctx, model, { policy: badSel }).generate(ctx.party === 1 ? [1, 2] : undefined, 2, 2);
      }),
    ).rejects.toThrow(/selectForStep: k must be \[2, n, 4\]/);
  });
});
