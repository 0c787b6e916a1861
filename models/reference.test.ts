import { describe, expect, it } from 'vitest';
import type { AttendedContext, PlainKvHooks, PrefillContext, StepContext } from './attention-hooks.js';
import { makeConfig } from './config.js';
import { argmax, logProb } from './float-ops.js';
import { randomWeights } from './random-weights.js';
import { ReferenceModel } from './reference.js';
import { loadStories260k, stories260kKnownAnswer, stories260kPresent } from './test-support.js';

const present = stories260kPresent();

describe.skipIf(!present)('stories260K known answer (../shared/models/stories260K/README.md)', () => {
  it('greedy decoding from BOS + encode(prompt) reproduces the README text word for word', async () => {
    const { weights, tokenizer } = await loadStories260k();
    const { prompt, text } = stories260kKnownAnswer();
    expect(prompt).toBe('Once upon a time');
    const model = new ReferenceModel(weights);
    const p = tokenizer.encode(prompt, { bos: true });
    const s = model.newSession();
    let logits = s.prefill(p);
    const toks = [...p];
    let decoded = '';
    // generate until the decoded text covers the known answer (or a generous limit)
    while (decoded.replace(/\s+/g, ' ').length < text.length && toks.length < 200) {
      const t = argmax(logits);
      toks.push(t);
      decoded = tokenizer.decode(toks);
      logits = s.step(t);
    }
    expect(decoded.replace(/\s+/g, ' ').slice(0, text.length)).toBe(text);
  });

  it('generate() gives the same tokens as the manual loop, and nll() agrees with logits()', async () => {
    const { weights, tokenizer } = await loadStories260k();
    const model = new ReferenceModel(weights);
    const p = tokenizer.encode('Once upon a time', { bos: true });
    const gen = model.generate(p, 12);
    const all = model.logits([...p, ...gen.slice(0, -1)]);
    for (let i = 0; i < gen.length; i++) expect(argmax(all[p.length - 1 + i])).toBe(gen[i]);
    const r = model.nll(p, gen);
    for (let i = 0; i < gen.length; i++) {
      expect(r.perToken[i]).toBeCloseTo(-logProb(all[p.length - 1 + i], gen[i]), 4);
      expect(r.predicted[i]).toBe(gen[i]);
    }
    expect(r.total).toBeCloseTo(r.perToken.reduce((a, b) => a + b, 0), 9);
  });
});

