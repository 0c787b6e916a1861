/**
 * Party-side job of the cost half of the policy map (bench/mpcache-map.ts): ONE whole secure
 * decode step (all layers + output head + secure argmax revealed to the user) of a model after
 * a `prompt`-token prompt, per secure policy (eviction/secure/registry.ts) and budget.
 *
 * The prompt is not prefilled: every layer starts from a SYNTHETIC secret cache in the state the
 * policy's prefill would leave (a public function of the prompt length and the budget):
 *   full, quest         all `prompt` tokens (quest: its page representatives prepared from the
 *                       public test keys);
 *   streaming-llm, snapkv, tova   B = resolveBudget(budget, prompt) tokens;
 *   mpcache (MPCache-R) Bs = min(prompt, floor(B / ratio2)) tokens (ratio2 the default, 0.2) and its block representatives
 *                       (prepare with public representatives of the public test keys);
 *   mpcache-v1          30% of the prompt, representatives prepared likewise.
 * The caches and weights are trivial sharings of public random test values: every protocol
 * sends the same messages whatever the values (top-k's iteration count is random in law), so
 * bytes, rounds and latency are those of secret data. One unmeasured warm-up step, then `reps`
 * measured steps (each on a fresh decoder and policy state).
 */
import { type BlockReps, publicBlockReps } from '../eviction/secure/block-reps.js';
import type { SecureMpCachePolicy } from '../eviction/secure/mpcache.js';
import type { SecureMpCacheRPolicy } from '../eviction/secure/mpcache-r.js';
import { mpcacheRDefaults, mpcacheRSplit } from '../eviction/secure/mpcache-r.js';
import { createSecurePolicy } from '../eviction/secure/registry.js';
import { type Budget, resolveBudget } from '../eviction/policy.js';
import { type ModelConfig, validateConfig } from '../models/config.js';
import { SecureDecoder } from '../models/secure-decoder.js';
import type { SecureKvPolicy, SecureLayerCache } from '../models/secure-hooks.js';
import type { JobIO } from '../parties/job.js';
import type { StepStats } from '../protocols/channel.js';
import type { Context } from '../protocols/context.js';
import { costOf } from '../protocols/measure.js';
import { constant } from '../protocols/sharing.js';
import { barrier, trivialCaches, trivialModel } from './mpcache-job.js';

export interface MapCase {
  readonly policy: string;
  /** budget ratio (ignored by full and mpcache-v1) */
  readonly ratio: number;
}

export interface MapStepArgs {
  readonly config: ModelConfig;
  readonly prompt: number;
  readonly reps: number;
  readonly cases: readonly MapCase[];
}

export interface MapStepResult {
  readonly policy: string;
  readonly ratio: number;
  /** cached tokens per layer before the step */
  readonly cacheLength: number;
  readonly ms: number[];
  /** traffic of the first measured step on this party */
  readonly cost: StepStats;
}

/** Cached tokens per layer the policy's prefill leaves for a prompt of T tokens. */
export function cachedAfterPrefill(policy: string, ratio: number, T: number): number {
  const B = resolveBudget({ ratio }, T);
  switch (policy) {
    case 'full':
    case 'quest':
      return T;
    case 'mpcache':
      return mpcacheRSplit(B, T, mpcacheRDefaults().ratio2, mpcacheRDefaults().recent).Bs;
    case 'mpcache-v1':
    case 'mpcache-noshare':
      return Math.max(1, Math.floor(0.3 * T + 1e-9));
    default:
      return B;
  }
}

function keysOf(ctx: Context, lc: SecureLayerCache): Float64Array {
  const keys = new Float64Array(lc.k.size);
  if (ctx.party !== 1) ctx.k.decodeFixed(ctx.party === 0 ? lc.k.s0 : lc.k.s1, ctx.f, keys);
  return keys;
}

async function preparePolicy(ctx: Context, c: ModelConfig, name: string, budget: Budget, caches: SecureLayerCache[], T: number): Promise<SecureKvPolicy | undefined> {
  if (name === 'full') return undefined;
  const policy = createSecurePolicy(name, c, { budget });
  if (name === 'mpcache') {
    const p = policy as SecureMpCacheRPolicy;
    for (const lc of caches) await p.prepare(ctx, lc, T, publicBlockReps(ctx, keysOf(ctx, lc), c.nKvHeads, lc.length, c.headDim, 16));
  } else if (name === 'mpcache-v1' || name === 'mpcache-noshare') {
    const p = policy as SecureMpCachePolicy;
    for (const lc of caches) await p.prepare(ctx, lc, publicBlockReps(ctx, keysOf(ctx, lc), c.nKvHeads, lc.length, c.headDim, p.params.block2));
  } else if (name === 'streaming-llm' || name === 'tova') {
    const p = policy as SecureKvPolicy & { prepare(layer: number, T: number): void };
    for (const lc of caches) p.prepare(lc.layer, T);
  } else if (name === 'quest') {
    const p = policy as SecureKvPolicy & { prepare(ctx: Context, cache: SecureLayerCache, T: number, reps?: BlockReps): Promise<void> };
    for (const lc of caches) await p.prepare(ctx, lc, T, publicBlockReps(ctx, keysOf(ctx, lc), c.nKvHeads, lc.length, c.headDim, 16));
  }
  return policy;
}

export async function mpcacheMapStep(ctx: Context, rawArgs: unknown, io: JobIO): Promise<MapStepResult[]> {
  const a = rawArgs as MapStepArgs;
  const c = validateConfig(a.config);
  const model = trivialModel(ctx, c, 17);
  const out: MapStepResult[] = [];
  const T = a.prompt;
  for (const cs of a.cases) {
    const n = cachedAfterPrefill(cs.policy, cs.ratio, T);
    const budget: Budget = { ratio: cs.ratio };
    const ms: number[] = [];
    let cost: StepStats | undefined;
    for (let r = 0; r <= a.reps; r++) {
      const caches = trivialCaches(ctx, c, n);
      const policy = await preparePolicy(ctx, c, cs.policy, budget, caches, T);
      const dec = new SecureDecoder(ctx, model, { ...(policy === undefined ? {} : { policy }), maxSeqLen: T + 2 });
      dec.resume(caches, T);
      const hot = constant(ctx, [1, c.vocabSize], Float64Array.from({ length: c.vocabSize }, (_, i) => (i === 7 ? 1 : 0)), 0);
      await barrier(ctx);
      const done = costOf(ctx);
      const t = performance.now();
      await dec.nextToken(await dec.step(hot));
      const dt = performance.now() - t;
      const st = done();
      if (r === 0) continue;
      ms.push(dt);
      cost ??= st;
    }
    io.log(`${cs.policy} ${Math.round(cs.ratio * 100)}%: cache ${n}, step ${ms.map((x) => x.toFixed(0)).join('/')} ms, ${cost!.rounds} rounds`);
    out.push({ policy: cs.policy, ratio: cs.ratio, cacheLength: n, ms, cost: cost! });
  }
  return out;
}
