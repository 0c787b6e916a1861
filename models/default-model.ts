/**
 * The project's own default model, shipped in models/default/ and trained by
 * train/train.py (train/RECORD.md, models/default/README.md):
 *   config.json + model.safetensors   HF LlamaForCausalLM checkpoint (fp16), read by hf-llama.ts
 *   tokenizer.bin                     llama2.c-format BPE vocabulary, read by tokenizer-llama2c.ts
 *   quality.json                      the training run's own evaluation (PyTorch, float32 on the
 *                                     fp16 weights): held-out NLL, passkey accuracy, a logits check
 *   heldout-sample.txt                held-out documents (separated by a blank line) for the NLL gate
 *
 * `passkeyText` / `passkeyPromptTokens` build the passkey prompts exactly as the training
 * script's evaluation does (train/synthetic.py `passkey_text`, train/data.py `passkey_prompts`).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ModelFormatError } from './errors.js';
import { loadHfLlama } from './hf-llama.js';
import { Llama2cTokenizer } from './tokenizer-llama2c.js';
import type { Tokenizer } from './tokenizer.js';
import type { ModelWeights } from './weights.js';

const HERE = dirname(fileURLToPath(import.meta.url));

/**
 * The default model's directory: models/default beside this module when run from source,
 * or <package root>/models/default when run from dist/models/.
 */
export const DEFAULT_MODEL_DIR: string = [join(HERE, 'default'), resolve(HERE, '..', '..', 'models', 'default')].find((d) =>
  existsSync(join(d, 'config.json')),
) ?? join(HERE, 'default');

/** The logits check the training script recorded: float32 logits of the fp16 weights. */
export interface LogitsCheck {
  readonly text: string;
  /** BOS + tokens of `text` */
  readonly tokens: number[];
  /** positions whose first 16 logits are recorded */
  readonly positions: number[];
  readonly logits: number[][];
  /** argmax of the logits at every position */
  readonly argmax: number[];
}

/** The part of quality.json the tests and benchmarks read (the file holds more). */
export interface DefaultModelQuality {
  readonly params: number;
  readonly steps: number;
  readonly tokens: number;
  readonly train_s: number;
  /** mean NLL (nats/token) on 64 held-out rows of 2048 tokens */
  readonly val_loss: number;
  /** mean NLL (nats/token) over heldout-sample.txt, each document BOS-prefixed */
  readonly heldout_sample_nll: number;
  readonly passkey_256: number;
  readonly passkey_1024: number;
  readonly passkey_2048: number;
  /** mean attention on position 0 per layer (queries 1..1023), on text and on passkey prompts */
  readonly sink: { readonly text: number[]; readonly passkey: number[] };
  readonly check: LogitsCheck;
}

export interface DefaultModel {
  readonly dir: string;
  readonly weights: ModelWeights;
  readonly tokenizer: Llama2cTokenizer;
  readonly quality: DefaultModelQuality;
}

function num(o: Record<string, unknown>, k: string, file: string): number {
  const v = o[k];
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new ModelFormatError('MODEL_ERR_MALFORMED', `field '${k}' must be a finite number`, { file });
  return v;
}

/** Reads and checks quality.json of a default-model directory. */
export function readQuality(dir: string = DEFAULT_MODEL_DIR): DefaultModelQuality {
  if (typeof dir !== 'string') throw new TypeError('dir must be a string');
  const file = join(dir, 'quality.json');
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new ModelFormatError('MODEL_ERR_IO', `cannot read: ${(e as Error).message}`, { file, cause: e });
  }
  for (const k of ['params', 'steps', 'tokens', 'train_s', 'val_loss', 'heldout_sample_nll', 'passkey_256', 'passkey_1024', 'passkey_2048']) num(o, k, file);
  const check = o['check'] as LogitsCheck | undefined;
  if (!check || !Array.isArray(check.tokens) || !Array.isArray(check.logits) || !Array.isArray(check.argmax) || typeof check.text !== 'string') {
    throw new ModelFormatError('MODEL_ERR_MALFORMED', "field 'check' is missing or malformed", { file });
  }
  return o as unknown as DefaultModelQuality;
}

