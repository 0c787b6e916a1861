/**
 * Where mpcache's time goes in a peers-suite op: runs the op's party job (bench/peers-job.ts)
 * with `node --cpu-prof` on every party and summarises the profiles by layer.
 *
 *   npx tsx bench/peers-profile.ts OP [OP...] [--reps N] [--quick] [--dir DIR] [--top N]
 *
 * Per party: wall time of the timed executions (median), CPU time (median), and the profile's
 * self time by category (kernels = kernels/ JS and the native calls made from it; protocols/;
 * transport = parties/ (sealing, framing, channel); ws = the ws library; node = node's
 * internals (streams, sockets, timers); gc; idle = waiting in the event loop; other), plus the
 * top functions by self time. The profile covers the whole process, so many timed executions
 * (--reps, default 30) make the steady state dominate.
 */
import { mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runOurs, plan } from './peers.js';
import { type PeerOp, isPeerOp } from './peers-ops.js';
import { median } from './peers-report.js';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly hitCount?: number;
  readonly children?: number[];
}
interface CpuProfile {
  readonly nodes: ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples: number[];
  readonly timeDeltas: number[];
}

export type Category = 'kernels' | 'protocols' | 'transport' | 'ws' | 'node' | 'gc' | 'idle' | 'program' | 'other';

export function categorize(fn: string, url: string): Category {
  if (fn === '(garbage collector)') return 'gc';
  if (fn === '(idle)') return 'idle';
  if (fn === '(program)') return 'program';
  if (url.includes('/kernels/')) return 'kernels';
  if (url.includes('/protocols/')) return 'protocols';
  if (url.includes('/parties/')) return 'transport';
  if (url.includes('/node_modules/ws/')) return 'ws';
  if (url.startsWith('node:') || url === '') return 'node';
  return 'other';
}

export interface ProfileSummary {
  readonly totalMs: number;
  readonly byCategory: Record<Category, number>;
  readonly top: { fn: string; where: string; ms: number }[];
}

/**
 * Self time per category and the top functions (ms), from a .cpuprofile, counting only the
 * samples inside `windowUs` (the profile's clock: CLOCK_MONOTONIC microseconds) when given.
 */
export function summarizeProfile(p: CpuProfile, topN = 12, windowUs?: readonly [number, number]): ProfileSummary {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<number, number>();
  let t = p.startTime;
  let first = Infinity;
  let last = -Infinity;
  for (let i = 0; i < p.samples.length; i++) {
    const dt = p.timeDeltas[i] ?? 0;
    t += dt;
    if (windowUs && (t < windowUs[0] || t > windowUs[1])) continue;
    first = Math.min(first, t - dt);
    last = Math.max(last, t);
    self.set(p.samples[i], (self.get(p.samples[i]) ?? 0) + dt / 1000);
  }
  const byCategory: Record<Category, number> = { kernels: 0, protocols: 0, transport: 0, ws: 0, node: 0, gc: 0, idle: 0, program: 0, other: 0 };
  const byFn = new Map<string, { fn: string; where: string; ms: number }>();
  for (const [id, ms] of self) {
    const n = byId.get(id)!;
    const { functionName, url, lineNumber } = n.callFrame;
    byCategory[categorize(functionName, url)] += ms;
    let where = url ? `${url.replace(/^.*\/(node_modules\/|wt-[^/]+\/|main\/)/, '')}:${lineNumber + 1}` : '';
    // anonymous frames (the kernels' validating wrappers, native calls) are named by their caller
    let fnName = functionName || '(anonymous)';
    if (!functionName || functionName === '(anonymous)') {
      const up = parent.get(id);
      const caller = up === undefined ? undefined : byId.get(up)?.callFrame.functionName;
      if (caller) fnName = `(anonymous) in ${caller}`;
    }
    if (!url && ['update', 'writev', 'final'].includes(functionName)) where = 'native';
    const key = `${fnName}@${where}`;
    const e = byFn.get(key) ?? { fn: fnName, where, ms: 0 };
    e.ms += ms;
    byFn.set(key, e);
  }
  const totalMs = last > first ? (last - first) / 1000 : 0;
  const top = [...byFn.values()].sort((a, b) => b.ms - a.ms).slice(0, topN);
  return { totalMs, byCategory, top };
}

async function main(argv: string[]): Promise<void> {
  const ops: PeerOp[] = [];
  let reps = 30;
  let quick = false;
  let top = 12;
  let dir = join(tmpdir(), 'mpcache-peers-profile');
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--reps') reps = Number(argv[++i]);
    else if (a === '--quick') quick = true;
    else if (a === '--dir') dir = argv[++i];
    else if (a === '--top') top = Number(argv[++i]);
    else if (isPeerOp(a)) ops.push(a);
    else throw new Error(`unknown argument '${a}' (ops, --reps N, --quick, --dir DIR, --top N)`);
  }
  if (ops.length === 0) throw new Error('usage: npx tsx bench/peers-profile.ts OP [OP...] [--reps N] [--quick] [--dir DIR] [--top N]');
  const base = plan(quick);
  for (const op of ops) {
    const d = join(dir, op);
    rmSync(d, { recursive: true, force: true });
    mkdirSync(d, { recursive: true });
    const load = loadavg()[0].toFixed(1);
    // node refuses --cpu-prof in NODE_OPTIONS; the launcher gives the children this process's execArgv
    const saved = [...process.execArgv];
    process.execArgv.push('--cpu-prof', `--cpu-prof-dir=${d}`, '--cpu-prof-interval=200');
    let rs;
    try {
      rs = await runOurs({ ...base, ours: { warmup: 2, reps } }, op);
    } finally {
      process.execArgv.splice(0, process.execArgv.length, ...saved);
    }
    process.stdout.write(`\n== ${op}: ${reps} timed executions, load ${load}; wall (P0 median) ${median(rs[0].ms).toFixed(2)} ms; CPU per party ${rs.map((r) => median(r.cpuMs).toFixed(2)).join(' / ')} ms; rounds ${rs[0].cost.rounds}, messages sent ${rs.map((r) => r.cost.messagesSent).join('/')}\n`);
    // main threads only (CPU.<date>.<time>.<pid>.0.<seq>; thread 1 is tsx's loader worker), in party order
    const files = readdirSync(d).filter((f) => /\.\d+\.0\.\d+\.cpuprofile$/.test(f)).sort();
    for (const f of files) {
      const p = JSON.parse(readFileSync(join(d, f), 'utf8')) as CpuProfile;
      const w = rs.map((r) => r.timedUs).find((q) => q[0] >= p.startTime && q[1] <= p.endTime);
      const s = summarizeProfile(p, top, w);
      const cats = Object.entries(s.byCategory).filter(([, v]) => v >= 0.5).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v.toFixed(0)}`).join(', ');
      process.stdout.write(`-- ${f}: ${s.totalMs.toFixed(0)} ms of timed executions${w ? '' : ' (window not found: whole process)'}: ${cats}\n`);
      for (const t of s.top) process.stdout.write(`   ${t.ms.toFixed(1).padStart(8)} ms  ${t.fn}  ${t.where}\n`);
    }
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main(process.argv.slice(2)).catch((e: unknown) => {
    process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = 1;
  });
}
