import { describe, expect, it } from 'vitest';
import { byteTokenizer, randomModelWeights } from '../models/model-source.js';
import { ReferenceModel } from '../models/reference.js';
import { NEAR_TIE_GAP, describeDivergence, findDivergence } from './divergence.js';

describe('divergence explained in words', () => {
  const w = randomModelWeights();
  const tok = byteTokenizer();
  const prompt = tok.encode('Once upon a time', { bos: true });
  const want = new ReferenceModel(w).generate(prompt, 5);
  // the plaintext logits at token 3 (index 2), along the reference path
  const s = new ReferenceModel(w).newSession({});
  let lg = s.prefill(prompt);
  for (let j = 0; j < 2; j++) lg = s.step(want[j]);
  const order = Array.from(lg.keys()).sort((a, b) => lg[b] - lg[a]);
  const second = order[1];

  it('equal runs: none', () => {
    expect(findDivergence(w, prompt, want, want, undefined)).toBeUndefined();
  });

  it('names the token from 1, both candidates with their plaintext logits, the gap', () => {
    const got = [want[0], want[1], second, 7, 7];
    const d = findDivergence(w, prompt, want, got, undefined)!;
    expect(d.token).toBe(3);
    expect(d.reference).toEqual({ id: want[2], logit: lg[want[2]] });
    expect(d.private).toEqual({ id: second, logit: lg[second] });
    expect(d.gap).toBeCloseTo(lg[want[2]] - lg[second], 6);
    expect(d.secureError).toBeUndefined();
    expect(d.nearTie).toBe(d.gap < NEAR_TIE_GAP);
    const text = describeDivergence(d, tok, 'full').join('\n');
    expect(text).toContain('at token 3:');
    expect(text).toContain(`plaintext logit ${lg[want[2]].toFixed(3)}`);
    expect(text).toContain('--reveal-logits measures it');
  });

  it('with revealed logits: the measured error decides the near-tie (gap <= 2 e), at and beyond the edge', () => {
    const got = [want[0], want[1], second, 7, 7];
    const gap = lg[want[2]] - lg[second];
    const revealed = (e: number) => [lg, lg, Float64Array.from(lg, (v, k) => (k === 0 ? v + e : v))];
    const at = findDivergence(w, prompt, want, got, undefined, revealed(gap / 2))!;
    expect(at.secureError).toBeCloseTo(gap / 2, 5);
    expect(at.nearTie).toBe(true);
    expect(describeDivergence(at, tok, 'full').join('\n')).toMatch(/measured secure logit error at that token: up to [\d.]+ .*a NEAR-TIE/);
    const beyond = findDivergence(w, prompt, want, got, undefined, revealed(gap / 2.2))!;
    expect(beyond.nearTie).toBe(false);
    expect(describeDivergence(beyond, tok, 'mpcache').join('\n')).toMatch(/NOT a near-tie[\s\S]*policy also ranks cached tokens/);
  });
});