/** The held-out documents of heldout-sample.txt (blank-line separated, trimmed of newlines). */
export function heldoutSampleDocs(dir: string = DEFAULT_MODEL_DIR): string[] {
  if (typeof dir !== 'string') throw new TypeError('dir must be a string');
  return readFileSync(join(dir, 'heldout-sample.txt'), 'utf8')
    .split('\n\n')
    .map((d) => d.replace(/^\n+|\n+$/g, ''))
    .filter((d) => d.trim().length > 0);
}

/** Loads the default model (weights, tokenizer, quality record) through the project's loaders. */
export async function loadDefaultModel(dir: string = DEFAULT_MODEL_DIR): Promise<DefaultModel> {
  if (typeof dir !== 'string') throw new TypeError('dir must be a string');
  const weights = await loadHfLlama(dir);
  const tokenizer = await Llama2cTokenizer.load(join(dir, 'tokenizer.bin'), weights.config.vocabSize);
  return { dir, weights, tokenizer, quality: readQuality(dir) };
}

/** train/synthetic.py FILLER, INTRO, KEY_LINE, QUESTION */
export const PASSKEY_FILLER: readonly string[] = ['The grass is green.', 'The sky is blue.', 'The sun is yellow.', 'Here we go.', 'There and back again.'];
export const PASSKEY_INTRO =
  'There is an important info hidden inside a lot of irrelevant text. Find it and memorize it. I will quiz you about the important information there.';
export const PASSKEY_QUESTION = 'What is the pass key? The pass key is';

/**
 * The passkey prompt text (without the answer): intro, nBefore filler sentences (cycling
 * from the first), the key line, nAfter filler sentences continuing the cycle, the question.
 */
export function passkeyText(key: string, nBefore: number, nAfter: number, intro = true): string {
  if (typeof key !== 'string' || !/^[0-9]+$/.test(key)) throw new TypeError('key must be a string of digits');
  if (!Number.isSafeInteger(nBefore) || nBefore < 0) throw new RangeError(`nBefore must be a non-negative integer, got ${nBefore}`);
  if (!Number.isSafeInteger(nAfter) || nAfter < 0) throw new RangeError(`nAfter must be a non-negative integer, got ${nAfter}`);
  const parts: string[] = intro ? [PASSKEY_INTRO] : [];
  for (let i = 0; i < nBefore; i++) parts.push(PASSKEY_FILLER[i % PASSKEY_FILLER.length]);
  parts.push(`The pass key is ${key}. Remember it. ${key} is the pass key.`);
  for (let i = 0; i < nAfter; i++) parts.push(PASSKEY_FILLER[(nBefore + i) % PASSKEY_FILLER.length]);
  parts.push(PASSKEY_QUESTION);
  return parts.join(' ');
}

/**
 * The longest passkey prompt (BOS included) of at most `length` tokens with the key line
 * after round(depth * m) of its m filler sentences; returns its tokens and the answer's
 * tokens (`tokenizer.encode(key)`: the key with a leading space, as the model continues).
 */
export function passkeyPromptTokens(tok: Tokenizer, key: string, length: number, depth: number): { prompt: number[]; answer: number[] } {
  if (!Number.isSafeInteger(length) || length <= 0) throw new RangeError(`length must be a positive integer, got ${length}`);
  if (!(depth >= 0 && depth <= 1)) throw new RangeError(`depth must be in [0, 1], got ${depth}`);
  const base = tok.encode(passkeyText(key, 0, 0), { bos: true }).length;
  if (base > length) throw new RangeError(`length ${length} is too short for a passkey prompt (${base} tokens without filler)`);
  const per = PASSKEY_FILLER.reduce((a, s) => a + tok.encode(s).length, 0) / PASSKEY_FILLER.length;
  for (let m = Math.floor((length - base) / per) + 2; m >= 0; m--) {
    const nb = Math.round(depth * m);
    const prompt = tok.encode(passkeyText(key, nb, m - nb), { bos: true });
    if (prompt.length <= length) return { prompt, answer: tok.encode(key) };
  }
  throw new RangeError(`no passkey prompt fits in ${length} tokens`);
}
