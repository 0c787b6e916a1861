import { describe, expect, it } from 'vitest';
import type { PrefillContext, StepContext } from '../../models/attention-hooks.js';
import { makeConfig } from '../../models/config.js';
import { randomWeights } from '../../models/random-weights.js';
import { ReferenceModel } from '../../models/reference.js';
import { fastTopK } from './fast-topk.js';
import { unrotatedKey } from './pre-rope.js';
import { topKAscending } from './select.js';

describe('pre-RoPE keys, the rotation and the layer inputs in the hook contexts (models/reference.ts)', () => {
  const config = makeConfig({ dim: 32, hiddenDim: 48, nLayers: 2, nHeads: 4, nKvHeads: 2, vocabSize: 40, maxSeqLen: 64 });
  const w = randomWeights(config, 3);
  const model = new ReferenceModel(w);
  const prompt = [1, 5, 9, 2, 33, 7, 7, 12];
  it('rotating the pre-RoPE keys gives the cached keys; unrotate inverts; projection and residual are the layer\'s', () => {
    const pre: PrefillContext[] = [];
    const steps: StepContext[] = [];
    const s = model.newSession({ hooks: { onPrefill: (c) => void pre.push(c), selectForStep: (c) => void steps.push(c) } });
    s.prefill(prompt);
    s.step(4);
    const d = config.headDim;
    for (const c of pre) {
      expect(c.projection!.wk).toBe(w.layers[c.layer].wk);
      expect(c.projection!.dim).toBe(32);
      expect(c.residual!.length).toBe(prompt.length * 32);
      for (let kv = 0; kv < 2; kv++) {
        const K = Float32Array.from(c.preRopeKeys![kv]);
        for (let t = 0; t < prompt.length; t++) c.rotary!.rotate(K, t * d, t);
        const cached = s.cache.layer(c.layer).keys(kv);
        for (let i = 0; i < prompt.length * d; i++) expect(K[i]).toBeCloseTo(cached[i], 5);
        const back = unrotatedKey(s.cache.layer(c.layer), kv, 3, 3, c.rotary!);
        for (let i = 0; i < d; i++) expect(back[i]).toBeCloseTo(c.preRopeKeys![kv][3 * d + i], 5);
      }
    }
    // layer 0's input is the token embeddings
    for (let t = 0; t < prompt.length; t++) for (let i = 0; i < 32; i++) expect(pre[0].residual![t * 32 + i]).toBe(w.tokenEmbedding[prompt[t] * 32 + i]);
    for (const c of steps) for (let kv = 0; kv < 2; kv++) {
      const k = Float32Array.from(c.preRopeKey![kv]);
      c.rotary!.rotate(k, 0, c.position);
      const row = c.cache.length(kv) - 1;
      for (let i = 0; i < d; i++) expect(k[i]).toBeCloseTo(c.cache.keys(kv)[row * d + i], 5);
    }
  });
});

describe('fastTopK', () => {
  it('equals topKAscending, ties to the lower index, with and without candidates', () => {
    for (let seed = 1; seed < 40; seed++) {
      const n = 5 + (seed % 17) * 3;
      const scores = Float64Array.from({ length: n }, (_, i) => Math.round(Math.sin(seed * 7 + i * 3.1) * 4));
      const cand = Int32Array.from({ length: n }, (_, i) => i).filter((i) => (i * seed) % 3 !== 0).reverse();
      for (const k of [0, 1, 3, 7, n]) {
        expect(Array.from(fastTopK(scores, k))).toEqual(Array.from(topKAscending(scores, k)));
        expect(Array.from(fastTopK(scores, k, cand))).toEqual(Array.from(topKAscending(scores, k, cand)));
      }
    }
  });
});
