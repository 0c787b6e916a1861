/**
 * Private generation benchmark: ms/token, bytes/token and rounds/token per party, three
 * party processes over the ENCRYPTED WebSocket transport on loopback (parties/launcher.ts),
 * job in bench/generation-job.ts.
 *
 *  - stories260K (../shared/models/stories260K) at contexts 64 / 256 / 512: a prompt of that
 *    many tokens is prefilled (timed separately), then `steps` decode steps are timed; each
 *    step is a full token: forward pass + secure argmax + reveal to P1. The model was trained
 *    on 512 positions; at 512 the decode steps run at positions 512.. (RoPE has no limit, the
 *    cost is what is measured).
 *  - GPT-2 small, the real architecture (LayerNorm with bias, learned positions, GeLU MLP,
 *    biases, tied head; 12 layers, d=768, 12 heads, 3072 hidden, vocabulary 50257, 1024
 *    positions) with seeded random weights, at contexts 128 / 512 / 1016: a real prefill at 128;
 *    at 512 and 1016 the KV cache is input by P0 as random shares (a prefill of that length costs
 *    minutes on a small machine; the decode cost depends only on the cache length; 1016 leaves
 *    the warm-up and measured steps inside the 1024 learned positions). Prefill time is reported
 *    where a prefill ran.
 *  - with `--llama-blocks`: the old rows, Llama blocks (RMSNorm, RoPE, SwiGLU) at GPT-2-small
 *    dimensions ('llama_blocks_gpt2dims'), for comparing the two block families.
 * Figures: s260k_tokens_per_s_ctx256 (target >= 3), gpt2_s_per_token_ctx512 (target <= 1.5),
 * plus per-context ms/token and bytes/token per party.
 *  - the project's default model (models/default, what `npm run demo` runs) at contexts 64 / 256:
 *    `default_model_private_tokens_per_s` is its tokens/s at 256 (issue #8's target >= 2).
 * Args: `--quick` (stories260K at 64 only, 2 steps, no GPT-2), `--no-gpt2`, `--no-default`, `--no-s260k`,
 * `--llama-blocks`, `--steps N`, `--models s260k,default,gpt2` (these only; llama_blocks_gpt2dims
 * with --llama-blocks), `--contexts 256` (these context lengths only).
 * `--net SETTING` (bench/run.ts) runs the three parties through the link emulator
 * (parties/netem/); every figure key then carries the setting after the model key
 * (`default_wan40_ms_per_token_ctx256`, `default_wan40_s_per_token_ctx256`, ...) and
 * `default_model_private_tokens_per_s` becomes `default_model_private_tokens_per_s_wan40`.
 * Every run also writes `<model>_max_link_bytes_per_token_ctx<n>`: payload bytes per token on
 * the busiest directed link (a party to one peer), the bandwidth term of the rule of thumb.
 */
import { existsSync } from 'node:fs';
import { runLocalParties } from '../parties/launcher.js';
import { GPT2_SMALL, LLAMA_BLOCKS_GPT2_DIMS, type ModelConfig } from '../models/config.js';
import { loadWeights } from '../models/load.js';
import { repoRoot } from '../models/model-source.js';
import type { NetSetting } from '../parties/netem/settings.js';
import type { GenerationBenchArgs, GenerationBenchResult } from './generation-job.js';
import { linkLabel, netSuffix } from './net-keys.js';
import { longJobTimeouts } from './protocols.js';
import type { BenchOptions, BenchResult } from './types.js';
import { join } from 'node:path';

const JOB = 'bench/generation-job.ts#generationBenchJob';

interface Run {
  readonly label: string;
  readonly key: string;
  readonly results: GenerationBenchResult[];
  readonly wallMs: number;
}

