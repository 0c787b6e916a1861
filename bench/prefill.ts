/**
 * Private prefill benchmark (issue #14): three party processes over the sealed WebSocket
 * transport (parties/launcher.ts), job in bench/prefill-job.ts.
 *  - the default model (models/default) at 512 / 1024 / 2048 prompt tokens, causal chunked
 *    prefill (models/causal-attention.ts) with the chunk memory budget `--mem-mb` (default 256);
 *  - GPT-2 small (real architecture, seeded random weights) at 128 / 512;
 *  - the square method (the full T x T masked softmax of before) at `--square-at` tokens
 *    (default 256) on the default model: its bytes at 1024 are COMPUTED from that run, the
 *    attention families scaled by (1024 / T0)^2 (their cost is per score entry) and the others
 *    (norms, projections, FFN: per token, the same code in both methods) taken from the causal
 *    run at 1024; `--square-1024` measures it instead (slow: ~6 GB per party).
 * Figures: prefill_default_{512,1024,2048}_s, prefill_default_2048_mb_per_party (mean of the three
 * parties), prefill_default_2048_peak_rss_mb (max over the three processes),
 * prefill_gpt2dims_{128,512}_s, prefill_default_1024_bytes_vs_square (+ _attention_ for the
 * attention families only). A profile per op family (mean over the parties) goes in the notes.
 * Args: `--lengths 512,1024` (default-model lengths), `--gpt2-lengths 128` (or `none`),
 * `--mem-mb N`, `--square-at N` (0: skip), `--square-1024`, `--quick` (default 512 and gpt2 128 only).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { runLocalParties } from '../parties/launcher.js';
import { GPT2_SMALL, type ModelConfig } from '../models/config.js';
import { loadWeights } from '../models/load.js';
import { repoRoot } from '../models/model-source.js';
import type { PrefillBenchArgs, PrefillBenchResult, PrefillLengthResult } from './prefill-job.js';
import { longJobTimeouts } from './protocols.js';
import type { BenchOptions, BenchResult } from './types.js';

const JOB = 'bench/prefill-job.ts#prefillBenchJob';
const ATTENTION = new Set(['attention.scores', 'softmax.max', 'softmax.exp', 'softmax.normalize', 'attention.pv']);

async function run(key: string, args: PrefillBenchArgs): Promise<PrefillBenchResult[]> {
  const r = await runLocalParties({
    jobModule: join(repoRoot(), JOB),
    jobArgs: args,
    ...longJobTimeouts(1_200_000),
    timeoutMs: 3_600_000,
    onLine: (p, line) => process.stderr.write(`[${key} P${p}] ${line}\n`),
  });
  return r.results as PrefillBenchResult[];
}

function listArg(args: readonly string[], name: string): number[] | undefined {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  const v = args[i + 1];
  if (v === undefined) throw new RangeError(`${name} needs a comma-separated list`);
  if (v === 'none') return [];
  const out = v.split(',').map(Number);
  if (out.some((n) => !Number.isSafeInteger(n) || n < 1)) throw new RangeError(`${name} takes positive integers`);
  return out;
}

function numArg(args: readonly string[], name: string, dflt: number): number {
  const i = args.indexOf(name);
  if (i < 0) return dflt;
  const v = Number(args[i + 1]);
  if (!Number.isFinite(v) || v < 0) throw new RangeError(`${name} needs a non-negative number`);
  return v;
}

/** per-family profile, mean over the three parties */
function meanProfile(per: readonly PrefillLengthResult[]): Map<string, { ms: number; bytes: number; rounds: number }> {
  const m = new Map<string, { ms: number; bytes: number; rounds: number }>();
  for (const p of per) {
    for (const [k, v] of p.profile) {
      const e = m.get(k) ?? { ms: 0, bytes: 0, rounds: 0 };
      e.ms += v.ms / per.length;
      e.bytes += v.bytes / per.length;
      e.rounds = Math.max(e.rounds, v.rounds);
      m.set(k, e);
    }
  }
  return m;
}

function profileNote(label: string, per: readonly PrefillLengthResult[]): string {
  const m = meanProfile(per);
  const total = [...m.values()].reduce((a, v) => a + v.ms, 0);
  const parts = [...m].sort((a, b) => b[1].ms - a[1].ms).map(([k, v]) => `${k} ${(v.ms / 1000).toFixed(1)} s / ${(v.bytes / 1e6).toFixed(0)} MB / ${v.rounds} r`);
  return `profile ${label} (mean over parties; ${(total / 1000).toFixed(1)} s tracked): ${parts.join('; ')}`;
}

