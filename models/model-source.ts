/**
 * Where the demo, the `generate` job, the example and the benchmarks find a model when none
 * is named: `defaultModelPath()` is the single place that decides.
 *
 * Order: the project's own model in models/default/ (HF directory: config.json +
 * model.safetensors + tokenizer), then stories260K in ../shared/models/stories260K (relative to
 * the repository root), otherwise no file: callers then use the seeded random-weight model
 * (RANDOM_MODEL_CONFIG with a byte-level tokenizer) and print RANDOM_MODEL_WARNING.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ModelConfig, makeConfig } from './config.js';
import { loadTokenizer, loadWeights } from './load.js';
import { randomWeights } from './random-weights.js';
import type { Tokenizer } from './tokenizer.js';
import { Llama2cTokenizer } from './tokenizer-llama2c.js';
import type { ModelWeights } from './weights.js';

/** The repository root (the folder above models/, or above dist/ when compiled). */
export function repoRoot(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const up = resolve(here, '..');
  return basename(up) === 'dist' ? resolve(up, '..') : up;
}

/** The model `npm run demo` and the `generate` job use when none is named; undefined = none present (use the random model). */
export function defaultModelPath(root: string = repoRoot()): string | undefined {
  const own = join(root, 'models', 'default');
  if (existsSync(join(own, 'config.json'))) return own;
  const s260 = join(root, '..', 'shared', 'models', 'stories260K', 'stories260K.bin');
  if (existsSync(s260)) return s260;
  return undefined;
}

/**
 * The tokenizer that goes with a model path: in a model directory, tokenizer.json or
 * tokenizer.bin; beside a model file, tokenizer.json, tokenizer.bin or the one tok*.bin.
 * Throws RangeError naming the folder when none is found.
 */
export function tokenizerPathFor(modelPath: string): string {
  if (typeof modelPath !== 'string' || modelPath.length === 0) throw new TypeError('modelPath must be a non-empty string');
  const dir = existsSync(modelPath) && statSync(modelPath).isDirectory() ? modelPath : dirname(modelPath);
  for (const name of ['tokenizer.json', 'tokenizer.bin']) if (existsSync(join(dir, name))) return join(dir, name);
  const tok = existsSync(dir) ? readdirSync(dir).filter((f) => /^tok.*\.bin$/.test(f)) : [];
  if (tok.length === 1) return join(dir, tok[0]);
  throw new RangeError(`no tokenizer (tokenizer.json, tokenizer.bin or tok*.bin) found in ${dir}`);
}

/** The seeded random-weight stand-in: stories260K's shape with a byte-level vocabulary of 259. */
export const RANDOM_MODEL_CONFIG: ModelConfig = makeConfig({
  dim: 64,
  hiddenDim: 172,
  nLayers: 5,
  nHeads: 8,
  nKvHeads: 4,
  vocabSize: 259,
  maxSeqLen: 512,
  tiedEmbeddings: true,
});
export const RANDOM_MODEL_SEED = 260;
export const RANDOM_MODEL_WARNING =
  'WARNING: no model file found (models/default/ or ../shared/models/stories260K); using a SEEDED RANDOM-WEIGHT model: the generated text is meaningless';

/** Byte-level llama2.c tokenizer: ids 0..2 = <unk>, BOS, EOS; 3 + b = byte b (for the random model). */
export function byteTokenizer(): Llama2cTokenizer {
  const pieces: (string | Uint8Array)[] = ['<unk>', '\n<s>\n', '\n</s>\n'];
  for (let b = 0; b < 256; b++) pieces.push(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);
  return new Llama2cTokenizer(pieces, new Float32Array(pieces.length));
}

/** The random stand-in model's weights. */
export function randomModelWeights(): ModelWeights {
  return randomWeights(RANDOM_MODEL_CONFIG, RANDOM_MODEL_SEED);
}

/** Load weights from a path, or the random stand-in when `path` is undefined. */
export async function loadModelOrRandom(path: string | undefined): Promise<ModelWeights> {
  return path === undefined ? randomModelWeights() : loadWeights(path);
}

/** Load the tokenizer for a model path (tokenizerPathFor), or the byte tokenizer when `path` is undefined. */
export async function loadTokenizerOrBytes(path: string | undefined, vocabSize?: number): Promise<Tokenizer> {
  return path === undefined ? byteTokenizer() : loadTokenizer(tokenizerPathFor(path), vocabSize);
}
