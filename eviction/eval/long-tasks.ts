/**
 * Prompts of the long-context suite (long-suite.ts), in the formats the default model was
 * trained on (train/synthetic.py), generated from a seed, no downloads:
 *
 * - passkey: synthetic.passkey_text exactly (intro, cycling FILLER sentences, the key line
 *   "The pass key is K. Remember it. K is the pass key." after round(depth * m) of m
 *   sentences, the question "What is the pass key? The pass key is"); built by
 *   models/default-model.ts passkeyPromptTokens, which the CI test checks against training.
 * - multikey: the same haystack with THREE needles, one per statement form the training
 *   passkey episodes use (KEY_LINE and the two VARIANTS: pass key, secret number, access
 *   code), each with its own key; the question asks one of them (rotating), the asked needle
 *   at the requested depth, the two others at seeded depths elsewhere.
 * - kv: synthetic.kv: "Here is a list of codes." then lines "\nThe code for W is V." (W a
 *   noun, V a key) filling the prompt, then "\nWhat is the code for W? The code for W is"
 *   for the pair at the requested depth of the list.
 * Keys are 5-digit (the most frequent length in training, and the evaluation's). The answer
 * is tokenizer.encode(key) (a leading-space digit run), what the model continues with.
 * Every prompt is at most `length` tokens, BOS first, and as long as whole sentences allow.
 */
import { PASSKEY_FILLER, PASSKEY_INTRO, passkeyPromptTokens } from '../../models/default-model.js';
import type { Tokenizer } from '../../models/tokenizer.js';
import { SeededRng } from '../plain/seeded-rng.js';
import { NOUNS } from './nouns.js';

export const LONG_TASKS = ['passkey', 'multikey', 'kv'] as const;
export type LongTask = (typeof LONG_TASKS)[number];

export interface LongPrompt {
  readonly task: LongTask;
  /** requested length (the prompt has at most this many tokens) */
  readonly length: number;
  /** requested depth in [0, 1] of the asked needle / pair */
  readonly depth: number;
  /** prompt tokens, BOS first */
  readonly tokens: number[];
  /** answer tokens the model should continue with */
  readonly answer: number[];
  /** the asked key, digits */
  readonly key: string;
}

/** The statement forms of train/synthetic.py (KEY_LINE, VARIANTS) with their questions. */
export const NEEDLE_FORMS: readonly { readonly statement: (k: string) => string; readonly question: string }[] = [
  { statement: (k) => `The pass key is ${k}. Remember it. ${k} is the pass key.`, question: 'What is the pass key? The pass key is' },
  { statement: (k) => `The secret number is ${k}. Remember it. ${k} is the secret number.`, question: 'What is the secret number? The secret number is' },
  { statement: (k) => `The access code is ${k}. Keep it in mind. The access code is ${k}.`, question: 'What is the access code? The access code is' },
];

function key5(rng: SeededRng): string {
  return String(10000 + Math.floor(rng.next() * 90000));
}

function aDepth(depth: number): number {
  if (!(depth >= 0 && depth <= 1)) throw new RangeError(`depth must be in [0, 1], got ${depth}`);
  return depth;
}

/** Single passkey (training's evaluation prompt). */
export function passkeyTaskPrompt(tok: Tokenizer, length: number, depth: number, seed: number): LongPrompt {
  const key = key5(new SeededRng(seed));
  const { prompt, answer } = passkeyPromptTokens(tok, key, length, aDepth(depth));
  return { task: 'passkey', length, depth, tokens: prompt, answer, key };
}

/**
 * Multi-key needle: m filler sentences with the three needles inserted after sentence
 * positions (asked at round(depth * m), the others at seeded distinct positions), intro
 * first, the asked form's question last. m is the largest that fits in `length`.
 */
