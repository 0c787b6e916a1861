/**
 * The policy map (issue 18 item 5): for every secure policy at 5/10/20% on the default model at
 * 2000 tokens, accuracy against secure bytes and latency per decode token.
 *
 * - Accuracy: the plaintext long suite (`npm run bench -- long-eval`, committed in
 *   eviction/eval/results-long-default.json; 60 prompts per task and length at 2000 tokens).
 *   Each secure policy equals its plaintext twin in generated tokens (eviction/secure/
 *   policies-decoder.test.ts), so the twin's accuracy stands for the secure policy's.
 * - Cost: one whole secure decode step of the default model's architecture (6 layers, 6 heads
 *   x 32, 3 KV heads, vocabulary 4096; random weights as trivial sharings) after a 2048-token
 *   prompt, three parties in three processes over sealed WebSockets on loopback, from a
 *   SYNTHETIC secure cache in the state each policy's prefill leaves (bench/mpcache-map-job.ts;
 *   a real 2048-token secure prefill per case would take far longer than the step).
 * Keys: map_<policy>_<pct>pct_{mb_per_token, s_per_token, rounds, cached, acc_2k, passkey_2k,
 * multikey_2k, kv_2k} (policy with '_' for '-'), map_full_*, and
 * mpcache_vs_full_{bytes,latency}_ratio_default_2048 (MPCache-R at 10% vs full).
 * Writes bench/results/mpcache-map.md and docs/mpcache-map.svg (not with --net).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadDefaultModel } from '../models/default-model.js';
import type { NetSetting } from '../parties/netem/settings.js';
import type { MapCase, MapStepArgs, MapStepResult } from './mpcache-map-job.js';
import { runLongJob, writeTable } from './protocols.js';

const here = dirname(fileURLToPath(import.meta.url));
const JOB = `${join(here, 'mpcache-map-job.ts')}#mpcacheMapStep`;

export const MAP_POLICIES = ['mpcache', 'streaming-llm', 'snapkv', 'quest', 'tova'] as const;
export const MAP_RATIOS = [0.05, 0.1, 0.2] as const;
const TASKS = ['passkey', 'multikey', 'kv'] as const;

export interface MapPoint {
  readonly policy: string;
  readonly pct: number | null;
  readonly cached: number;
  readonly mb: number;
  readonly s: number;
  readonly rounds: number;
  /** exact match per task at 2000 tokens (plaintext long suite), and their mean */
  readonly acc: Record<string, number>;
  readonly mean: number;
}

