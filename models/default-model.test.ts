/**
 * Quality gates of the shipped default model (models/default), through the project's own
 * loaders and the TypeScript float reference:
 * - it ships within the limits (2-8 M parameters, context >= 1024, files < 16 MB);
 * - tokenizer and logits agree with what PyTorch computed at the end of training;
 * - held-out NLL is below the value the training script recorded plus a small margin;
 * - passkey retrieval with the full cache at context 1024 is >= 90% (10 prompts, depths 0..1).
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_MODEL_DIR, type DefaultModel, heldoutSampleDocs, loadDefaultModel, passkeyPromptTokens, passkeyText } from './default-model.js';
import { logProb } from './float-ops.js';
import { NonSecretTestRng } from './random-weights.js';
import { ReferenceModel } from './reference.js';
import { parameterCount } from './weights.js';

const NLL_MARGIN = 0.02; // nats/token above the recorded value
const PASSKEY_PROMPTS = 10;

let dm: DefaultModel;
let model: ReferenceModel;

beforeAll(async () => {
  dm = await loadDefaultModel();
  model = new ReferenceModel(dm.weights);
});

describe('default model (models/default)', () => {
  it('ships within the limits: 2-8 M parameters, context >= 1024, files < 16 MB', () => {
    const c = dm.weights.config;
    const n = parameterCount(c);
    expect(n).toBeGreaterThanOrEqual(2e6);
    expect(n).toBeLessThanOrEqual(8e6);
    expect(n).toBe(dm.quality.params);
    expect(c.maxSeqLen).toBeGreaterThanOrEqual(1024);
    expect(dm.tokenizer.vocabSize).toBe(c.vocabSize);
    const bytes = ['config.json', 'model.safetensors', 'tokenizer.bin'].reduce((a, f) => a + statSync(join(DEFAULT_MODEL_DIR, f)).size, 0);
    expect(bytes).toBeLessThan(16 * 1024 * 1024);
  });

  it('tokenizes and computes logits as PyTorch did at the end of training', () => {
    const chk = dm.quality.check;
    const ids = dm.tokenizer.encode(chk.text, { bos: true });
    expect(ids).toEqual(chk.tokens);
    const logits = model.logits(ids);
    chk.positions.forEach((p, j) => {
      for (let i = 0; i < chk.logits[j].length; i++) expect(Math.abs(logits[p][i] - chk.logits[j][i])).toBeLessThan(1e-3);
    });
    const argmax = logits.map((l) => l.reduce((b, v, i) => (v > l[b] ? i : b), 0));
    expect(argmax).toEqual(chk.argmax);
  });

  it(`held-out NLL is at most the recorded value + ${NLL_MARGIN}`, () => {
    let total = 0;
    let count = 0;
    for (const doc of heldoutSampleDocs()) {
      const ids = dm.tokenizer.encode(doc, { bos: true });
      const logits = model.logits(ids);
      for (let t = 1; t < ids.length; t++) total -= logProb(logits[t - 1], ids[t]);
      count += ids.length - 1;
    }
    const nll = total / count;
    expect(count).toBeGreaterThan(500);
    expect(nll).toBeLessThanOrEqual(dm.quality.heldout_sample_nll + NLL_MARGIN);
    // the same computation as the training script's, so it should agree closely
    expect(Math.abs(nll - dm.quality.heldout_sample_nll)).toBeLessThan(1e-3);
  });

  it(
    `retrieves the passkey at context 1024 with the full cache in >= 90% of ${PASSKEY_PROMPTS} prompts`,
    () => {
      const rng = new NonSecretTestRng(20261128);
      let correct = 0;
      const t0 = performance.now();
      for (let i = 0; i < PASSKEY_PROMPTS; i++) {
        const key = String(10000 + (rng.nextU32() % 90000));
        const { prompt, answer } = passkeyPromptTokens(dm.tokenizer, key, 1024, i / (PASSKEY_PROMPTS - 1));
        expect(prompt.length).toBeGreaterThan(1000);
        expect(prompt.length).toBeLessThanOrEqual(1024);
        const out = model.generate(prompt, answer.length);
        if (out.every((t, j) => t === answer[j])) correct++;
      }
      const s = (performance.now() - t0) / 1000;
      console.log(`default model passkey@1024: ${correct}/${PASSKEY_PROMPTS} in ${s.toFixed(1)} s`);
      expect(correct / PASSKEY_PROMPTS).toBeGreaterThanOrEqual(0.9);
    },
    600_000,
  );

  it('builds the passkey prompt text as the training script does', () => {
    expect(passkeyText('123', 2, 1, false)).toBe(
      'The grass is green. The sky is blue. The pass key is 123. Remember it. 123 is the pass key. The sun is yellow. What is the pass key? The pass key is',
    );
    const { prompt, answer } = passkeyPromptTokens(dm.tokenizer, '58203', 256, 0.5);
    expect(prompt[0]).toBe(dm.tokenizer.bos);
    expect(dm.tokenizer.decode(answer)).toBe(' 58203');
    expect(dm.tokenizer.decode(prompt)).toContain('The pass key is 58203. Remember it.');
  });
});
