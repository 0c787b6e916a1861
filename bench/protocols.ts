/**
 * Protocol benchmark: the three parties in three processes over the encrypted (sealed)
 * WebSocket transport on loopback (parties/launcher.ts), one launch per block.
 * For each block: latency (median of the repetitions, as measured by party 0 — the parties
 * run in lockstep), bytes SENT per party per element (mean of the three parties; elements =
 * input elements, output elements for matmul), rounds. Writes bench/results/protocols.md.
 *
 * The nonlinear blocks (exp, reciprocal, softmax, top-k) come from protocols/index.ts when
 * they exist; otherwise their rows say "skipped".
 *
 * `--net SETTING` (bench/run.ts): the parties talk through the link emulator (parties/netem/);
 * every figure key gets the setting appended (`lt_100k_s_wan40`, `lt_rounds_wan40`) and the
 * report goes to bench/results/protocols-<setting>.md.
 *
 * Environment for the children: glibc's malloc is told to keep freed memory
 * (MALLOC_MMAP_THRESHOLD_ / MALLOC_TRIM_THRESHOLD_): on this VM every fresh page fault is
 * expensive and the protocols allocate many short-lived MB-sized typed arrays.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PARTY_ALLOCATOR_ENV, runLocalParties } from '../parties/launcher.js';
import type { NetSetting } from '../parties/netem/settings.js';
import type { BenchOp, ProtocolBenchArgs, ProtocolBenchResult } from './protocols-job.js';
import { linkLabel, reportName, suffixKeys } from './net-keys.js';
import type { BenchOptions, BenchResult } from './types.js';

const here = dirname(fileURLToPath(import.meta.url));
const JOB = `${join(here, 'protocols-job.ts')}#protocolBench`;

/** the launcher's allocator settings (parties/launcher.ts), named as the benchmarks knew them */
export const MALLOC_ENV: Record<string, string> = { ...PARTY_ALLOCATOR_ENV };

/** Launcher options of a long benchmark job: `ms` to wait for a message or a heartbeat, frames and buffers as large as a whole model. */
export function longJobTimeouts(ms: number): { recvTimeoutMs: number; sessionOptions: { maxFrameBytes: number; maxBufferedBytes: number; heartbeatTimeoutMs: number } } {
  return { recvTimeoutMs: ms, sessionOptions: { maxFrameBytes: 2 ** 31 - 1, maxBufferedBytes: 2 ** 33, heartbeatTimeoutMs: ms } };
}

/** Writes a benchmark's markdown report to `out` (making its folder) and notes where it went. */
export function writeTable(out: string, text: string, notes: string[]): void {
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, text);
  notes.push(`table written to ${out}`);
}

/** Runs a long benchmark job quietly on three local parties (allocator env, 600 s timeouts); the parties' results. */
export async function runLongJob<R>(jobModule: string, jobArgs: unknown, timeoutMs: number, net: NetSetting | undefined): Promise<R[]> {
  const { results } = await runLocalParties({ jobModule, jobArgs, env: MALLOC_ENV, onLine: () => undefined, ...longJobTimeouts(600_000), timeoutMs, net });
  return results as R[];
}

interface Case {
  readonly name: string;
  readonly op: BenchOp;
  readonly shape: number[];
  readonly k?: number;
  /** elements the per-element bytes are divided by */
  readonly elems: number;
  /** figure key prefixes */
  readonly timeKey: string;
  readonly bytesKey?: string;
  readonly targetBytes?: string;
  readonly targetS?: string;
}

function cases(quick: boolean): Case[] {
  const N = quick ? 10_000 : 100_000;
  const nk = quick ? '10k' : '100k';
  const rows = quick ? 10 : 100;
  return [
    { name: 'mul', op: 'mul', shape: [N], elems: N, timeKey: `mul_${nk}_s`, bytesKey: 'mul_bytes_per_elem', targetBytes: '8' },
    { name: 'fixed mul + trunc', op: 'fxmul', shape: [N], elems: N, timeKey: `fxmul_${nk}_s`, bytesKey: 'fxmul_bytes_per_elem', targetBytes: '<= 16' },
    { name: 'fixed mul + trunc, one round', op: 'fxmul1', shape: [N], elems: N, timeKey: `fxmul1_${nk}_s`, bytesKey: 'fxmul1_bytes_per_elem', targetBytes: '<= 16' },
    { name: 'lt', op: 'lt', shape: [N], elems: N, timeKey: `lt_${nk}_s`, bytesKey: 'lt_bytes_per_elem', targetBytes: '<= 48', targetS: quick ? undefined : '<= 0.4' },
    { name: 'exp', op: 'exp', shape: [N], elems: N, timeKey: `exp_${nk}_s`, bytesKey: 'exp_bytes_per_elem' },
    { name: 'reciprocal', op: 'reciprocal', shape: [N], elems: N, timeKey: `reciprocal_${nk}_s`, bytesKey: 'reciprocal_bytes_per_elem' },
    {
      name: 'softmax', op: 'softmax', shape: [rows, 1000], elems: rows * 1000, timeKey: `softmax_${rows}x1000_s`,
      bytesKey: 'softmax_bytes_per_elem', targetBytes: '<= 400', targetS: quick ? undefined : '<= 0.75',
    },
    { name: 'argmax', op: 'argmax', shape: [rows, 1000], elems: rows * 1000, timeKey: `argmax_${rows}x1000_s`, bytesKey: 'argmax_bytes_per_elem' },
    {
      name: 'matmul (fixed)', op: 'matmul', shape: quick ? [32, 768, 768] : [128, 768, 768], elems: (quick ? 32 : 128) * 768,
      timeKey: quick ? 'matmul_32x768x768_s' : 'matmul_128x768x768_s', bytesKey: 'matmul_bytes_per_out_elem', targetBytes: '8 (+ trunc)',
    },
    {
      name: 'top-k (k=64 of 1024)', op: 'topk', shape: [quick ? 4 : 32, 1024], k: 64, elems: (quick ? 4 : 32) * 1024,
      timeKey: quick ? 'topk_64of1024_x4_s' : 'topk_64of1024_x32_s', bytesKey: 'topk_bytes_per_elem',
    },
  ];
}

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const round3 = (v: number): number => Math.round(v * 1000) / 1000;

