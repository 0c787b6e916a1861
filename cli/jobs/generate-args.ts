/**
 * Arguments, constants and result types of the `generate` job (cli/jobs/generate.ts), kept
 * apart from the job so the CLI can parse and validate them without loading the decoder.
 */
import type { PartyId } from '../../protocols/channel.js';
import type { PrivateInputs } from '../../parties/job.js';
import { MpcError } from '../../protocols/errors.js';
import { resolve } from 'node:path';
import { defaultModelPath, repoRoot } from '../../models/model-source.js';
import { securePolicyNames } from '../../eviction/secure/registry.js';
import { type Budget, checkBudget, checkPolicyOptions } from './policy-args.js';

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
/** most tokens the arguments accept (the model's context bounds it further: checkContext) */
export const MAX_TOKENS = 100_000;

/** The PUBLIC arguments of the generate job (`--job-args`): the same on every party, compared before the job starts. */
export interface GenerateArgs {
  readonly tokens: number;
  readonly policy: string;
  readonly revealLogits: boolean;
  /** the policy's budget at prefill (policy-args.ts; absent: the policy's default) */
  readonly budget?: Budget;
  /** the policy's own options (policy-args.ts POLICY_OPTION_NAMES) */
  readonly policyOptions?: Record<string, unknown>;
  /** 'held': the weights come from the shares P0 and P2 hold between sessions (`mpcache serve`, cli/serve/held-weights.ts); absent: shared from P0 this session */
  readonly weights?: 'held';
}

/**
 * The PRIVATE inputs of the generate job, by role (`io.inputs`; each party holds only its own):
 *  - P0 `model`: weights path (HF dir, .safetensors, llama2.c .bin) or 'random' (the seeded
 *    random model); absent: defaultModelPath() (the random model when there is none);
 *  - P1 `prompt` (required: `--prompt-file FILE`, or `-` for standard input) and `tokenizer`
 *    (a model dir or tokenizer file, or 'random' for the random model's byte tokenizer; absent:
 *    the one beside defaultModelPath()). The tokenizer is public data; its vocabulary size is
 *    checked against the config P0 sends.
 *  - P2: nothing.
 */
export interface GenerateInputs {
  readonly model?: string;
  readonly prompt?: string;
  readonly tokenizer?: string;
}

/** Which party each private input belongs to. */
export const GENERATE_INPUT_OWNER: Readonly<Record<keyof GenerateInputs, PartyId>> = { model: 0, prompt: 1, tokenizer: 1 };

