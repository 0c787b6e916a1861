/**
 * Format detection for weights and tokenizers by path:
 * - weights: a directory with config.json -> HF checkpoint (hf-checkpoint.ts); a `.safetensors` file
 *   -> the HF checkpoint of its directory; anything else -> llama2.c legacy checkpoint.
 * - tokenizers: `*.json` -> HF tokenizer.json; anything else -> llama2.c tokenizer file.
 */
import { existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ModelFormatError } from './errors.js';
import { loadHfCheckpoint } from './hf-checkpoint.js';
import { loadLlama2c } from './llama2c.js';
import type { Tokenizer } from './tokenizer.js';
import { HfBpeTokenizer } from './tokenizer-hf.js';
import { Llama2cTokenizer } from './tokenizer-llama2c.js';
import type { ModelWeights } from './weights.js';

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch (e) {
    throw new ModelFormatError('MODEL_ERR_IO', `cannot read: ${(e as Error).message}`, { file: path, cause: e });
  }
}

/** Loads weights from a HF checkpoint directory, a model.safetensors path, or a llama2.c .bin. */
export async function loadWeights(path: string): Promise<ModelWeights> {
  if (typeof path !== 'string' || path.length === 0) throw new TypeError('path must be a non-empty string');
  if (await isDirectory(path)) return loadHfCheckpoint(path);
  if (path.endsWith('.safetensors') || path.endsWith('.safetensors.index.json')) return loadHfCheckpoint(dirname(path));
  return loadLlama2c(path);
}

/**
 * Loads a tokenizer: a tokenizer.json, a directory holding tokenizer.json or tokenizer.bin, or a llama2.c tokenizer
 * file (whose vocabulary size, not stored in the file, should be passed when known).
 */
export async function loadTokenizer(path: string, vocabSize?: number): Promise<Tokenizer> {
  if (typeof path !== 'string' || path.length === 0) throw new TypeError('path must be a non-empty string');
  if (await isDirectory(path)) {
    // a model directory: tokenizer.json (HF) first, else a llama2.c tokenizer.bin (the default model's)
    const bin = join(path, 'tokenizer.bin');
    if (!existsSync(join(path, 'tokenizer.json')) && existsSync(bin)) return Llama2cTokenizer.load(bin, vocabSize);
    return HfBpeTokenizer.load(join(path, 'tokenizer.json'));
  }
  if (path.endsWith('.json')) return HfBpeTokenizer.load(path);
  return Llama2cTokenizer.load(path, vocabSize);
}