export default async function protocolsBench(opts: BenchOptions): Promise<BenchResult> {
  const quick = opts.quick === true;
  const reps = quick ? 1 : 3;
  const only = opts.args.length > 0 ? new Set(opts.args) : undefined;
  const loadBefore = loadavg()[0];
  const rows: Record<string, string | number>[] = [];
  const figures: Record<string, number> = {};
  const notes: string[] = [];
  const md: string[] = [
    '| block | size | latency (s) | target latency | CPU s (busiest party) | bytes sent / party / element | target bytes | rounds |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const c of cases(quick)) {
    if (only && !only.has(c.op)) continue;
    const jobArgs: ProtocolBenchArgs = { op: c.op, shape: c.shape, reps, warmup: quick ? 1 : 2, ...(c.k !== undefined ? { k: c.k } : {}) };
    const lines: string[] = [];
    const onLine = (party: number, line: string): void => {
      lines.push(`[P${party}] ${line}`);
      if (lines.length > 200) lines.shift();
    };
    let results: unknown[] | undefined;
    for (let attempt = 1; results === undefined; attempt++) {
      try {
        ({ results } = await runLocalParties({ jobModule: JOB, jobArgs, env: MALLOC_ENV, onLine, recvTimeoutMs: 120_000, net: opts.net }));
      } catch (e) {
        process.stderr.write(`bench protocols: block '${c.op}' failed (attempt ${attempt}); last party output:\n${lines.slice(-40).join('\n')}\n`);
        if (attempt >= 2) throw e;
        // one retry: a transport failure at session end must not hide the other figures
        notes.push(`${c.name}: first attempt failed (${(e as Error).message.split('\n')[0].slice(0, 160)}); retried`);
      }
    }
    const rs = results as [ProtocolBenchResult, ProtocolBenchResult, ProtocolBenchResult];
    const size = c.op === 'matmul' ? `${c.shape[0]}x${c.shape[1]} by ${c.shape[1]}x${c.shape[2]}` : c.op === 'topk' ? `${c.shape[0]} rows of ${c.shape[1]}` : c.shape.join('x');
    if (rs[0].skipped !== undefined) {
      rows.push({ block: c.name, size, latency_s: 'skipped', bytes_per_elem: '-', rounds: '-', note: rs[0].skipped });
      md.push(`| ${c.name} | ${size} | skipped (${rs[0].skipped}) | ${c.targetS ?? ''} | - | - | ${c.targetBytes ?? ''} | - |`);
      notes.push(`${c.name}: SKIPPED — ${rs[0].skipped}`);
      continue;
    }
    const lat = median(rs[0].ms) / 1000;
    const bytes = rs.reduce((a, r) => a + r.cost!.bytesSent, 0) / 3 / c.elems;
    const rounds = rs[0].cost!.rounds;
    const cpu = Math.max(...rs.map((r) => median(r.cpuMs))) / 1000;
    rows.push({ block: c.name, size, latency_s: round3(lat), cpu_s_max_party: round3(cpu), bytes_per_elem: round3(bytes), rounds, target_bytes: c.targetBytes ?? '', target_s: c.targetS ?? '' });
    md.push(`| ${c.name} | ${size} | ${lat.toFixed(3)} | ${c.targetS ?? ''} | ${cpu.toFixed(3)} | ${bytes.toFixed(2)} | ${c.targetBytes ?? ''} | ${rounds} |`);
    figures[c.timeKey] = round3(lat);
    if (c.bytesKey) figures[c.bytesKey] = round3(bytes);
    figures[`${c.op}_rounds`] = rounds;
  }
  const title = `Protocol blocks, 3 parties in 3 processes, ${linkLabel(opts.net)}${quick ? ' (quick sizes)' : ''}`;
  const name = reportName('protocols', opts.net);
  const out = join(here, 'results', `${name}.md`);
  if (quick) {
    notes.push(`quick run: bench/results/${name}.md left unchanged`);
    return { title, rows, figures: suffixKeys(figures, opts.net), notes };
  }
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(
    out,
    [
      `# ${title}`,
      '',
      `Generated by \`npm run bench -- protocols${opts.net ? ` --net ${opts.net.name}` : ''}\` (bench/protocols.ts); do not edit by hand.`,
      'Latency: median of 3 timed repetitions on party 0 (after 2 untimed warm-ups). CPU: median CPU time of the busiest party process.',
      'Bytes: payload bytes SENT per party per element, mean of the three parties',
      '(elements = input elements; output elements for matmul). Fixed point f = 18, ring 2^64.',
      `Machine: ${cpus().length} cores; 1-minute load average ${loadBefore.toFixed(1)} before and ${loadavg()[0].toFixed(1)} after the run (latencies are only meaningful on an idle machine).`,
      '',
      ...md,
      '',
      ...notes.map((n) => `- ${n}`),
      '',
    ].join('\n'),
  );
  notes.push(`table written to ${out}`);
  return { title, rows, figures: suffixKeys(figures, opts.net), notes };
}