/** One P1 `token` event (parties/job-output.ts: its text shown as it comes, a JSON line with --json). */
export interface GenLine {
  readonly event: 'token';
  /** 0-based index of the token */
  readonly i: number;
  /** number of tokens to generate */
  readonly n: number;
  /** the token id */
  readonly token: number;
  /** the text it adds (UTF-8 assembled across tokens) */
  readonly text: string;
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
  /** P0 only: which model ran (path, or 'random') */
  readonly model?: string;
  readonly promptLength: number;
  readonly tokensGenerated: number;
  readonly policy: string;
  /** P1 only */
  readonly tokens?: number[];
  /** P1 only */
  readonly text?: string;
  /** P1 only, with revealLogits: the revealed logits of every generated position */
  readonly logits?: Float64Array[];
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

/** How each private input is given (to its owner alone). */
const HOW: Readonly<Record<keyof GenerateInputs, string>> = {
  prompt: '--prompt-file FILE (or --prompt-file - for standard input)',
  model: '--model PATH',
  tokenizer: '--tokenizer PATH',
};

function isInputName(k: string): k is keyof GenerateInputs {
  return Object.hasOwn(GENERATE_INPUT_OWNER, k);
}

/** Validate the public arguments and fill in the defaults (the object the parties compare). */
export function parseGenerateArgs(args: unknown): GenerateArgs {
  const o = (args ?? {}) as Record<string, unknown>;
  if (typeof o !== 'object' || Array.isArray(o)) throw configError('job arguments must be an object');
  for (const k of Object.keys(o)) {
    if (isInputName(k)) {
      throw configError(`'${k}' is private to party ${GENERATE_INPUT_OWNER[k]} and never goes in --job-args (every party sees those): give it to party ${GENERATE_INPUT_OWNER[k]} alone with ${HOW[k]}`);
    }
    if (!['tokens', 'policy', 'revealLogits', 'budget', 'policyOptions', 'weights'].includes(k)) throw configError(`unknown argument '${k}' (public arguments: tokens, policy, revealLogits, budget, policyOptions)`);
  }
  const tokens = o.tokens ?? DEFAULT_TOKENS;
  if (typeof tokens !== 'number' || !Number.isSafeInteger(tokens) || tokens < 1 || tokens > MAX_TOKENS) throw configError(`'tokens' must be a whole number from 1 to ${MAX_TOKENS}, got ${JSON.stringify(tokens)}`);
  const policy = o.policy ?? 'full';
  if (typeof policy !== 'string' || !securePolicyNames().includes(policy)) throw configError(`unknown policy ${JSON.stringify(policy)} (policies: ${securePolicyNames().join(', ')})`);
  if (o.revealLogits !== undefined && typeof o.revealLogits !== 'boolean') throw configError("'revealLogits' must be a boolean");
  if (o.weights !== undefined && o.weights !== 'held') throw configError("'weights' must be \"held\" (the shares kept by mpcache serve) or absent");
  const budget = checkBudget(o.budget);
  const policyOptions = checkPolicyOptions(policy, budget, o.policyOptions);
  return { tokens, policy, revealLogits: (o.revealLogits as boolean | undefined) ?? false, ...(budget !== undefined ? { budget } : {}), ...(policyOptions !== undefined ? { policyOptions } : {}), ...(o.weights === 'held' ? { weights: 'held' as const } : {}) };
}

/**
 * Validate party `party`'s private inputs: only its own (another party's input is refused, so
 * an operator who gives P0 the prompt learns at once, before anything is sent), P1's prompt
 * present. Messages name the input, never its value.
 */
export function parseGenerateInputs(party: PartyId, inputs: PrivateInputs): GenerateInputs {
  for (const [k, v] of Object.entries(inputs)) {
    if (!isInputName(k)) throw configError(`unknown private input '${k}' (party 0: model; party 1: prompt, tokenizer)`);
    const owner = GENERATE_INPUT_OWNER[k];
    if (owner !== party) throw configError(`party ${party} was given '${k}', which is private to party ${owner}: give it to party ${owner} alone with ${HOW[k]}`);
    if (k !== 'prompt' && v.length === 0) throw configError(`'${k}' must be a non-empty path or 'random'`);
  }
  if (party === 1 && inputs.prompt === undefined) {
    throw configError('party 1 needs the prompt: --prompt-file FILE, or --prompt-file - to read it from standard input');
  }
  return { ...(inputs.model !== undefined ? { model: inputs.model } : {}), ...(inputs.prompt !== undefined ? { prompt: inputs.prompt } : {}), ...(inputs.tokenizer !== undefined ? { tokenizer: inputs.tokenizer } : {}) };
}

/**
 * The context check: a prompt of T tokens and `tokens` new ones need T + tokens - 1 positions
 * (the last token is never fed back). One line naming both numbers and the largest --tokens.
 */
export function checkContext(T: number, tokens: number, maxSeqLen: number): void {
  if (T > maxSeqLen) throw configError(`the prompt is ${T} tokens, longer than the model's context of ${maxSeqLen} positions (shorten the prompt)`);
  if (T + tokens - 1 > maxSeqLen) {
    throw configError(`the prompt (${T} tokens) and ${tokens} new tokens need ${T + tokens - 1} positions; the model's context has ${maxSeqLen} (at most --tokens ${maxSeqLen - T + 1} with this prompt)`);
  }
}

/** The model path a `model` argument stands for (undefined = the random model). */
export function resolveModelArg(model: string | undefined): string | undefined {
  if (model === 'random') return undefined;
  return model ?? defaultModelPath();
}

