/**
 * Rounds (and bytes) of ONE decode token, broken down by step tag and by op family: three
 * in-process parties (parties/in-process.ts, in-memory channels, so only the counts are
 * meaningful, not the time), one decoder resumed from a random KV cache of `--ctx` entries,
 * one warm-up step, then one measured token = SecureDecoder.decodeNext (forward step + secure
 * argmax + reveal to P1).
 *
 *   npx tsx scripts/decode-rounds.ts [--model default|gpt2|llama-gpt2dims] [--ctx 256]
 *                                    [--layers N] [--tags] [--policy NAME] [--json]
 *                                    [--trunc faithful|prob]
 *
 * --model default: models/default (its real weights); gpt2 / llama-gpt2dims: GPT-2-small
 * dimensions with seeded random weights (the counts depend on the shapes only).
 * --trunc: the decoder's truncation mode (SecureDecoder truncMode; default 'faithful', what the
 * decoder installs, models/trunc-policy.ts; 'prob' for the old one-round cost). --layers N
 * keeps only the first N layers (the rounds of a layer do not depend on the layer).
 * Families: the first dot-separated part of each step tag (mulTrunc, trunc, argmax, ...); a
 * round shared by parallel lanes (protocols/parallel.ts) carries the lanes' tags joined by
 * '|' and is counted once, under 'parallel(<families>)'.
 */
import { join } from 'node:path';
import { loadWeights } from '../models/load.js';
import { repoRoot } from '../models/model-source.js';
import { GPT2_SMALL, LLAMA_BLOCKS_GPT2_DIMS, type ModelConfig, validateConfig } from '../models/config.js';
import { NonSecretTestRng, randomWeights } from '../models/random-weights.js';
import { SecureDecoder } from '../models/secure-decoder.js';
import type { SecureLayerCache } from '../models/secure-hooks.js';
import { shareModel } from '../models/secure-weights.js';
import type { ModelWeights } from '../models/weights.js';
import { runInProcess } from '../parties/in-process.js';
import type { StepStats } from '../protocols/channel.js';
import type { Context } from '../protocols/context.js';
import { inputMany } from '../protocols/sharing.js';
import { createSecurePolicy } from '../eviction/secure/registry.js';
import type { TruncMode } from '../protocols/context.js';

interface Args {
  model: string;
  ctx: number;
  layers: number | undefined;
  tags: boolean;
  json: boolean;
  policy: string | undefined;
  trunc: TruncMode;
}

function parse(argv: readonly string[]): Args {
  const a: Args = { model: 'default', ctx: 256, layers: undefined, tags: false, json: false, policy: undefined, trunc: 'faithful' };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = argv[i + 1];
    if (k === '--model') a.model = v, i++;
    else if (k === '--ctx') a.ctx = Number(v), i++;
    else if (k === '--layers') a.layers = Number(v), i++;
    else if (k === '--policy') a.policy = v, i++;
    else if (k === '--trunc') a.trunc = v as TruncMode, i++;
    else if (k === '--tags') a.tags = true;
    else if (k === '--json') a.json = true;
    else throw new RangeError(`unknown argument ${k}`);
  }
  if (a.trunc !== 'faithful' && a.trunc !== 'prob') throw new RangeError(`--trunc: faithful or prob, not ${String(a.trunc)}`);
  if (!Number.isSafeInteger(a.ctx) || a.ctx < 1) throw new RangeError('--ctx needs a positive integer');
  return a;
}

async function randomCache(ctx: Context, c: ModelConfig, n: number): Promise<SecureLayerCache[]> {
  const shape = [c.nKvHeads, n, c.headDim];
  const size = shape[0] * shape[1] * shape[2];
  const rng = new NonSecretTestRng(7 + n);
  const items = Array.from({ length: 2 * c.nLayers }, () => ({ shape, values: ctx.party === 0 ? Float64Array.from(rng.fillUniform(new Float32Array(size), 0.5)) : undefined }));
  const kv = await inputMany(ctx, 0, items);
  return Array.from({ length: c.nLayers }, (_, l) => ({ layer: l, nHeads: c.nHeads, nKvHeads: c.nKvHeads, headDim: c.headDim, length: n, k: kv[2 * l], v: kv[2 * l + 1] }));
}

function family(tag: string): string {
  if (tag.includes('|')) {
    const fams = [...new Set(tag.split('|').map((t) => t.split('.')[0].split('…')[0]))].sort();
    return `parallel(${fams.join(',')})`;
  }
  return tag.split('.')[0];
}

