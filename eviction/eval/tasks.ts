/**
 * Evaluation data generated from a seed, no downloads:
 * - held-out text: documents sampled from the model itself (temperature sampling from BOS
 *   with a seeded stream), cut into a prompt and a continuation;
 * - passkey prompts: filler sentences, the needle "The pass key is NNNNN. Remember it.
 *   NNNNN is the pass key." at a chosen depth, then "What is the pass key? The pass key is".
 */
import type { ReferenceModel } from '../../models/reference.js';
import type { Tokenizer } from '../../models/tokenizer.js';
import { SeededRng } from '../plain/seeded-rng.js';

/** Samples `length` tokens after BOS with temperature `temperature` (BOS included at index 0). */
export function sampleDocument(model: ReferenceModel, bos: number, length: number, seed: number, temperature = 0.9): number[] {
  const rng = new SeededRng(seed);
  const s = model.newSession();
  const out = [bos];
  let logits = s.prefill(out);
  while (out.length < length) {
    const t = sampleToken(logits, temperature, rng);
    out.push(t);
    if (out.length < length) logits = s.step(t);
  }
  return out;
}

function sampleToken(logits: Float32Array, temperature: number, rng: SeededRng): number {
  let m = -Infinity;
  for (const v of logits) if (v > m) m = v;
  const p = new Float64Array(logits.length);
  let z = 0;
  for (let i = 0; i < p.length; i++) {
    p[i] = Math.exp((logits[i] - m) / temperature);
    z += p[i];
  }
  let u = rng.next() * z;
  for (let i = 0; i < p.length; i++) {
    u -= p[i];
    if (u <= 0) return i;
  }
  return p.length - 1;
}

const FILLER = ['The grass is green.', 'The sky is blue.', 'The sun is yellow.', 'Here we go.', 'There and back again.'];

export interface PasskeyPrompt {
  /** prompt tokens (BOS first), exactly the requested length */
  readonly tokens: number[];
  /** the 5-digit key */
  readonly key: string;
  /** token ids of " NNNNN" as the model should continue the prompt */
  readonly answer: number[];
  /** requested depth in [0, 1] and the token index where the needle sentence starts */
  readonly depth: number;
  readonly needleAt: number;
  /** token range [start, end) of the first occurrence of the key in the prompt */
  readonly keySpan: readonly [number, number];
}

/**
 * A passkey prompt of exactly `length` tokens: BOS, filler sentences, the needle sentence
 * inserted at the sentence boundary nearest to depth * (filler length), more filler (the
 * last filler sentence cut to fit), then the question. Key digits from the seed.
 */
export function passkeyPrompt(tok: Tokenizer, length: number, depth: number, seed: number): PasskeyPrompt {
  if (!(depth >= 0 && depth <= 1)) throw new RangeError(`depth must be in [0, 1], got ${depth}`);
  const rng = new SeededRng(seed);
  const key = String(10000 + Math.floor(rng.next() * 90000));
  const lead = tok.encode('The pass key is');
  const withKey = tok.encode(`The pass key is ${key}`);
  const needleT = tok.encode(`The pass key is ${key}. Remember it. ${key} is the pass key.`);
  const question = 'What is the pass key? The pass key is';
  const questionT = tok.encode(question);
  const answer = tok.encode(`${question} ${key}`).slice(questionT.length);
  const fillLen = length - 1 - needleT.length - questionT.length;
  if (fillLen < 0) throw new RangeError(`length ${length} is too short for the passkey prompt`);
  const sentences = FILLER.map((f) => tok.encode(f));
  const fill: number[] = [];
  const bounds: number[] = [0];
  for (let i = 0; fill.length < fillLen; i++) {
    fill.push(...sentences[i % sentences.length]);
    bounds.push(fill.length);
  }
  fill.length = fillLen;
  const target = depth * fillLen;
  let before = 0;
  for (const b of bounds) if (b <= fillLen && Math.abs(b - target) < Math.abs(before - target)) before = b;
  const tokens = [tok.bos, ...fill.slice(0, before), ...needleT, ...fill.slice(before), ...questionT];
  return { tokens, key, answer, depth, needleAt: 1 + before, keySpan: [1 + before + lead.length, 1 + before + withKey.length] };
}
