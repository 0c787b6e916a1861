/**
 * Arguments, constants and result types of the `generate` job (cli/jobs/generate.ts), kept
 * apart from the job so the CLI can parse and validate them without loading the decoder.
 */
import type { PartyId } from '../../protocols/channel.js';
import { MpcError } from '../../protocols/errors.js';
import { resolve } from 'node:path';
import { defaultModelPath, repoRoot } from '../../models/model-source.js';
import { securePolicyNames } from '../../eviction/secure/registry.js';

/** Prompt for story models (stories260K, random models). */
export const DEFAULT_PROMPT = 'Once upon a time';
/** Prompt for the project's default model (trained on reference text: docs, dictionaries, scripture, factbook). */
export const DEFAULT_MODEL_PROMPT = 'A list is a';

/** The default prompt for a `model` argument: one that suits the model's training text. */
export function defaultPromptFor(model: string | undefined): string {
  const path = resolveModelArg(model);
  return path !== undefined && resolve(path) === resolve(repoRoot(), 'models', 'default') ? DEFAULT_MODEL_PROMPT : DEFAULT_PROMPT;
}
export const DEFAULT_TOKENS = 24;
/** The line prefix of P1's per-token progress lines. */
export const GEN_LINE_PREFIX = '@gen ';

export interface GenerateArgs {
  /** weights path (HF dir, .safetensors, llama2.c .bin), 'random' for the seeded random model; undefined: defaultModelPath() */
  readonly model: string | undefined;
  readonly prompt: string;
  readonly tokens: number;
  readonly policy: string;
  readonly revealLogits: boolean;
}

/** One P1 progress line (after GEN_LINE_PREFIX). */
export interface GenLine {
  /** 0-based index of the token */
  readonly i: number;
  /** number of tokens to generate */
  readonly n: number;
  /** the token id */
  readonly token: number;
  /** the text it adds (UTF-8 assembled across tokens) */
  readonly piece: string;
  /** ms since the previous token (the first: since the start of the prefill) */
  readonly ms: number;
}

export interface PhaseCost {
  readonly ms: number;
  readonly rounds: number;
  readonly bytesSent: number;
}

export interface GenerateResult {
  readonly party: PartyId;
  /** which model ran (path, or 'random') */
  readonly model: string;
  readonly promptLength: number;
  readonly tokensGenerated: number;
  readonly policy: string;
  /** P1 only */
  readonly tokens?: number[];
  /** P1 only */
  readonly text?: string;
  readonly share: PhaseCost;
  /** prefill and the first token */
  readonly prefill: PhaseCost;
  /** all decode steps (tokensGenerated - 1 of them) */
  readonly decode: PhaseCost;
  /** decode ms per token (mean over the decode steps; NaN when there are none) */
  readonly msPerToken: number;
}

export function configError(msg: string): MpcError {
  return new MpcError('MPC_ERR_CONFIG', `generate: ${msg}`);
}

export function parseGenerateArgs(args: unknown): GenerateArgs {
  const o = (args ?? {}) as Record<string, unknown>;
  if (typeof o !== 'object' || Array.isArray(o)) throw configError('job arguments must be an object');
  for (const k of Object.keys(o)) {
    if (!['model', 'prompt', 'tokens', 'policy', 'revealLogits'].includes(k)) throw configError(`unknown argument '${k}' (model, prompt, tokens, policy, revealLogits)`);
  }
  if (o.model !== undefined && (typeof o.model !== 'string' || o.model.length === 0)) throw configError("'model' must be a non-empty path or 'random'");
  if (o.prompt !== undefined && typeof o.prompt !== 'string') throw configError("'prompt' must be a string");
  const tokens = o.tokens ?? DEFAULT_TOKENS;
  if (typeof tokens !== 'number' || !Number.isSafeInteger(tokens) || tokens < 1 || tokens > 100_000) throw configError("'tokens' must be an integer in [1, 100000]");
  const policy = o.policy ?? 'full';
  if (typeof policy !== 'string' || !securePolicyNames().includes(policy)) throw configError(`'policy' must be one of ${securePolicyNames().join(', ')}`);
  if (o.revealLogits !== undefined && typeof o.revealLogits !== 'boolean') throw configError("'revealLogits' must be a boolean");
  return {
    model: o.model as string | undefined,
    prompt: (o.prompt as string | undefined) ?? defaultPromptFor(o.model as string | undefined),
    tokens,
    policy,
    revealLogits: (o.revealLogits as boolean | undefined) ?? false,
  };
}

/** The model path a `model` argument stands for (undefined = the random model). */
export function resolveModelArg(model: string | undefined): string | undefined {
  if (model === 'random') return undefined;
  return model ?? defaultModelPath();
}

