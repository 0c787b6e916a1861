/**
 * The `generate` job: private text generation by three parties (models/secure-decoder.ts).
 *
 * Roles: P0 is the model owner (reads the model file, or builds the seeded random model), P1
 * the user (holds the prompt, reads the public tokenizer, receives the tokens), P2 helps
 * (needs nothing). Flow:
 *  1. setup round: P0 sends the PUBLIC model config (JSON) to P1 and P2; P1 sends the PUBLIC
 *     prompt length to P0 and P2;
 *  2. P0 shares the weights (one round for a small model; shareModel);
 *  3. prefill and greedy decoding of `tokens` tokens; each token is revealed to P1 only.
 * P1 prints each token as it is produced as a progress line `@gen <json>` (fields i, n,
 * piece, ms) that the demo renders live; it returns the tokens and the text.
 * Every party returns its timings and traffic per phase (share / prefill / decode).
 *
 * Public arguments (the same JSON on every party, compared before the job starts; defaults
 * filled by parseGenerateArgs): { tokens?: number (default 24), policy?: name (default
 * 'full'), revealLogits?: boolean (default false) }. Private inputs (io.inputs, each party its
 * own; parseGenerateInputs): P0 `model` (path or 'random'; default defaultModelPath()), P1
 * `prompt` (required) and `tokenizer` (path or 'random'; default the default model's).
 * Nothing private is logged or returned: P0's result names its model, P1's holds the tokens.
 */
import type { Job, JobIO } from '../../parties/job.js';
import { type PartyId, type Payload, type StepStats, diffStats, snapshotStats } from '../../protocols/channel.js';
import type { Context } from '../../protocols/context.js';
import { MpcError } from '../../protocols/errors.js';
import { expectWords } from '../../protocols/wire.js';
import { type ModelConfig, validateConfig } from '../../models/config.js';
import { loadModelOrRandom, loadTokenizerOrBytes, RANDOM_MODEL_WARNING } from '../../models/model-source.js';
import { SecureDecoder } from '../../models/secure-decoder.js';
import { shareModel } from '../../models/secure-weights.js';
import { createSecurePolicy } from '../../eviction/secure/registry.js';
import { GEN_LINE_PREFIX, type GenLine, formatPrefillProgress, type GenerateResult, type PhaseCost, configError, parseGenerateArgs, parseGenerateInputs, resolveModelArg } from './generate-args.js';

export * from './generate-args.js';

const enc = new TextEncoder();

/** One round: P0 sends the public config to P1 and P2, P1 sends the public prompt length to P0 and P2. */
async function publicSetup(ctx: Context, config: ModelConfig | undefined, promptLength: number | undefined): Promise<{ config: ModelConfig; promptLength: number }> {
  const step = 'generate.setup';
  const send: Partial<Record<PartyId, Payload>> = {};
  if (ctx.party === 0) {
    const b = enc.encode(JSON.stringify(config));
    send[1] = b;
    send[2] = b;
  }
  if (ctx.party === 1) {
    const n = BigUint64Array.of(BigInt(promptLength!));
    send[0] = n;
    send[2] = n;
  }
  const recv = ([0, 1] as PartyId[]).filter((p) => p !== ctx.party);
  const got = await ctx.ch.exchange({ step, send, recv });
  let c = config;
  if (ctx.party !== 0) {
    const p = got.get(0);
    if (!(p instanceof Uint8Array)) throw new MpcError('MPC_ERR_PROTOCOL', 'party 0 did not send the model config', { party: ctx.party, peer: 0, step });
    try {
      c = validateConfig(JSON.parse(new TextDecoder().decode(p)) as ModelConfig, 'config from party 0');
    } catch (e) {
      throw new MpcError('MPC_ERR_PROTOCOL', `party 0 sent a bad model config: ${(e as Error).message}`, { party: ctx.party, peer: 0, step, cause: e });
    }
  }
  let T = promptLength;
  if (ctx.party !== 1) {
    const v = Number(expectWords(ctx, got, 1, 1, step)[0]);
    if (!Number.isSafeInteger(v) || v < 1 || v > c!.maxSeqLen) throw new MpcError('MPC_ERR_PROTOCOL', `party 1 sent a bad prompt length ${v}`, { party: ctx.party, peer: 1, step });
    T = v;
  }
  return { config: c!, promptLength: T! };
}

/** Traffic of this party since the call. */
function costOf(ctx: Context): () => StepStats {
  const before = snapshotStats(ctx.ch.stats);
  return () => diffStats(snapshotStats(ctx.ch.stats), before);
}