function median(v: readonly number[]): number {
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const key = (policy: string, pct: number | null): string => (pct === null ? policy.replace(/-/g, '_') : `${policy.replace(/-/g, '_')}_${pct}pct`);

export async function runMap(opts: { quick: boolean; net?: NetSetting }): Promise<{ figures: Record<string, number>; points: MapPoint[]; notes: string[] }> {
  const dm = await loadDefaultModel();
  const prompt = opts.quick ? 512 : 2048;
  const config = { ...dm.weights.config, maxSeqLen: Math.max(dm.weights.config.maxSeqLen, prompt + 8) };
  const ratios = opts.quick ? [0.1] : MAP_RATIOS;
  const cases: MapCase[] = [{ policy: 'full', ratio: 1 }, ...MAP_POLICIES.flatMap((policy) => ratios.map((ratio) => ({ policy, ratio })))];
  const load0 = loadavg()[0];
  const t0 = performance.now();
  const jobArgs: MapStepArgs = { config, prompt, reps: opts.quick ? 1 : 2, cases };
  const rs = await runLongJob<MapStepResult[]>(JOB, jobArgs, 1_800_000, opts.net);
  const accFile = JSON.parse(readFileSync(join(here, '..', 'eviction', 'eval', 'results-long-default.json'), 'utf8')) as { figures: Record<string, number>; note?: string };
  const points: MapPoint[] = rs[0].map((r, i) => {
    const pct = r.policy === 'full' ? null : Math.round(r.ratio * 100);
    const acc: Record<string, number> = {};
    for (const t of TASKS) {
      const v = accFile.figures[`${key(r.policy, pct)}_${t}_2k`];
      if (typeof v === 'number') acc[t] = v;
    }
    const vals = Object.values(acc);
    return {
      policy: r.policy,
      pct,
      cached: r.cacheLength,
      mb: rs.reduce((a, p) => a + p[i].cost.bytesSent, 0) / 3 / 2 ** 20,
      s: median(r.ms) / 1000,
      rounds: r.cost.rounds,
      acc,
      mean: vals.length === TASKS.length ? vals.reduce((a, b) => a + b, 0) / vals.length : Number.NaN,
    };
  });
  const figures: Record<string, number> = {};
  const r4 = (v: number): number => Math.round(v * 1e4) / 1e4;
  for (const p of points) {
    const k = `map_${key(p.policy, p.pct)}`;
    figures[`${k}_mb_per_token`] = r4(p.mb);
    figures[`${k}_s_per_token`] = r4(p.s);
    figures[`${k}_rounds`] = p.rounds;
    figures[`${k}_cached`] = p.cached;
    for (const [t, v] of Object.entries(p.acc)) figures[`${k}_${t}_2k`] = v;
    if (!Number.isNaN(p.mean)) figures[`${k}_acc_2k`] = r4(p.mean);
  }
  const full = points.find((p) => p.policy === 'full')!;
  const mp10 = points.find((p) => p.policy === 'mpcache' && p.pct === 10);
  const suffix = opts.quick ? `_default_${prompt}_quick` : '_default_2048';
  if (mp10 !== undefined) {
    figures[`mpcache_vs_full_bytes_ratio${suffix}`] = r4(full.mb / mp10.mb);
    figures[`mpcache_vs_full_latency_ratio${suffix}`] = r4(full.s / mp10.s);
  }
  figures.map_loadavg_start = load0;
  figures.map_loadavg_end = loadavg()[0];
  const notes = [`map: ${cases.length} cases, default model architecture, ${prompt}-token prompt (synthetic secure cache), launch + run ${((performance.now() - t0) / 1000).toFixed(0)} s, load average ${load0.toFixed(1)} -> ${loadavg()[0].toFixed(1)}`];
  if (!opts.quick && opts.net === undefined) {
    writeMapReport(points, figures, notes, accFile.note ?? `${accFile.figures.long_prompts_per_task_length} prompts per task and length`);
    const svg = join(here, '..', 'docs', 'mpcache-map.svg');
    writeFileSync(svg, mapChart(points));
    notes.push(`chart written to ${svg}`);
  }
  return { figures, points, notes };
}

function writeMapReport(points: readonly MapPoint[], figures: Record<string, number>, notes: string[], accPrompts: string): void {
  const md = join(here, 'results', 'mpcache-map.md');
  const full = points.find((p) => p.policy === 'full')!;
  const lines = [
    '# Which policy should I run privately? Accuracy against secure cost, default model, 2000-2048 tokens',
    '',
    'Generated by `npm run bench -- mpcache --map-only` (bench/mpcache-map.ts); do not edit by hand.',
    '',
    `Accuracy: exact match at 2000 tokens from the PLAINTEXT long suite as committed (eviction/eval/results-long-default.json: ${accPrompts}),`,
    'each secure policy equals its plaintext twin in generated tokens (eviction/secure/policies-decoder.test.ts,',
    'policies-default-model.test.ts),',
    'so the plaintext accuracy stands for the secure one. Cost: one whole secure decode step (6 layers + head + argmax) of the',
    "default model's architecture after a 2048-token prompt, from a SYNTHETIC secure cache in the state the policy's prefill",
    'leaves; three processes, sealed WebSockets, loopback. MB: payload MiB sent per party (mean of three); s: median latency.',
    '',
    '| policy | budget | cached tokens / layer | MB / token | s / token | rounds | bytes x full | latency x full | passkey 2k | multikey 2k | kv 2k | mean |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...points.map(
      (p) =>
        `| ${p.policy} | ${p.pct === null ? '-' : `${p.pct}%`} | ${p.cached} | ${p.mb.toFixed(3)} | ${p.s.toFixed(3)} | ${p.rounds} | ${(full.mb / p.mb).toFixed(2)} | ${(full.s / p.s).toFixed(2)} | ${TASKS.map((t) => (p.acc[t] === undefined ? '-' : p.acc[t].toFixed(3))).join(' | ')} | ${Number.isNaN(p.mean) ? '-' : p.mean.toFixed(3)} |`,
    ),
    '',
    `MPCache-R (mpcache) at 10% vs full: bytes ${figures.mpcache_vs_full_bytes_ratio_default_2048?.toFixed(2)}x, latency ${figures.mpcache_vs_full_latency_ratio_default_2048?.toFixed(2)}x.`,
    'Not on the map: mpcache-paper (no secure version yet: its plaintext accuracy is in the long suite).',
    '',
    ...notes.map((n) => `- ${n}`),
    '',
  ];
  writeTable(md, lines.join('\n'), notes);
}

