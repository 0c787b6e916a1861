/**
 * Party job of the prefill benchmark (bench/prefill.ts), run by three processes over the
 * sealed WebSocket transport: P0 shares the model once, then for each prompt length n the
 * parties prefill a prompt of n tokens (P1's tokens, seeded public benchmark data) with the
 * given prefill method and chunk memory budget, and each party reports its prefill time,
 * traffic, the per-op-family profile (models/causal-attention.ts track) and its peak RSS.
 * Progress events are logged (io.log) once the prefill takes more than 2 s.
 */
import type { JobIO } from '../parties/job.js';
import { type ModelConfig, validateConfig } from '../models/config.js';
import { loadWeights } from '../models/load.js';
import { NonSecretTestRng, randomWeights } from '../models/random-weights.js';
import { SecureDecoder } from '../models/secure-decoder.js';
import { shareModel } from '../models/secure-weights.js';
import type { PrefillProfile } from '../models/causal-attention.js';
import type { Context } from '../protocols/context.js';
import type { ModelWeights } from '../models/weights.js';

export interface PrefillBenchArgs {
  readonly model: { readonly path: string } | { readonly random: ModelConfig; readonly seed: number };
  readonly config: ModelConfig;
  readonly lengths: readonly number[];
  readonly method: 'causal' | 'square';
  readonly memMb: number;
  readonly maxRoundWords?: number;
}

export interface PrefillLengthResult {
  readonly length: number;
  readonly ms: number;
  readonly bytesSent: number;
  readonly rounds: number;
  readonly profile: [string, { ms: number; bytes: number; rounds: number }][];
  /** process peak RSS after this length, MB (monotone over the run) */
  readonly peakRssMb: number;
}

export interface PrefillBenchResult {
  readonly party: number;
  readonly shareMs: number;
  readonly lengths: PrefillLengthResult[];
}

export async function prefillBenchJob(ctx: Context, rawArgs: unknown, io: JobIO): Promise<PrefillBenchResult> {
  const args = rawArgs as PrefillBenchArgs;
  const c = validateConfig(args.config);
  let weights: ModelWeights | undefined;
  if (ctx.party === 0) weights = 'path' in args.model ? await loadWeights(args.model.path) : randomWeights(args.model.random, args.model.seed);
  let t = performance.now();
  const model = await shareModel(ctx, c, weights, { maxRoundWords: args.maxRoundWords });
  weights = undefined;
  const shareMs = performance.now() - t;
  io.log(`shared the model in ${shareMs.toFixed(0)} ms`);
  const out: PrefillLengthResult[] = [];
  for (const n of args.lengths) {
    const profile: PrefillProfile = new Map();
    let last = 0;
    const dec = new SecureDecoder(ctx, model, {
      ...(c.positions === 'rope' && n > c.maxSeqLen ? { maxSeqLen: n } : {}),
      prefillAttention: args.method,
      prefillMemMb: args.memMb,
      prefillProfile: profile,
      onProgress: (e) => {
        if (e.elapsedMs < 2000 || e.elapsedMs - last < 5000) return;
        last = e.elapsedMs;
        io.log(`prefill ${n}: layer ${e.layer + 1}/${e.layers}, ${e.tokensDone}/${e.tokens} rows, ${(e.elapsedMs / 1000).toFixed(0)} s, ~${(e.remainingMs / 1000).toFixed(0)} s to go`);
      },
    });
    const rng = new NonSecretTestRng(11 + n);
    const prompt = ctx.party === 1 ? Array.from({ length: n }, (_, i) => (i === 0 ? 1 : 3 + (rng.nextU32() % (c.vocabSize - 3)))) : undefined;
    const b = ctx.ch.stats.bytesSent;
    const r = ctx.ch.stats.rounds;
    t = performance.now();
    await dec.prefill(prompt, n);
    const ms = performance.now() - t;
    const res: PrefillLengthResult = {
      length: n,
      ms,
      bytesSent: ctx.ch.stats.bytesSent - b,
      rounds: ctx.ch.stats.rounds - r,
      profile: [...profile],
      peakRssMb: process.resourceUsage().maxRSS / 1024,
    };
    io.log(`prefill ${n} (${args.method}): ${(ms / 1000).toFixed(1)} s, ${(res.bytesSent / 1e6).toFixed(0)} MB sent, ${res.rounds} rounds, peak RSS ${res.peakRssMb.toFixed(0)} MB`);
    out.push(res);
  }
  return { party: ctx.party, shareMs, lengths: out };
}