const families = (per: readonly PrefillLengthResult[], attention: boolean): number =>
  [...meanProfile(per)].filter(([k]) => ATTENTION.has(k) === attention).reduce((a, [, v]) => a + v.bytes, 0);

export default async function prefillBench(opts: BenchOptions): Promise<BenchResult> {
  const quick = opts.quick === true;
  const a = opts.args;
  const lengths = listArg(a, '--lengths') ?? (quick ? [512] : [512, 1024, 2048]);
  const gLengths = listArg(a, '--gpt2-lengths') ?? (quick ? [128] : [128, 512]);
  const memMb = numArg(a, '--mem-mb', 256);
  const squareAt = numArg(a, '--square-at', 256);
  const rows: Record<string, string | number>[] = [];
  const figures: Record<string, number> = {};
  const notes: string[] = [];
  const dflt = join(repoRoot(), 'models', 'default');
  const byLen = new Map<number, PrefillLengthResult[]>();
  const add = (model: string, key: string, method: string, res: PrefillBenchResult[]): void => {
    for (let i = 0; i < res[0].lengths.length; i++) {
      const per = res.map((p) => p.lengths[i]);
      const n = per[0].length;
      const s = Math.max(...per.map((p) => p.ms)) / 1000;
      const mb = per.reduce((x, p) => x + p.bytesSent, 0) / 3 / 1e6;
      const rss = Math.max(...per.map((p) => p.peakRssMb));
      rows.push({ model, method, tokens: n, 's': s, 'MB/party': mb, rounds: per[0].rounds, 'peak RSS MB (max of 3)': rss });
      if (method === 'causal') {
        figures[`prefill_${key}_${n}_s`] = s;
        figures[`prefill_${key}_${n}_mb_per_party`] = mb;
        figures[`prefill_${key}_${n}_peak_rss_mb`] = rss;
        if (key === 'default') byLen.set(n, per);
      }
      notes.push(profileNote(`${model} ${method} ${n}`, per));
    }
  };
  if (!existsSync(join(dflt, 'model.safetensors'))) throw new Error(`the default model is missing at ${dflt}`);
  const dcfg: ModelConfig = (await loadWeights(dflt)).config;
  if (lengths.length > 0) add('default', 'default', 'causal', await run('default', { model: { path: dflt }, config: dcfg, lengths, method: 'causal', memMb }));
  const sqLen = a.includes('--square-1024') ? 1024 : squareAt;
  if (sqLen > 0) {
    const sq = await run('square', { model: { path: dflt }, config: dcfg, lengths: [sqLen], method: 'square', memMb });
    add('default', 'default', 'square', sq);
    const sqPer = sq.map((p) => p.lengths[0]);
    const causal1024 = byLen.get(1024);
    if (causal1024 !== undefined) {
      const attSq = families(sqPer, true) * (1024 / sqLen) ** 2;
      const attC = families(causal1024, true);
      const other = families(causal1024, false);
      figures.prefill_default_1024_bytes_vs_square = (attC + other) / (attSq + other);
      figures.prefill_default_1024_attention_bytes_vs_square = attC / attSq;
      figures.prefill_default_1024_square_mb_per_party = (attSq + other) / 1e6;
      notes.push(`square bytes at 1024 ${sqLen === 1024 ? 'MEASURED' : `COMPUTED from the square run at ${sqLen} (attention families x (1024/${sqLen})^2, the rest from the causal run)`}: ${((attSq + other) / 1e6).toFixed(0)} MB/party; causal ${((attC + other) / 1e6).toFixed(0)} MB/party`);
    }
  }
  if (gLengths.length > 0) {
    const config: ModelConfig = GPT2_SMALL;
    add('GPT-2 small dims (real architecture, random weights)', 'gpt2dims', 'causal', await run('gpt2', { model: { random: config, seed: 124 }, config, lengths: gLengths, method: 'causal', memMb, maxRoundWords: 2 ** 24 }));
  }
  notes.push(`causal chunk memory budget ${memMb} MB per party; s = slowest party; MB/party = payload bytes sent, mean of the three parties`);
  notes.push('targets: prefill_default_2048_s <= 120, prefill_default_2048_mb_per_party <= 6000, prefill_default_2048_peak_rss_mb <= 2500, prefill_gpt2dims_512_s <= 240, prefill_default_1024_bytes_vs_square <= 0.55');
  return { title: 'Private prefill, three processes over sealed WebSockets', rows, figures, notes };
}
