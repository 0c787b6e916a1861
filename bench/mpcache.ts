/**
 * MPCache vs full attention on shares: ONE decode step, three parties in three processes over
 * the sealed WebSocket transport on loopback (parties/launcher.ts), one launch per (dims, N).
 *
 * Per layer of attention (bench/mpcache-job.ts):
 *   full      q K^T, softmax, . V over all N cached tokens;
 *   noshare   MPCache in a layer that computes its own selection: the statically kept cache
 *             (30% of N: the look-once eviction ran at prefill and is NOT part of a decode
 *             step's cost), the new token's block-representative update, two-level selection
 *             (level 1: 50% of the 32-token blocks, level 2: 20% of the 16-token blocks), and
 *             attention over the selected blocks only;
 *   mpcache   the same with cross-layer index sharing, as a per-layer average over the
 *             model's depth: C of the L layers compute their selection (layers 0, 1, the last
 *             two and every even layer in between: C = 18 of 32 for LLaMA-7B, 8 of 12 for
 *             GPT-2), the other L - C reuse it (no representatives, no top-k), so
 *             cost(mpcache) = (C * cost(noshare) + (L - C) * cost(reuse)) / L, for latency,
 *             bytes and rounds alike.
 * Dimensions: GPT-2 small (12 heads x 64, 12 layers) and LLaMA-7B (32 heads x 128, 32 layers),
 * N = 512, 1024, 2048, 4096, 8192.
 * Latency: median over the repetitions on party 0 (the parties run in lockstep). Bytes:
 * payload bytes SENT per party, mean of the three parties. Rounds: communication rounds.
 * Every run also checks the revealed outputs against float64 (the same selection rules,
 * eviction/plain/mpcache-oracle.ts) and fails on an error above 1e-2.
 *
 * Writes bench/results/mpcache.md (table) and docs/mpcache-bench.svg (chart).
 * Also the paper's harness: one whole decode step of GPT-2 small (the real architecture,
 * random weights) after a 512-token prompt through the secure decoder (full vs mpcache; one warm-up and one measured
 * step each).
 * `--net SETTING` (bench/run.ts): the parties talk through the link emulator (parties/netem/);
 * every figure key gets the setting appended (`mpcache_vs_full_latency_ratio_4096_wan40`), the
 * table goes to bench/results/mpcache-<setting>.md and the chart is left alone.
 * Args: `--quick` (N = 512, 1024 only; 4-layer model step), `--max-n 4096` (stop at N = 4096),
 * `--n 1024,4096` (these N only), `gpt2` / `llama7b` (one model only), `--no-model` (skip the
 * whole-step harness), `--model-noshare` (add mpcache-noshare to it), `--no-map` (skip the
 * policy map), `--map-only` (only the policy map: bench/mpcache-map.ts, the secure policies at
 * 5/10/20% on the default model after a 2048-token prompt, with their long-suite accuracy;
 * keys map_* and mpcache_vs_full_{bytes,latency}_ratio_default_2048).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { computingLayers } from '../eviction/secure/mpcache-params.js';
import { runMap } from './mpcache-map.js';
import { runLocalParties } from '../parties/launcher.js';
import { GPT2_SMALL, type ModelConfig } from '../models/config.js';
import type { MpcacheBenchArgs, MpcacheBenchResult, ModelStepArgs, ModelStepResult, VariantResult } from './mpcache-job.js';
import { MALLOC_ENV, runLongJob, writeTable } from './protocols.js';
import type { NetSetting } from '../parties/netem/settings.js';
import { linkLabel, reportName, suffixKeys } from './net-keys.js';
import type { BenchOptions, BenchResult } from './types.js';

const here = dirname(fileURLToPath(import.meta.url));
const JOB = `${join(here, 'mpcache-job.ts')}#mpcacheBench`;
const MODEL_JOB = `${join(here, 'mpcache-job.ts')}#mpcacheModelStep`;

interface Dims {
  readonly key: 'gpt2' | 'llama7b';
  readonly label: string;
  readonly nHeads: number;
  readonly headDim: number;
  readonly nLayers: number;
}

const DIMS: readonly Dims[] = [
  { key: 'gpt2', label: 'GPT-2 small (12 x 64)', nHeads: 12, headDim: 64, nLayers: 12 },
  { key: 'llama7b', label: 'LLaMA-7B (32 x 128)', nHeads: 32, headDim: 128, nLayers: 32 },
];

export interface Measured {
  readonly s: number;
  readonly bytes: number;
  readonly rounds: number;
}

export interface Row {
  readonly dims: Dims;
  readonly N: number;
  readonly kept: number;
  readonly attended: number;
  readonly full: Measured;
  readonly noshare: Measured;
  readonly reuse: Measured;
  readonly mpcache: Measured;
  readonly maxErr: number;
}

function median(v: readonly number[]): number {
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function measure(rs: readonly MpcacheBenchResult[], variant: VariantResult['variant']): { m: Measured; r: VariantResult } {
  const per = rs.map((r) => r.results.find((x) => x.variant === variant)!);
  const bytes = per.reduce((a, r) => a + r.cost.bytesSent, 0) / 3;
  return { m: { s: median(per[0].ms) / 1000, bytes, rounds: per[0].cost.rounds }, r: per[0] };
}

/** The sharing schedule's per-layer average. */
export function sharedAverage(own: Measured, reuse: Measured, nLayers: number): Measured {
  const C = computingLayers(nLayers);
  const w = (a: number, b: number): number => (C * a + (nLayers - C) * b) / nLayers;
  return { s: w(own.s, reuse.s), bytes: w(own.bytes, reuse.bytes), rounds: w(own.rounds, reuse.rounds) };
}