export function multikeyTaskPrompt(tok: Tokenizer, length: number, depth: number, seed: number): LongPrompt {
  aDepth(depth);
  const rng = new SeededRng(seed);
  const keys = NEEDLE_FORMS.map(() => key5(rng));
  // distinct keys (a repeated key would make the question ambiguous)
  while (new Set(keys).size < keys.length) keys[keys.length - 1] = key5(rng);
  const asked = Math.floor(rng.next() * NEEDLE_FORMS.length);
  const u = [rng.next(), rng.next()];
  const text = (m: number): string => {
    const at = new Map<number, number[]>();
    const put = (slot: number, form: number) => at.set(slot, [...(at.get(slot) ?? []), form]);
    put(Math.round(depth * m), asked);
    let j = 0;
    for (let f = 0; f < NEEDLE_FORMS.length; f++) if (f !== asked) put(Math.min(m, Math.floor(u[j++] * (m + 1))), f);
    const parts = [PASSKEY_INTRO];
    for (let i = 0; i <= m; i++) {
      for (const f of at.get(i) ?? []) parts.push(NEEDLE_FORMS[f].statement(keys[f]));
      if (i < m) parts.push(PASSKEY_FILLER[i % PASSKEY_FILLER.length]);
    }
    parts.push(NEEDLE_FORMS[asked].question);
    return parts.join(' ');
  };
  const tokens = fitting(tok, length, text);
  return { task: 'multikey', length, depth, tokens, answer: tok.encode(keys[asked]), key: keys[asked] };
}

/**
 * Key-value retrieval: as many "\nThe code for W is V." lines as fit (distinct nouns, seeded
 * order and values), the asked pair at index round(depth * (n - 1)).
 */
export function kvTaskPrompt(tok: Tokenizer, length: number, depth: number, seed: number): LongPrompt {
  aDepth(depth);
  const rng = new SeededRng(seed);
  const words = [...NOUNS];
  for (let i = words.length - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    [words[i], words[j]] = [words[j], words[i]];
  }
  const values = words.map(() => key5(rng));
  const text = (n: number): string => {
    const q = Math.round(depth * (n - 1));
    const lines = ['Here is a list of codes.'];
    for (let i = 0; i < n; i++) lines.push(`The code for ${words[i]} is ${values[i]}.`);
    lines.push(`What is the code for ${words[q]}? The code for ${words[q]} is`);
    return lines.join('\n');
  };
  const n = largestFitting(tok, length, (m) => text(Math.max(1, m)), words.length);
  const q = Math.round(depth * (Math.max(1, n) - 1));
  return { task: 'kv', length, depth, tokens: tok.encode(text(Math.max(1, n)), { bos: true }), answer: tok.encode(values[q]), key: values[q] };
}

/** The largest m in [0, max] whose text(m) encodes (BOS included) to at most `length` tokens. */
function largestFitting(tok: Tokenizer, length: number, text: (m: number) => string, max: number): number {
  const fits = (m: number) => tok.encode(text(m), { bos: true }).length <= length;
  if (!fits(0)) throw new RangeError(`length ${length} is too short for this task`);
  let lo = 0;
  let hi = max;
  if (fits(hi)) return hi;
  // fits(lo) && !fits(hi); token counts grow with m
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (fits(mid)) lo = mid;
    else hi = mid;
  }
  return lo;
}

function fitting(tok: Tokenizer, length: number, text: (m: number) => string): number[] {
  const m = largestFitting(tok, length, text, Math.ceil(length / 3));
  return tok.encode(text(m), { bos: true });
}

/** The prompt of `task`. */
export function longTaskPrompt(task: LongTask, tok: Tokenizer, length: number, depth: number, seed: number): LongPrompt {
  switch (task) {
    case 'passkey':
      return passkeyTaskPrompt(tok, length, depth, seed);
    case 'multikey':
      return multikeyTaskPrompt(tok, length, depth, seed);
    case 'kv':
      return kvTaskPrompt(tok, length, depth, seed);
    default: {
      const never: never = task;
      throw new RangeError(`unknown task ${String(never)}`);
    }
  }
}

/** Depths of n prompts spread over [0, 1]: i / (n - 1) (0.5 for a single prompt). */
export function spreadDepths(n: number): number[] {
  if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`n must be a positive integer, got ${n}`);
  return n === 1 ? [0.5] : Array.from({ length: n }, (_, i) => i / (n - 1));
}