describe('ReferenceModel on a seeded random-weight model', () => {
  const config = makeConfig({ dim: 32, hiddenDim: 48, nLayers: 3, nHeads: 4, nKvHeads: 2, vocabSize: 40, maxSeqLen: 64 });
  const model = new ReferenceModel(randomWeights(config, 7));
  const prompt = [1, 5, 9, 3, 17, 22, 8, 30];

  it('randomWeights is deterministic per seed and differs across seeds', () => {
    const a = randomWeights(config, 7);
    const b = randomWeights(config, 7);
    const c = randomWeights(config, 8);
    expect(a.layers[2].w2).toEqual(b.layers[2].w2);
    expect(a.layers[2].w2).not.toEqual(c.layers[2].w2);
    expect(a.output).not.toBe(a.tokenEmbedding); // untied config
    const tied = randomWeights({ ...config, tiedEmbeddings: true }, 1);
    expect(tied.output).toBe(tied.tokenEmbedding);
  });

  it('decode steps equal teacher-forced prefill logits (the KV cache is consistent)', () => {
    const all = model.logits(prompt);
    const s = model.newSession();
    const first = s.prefill(prompt.slice(0, 3));
    for (let i = 0; i < 40; i++) expect(first[i]).toBeCloseTo(all[2][i], 4);
    for (let t = 3; t < prompt.length; t++) {
      const l = s.step(prompt[t]);
      for (let i = 0; i < 40; i++) expect(l[i]).toBeCloseTo(all[t][i], 4);
    }
    expect(s.position).toBe(prompt.length);
    expect(s.decodeSteps).toBe(prompt.length - 3);
    expect(s.cache.layer(0).length(1)).toBe(prompt.length);
    expect(Array.from(s.cache.layer(2).positions(0))).toEqual(prompt.map((_, i) => i));
  });

  it('calls the hooks with consistent contexts', () => {
    const prefills: PrefillContext[] = [];
    const lengthsAtPrefill: number[] = [];
    const steps: StepContext[] = [];
    const attended: AttendedContext[] = [];
    const hooks: PlainKvHooks = {
      onPrefill: (c) => {
        prefills.push(c);
        lengthsAtPrefill.push(c.cache.length(0));
      },
      selectForStep: (c) => {
        steps.push(c);
        return undefined;
      },
      onAttention: (c) => void attended.push(c),
    };
    const gen = model.generate(prompt, 4, hooks);
    expect(gen).toEqual(model.generate(prompt, 4));
    expect(prefills.map((c) => c.layer)).toEqual([0, 1, 2]);
    expect(lengthsAtPrefill).toEqual([prompt.length, prompt.length, prompt.length]);
    const T = prompt.length;
    for (const c of prefills) {
      expect(c.length).toBe(T);
      expect(c.probs.length).toBe(4);
      expect(c.queries[3].length).toBe(T * 8);
      for (let i = 0; i < T; i++) {
        let s = 0;
        for (let j = 0; j < T; j++) s += c.probs[1][i * T + j];
        expect(s).toBeCloseTo(1, 5);
        expect(c.probs[1][i * T + T - 1]).toBe(i === T - 1 ? c.probs[1][i * T + T - 1] : 0);
      }
    }
    // 3 decode steps (the 4th token is never fed back) x 3 layers
    expect(steps.map((c) => [c.step, c.layer, c.position])).toEqual([0, 1, 2].flatMap((s) => [0, 1, 2].map((l) => [s, l, T + s])));
    for (const c of attended) {
      expect(c.attended.length).toBe(4);
      expect(c.attended[0].length).toBe(T + c.step + 1);
      const sum = c.probs[2].reduce((a, b) => a + b, 0);
      expect(sum).toBeCloseTo(1, 5);
    }
  });

  it('selectForStep subsets equal evicting the same entries, and prefill eviction is seen by later steps', () => {
    const keepIdx = (len: number): Int32Array => Int32Array.from([0, 2, 3, len - 2, len - 1].filter((v, i, a) => v >= 0 && a.indexOf(v) === i && v < len));
    // policy A: evict at prefill to entries {0,2,3,T-2,T-1}
    const evict: PlainKvHooks = {
      onPrefill: (c) => {
        for (let g = 0; g < c.cache.nKvHeads; g++) c.cache.keep(g, keepIdx(c.cache.length(g)));
      },
    };
    // policy B: keep everything, but at each step select the same entries plus the generated ones
    const T = prompt.length;
    const select: PlainKvHooks = {
      selectForStep: (c) => {
        const len = c.cache.length(0);
        const sel = Int32Array.from([...keepIdx(T), ...Array.from({ length: len - T }, (_, i) => T + i)]);
        return Array.from({ length: c.cache.nHeads }, () => sel);
      },
    };
    const a = model.nll(prompt, [3, 4, 5, 6, 7], evict);
    const b = model.nll(prompt, [3, 4, 5, 6, 7], select);
    const full = model.nll(prompt, [3, 4, 5, 6, 7]);
    for (let i = 0; i < 5; i++) expect(a.perToken[i]).toBeCloseTo(b.perToken[i], 5);
    expect(a.perToken[0]).toBeCloseTo(full.perToken[0], 9); // the prompt's own logits are unaffected
    expect(Math.abs(a.total - full.total)).toBeGreaterThan(1e-6);
  });

  it('rejects selections that omit the current token or leave the cache', () => {
    const omit: PlainKvHooks = { selectForStep: (c) => Array.from({ length: c.cache.nHeads }, () => Int32Array.of(0)) };
    expect(() => model.generate(prompt, 2, omit)).toThrow(RangeError);
    const out: PlainKvHooks = { selectForStep: (c) => Array.from({ length: c.cache.nHeads }, () => Int32Array.of(0, c.cache.length(0) - 1, 999)) };
    expect(() => model.generate(prompt, 2, out)).toThrow(/outside/);
    const badKeep: PlainKvHooks = { onPrefill: (c) => c.cache.keep(0, Int32Array.of(3, 1)) };
    expect(() => model.generate(prompt, 1, badKeep)).toThrow(/strictly increasing/);
  });

  it('records per-layer per-head attention on request', () => {
    const s = model.newSession({ recordAttention: true });
    s.prefill(prompt);
    expect(s.attention?.length).toBe(3);
    expect(s.attention?.[1].probs[0].length).toBe(prompt.length ** 2);
    s.step(4);
    expect(s.attention?.[2].attended?.[3].length).toBe(prompt.length + 1);
  });

  it('checks arguments', () => {
    expect(() => model.logits([])).toThrow(RangeError);
    expect(() => model.logits([40])).toThrow(RangeError);
    const s = model.newSession({ maxSeqLen: 3 });
    s.prefill([1, 2, 3]);
    expect(() => s.step(1)).toThrow(/maxSeqLen/);
    expect(() => s.prefill([1])).toThrow(/fresh session/);
  });
});