async function run(label: string, key: string, args: GenerationBenchArgs, notes: string[], net: NetSetting | undefined): Promise<Run> {
  const t = performance.now();
  const r = await runLocalParties({
    net,
    jobModule: join(repoRoot(), JOB),
    jobArgs: args,
    ...longJobTimeouts(600_000),
    timeoutMs: 1_200_000,
    onLine: (p, line) => process.stderr.write(`[${key} P${p}] ${line}\n`),
  });
  const results = r.results as GenerationBenchResult[];
  const relay = r.relay ? `; relay: pieces released p50 ${r.relay.lateUs.p50} us / p99 ${r.relay.lateUs.p99} us after due, relay CPU ${((100 * r.relay.cpuMs) / r.relay.wallMs).toFixed(0)}%` : '';
  notes.push(`${label}: weights shared in ${(results[0].shareMs / 1000).toFixed(1)} s (P0 sent ${(results[0].shareBytesSent / 1e6).toFixed(1)} MB); run wall ${((performance.now() - t) / 1000).toFixed(1)} s; ${r.stats[0].mode} channels, ${r.stats[0].kernels} kernels${relay}`);
  return { label, key, results, wallMs: r.wallMs };
}

function collect(runs: readonly Run[], rows: Record<string, string | number>[], figures: Record<string, number>, net: NetSetting | undefined): void {
  const sfx = netSuffix(net);
  for (const r of runs) {
    const k = `${r.key}${sfx}`;
    for (let i = 0; i < r.results[0].contexts.length; i++) {
      const per = r.results.map((p) => p.contexts[i]);
      const ctxLen = per[0].context;
      // the parties run in lockstep; the slowest party's time is the latency
      const ms = Math.max(...per.map((p) => p.msPerToken));
      const maxLink = Math.max(...per.flatMap((p) => p.bytesToPeerPerToken));
      rows.push({
        model: r.label,
        context: ctxLen,
        prefill: per[0].synthetic ? 'synthetic cache' : `${(Math.max(...per.map((p) => p.prefillMs)) / 1000).toFixed(2)} s`,
        'ms/token': ms,
        'tokens/s': 1000 / ms,
        'kB/token P0': per[0].bytesPerToken / 1e3,
        'kB/token P1': per[1].bytesPerToken / 1e3,
        'kB/token P2': per[2].bytesPerToken / 1e3,
        'rounds/token': per[0].roundsPerToken,
        'busiest link kB/token': maxLink / 1e3,
      });
      figures[`${k}_ms_per_token_ctx${ctxLen}`] = ms;
      for (let p = 0; p < 3; p++) figures[`${k}_bytes_per_token_ctx${ctxLen}_p${p}`] = per[p].bytesPerToken;
      figures[`${k}_max_link_bytes_per_token_ctx${ctxLen}`] = maxLink;
      figures[`${k}_rounds_per_token_ctx${ctxLen}`] = per[0].roundsPerToken;
      if (!per[0].synthetic) figures[`${k}_prefill_s_ctx${ctxLen}`] = Math.max(...per.map((p) => p.prefillMs)) / 1000;
      if (r.key === 's260k' || r.key === 'default') figures[`${k}_tokens_per_s_ctx${ctxLen}`] = 1000 / ms;
      if (r.key === 'default' && ctxLen === 256) figures[`default_model_private_tokens_per_s${sfx}`] = 1000 / ms;
      if (r.key === 'gpt2' || r.key === 'llama_blocks_gpt2dims' || sfx !== '') figures[`${k}_s_per_token_ctx${ctxLen}`] = ms / 1000;
    }
  }
}

function intArg(args: readonly string[], name: string, dflt: number): number {
  const i = args.indexOf(name);
  if (i < 0) return dflt;
  const v = Number(args[i + 1]);
  if (!Number.isSafeInteger(v) || v < 1) throw new RangeError(`${name} needs a positive integer`);
  return v;
}

function listArg(args: readonly string[], name: string): string[] | undefined {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  const v = args[i + 1];
  if (v === undefined || v.startsWith('--')) throw new RangeError(`${name} needs a comma-separated list`);
  return v.split(',').map((x) => x.trim());
}

const MODEL_KEYS = ['s260k', 'default', 'gpt2', 'llama_blocks_gpt2dims'] as const;