const r3 = (v: number): number => Math.round(v * 1000) / 1000;
const mb = (b: number): number => Math.round((b / 2 ** 20) * 1000) / 1000;

export default async function mpcacheBench(opts: BenchOptions): Promise<BenchResult> {
  const quick = opts.quick === true;
  let map: Awaited<ReturnType<typeof runMap>> | undefined;
  if (!opts.args.includes('--no-map')) map = await runMap({ quick, net: opts.net });
  if (opts.args.includes('--map-only')) {
    const m = map!;
    const rows = m.points.map((p) => ({ policy: p.policy, budget: p.pct === null ? '-' : `${p.pct}%`, cached: p.cached, mb_per_token: Number(p.mb.toFixed(3)), s_per_token: Number(p.s.toFixed(3)), rounds: p.rounds, acc_2k: Number(p.mean.toFixed(3)) }));
    return { title: `Secure policy map: default model, ${quick ? 512 : 2048}-token prompt, ${linkLabel(opts.net)}${quick ? ' (quick)' : ''}`, rows, figures: suffixKeys(m.figures, opts.net), notes: m.notes };
  }
  const maxIdx = opts.args.indexOf('--max-n');
  const maxN = maxIdx >= 0 ? Number(opts.args[maxIdx + 1]) : quick ? 1024 : 8192;
  const onlyDims = DIMS.filter((d) => opts.args.includes(d.key));
  const dimsList = onlyDims.length > 0 ? onlyDims : DIMS;
  const nIdx = opts.args.indexOf('--n');
  const Ns = nIdx >= 0 ? opts.args[nIdx + 1].split(',').map(Number) : [512, 1024, 2048, 4096, 8192].filter((n) => n <= maxN);
  if (Ns.some((n) => !Number.isSafeInteger(n) || n < 64)) throw new RangeError('--n takes a comma-separated list of context lengths >= 64');
  const rows: Row[] = [];
  const notes: string[] = [];
  for (const dims of dimsList) {
    for (const N of Ns) {
      const reps = N >= 4096 ? 1 : N >= 2048 ? 2 : 3;
      const jobArgs: MpcacheBenchArgs = { nHeads: dims.nHeads, headDim: dims.headDim, nLayers: dims.nLayers, N, reps, variants: ['full', 'own', 'reuse'] };
      const t0 = performance.now();
      const { results } = await runLocalParties({ jobModule: JOB, jobArgs, env: MALLOC_ENV, onLine: () => undefined, recvTimeoutMs: 300_000, net: opts.net });
      const rs = results as MpcacheBenchResult[];
      const full = measure(rs, 'full');
      const own = measure(rs, 'own');
      const reuse = measure(rs, 'reuse');
      const maxErr = Math.max(full.r.maxErr, own.r.maxErr, reuse.r.maxErr);
      if (!(maxErr < 1e-2)) throw new Error(`mpcache bench ${dims.key} N=${N}: outputs differ from float64 by ${maxErr}`);
      rows.push({
        dims,
        N,
        kept: own.r.cacheLength,
        attended: own.r.attended,
        full: full.m,
        noshare: own.m,
        reuse: reuse.m,
        mpcache: sharedAverage(own.m, reuse.m, dims.nLayers),
        maxErr,
      });
      notes.push(`${dims.key} N=${N}: launch + run ${((performance.now() - t0) / 1000).toFixed(1)} s, reps ${reps}, max |secure - float64| ${maxErr.toExponential(2)}`);
    }
  }
  let modelStep: ModelStepRow[] = [];
  if (!opts.args.includes('--no-model')) {
    const config: ModelConfig = quick ? { ...GPT2_SMALL, nLayers: 4, vocabSize: 512 } : GPT2_SMALL;
    const t0 = performance.now();
    modelStep = await runModelStep(config, 512, 1, opts.args.includes('--model-noshare'), opts.net);
    notes.push(`whole decode step (${quick ? 'GPT-2 architecture, 4 layers, vocab 512 (quick)' : 'GPT-2 small (the real architecture: LayerNorm, learned positions, GeLU MLP, biases; random weights)'}, 512-token prompt): launch + run ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  const figures: Record<string, number> = {};
  const table: Record<string, string | number>[] = [];
  const fullStep = modelStep.find((m) => m.policy === 'full');
  for (const m of modelStep) {
    const key = `gpt2_model_step_512_${m.policy.replace('-', '_')}`;
    figures[`${key}_s`] = r3(m.s);
    figures[`${key}_mb_per_party`] = mb(m.bytes);
    figures[`${key}_rounds`] = m.rounds;
    if (fullStep !== undefined && m !== fullStep) {
      figures[`${key}_bytes_ratio`] = r3(fullStep.bytes / m.bytes);
      figures[`${key}_latency_ratio`] = r3(fullStep.s / m.s);
    }
  }
  for (const r of rows) {
    const k = `${r.dims.key}_N${r.N}`;
    const bytesRatio = r.full.bytes / r.mpcache.bytes;
    const latRatio = r.full.s / r.mpcache.s;
    const bytesRatioNs = r.full.bytes / r.noshare.bytes;
    const latRatioNs = r.full.s / r.noshare.s;
    Object.assign(figures, {
      [`${k}_full_s`]: r3(r.full.s),
      [`${k}_mpcache_s`]: r3(r.mpcache.s),
      [`${k}_noshare_s`]: r3(r.noshare.s),
      [`${k}_full_mb_per_party`]: mb(r.full.bytes),
      [`${k}_mpcache_mb_per_party`]: mb(r.mpcache.bytes),
      [`${k}_noshare_mb_per_party`]: mb(r.noshare.bytes),
      [`${k}_full_rounds`]: r.full.rounds,
      [`${k}_mpcache_rounds`]: r3(r.mpcache.rounds),
      [`${k}_noshare_rounds`]: r.noshare.rounds,
      [`${k}_bytes_ratio`]: r3(bytesRatio),
      [`${k}_latency_ratio`]: r3(latRatio),
      [`${k}_noshare_bytes_ratio`]: r3(bytesRatioNs),
      [`${k}_noshare_latency_ratio`]: r3(latRatioNs),
    });
    if (r.dims.key === 'llama7b') {
      figures[`mpcache_vs_full_bytes_ratio_${r.N}`] = r3(bytesRatio);
      figures[`mpcache_vs_full_latency_ratio_${r.N}`] = r3(latRatio);
    }
    table.push({
      dims: r.dims.key,
      N: r.N,
      kept: r.kept,
      attended: r.attended,
      full_s: r3(r.full.s),
      mpcache_s: r3(r.mpcache.s),
      noshare_s: r3(r.noshare.s),
      full_MB: mb(r.full.bytes),
      mpcache_MB: mb(r.mpcache.bytes),
      noshare_MB: mb(r.noshare.bytes),
      full_rounds: r.full.rounds,
      mpcache_rounds: r3(r.mpcache.rounds),
      noshare_rounds: r.noshare.rounds,
      bytes_x: r3(bytesRatio),
      latency_x: r3(latRatio),
      noshare_bytes_x: r3(bytesRatioNs),
      noshare_latency_x: r3(latRatioNs),
    });
  }
  if (map !== undefined) {
    Object.assign(figures, map.figures);
    notes.push(...map.notes);
  }
  const title = `MPCache vs full attention, one decode step of one layer, 3 parties in 3 processes, ${linkLabel(opts.net)}${quick ? ' (quick)' : ''}`;
  writeReport(rows, modelStep, title, quick, notes, opts.net);
  return { title, rows: table, figures: suffixKeys(figures, opts.net), notes };
}

export interface ModelStepRow {
  readonly policy: string;
  readonly cacheLength: number;
  readonly s: number;
  readonly bytes: number;
  readonly rounds: number;
}

async function runModelStep(config: ModelConfig, prompt: number, reps: number, withNoshare: boolean, net: NetSetting | undefined): Promise<ModelStepRow[]> {
  const jobArgs: ModelStepArgs = { config, prompt, reps, policies: withNoshare ? ['full', 'mpcache', 'mpcache-noshare'] : ['full', 'mpcache'] };
  const rs = await runLongJob<ModelStepResult[]>(MODEL_JOB, jobArgs, 1_200_000, net);
  return rs[0].map((r, i) => ({
    policy: r.policy,
    cacheLength: r.cacheLength,
    s: median(r.ms) / 1000,
    bytes: rs.reduce((acc, p) => acc + p[i].cost.bytesSent, 0) / 3,
    rounds: r.cost.rounds,
  }));
}

function writeReport(rows: readonly Row[], modelStep: readonly ModelStepRow[], title: string, quick: boolean, notes: string[], net: NetSetting | undefined): void {
  const name = reportName('mpcache', net);
  const md = join(here, 'results', quick ? `${name}-quick.md` : `${name}.md`);
  const lines = [
    `# ${title}`,
    '',
    `Generated by \`npm run bench -- mpcache${net ? ` --net ${net.name}` : ''}\` (bench/mpcache.ts); do not edit by hand.`,
    '',
    'One decode step of ONE attention layer. **full**: q K^T, softmax, . V over all N tokens.',
    '**noshare**: MPCache in a layer that selects on its own: the cache holds the 30% of the prompt kept by the look-once',
    'static eviction (done at prefill, not part of a decode step), the new token updates its block representatives,',
    'two-level selection (50% of 32-token blocks, then 20% of 16-token blocks, first and last blocks forced), attention over',
    'the selected blocks only. **mpcache**: with cross-layer index sharing, per-layer average over the model depth',
    '(C = layers that select: 8 of 12 for GPT-2, 18 of 32 for LLaMA-7B; the others reuse the selection).',
    'Latency: median on party 0. MB: payload MiB SENT per party (mean of the three). x = full / mpcache.',
    '',
    '| model | N | kept | attended | full s | mpcache s | noshare s | full MB | mpcache MB | noshare MB | full rounds | mpcache rounds | bytes x | latency x | noshare bytes x | noshare latency x |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.dims.label} | ${r.N} | ${r.kept} | ${r.attended} | ${r.full.s.toFixed(3)} | ${r.mpcache.s.toFixed(3)} | ${r.noshare.s.toFixed(3)} | ${mb(r.full.bytes).toFixed(2)} | ${mb(r.mpcache.bytes).toFixed(2)} | ${mb(r.noshare.bytes).toFixed(2)} | ${r.full.rounds} | ${r.mpcache.rounds.toFixed(1)} | ${(r.full.bytes / r.mpcache.bytes).toFixed(2)} | ${(r.full.s / r.mpcache.s).toFixed(2)} | ${(r.full.bytes / r.noshare.bytes).toFixed(2)} | ${(r.full.s / r.noshare.s).toFixed(2)} |`,
    ),
    '',
    ...(modelStep.length === 0
      ? []
      : [
          `## The paper's harness: one whole decode step of GPT-2 small${quick ? ' (quick: 4 layers, vocabulary 512)' : ''}, after a 512-token prompt`,
          '',
          'All 12 layers of the real GPT-2 architecture (LayerNorm, learned positions, fused QKV with biases, attention under',
          'the policy, output projection, GeLU MLP) + output head + secure argmax revealed to the user; d = 768, 12 heads x 64,',
          '3072 hidden, vocabulary 50257, tied head. Weights and caches are public random test values held as trivial sharings',
          '(the protocols send the same messages whatever the values). MPCache: the cache holds the statically kept 30%.',
          '',
          '| policy | cached tokens / layer | latency s | MB / party | rounds | bytes x | latency x |',
          '|---|---|---|---|---|---|---|',
          ...modelStep.map((m) => {
            const f = modelStep.find((x) => x.policy === 'full')!;
            return `| ${m.policy} | ${m.cacheLength} | ${m.s.toFixed(3)} | ${mb(m.bytes).toFixed(2)} | ${m.rounds} | ${(f.bytes / m.bytes).toFixed(2)} | ${(f.s / m.s).toFixed(2)} |`;
          }),
          '',
        ]),
    ...notes.map((n) => `- ${n}`),
    '',
  ];
  writeTable(md, lines.join('\n'), notes);
  if (!quick && net === undefined) {
    const svg = join(here, '..', 'docs', 'mpcache-bench.svg');
    mkdirSync(dirname(svg), { recursive: true });
    writeFileSync(svg, chart(rows));
    notes.push(`chart written to ${svg}`);
  }
}

