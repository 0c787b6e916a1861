/**
 * Test support (not a test file): where the shared stories260K model lives and a loader
 * that returns undefined (with a printed reason) when it is absent.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ModelFormatError } from './errors.js';
import { loadLlama2c } from './llama2c.js';
import { Llama2cTokenizer } from './tokenizer-llama2c.js';
import type { ModelWeights } from './weights.js';

/** repo root = the folder above models/ */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** ../shared/models/stories260K relative to the repo root */
export const STORIES260K_DIR = join(REPO_ROOT, '..', 'shared', 'models', 'stories260K');
export const STORIES260K_BIN = join(STORIES260K_DIR, 'stories260K.bin');
export const STORIES260K_TOK = join(STORIES260K_DIR, 'tok512.bin');

export function stories260kPresent(env: NodeJS.ProcessEnv = process.env, dir = STORIES260K_DIR): boolean {
  const ok = existsSync(join(dir, 'stories260K.bin')) && existsSync(join(dir, 'tok512.bin'));
  if (ok) return true;
  // CI runs from a clean clone with ../shared beside it (.ci/run): a missing model there is a
  // broken setup, not a reason to skip
  if (isCi(env)) throw new Error(`stories260K not found at ${dir} and CI is set: put ../shared beside the clone (the tests skip only outside CI)`);
  console.warn(`SKIP: stories260K not found at ${dir}; the tests that need it are skipped (outside CI only)`);
  return false;
}

/** CI is set (any value but '', '0' or 'false'), as CI services and .ci/run's callers set it. */
export function isCi(env: NodeJS.ProcessEnv = process.env): boolean {
  const v = env.CI;
  return v !== undefined && v !== '' && v !== '0' && v.toLowerCase() !== 'false';
}

export async function loadStories260k(): Promise<{ weights: ModelWeights; tokenizer: Llama2cTokenizer }> {
  const weights = await loadLlama2c(STORIES260K_BIN);
  const tokenizer = await Llama2cTokenizer.load(STORIES260K_TOK, weights.config.vocabSize);
  return { weights, tokenizer };
}

/**
 * The known answer quoted in ../shared/models/stories260K/README.md (section "Known answer",
 * greedy from BOS + encode("Once upon a time")), whitespace collapsed to single spaces.
 */
export function stories260kKnownAnswer(): { prompt: string; text: string } {
  const readme = readFileSync(join(STORIES260K_DIR, 'README.md'), 'utf8');
  const section = readme.split(/^## Known answer\s*$/m)[1];
  if (section === undefined) throw new Error('README.md has no "## Known answer" section');
  const quoted = [...section.matchAll(/"([^"]*)"/g)].map((m) => m[1].replace(/\s+/g, ' ').trim());
  if (quoted.length < 2) throw new Error('README.md known answer: expected the prompt and the text in double quotes');
  return { prompt: quoted[0], text: quoted[1] };
}

/** The ModelFormatError code `f` throws, or 'no error' (any other error is rethrown). */
export function modelErrorCode(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof ModelFormatError) return e.code;
    throw e;
  }
  return 'no error';
}
