/**
 * Loads a model the project's loaders read, for evaluation:
 * - a directory with config.json (+ model.safetensors) -> HF Llama weights, tokenizer from
 *   tokenizer.json (or a llama2.c tok*.bin in the same directory);
 * - a directory with a llama2.c checkpoint (*.bin other than tok*.bin) and tok*.bin;
 * - a llama2.c checkpoint file, tokenizer `tokenizerPath` or a tok*.bin beside it.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadHfLlama } from '../../models/hf-llama.js';
import { loadLlama2c } from '../../models/llama2c.js';
import { ReferenceModel } from '../../models/reference.js';
import type { Tokenizer } from '../../models/tokenizer.js';
import { HfBpeTokenizer } from '../../models/tokenizer-hf.js';
import { Llama2cTokenizer } from '../../models/tokenizer-llama2c.js';

export interface EvalModel {
  readonly name: string;
  readonly path: string;
  readonly model: ReferenceModel;
  readonly tokenizer: Tokenizer;
}

function repoRoot(): string {
  const up = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
  return basename(up) === 'dist' ? dirname(up) : up; // compiled copy: dist/eviction/eval
}
/** repo root (two folders above eviction/eval/, three from the compiled dist/eviction/eval/) */
export const REPO_ROOT = repoRoot();
/** the shared stories260K model, ../shared/models/stories260K from the repo root */
export const STORIES260K = join(REPO_ROOT, '..', 'shared', 'models', 'stories260K');
/** the project's own model shipped in the repository */
export const DEFAULT_MODEL = join(REPO_ROOT, 'models', 'default');

/** The model `mpcache eval` uses without --model: stories260K when present, else the shipped default model. */
export function defaultEvalModelPath(): string {
  return existsSync(STORIES260K) ? STORIES260K : DEFAULT_MODEL;
}

function findTok(dir: string): string | undefined {
  const f = readdirSync(dir).filter((n) => /^tok.*\.bin$/.test(n) || n === 'tokenizer.bin').sort();
  return f.length ? join(dir, f[0]) : undefined;
}

export async function loadEvalModel(path: string, tokenizerPath?: string): Promise<EvalModel> {
  const p = resolve(path);
  if (!existsSync(p)) throw new RangeError(`model path not found: ${p}`);
  const isDir = statSync(p).isDirectory();
  if (isDir && existsSync(join(p, 'config.json'))) {
    const weights = await loadHfLlama(p);
    let tokenizer: Tokenizer;
    if (tokenizerPath) tokenizer = tokenizerPath.endsWith('.json') ? await HfBpeTokenizer.load(tokenizerPath) : await Llama2cTokenizer.load(tokenizerPath, weights.config.vocabSize);
    else if (existsSync(join(p, 'tokenizer.json'))) tokenizer = await HfBpeTokenizer.load(join(p, 'tokenizer.json'));
    else {
      const t = findTok(p);
      if (!t) throw new RangeError(`no tokenizer.json or tok*.bin in ${p}`);
      tokenizer = await Llama2cTokenizer.load(t, weights.config.vocabSize);
    }
    return { name: basename(p), path: p, model: new ReferenceModel(weights), tokenizer };
  }
  let bin = p;
  if (isDir) {
    const c = readdirSync(p).filter((n) => n.endsWith('.bin') && !/^tok/.test(n) && n !== 'tokenizer.bin').sort();
    if (!c.length) throw new RangeError(`no config.json or llama2.c checkpoint in ${p}`);
    bin = join(p, c[0]);
  }
  const weights = await loadLlama2c(bin);
  const tokPath = tokenizerPath ?? findTok(dirname(bin));
  if (!tokPath) throw new RangeError(`no tokenizer for ${bin}: pass one (tok*.bin or tokenizer.json)`);
  const tokenizer = tokPath.endsWith('.json') ? await HfBpeTokenizer.load(tokPath) : await Llama2cTokenizer.load(tokPath, weights.config.vocabSize);
  return { name: basename(bin).replace(/\.bin$/, ''), path: bin, model: new ReferenceModel(weights), tokenizer };
}