/** Hand-written SVG: full / mpcache ratio (bytes and latency) against N, per model, with the targets. */
export function chart(rows: readonly Row[]): string {
  const W = 640;
  const Hh = 360;
  const m = { l: 56, r: 170, t: 36, b: 48 };
  const Ns = [...new Set(rows.map((r) => r.N))].sort((a, b) => a - b);
  const ratios = rows.flatMap((r) => [r.full.bytes / r.mpcache.bytes, r.full.s / r.mpcache.s]);
  const yMax = Math.max(10, Math.ceil(Math.max(...ratios) + 1));
  const x = (N: number): number => m.l + (Ns.length === 1 ? 0.5 : Ns.indexOf(N) / (Ns.length - 1)) * (W - m.l - m.r);
  const y = (v: number): number => Hh - m.b - (v / yMax) * (Hh - m.t - m.b);
  const series = [
    { dims: 'llama7b', what: 'bytes', color: '#c0392b', dash: '', label: 'LLaMA-7B bytes' },
    { dims: 'llama7b', what: 'latency', color: '#c0392b', dash: '6 4', label: 'LLaMA-7B latency' },
    { dims: 'gpt2', what: 'bytes', color: '#2471a3', dash: '', label: 'GPT-2 bytes' },
    { dims: 'gpt2', what: 'latency', color: '#2471a3', dash: '6 4', label: 'GPT-2 latency' },
  ];
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${Hh}" viewBox="0 0 ${W} ${Hh}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${Hh}" fill="white"/>`,
    `<text x="${m.l}" y="20" font-size="14" font-weight="bold">MPCache vs full attention: one decode step, one layer (full / MPCache)</text>`,
  ];
  for (let v = 0; v <= yMax; v += yMax > 20 ? 5 : 2) {
    out.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${y(v)}" y2="${y(v)}" stroke="#eee"/>`, `<text x="${m.l - 8}" y="${y(v) + 4}" text-anchor="end">${v}x</text>`);
  }
  for (const N of Ns) out.push(`<text x="${x(N)}" y="${Hh - m.b + 18}" text-anchor="middle">${N}</text>`);
  out.push(`<text x="${(m.l + W - m.r) / 2}" y="${Hh - 10}" text-anchor="middle">context length N (tokens)</text>`);
  out.push(`<line x1="${m.l}" x2="${m.l}" y1="${m.t}" y2="${Hh - m.b}" stroke="#333"/>`, `<line x1="${m.l}" x2="${W - m.r}" y1="${Hh - m.b}" y2="${Hh - m.b}" stroke="#333"/>`);
  for (const [v, lab] of [[8, 'target bytes 8x'], [2.5, 'target latency 2.5x']] as const) {
    out.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${y(v)}" y2="${y(v)}" stroke="#999" stroke-dasharray="2 3"/>`, `<text x="${W - m.r + 4}" y="${y(v) + 4}" fill="#777">${lab}</text>`);
  }
  series.forEach((s, i) => {
    const pts = rows.filter((r) => r.dims.key === s.dims).map((r) => [x(r.N), y(s.what === 'bytes' ? r.full.bytes / r.mpcache.bytes : r.full.s / r.mpcache.s)] as const);
    if (pts.length === 0) return;
    out.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2" ${s.dash ? `stroke-dasharray="${s.dash}"` : ''} points="${pts.map((p) => `${p[0].toFixed(1)},${p[1].toFixed(1)}`).join(' ')}"/>`);
    for (const p of pts) out.push(`<circle cx="${p[0].toFixed(1)}" cy="${p[1].toFixed(1)}" r="3" fill="${s.color}"/>`);
    const ly = m.t + 100 + i * 18;
    out.push(`<line x1="${W - m.r + 4}" x2="${W - m.r + 28}" y1="${ly}" y2="${ly}" stroke="${s.color}" stroke-width="2" ${s.dash ? `stroke-dasharray="${s.dash}"` : ''}/>`, `<text x="${W - m.r + 32}" y="${ly + 4}">${s.label}</text>`);
  });
  out.push('</svg>', '');
  return out.join('\n');
}
