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
 * P1 reports each token as it is produced as a `token` event (fields i, n, token, text, ms;
 * parties/job-output.ts: plain text on a terminal, a JSON line with --json, what the demo
 * renders live); it returns the tokens and the text. P0 and P2 report progress events
 * (`progress`: weights shared, prefill done, every token) that `--quiet` hides.
 * Every party returns its timings and traffic per phase (share / prefill / decode).
 *
 * Public arguments (the same JSON on every party, compared before the job starts; defaults
 * filled by parseGenerateArgs): { tokens?: number (default 24), policy?: name (default
 * 'full'), revealLogits?: boolean (default false), budget?: {ratio} | {tokens} and
 * policyOptions?: {...} (policy-args.ts), weights?: 'held' (the shares `mpcache serve` keeps,
 * cli/serve/held-weights.ts, instead of sharing the model in this session) }. Before
 * connecting each party runs generate-preflight.ts (model, tokenizer, prompt, context). Private inputs (io.inputs, each party its
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
import { RANDOM_MODEL_WARNING } from '../../models/model-source.js';
import { SecureDecoder } from '../../models/secure-decoder.js';
import { shareModel } from '../../models/secure-weights.js';
import { type GenLine, type GenerateResult, type PhaseCost, checkContext, configError, parseGenerateArgs, parseGenerateInputs, resolveModelArg } from './generate-args.js';
import { encodePrompt, loadModelChecked, loadTokenizerChecked } from './generate-preflight.js';
import { makeSecurePolicy, shortPromptWarning } from './policy-args.js';

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
    if (!Number.isSafeInteger(v) || v < 1) throw new MpcError('MPC_ERR_PROTOCOL', `party 1 sent a bad prompt length ${v}`, { party: ctx.party, peer: 1, step });
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
  const progress = (line: string, extra: Record<string, unknown> = {}) => {
    if (ctx.party !== 1) io.emit?.({ event: 'progress', line: `party ${ctx.party}: ${line}`, ...extra });
  };
  const path = ctx.party === 0 ? resolveModelArg(inputs.model) : undefined;
  if (ctx.party === 0 && path === undefined) {
    io.log(inputs.model === 'random' ? 'note: --model random: the SEEDED RANDOM-WEIGHT model (stories260K shape, byte tokenizer); its text is meaningless' : RANDOM_MODEL_WARNING);
  }
  const weights = ctx.party === 0 ? await loadModelChecked(path) : undefined;
  const tokPath = ctx.party === 1 ? resolveModelArg(inputs.tokenizer) : undefined;
  if (ctx.party === 1 && tokPath === undefined && inputs.tokenizer !== 'random') io.log('note: party 1 uses the byte tokenizer of the seeded random model (no model file found)');
  const tokenizer = ctx.party === 1 ? await loadTokenizerChecked(tokPath) : undefined;
  const prompt = tokenizer === undefined ? undefined : encodePrompt(tokenizer, inputs.prompt!);
  const { config, promptLength } = await publicSetup(ctx, weights?.config, prompt?.length);
  if (tokenizer !== undefined && tokenizer.vocabSize !== config.vocabSize) {
    throw configError(`the tokenizer has ${tokenizer.vocabSize} tokens, the model ${config.vocabSize}`);
  }
  // every party checks the public lengths alike, so all three stop with the same one line
  checkContext(promptLength, args.tokens, config.maxSeqLen);
  const warn = shortPromptWarning(args, promptLength);
  if (warn !== undefined && ctx.party === 1) io.log(warn);

  let done = costOf(ctx);
  let t = performance.now();
  const model = args.weights === 'held' ? await (await import('../serve/held-weights.js')).heldShareModel(ctx, config, weights) : await shareModel(ctx, config, weights);
  const share = phase(performance.now() - t, done());
  progress(`weights shared (${(share.bytesSent / 1e6).toFixed(2)} MB sent, ${share.ms.toFixed(0)} ms); prefill of ${promptLength} prompt tokens`, { phase: 'share', ms: share.ms, bytesSent: share.bytesSent });

  const policy = makeSecurePolicy(args, config, promptLength);
  const dec = new SecureDecoder(ctx, model, { policy, revealLogits: args.revealLogits });
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
        progress(`prefill done, first token (${prefill.ms.toFixed(0)} ms)`, { phase: 'prefill', ms: prefill.ms });
      } else progress(`token ${i + 1}/${args.tokens} (${(now - last).toFixed(0)} ms)`, { phase: 'decode', i, n: args.tokens });
      if (choice.token !== undefined && tokenizer !== undefined) {
        const piece = decoder.decode(tokenizer.decodePiece(prev, choice.token), { stream: true });
        prev = choice.token;
        tokens.push(choice.token);
        text += piece;
        const ev: GenLine = { event: 'token', i, n: args.tokens, token: choice.token, text: piece, ms: Math.round((now - last) * 10) / 10 };
        io.emit?.({ ...ev });
      }
      last = now;
    },
  });
  const decodeMs = r.stepMs.reduce((a, b) => a + b, 0);
  const decode = phase(decodeMs, done());
  if (tokenizer !== undefined) text += decoder.decode();
  const all = snapshotStats(ctx.ch.stats);
  progress(`done: ${args.tokens} tokens, ${(decodeMs / Math.max(1, r.stepMs.length)).toFixed(0)} ms per decode step, ${(all.bytesSent / 1e6).toFixed(2)} MB sent in ${all.rounds} rounds`, { phase: 'done' });
  return {
    party: ctx.party,
    ...(ctx.party === 0 ? { model: path ?? 'random' } : {}),
    promptLength,
    tokensGenerated: args.tokens,
    policy: args.policy,
    ...(ctx.party === 1 ? { tokens, text } : {}),
    ...(ctx.party === 1 && r.logits !== undefined ? { logits: r.logits } : {}),
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