const COLORS: Record<string, string> = { full: '#000000', mpcache: '#c0392b', 'streaming-llm': '#7f8c8d', snapkv: '#2471a3', quest: '#27ae60', tova: '#8e44ad' };

/** Hand-written SVG: mean exact match at 2k against MB per token (left) and s per token (right), one marker per policy and budget. */
export function mapChart(points: readonly MapPoint[]): string {
  const W = 860;
  const H = 400;
  const pw = 330;
  const m = { l: 56, t: 44, b: 52 };
  const panels = [
    { x0: m.l, label: 'MiB sent per party per decode token', get: (p: MapPoint) => p.mb },
    { x0: m.l + pw + 60, label: 'seconds per decode token', get: (p: MapPoint) => p.s },
  ];
  const y = (v: number): number => H - m.b - v * (H - m.t - m.b);
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${m.l}" y="20" font-size="14" font-weight="bold">Secure KV policies, default model, 2000 tokens: accuracy (plaintext twin, long suite) vs secure cost per token</text>`,
    `<text x="${m.l}" y="36" fill="#555">mean exact match over passkey, multikey and kv; markers 5% (small), 10%, 20% (large); log x axes</text>`,
  ];
  const pts = points.filter((p) => !Number.isNaN(p.mean));
  for (const pn of panels) {
    const vals = pts.map(pn.get).filter((v) => v > 0);
    const lo = Math.log10(Math.min(...vals) / 1.3);
    const hi = Math.log10(Math.max(...vals) * 1.3);
    const x = (v: number): number => pn.x0 + ((Math.log10(v) - lo) / (hi - lo)) * pw;
    out.push(`<line x1="${pn.x0}" x2="${pn.x0}" y1="${m.t}" y2="${H - m.b}" stroke="#333"/>`, `<line x1="${pn.x0}" x2="${pn.x0 + pw}" y1="${H - m.b}" y2="${H - m.b}" stroke="#333"/>`);
    for (let v = 0; v <= 1.0001; v += 0.25) out.push(`<line x1="${pn.x0}" x2="${pn.x0 + pw}" y1="${y(v)}" y2="${y(v)}" stroke="#eee"/>`, `<text x="${pn.x0 - 6}" y="${y(v) + 4}" text-anchor="end">${v.toFixed(2)}</text>`);
    for (let e = Math.ceil(lo * 4) / 4; e <= hi; e += 0.25) {
      const v = 10 ** e;
      out.push(`<text x="${x(v)}" y="${H - m.b + 16}" text-anchor="middle">${v < 1 ? v.toPrecision(2) : v.toFixed(1)}</text>`);
    }
    out.push(`<text x="${pn.x0 + pw / 2}" y="${H - 14}" text-anchor="middle">${pn.label}</text>`);
    for (const p of pts) {
      const r = p.pct === null ? 5 : p.pct <= 5 ? 3 : p.pct <= 10 ? 5 : 7;
      const c = COLORS[p.policy] ?? '#999';
      const cx = x(pn.get(p)).toFixed(1);
      const cy = y(p.mean).toFixed(1);
      out.push(p.policy === 'full' ? `<rect x="${Number(cx) - 5}" y="${Number(cy) - 5}" width="10" height="10" fill="${c}"/>` : `<circle cx="${cx}" cy="${cy}" r="${r}" fill="${c}" fill-opacity="0.8"/>`);
    }
  }
  const names = [...new Set(pts.map((p) => p.policy))];
  names.forEach((n, i) => {
    const ly = m.t + 12 + i * 16;
    const lx = m.l + pw - 95;
    out.push(`<circle cx="${lx}" cy="${ly}" r="5" fill="${COLORS[n] ?? '#999'}"/>`, `<text x="${lx + 9}" y="${ly + 4}">${n === 'mpcache' ? 'mpcache (R)' : n}</text>`);
  });
  out.push('</svg>', '');
  return out.join('\n');
}