function phase(ms: number, s: StepStats): PhaseCost {
  return { ms, rounds: s.rounds, bytesSent: s.bytesSent };
}

async function runGenerate(ctx: Context, rawArgs: unknown, io: JobIO): Promise<GenerateResult> {
  const args = parseGenerateArgs(rawArgs);
  const inputs = parseGenerateInputs(ctx.party, io.inputs);
  // each role reads only what it needs
  const path = ctx.party === 0 ? resolveModelArg(inputs.model) : undefined;
  if (ctx.party === 0 && path === undefined) io.log(RANDOM_MODEL_WARNING);
  const weights = ctx.party === 0 ? await loadModelOrRandom(path) : undefined;
  const tokPath = ctx.party === 1 ? resolveModelArg(inputs.tokenizer) : undefined;
  if (ctx.party === 1 && tokPath === undefined) io.log('note: party 1 uses the byte tokenizer of the seeded random model (--tokenizer random, or no model file found)');
  const tokenizer = ctx.party === 1 ? await loadTokenizerOrBytes(tokPath) : undefined;
  const prompt = tokenizer?.encode(inputs.prompt!, { bos: true });
  const { config, promptLength } = await publicSetup(ctx, weights?.config, prompt?.length);
  if (tokenizer !== undefined && tokenizer.vocabSize !== config.vocabSize) {
    throw configError(`the tokenizer has ${tokenizer.vocabSize} tokens, the model ${config.vocabSize}`);
  }
  if (promptLength + args.tokens - 1 > config.maxSeqLen) throw configError(`prompt (${promptLength} tokens) + ${args.tokens} new tokens exceed the model's ${config.maxSeqLen} positions`);

  let done = costOf(ctx);
  let t = performance.now();
  const model = await shareModel(ctx, config, weights);
  const share = phase(performance.now() - t, done());

  const policy = createSecurePolicy(args.policy, config);
  // prefill progress (issue #14): a line at most every 2 s once the prefill has run 2 s, on every party
  let shown = 0;
  const onProgress = (e: Parameters<typeof formatPrefillProgress>[0]): void => {
    if (e.elapsedMs < 2000 || (e.fraction < 1 && e.elapsedMs - shown < 2000)) return;
    shown = e.elapsedMs;
    io.log(formatPrefillProgress(e));
  };
  const dec = new SecureDecoder(ctx, model, { policy, revealLogits: args.revealLogits, onProgress });
  const decoder = new TextDecoder('utf-8');
  const tokens: number[] = [];
  let text = '';
  let prev = prompt === undefined ? -1 : prompt[prompt.length - 1];
  let prefill: PhaseCost | undefined;
  done = costOf(ctx);
  t = performance.now();
  let last = t;
  const start = t;
  const r = await dec.generate(prompt, promptLength, args.tokens, {
    onToken: (i, choice) => {
      const now = performance.now();
      if (i === 0) {
        prefill = phase(now - start, done());
        done = costOf(ctx);
      }
      if (choice.token !== undefined && tokenizer !== undefined) {
        const piece = decoder.decode(tokenizer.decodePiece(prev, choice.token), { stream: true });
        prev = choice.token;
        tokens.push(choice.token);
        text += piece;
        const line: GenLine = { i, n: args.tokens, token: choice.token, piece, ms: Math.round((now - last) * 10) / 10 };
        io.log(GEN_LINE_PREFIX + JSON.stringify(line));
      }
      last = now;
    },
  });
  const decodeMs = r.stepMs.reduce((a, b) => a + b, 0);
  const decode = phase(decodeMs, done());
  if (tokenizer !== undefined) text += decoder.decode();
  return {
    party: ctx.party,
    ...(ctx.party === 0 ? { model: path ?? 'random' } : {}),
    promptLength,
    tokensGenerated: args.tokens,
    policy: args.policy,
    ...(ctx.party === 1 ? { tokens, text } : {}),
    share,
    prefill: prefill!,
    decode,
    msPerToken: r.stepMs.length > 0 ? decodeMs / r.stepMs.length : Number.NaN,
  };
}

/** The generate job (`--job generate`, or `--job-module cli/jobs/generate.ts#generateJob`). */
export const generateJob = Object.assign(runGenerate, {
  jobId: 'generate',
  publicArgs: parseGenerateArgs,
  checkInputs: parseGenerateInputs,
}) satisfies Job;