export default async function generationBench(opts: BenchOptions): Promise<BenchResult> {
  const quick = opts.quick === true;
  const steps = intArg(opts.args, '--steps', quick ? 2 : 4);
  const models = listArg(opts.args, '--models');
  for (const m of models ?? []) if (!(MODEL_KEYS as readonly string[]).includes(m)) throw new RangeError(`--models: unknown model '${m}' (known: ${MODEL_KEYS.join(', ')})`);
  const want = (m: (typeof MODEL_KEYS)[number]): boolean => models === undefined || models.includes(m);
  const onlyCtx = listArg(opts.args, '--contexts')?.map(Number);
  if (onlyCtx?.some((n) => !Number.isSafeInteger(n) || n < 1)) throw new RangeError('--contexts takes a comma-separated list of positive integers');
  const ctxs = (all: number[]): number[] => (onlyCtx === undefined ? all : all.filter((n) => onlyCtx.includes(n)));
  const net = opts.net;
  const notes: string[] = [];
  const runs: Run[] = [];
  const s260 = join(repoRoot(), '..', 'shared', 'models', 'stories260K', 'stories260K.bin');
  if (opts.args.includes('--no-s260k')) {
    notes.push('stories260K skipped (--no-s260k)');
  } else if (!want('s260k') || ctxs(quick ? [64] : [64, 256, 512]).length === 0) {
    // not asked for
  } else if (existsSync(s260)) {
    const config: ModelConfig = (await loadWeights(s260)).config;
    runs.push(await run('stories260K', 's260k', { model: { path: s260 }, config, contexts: ctxs(quick ? [64] : [64, 256, 512]), steps }, notes, net));
  } else {
    notes.push(`stories260K not found at ${s260}: its rows are skipped`);
  }
  const dflt = join(repoRoot(), 'models', 'default');
  if (!want('default') || opts.args.includes('--no-default') || ctxs(quick ? [64] : [64, 256]).length === 0) {
    // not asked for
  } else if (existsSync(join(dflt, 'model.safetensors'))) {
    // the project's own default model (what `npm run demo` runs): issue #8's private speed figure
    const config: ModelConfig = (await loadWeights(dflt)).config;
    runs.push(await run('default model (models/default)', 'default', { model: { path: dflt }, config, contexts: ctxs(quick ? [64] : [64, 256]), steps }, notes, net));
  } else {
    notes.push(`the default model was not found at ${dflt}: its rows are skipped`);
  }
  if (!quick && !opts.args.includes('--no-gpt2') && want('gpt2') && ctxs([128, 512, 1016]).length > 0) {
    const config: ModelConfig = GPT2_SMALL;
    runs.push(
      await run(
        'GPT-2 small (real architecture, random weights)',
        'gpt2',
        { model: { random: config, seed: 124 }, config, contexts: ctxs([128, 512, 1016]), synthetic: [512, 1016], steps: Math.min(steps, 3), maxRoundWords: 2 ** 24 },
        notes,
        net,
      ),
    );
  }
  if (!quick && opts.args.includes('--llama-blocks') && want('llama_blocks_gpt2dims') && ctxs([512]).length > 0) {
    const config: ModelConfig = { ...LLAMA_BLOCKS_GPT2_DIMS, maxSeqLen: 2048 };
    runs.push(
      await run(
        'Llama blocks at GPT-2-small dims (NOT GPT-2; random weights)',
        'llama_blocks_gpt2dims',
        { model: { random: config, seed: 124 }, config, contexts: [512], synthetic: [512], steps: Math.min(steps, 3), maxRoundWords: 2 ** 24 },
        notes,
        net,
      ),
    );
  }
  const rows: Record<string, string | number>[] = [];
  const figures: Record<string, number> = {};
  collect(runs, rows, figures, net);
  notes.push(
    'decode step = forward pass of one token + secure argmax over the vocabulary + reveal of the index to P1; ms/token is the slowest party, bytes are payload bytes sent by each party',
    'targets: s260k_tokens_per_s_ctx256 >= 3, gpt2_s_per_token_ctx512 <= 1.5, default_model_private_tokens_per_s >= 2',
  );
  if (net?.link) notes.push(`link: ${linkLabel(net)}; figure keys carry '${netSuffix(net)}' after the model key`);
  return { title: `Private generation, three processes over ${net?.link ? linkLabel(net) : 'encrypted WebSockets'} (${steps} decode steps per context)`, rows, figures, notes };
}
