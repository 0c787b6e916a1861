/**
 * The merging policies (issue 17) inside the evaluation harness on stories260K: the one-prefill
 * + fork + replay shortcut equals a fresh run for each of them (several keep views of other
 * layers or rewrite K/V in place), and RazorAttention's data-free head calibration.
 */
import { describe, expect, it } from 'vitest';
import { ReferenceModel } from '../../models/reference.js';
import { loadStories260k, stories260kPresent } from '../../models/test-support.js';
import { createPolicy, type PolicyName } from '../plain/registry.js';
import { Metered, prefillOnce, scoreOn } from './harness.js';
import { calibrateRazorHeads } from './razor-calibrate.js';
import { sampleDocument } from './tasks.js';

const present = stories260kPresent();
const loaded = present ? await loadStories260k() : undefined;
const MERGING: PolicyName[] = ['minicache', 'kvmerger', 'd2o', 'ems', 'kvcrush', 'razor-attention', 'kv-head-merge'];

describe.skipIf(!present)('merging policies on stories260K', () => {
  const model = new ReferenceModel(loaded!.weights);
  const tok = loaded!.tokenizer;
  const c = model.config;
  const razorHeads = calibrateRazorHeads(model, tok, { seed: 4, sequences: 1, length: 32, repeats: 3 });

  it('RazorAttention head scores: one per layer and KV head, probabilities, deterministic from the seed', () => {
    expect(razorHeads.echo).toHaveLength(c.nLayers);
    for (const t of [razorHeads.echo, razorHeads.induction])
      for (const r of t) {
        expect(r).toHaveLength(c.nKvHeads);
        for (const v of Array.from(r)) expect(v >= 0 && v <= 1).toBe(true);
      }
    expect(calibrateRazorHeads(model, tok, { seed: 4, sequences: 1, length: 32, repeats: 3 })).toEqual(razorHeads);
    expect(calibrateRazorHeads(model, tok, { seed: 5, sequences: 1, length: 32, repeats: 3 })).not.toEqual(razorHeads);
    expect(() => calibrateRazorHeads(model, tok, { seed: 1, length: 200, repeats: 4 })).toThrow(RangeError);
  });

  it('one prefill + fork + replayed onPrefill equals a fresh run under each merging policy', () => {
    const doc = sampleDocument(model, tok.bos, 76, 13);
    const prompt = doc.slice(0, 64);
    const cont = doc.slice(64);
    const pre = prefillOnce(model, prompt);
    for (const name of MERGING) {
      const mk = () => createPolicy(name, { budget: { ratio: 0.2 }, model: c, seed: 3 }, { razorHeads });
      const fresh = model.nll(prompt, cont, mk());
      const forked = scoreOn(pre, new Metered(mk()), cont);
      expect(Array.from(forked.nll), name).toEqual(Array.from(fresh.perToken));
      expect(Array.from(forked.argmax), name).toEqual(Array.from(fresh.predicted));
    }
  });
});