async function main(): Promise<void> {
  const a = parse(process.argv.slice(2));
  let full: ModelConfig;
  let weights: ModelWeights;
  if (a.model === 'default') {
    weights = await loadWeights(join(repoRoot(), 'models', 'default'));
    full = weights.config;
  } else if (a.model === 'gpt2' || a.model === 'llama-gpt2dims') {
    full = a.model === 'gpt2' ? GPT2_SMALL : { ...LLAMA_BLOCKS_GPT2_DIMS, maxSeqLen: 2048 };
    weights = randomWeights(validateConfig({ ...full, nLayers: a.layers ?? full.nLayers }), 124);
  } else throw new RangeError(`--model: default, gpt2 or llama-gpt2dims, not ${a.model}`);
  const L = a.layers ?? full.nLayers;
  const config = validateConfig({ ...full, nLayers: L });
  if (weights.config.nLayers !== L) weights = { ...weights, config, layers: weights.layers.slice(0, L) } as ModelWeights;
  const results = await runInProcess(async (ctx) => {
    const model = await shareModel(ctx, config, ctx.party === 0 ? weights : undefined);
    const policy = a.policy === undefined ? undefined : createSecurePolicy(a.policy, config);
    const dec = new SecureDecoder(ctx, model, { maxSeqLen: a.ctx + 4, policy, truncMode: a.trunc });
    dec.resume(await randomCache(ctx, config, a.ctx), a.ctx);
    let choice = { oneHot: await dec.inputToken(ctx.party === 1 ? 1 : undefined) };
    choice = await dec.decodeNext(choice.oneHot); // warm-up (and policy state)
    const before = new Map<string, StepStats>([...ctx.ch.stats.byStep].map(([k, v]) => [k, { ...v }]));
    const r0 = ctx.ch.stats.rounds;
    const b0 = ctx.ch.stats.bytesSent;
    const tStep = performance.now();
    await dec.decodeNext(choice.oneHot);
    const ms = performance.now() - tStep;
    const byTag = new Map<string, { rounds: number; bytes: number }>();
    for (const [k, v] of ctx.ch.stats.byStep) {
      const b = before.get(k);
      const rounds = v.rounds - (b?.rounds ?? 0);
      const bytes = v.bytesSent - (b?.bytesSent ?? 0);
      if (rounds > 0) byTag.set(k, { rounds, bytes });
    }
    return { rounds: ctx.ch.stats.rounds - r0, bytes: ctx.ch.stats.bytesSent - b0, byTag, ms };
  });
  const p0 = results[0];
  const fam = new Map<string, { rounds: number; bytes: number }>();
  for (const [k, v] of p0.byTag) {
    const f = family(k);
    const e = fam.get(f) ?? { rounds: 0, bytes: 0 };
    e.rounds += v.rounds;
    fam.set(f, e);
  }
  for (const r of results) for (const [k, v] of r.byTag) {
    const e = fam.get(family(k))!;
    e.bytes += v.bytes;
  }
  const out = {
    model: a.model, ctx: a.ctx, trunc: a.trunc, layers: L, fullLayers: full.nLayers,
    roundsPerToken: p0.rounds,
    roundsPerParty: results.map((r) => r.rounds),
    bytesPerTokenPerParty: results.map((r) => r.bytes),
    families: Object.fromEntries([...fam].sort((x, y) => y[1].rounds - x[1].rounds)),
  };
  if (a.json) {
    console.log(JSON.stringify(out, null, 1));
    return;
  }
  console.log(`${a.model} ctx ${a.ctx}, truncation ${a.trunc}, ${L}${L !== full.nLayers ? ` of ${full.nLayers}` : ''} layers: ${p0.rounds} rounds/token (decodeNext: forward step + argmax + reveal; per party ${results.map((r) => r.rounds).join(' / ')}); bytes/party ${results.map((r) => (r.bytes / 1e3).toFixed(0) + ' kB').join(' / ')}; in-process ${p0.ms.toFixed(0)} ms`);
  console.log('family                         rounds   kB (3 parties)');
  for (const [f, v] of [...fam].sort((x, y) => y[1].rounds - x[1].rounds)) console.log(`${f.padEnd(30)} ${String(v.rounds).padStart(6)}   ${(v.bytes / 1e3).toFixed(0).padStart(8)}`);
  if (a.tags) {
    console.log('\nstep tag rounds (party 0):');
    for (const [k, v] of [...p0.byTag].sort((x, y) => y[1].rounds - x[1].rounds)) console.log(`${String(v.rounds).padStart(5)}  ${k}`);
  }
}

await main();
