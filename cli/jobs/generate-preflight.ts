/**
 * What the generate job checks BEFORE a party connects (Job.checkInputs, run by prepareJob):
 * each party's own inputs against the checked public arguments, so an operator's mistake is
 * one line and exit code 2 on the party that made it, before any peer is involved.
 *  - P0: the model loads (path exists, format readable; a missing or corrupt file is one line
 *    naming the path and the loader's code, no stack trace) and `tokens` fits its context;
 *  - P1: the tokenizer loads and the prompt tokenizes; its length is checked against the
 *    model's context when the tokenizer sits beside the model's public config.json (the
 *    default model's, or a checkpoint directory), else after the setup round, where every
 *    party checks it against the config P0 sends (the demo's launcher, which holds the
 *    model, checks it before starting any party).
 * Loaded weights and tokenizers are kept per path (loadModelChecked), so the job does not load
 * them again and a long-lived server (`mpcache serve`) loads them once.
 */
import type { PartyId } from '../../protocols/channel.js';
import type { PrivateInputs } from '../../parties/job.js';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { RANDOM_MODEL_CONFIG, loadModelOrRandom, loadTokenizerOrBytes } from '../../models/model-source.js';
import { readHfConfig } from '../../models/hf-config.js';
import type { ModelWeights } from '../../models/weights.js';
import type { Tokenizer } from '../../models/tokenizer.js';
import { checkContext, configError, parseGenerateArgs, parseGenerateInputs, resolveModelArg, type GenerateInputs } from './generate-args.js';

const models = new Map<string, Promise<ModelWeights>>();
const tokenizers = new Map<string, Promise<Tokenizer>>();

/** The loader's message, first line, without a stack. */
function firstLine(e: unknown): string {
  const code = (e as { code?: unknown }).code;
  const msg = (e instanceof Error ? e.message : String(e)).split('\n')[0];
  return typeof code === 'string' && !msg.startsWith(code) ? `${code}: ${msg}` : msg;
}

/** Weights for a model path (undefined: the seeded random model), loaded once per path; a load failure is MPC_ERR_CONFIG naming the path. */
export function loadModelChecked(path: string | undefined): Promise<ModelWeights> {
  const key = path ?? '\0random';
  let p = models.get(key);
  if (p === undefined) {
    p = loadModelOrRandom(path).catch((e: unknown) => {
      models.delete(key);
      throw configError(`cannot load the model ${path}: ${firstLine(e)}`);
    });
    models.set(key, p);
  }
  return p;
}

/** The tokenizer for a path (undefined: the byte tokenizer), loaded once per path and vocabulary size. */
export function loadTokenizerChecked(path: string | undefined, vocabSize?: number): Promise<Tokenizer> {
  const key = `${path ?? '\0bytes'}#${vocabSize ?? ''}`;
  let p = tokenizers.get(key);
  if (p === undefined) {
    p = loadTokenizerOrBytes(path, vocabSize).catch((e: unknown) => {
      tokenizers.delete(key);
      throw configError(`cannot load the tokenizer for ${path}: ${firstLine(e)}`);
    });
    tokenizers.set(key, p);
  }
  return p;
}

/** Encode a prompt; a tokenizer error becomes a config error (P1's own, before it connects: no peer sees it). */
export function encodePrompt(tokenizer: Tokenizer, prompt: string): number[] {
  let ids: number[];
  try {
    ids = tokenizer.encode(prompt, { bos: true });
  } catch (e) {
    // this party's own log only (it holds the prompt); peers are never told more than the code
    throw configError(`the tokenizer cannot encode the prompt: ${firstLine(e)}`);
  }
  if (ids.length === 0) throw configError('the prompt encodes to no tokens');
  return ids;
}

/** Job.checkInputs of the generate job: the private-input rules, then each role's own preflight. */
export async function preflightInputs(party: PartyId, inputs: PrivateInputs, rawArgs: unknown): Promise<GenerateInputs> {
  const own = parseGenerateInputs(party, inputs);
  const args = parseGenerateArgs(rawArgs);
  if (party === 0) {
    const path = resolveModelArg(own.model);
    const w = await loadModelChecked(path);
    if (args.tokens > w.config.maxSeqLen) throw configError(`--tokens ${args.tokens} exceeds the model's context of ${w.config.maxSeqLen} positions`);
  }
  if (party === 1) {
    const tokPath = resolveModelArg(own.tokenizer);
    const ids = encodePrompt(await loadTokenizerChecked(tokPath), own.prompt!);
    // the context is P0's to say (its config arrives after setup, where every party checks it);
    // when the tokenizer sits beside the public config.json of the same model, check it now
    const ctxLen = tokPath === undefined ? RANDOM_MODEL_CONFIG.maxSeqLen : publicContextBeside(tokPath);
    if (ctxLen !== undefined) checkContext(ids.length, args.tokens, ctxLen);
  }
  return own;
}

/** maxSeqLen of the config.json in (or beside) a tokenizer path, if there is a readable one. */
function publicContextBeside(path: string): number | undefined {
  try {
    const dir = existsSync(path) && statSync(path).isDirectory() ? path : dirname(path);
    const file = join(dir, 'config.json');
    if (!existsSync(file)) return undefined;
    return readHfConfig(JSON.parse(readFileSync(file, 'utf8')) as unknown, file).config.maxSeqLen;
  } catch {
    return undefined; // not ours to judge here: P0's config decides after setup
  }
}
