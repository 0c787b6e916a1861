/**
 * Party job of the generation benchmark (bench/generation.ts), run by three processes over
 * the encrypted transport. One session: P0 shares the model once, then for each context
 * length n the parties either prefill a prompt of n tokens (P1's tokens, seeded public
 * benchmark data) or, with `synthetic`, start from a KV cache of n random entries that P0
 * inputs (decode cost depends on the cache length only, not on its content), then run
 * WARMUP_STEPS unmeasured warm-up steps and `steps` measured decode steps, each = one forward step +
 * secure argmax + reveal to P1.
 * Returns, per context, this party's prefill time/traffic and per-token decode time/traffic.
 */
import type { JobIO } from '../parties/job.js';
import { type StepStats, diffStats, snapshotStats } from '../protocols/channel.js';
import type { Context } from '../protocols/context.js';
import { inputMany } from '../protocols/sharing.js';
import { type ModelConfig, validateConfig } from '../models/config.js';
import { loadWeights } from '../models/load.js';
import { NonSecretTestRng, randomWeights } from '../models/random-weights.js';
import { SecureDecoder, type TokenChoice } from '../models/secure-decoder.js';
import type { SecureLayerCache } from '../models/secure-hooks.js';
import { shareModel } from '../models/secure-weights.js';
import type { ModelWeights } from '../models/weights.js';
import { countBytesToPeers, type PeerBytes } from './peer-bytes.js';

/** unmeasured decode steps before the measured ones, per context */
export const WARMUP_STEPS = 3;

export interface GenerationBenchArgs {
  /** a weights path (P0 reads it) or a random model */
  readonly model: { readonly path: string } | { readonly random: ModelConfig; readonly seed: number };
  /** the public config (the launcher read it; P0 checks it against the file) */
  readonly config: ModelConfig;
  readonly contexts: readonly number[];
  /** decode steps measured per context */
  readonly steps: number;
  /** contexts at which the cache is input as random shares instead of a prefill */
  readonly synthetic?: readonly number[];
  /** most words per weight-sharing round */
  readonly maxRoundWords?: number;
}

export interface ContextResult {
  readonly context: number;
  readonly synthetic: boolean;
  readonly prefillMs: number;
  readonly prefillBytesSent: number;
  readonly prefillRounds: number;
  readonly msPerToken: number;
  readonly bytesPerToken: number;
  /** of bytesPerToken, to each party id (0 to itself) */
  readonly bytesToPeerPerToken: PeerBytes;
  readonly roundsPerToken: number;
}

export interface GenerationBenchResult {
  readonly party: number;
  readonly shareMs: number;
  readonly shareBytesSent: number;
  readonly contexts: ContextResult[];
}

function costOf(ctx: Context): () => StepStats {
  const before = snapshotStats(ctx.ch.stats);
  return () => diffStats(snapshotStats(ctx.ch.stats), before);
}

async function randomCache(ctx: Context, c: ModelConfig, n: number, seed: number): Promise<SecureLayerCache[]> {
  const shape = [c.nKvHeads, n, c.headDim];
  const size = shape[0] * shape[1] * shape[2];
  const rng = new NonSecretTestRng(seed);
  const items = Array.from({ length: 2 * c.nLayers }, () => ({
    shape,
    values: ctx.party === 0 ? Float64Array.from(rng.fillUniform(new Float32Array(size), 0.5)) : undefined,
  }));
  const kv = await inputMany(ctx, 0, items);
  return Array.from({ length: c.nLayers }, (_, l) => ({ layer: l, nHeads: c.nHeads, nKvHeads: c.nKvHeads, headDim: c.headDim, length: n, k: kv[2 * l], v: kv[2 * l + 1] }));
}

export async function generationBenchJob(ctx: Context, rawArgs: unknown, io: JobIO): Promise<GenerationBenchResult> {
  const args = rawArgs as GenerationBenchArgs;
  const c = validateConfig(args.config);
  const toPeer = countBytesToPeers(ctx.ch);
  let weights: ModelWeights | undefined;
  if (ctx.party === 0) weights = 'path' in args.model ? await loadWeights(args.model.path) : randomWeights(args.model.random, args.model.seed);
  let done = costOf(ctx);
  let t = performance.now();
  const model = await shareModel(ctx, c, weights, { maxRoundWords: args.maxRoundWords });
  weights = undefined;
  const shareMs = performance.now() - t;
  const shareBytesSent = done().bytesSent;
  io.log(`shared the model in ${shareMs.toFixed(0)} ms`);
  const out: ContextResult[] = [];
  for (const n of args.contexts) {
    const synthetic = args.synthetic?.includes(n) ?? false;
    const dec = new SecureDecoder(ctx, model, { maxSeqLen: n + args.steps + WARMUP_STEPS + 2 });
    done = costOf(ctx);
    t = performance.now();
    let choice: TokenChoice;
    if (synthetic) {
      dec.resume(await randomCache(ctx, c, n, 7 + n), n);
      choice = { token: undefined, logits: undefined, oneHot: await dec.inputToken(ctx.party === 1 ? 1 : undefined) };
    } else {
      const rng = new NonSecretTestRng(11 + n);
      const prompt = ctx.party === 1 ? Array.from({ length: n }, (_, i) => (i === 0 ? 1 : 3 + (rng.nextU32() % (c.vocabSize - 3)))) : undefined;
      choice = await dec.nextToken(await dec.prefill(prompt, n));
    }
    const prefillMs = performance.now() - t;
    const pre = done();
    // unmeasured steps first (JIT warm-up, lazily sized buffers, the heap's first growth):
    // with one, a session's first context measured up to 1.5x slower than the later ones
    for (let s = 0; s < WARMUP_STEPS; s++) choice = await dec.decodeNext(choice.oneHot);
    done = costOf(ctx);
    const peer0: PeerBytes = [...toPeer];
    t = performance.now();
    for (let s = 0; s < args.steps; s++) choice = await dec.decodeNext(choice.oneHot);
    const ms = performance.now() - t;
    const dc = done();
    const r: ContextResult = {
      context: n,
      synthetic,
      prefillMs,
      prefillBytesSent: pre.bytesSent,
      prefillRounds: pre.rounds,
      msPerToken: ms / args.steps,
      bytesPerToken: dc.bytesSent / args.steps,
      bytesToPeerPerToken: toPeer.map((b, i) => (b - peer0[i]) / args.steps) as PeerBytes,
      roundsPerToken: dc.rounds / args.steps,
    };
    io.log(`context ${n}${synthetic ? ' (synthetic cache)' : ''}: prefill ${prefillMs.toFixed(0)} ms, decode ${r.msPerToken.toFixed(0)} ms/token, ${(r.bytesPerToken / 1e3).toFixed(0)} kB/token, ${r.roundsPerToken.toFixed(0)} rounds/token`);
    out.push(r);
  }
  return { party: ctx.party, shareMs, shareBytesSent, contexts: out };
}
