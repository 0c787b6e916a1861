/**
 * Peers benchmark: mpcache's protocol blocks side by side with MP-SPDZ (replicated-ring-party.x:
 * 3-party replicated sharing over Z_2^64, TLS between the parties) and CrypTen (2 parties +
 * its trusted third party), on the same machine, same sizes, inputs and fixed point (18
 * fractional bits, ring 2^64; bench/peers-ops.ts), runs interleaved op by op: mpcache, every
 * MP-SPDZ variant, CrypTen, then again (`--rounds`, default 3).
 *
 *   npm run bench -- peers [--mpspdz TREE] [--crypten CHECKOUT] [--python PY] [--ops a,b] [--rounds N] [--json F]
 *
 * The peers are NOT part of the repository and the suite never builds them. It expects:
 *   --mpspdz: an MP-SPDZ source tree (github data61/MP-SPDZ) with replicated-ring-party.x
 *             built and the three parties' TLS certificates in Player-Data/ (its
 *             Scripts/setup-ssl.sh 3); the suite compiles bench/peers/bench_op.mpc there with
 *             its compile.py (into its Programs/ and Player-Data/) and runs three parties on
 *             loopback.
 *   --crypten: a CrypTen checkout (github facebookresearch/CrypTen), run from source by
 *             bench/peers/crypten_bench.py with a python that has torch, onnx and omegaconf
 *             (--python; default /usr/bin/python3 when it exists).
 * Without them only mpcache's side runs. Never part of CI (no test needs the peers).
 *
 * Timing: mpcache's parties run 2 untimed executions then 3 timed ones per launch (cold = the
 * very first execution); MP-SPDZ runs the op 4 times in one process, each under its own timer
 * (cold = the first: it includes MP-SPDZ's on-the-fly preprocessing setup; warm = the others);
 * CrypTen 1 untimed + 3 timed. Medians over all rounds. Ratios use warmed times on both sides
 * (`_peer_ratio_mpspdz_cold`: MP-SPDZ's cold time). A peer's best variant is its fastest one
 * that is at least as accurate as mpcache (else its most accurate; peers-report.ts pickBest).
 * MP-SPDZ variants more than 2x slower than its best after the first round are not run again.
 * CPU: the busiest process's CPU time per warmed execution (mpcache: its parties; CrypTen:
 * its two parties, not the TTP; MP-SPDZ: a party's whole run / executions, an upper bound
 * that includes its setup). On a loaded machine the wall times mostly measure each
 * process's share of the cores (MP-SPDZ's parties run ~11 threads each, mpcache's one main
 * thread), so the CPU times say more about the work.
 * Bytes: sent per party per element, mean over the three processes (CrypTen: P0, P1 and the
 * TTP). Rounds: mpcache's channel rounds; MP-SPDZ's timer rounds (party 0); CrypTen's
 * communication calls between the two parties (its TTP requests come on top).
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PARTY_ALLOCATOR_ENV, runLocalParties } from '../parties/launcher.js';
import { type CryptenConfig, checkCryptenTree, cryptenVariants, runCrypten } from './peers-crypten.js';
import type { PeersJobArgs, PeersJobResult } from './peers-job.js';
import { type MpspdzConfig, type MpspdzProgram, type MpspdzVariant, MPSPDZ_VARIANT_NAMES, checkMpspdzTree, compileProgram, decodeMpspdz, mpspdzPrograms, runProgram } from './peers-mpspdz.js';
import { FULL_SIZES, type OpSizes, type PeerOp, QUICK_SIZES, opError, opReference, opSpec } from './peers-ops.js';
import {
  type OpRow, PEERS_USAGE, PeersUsageError, type PeersOptions, type Samples, keepVariants, misses, newSamples, opFigures, parsePeersArgs, peersTable, summarize, variantTable,
} from './peers-report.js';
import { UsageError } from './run.js';
import type { BenchOptions, BenchResult } from './types.js';

const here = dirname(fileURLToPath(import.meta.url));
const JOB = `${join(here, 'peers-job.ts')}#peersBench`;
/** what the run measured so far (rows and figures after each op) */
const PROGRESS = join(tmpdir(), 'mpcache-peers-progress.json');

/** what the peers run where it is not the same operation, or how it is built (table notes) */
export const COUNTERPARTS: Partial<Record<PeerOp, string>> = {
  mul: 'ring product of the fixed-point encodings, no truncation (MP-SPDZ sint *, CrypTen precision 0)',
  argmax: 'MP-SPDZ: a vectorised tree of comparisons (ml.argmax\'s operation), variants on sfix (31-bit comparisons, k = 31) and on the integer encodings (63-bit, argmax63)',
  gelu: 'MP-SPDZ: ml.Gelu\'s default (PUMA\'s piecewise polynomial); CrypTen has no GeLU: x/2 (1 + erf(x/sqrt 2)) with its Taylor erf (erf), or x sigmoid(1.702 x) (sigmoid)',
  silu: 'MP-SPDZ has no SiLU: x * ml.sigmoid(x); CrypTen x * x.sigmoid()',
  rsqrt: 'MP-SPDZ: mpc_math.InvertSqrt (ml.LayerNorm\'s default); CrypTen: inv_sqrt (Newton)',
  layernorm: 'no gain or bias; all three compose it the same way (mean, centred squares, variance, rsqrt, product; MP-SPDZ as ml.LayerNorm.forward)',
  topk: 'MP-SPDZ has no top-k: its radix sort (sint.Array.sort) of all rows in one sort (key = row * 2^24 + value); CrypTen has neither: k successive one-hot argmaxes; mpcache: topk values only (oneHot: false)',
};

function defaultPython(): string {
  return existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
}

export interface Plan {
  readonly quick: boolean;
  readonly s: OpSizes;
  readonly ours: { warmup: number; reps: number };
  readonly mpspdzReps: number;
  /** CrypTen's executions per launch, and in how many of the rounds it runs */
  readonly crypten: (op: PeerOp) => { warmup: number; reps: number; rounds?: number };
}

export function plan(quick: boolean): Plan {
  return {
    quick,
    s: quick ? QUICK_SIZES : FULL_SIZES,
    ours: quick ? { warmup: 1, reps: 1 } : { warmup: 2, reps: 3 },
    mpspdzReps: quick ? 2 : 4,
    // top-k is 64 argmaxes in CrypTen (~6500 rounds, minutes): one execution, first round only
    crypten: (op) => (op === 'topk' ? { warmup: 0, reps: 1, rounds: 1 } : quick ? { warmup: 1, reps: 1 } : { warmup: 1, reps: 3 }),
  };
}

/** One launch of mpcache's three parties for an op (extraEnv: e.g. NODE_OPTIONS for a profile). */
export async function runOurs(p: Plan, op: PeerOp, extraEnv: Record<string, string> = {}): Promise<PeersJobResult[]> {
  const jobArgs: PeersJobArgs = { op, quick: p.quick, ...p.ours };
  const lines: string[] = [];
  const onLine = (party: number, line: string): void => {
    lines.push(`[P${party}] ${line}`);
    if (lines.length > 100) lines.shift();
  };
  const env: Record<string, string> = { ...PARTY_ALLOCATOR_ENV, ...extraEnv };
  try {
    const { results } = await runLocalParties({ jobModule: JOB, jobArgs, env, onLine, recvTimeoutMs: 300_000, timeoutMs: 900_000 });
    return results as PeersJobResult[];
  } catch (e) {
    process.stderr.write(`bench peers: mpcache ${op} failed; last party output:\n${lines.slice(-30).join('\n')}\n`);
    throw e;
  }
}

function log(line: string): void {
  process.stderr.write(`[peers ${new Date().toISOString().slice(11, 19)} load ${loadavg()[0].toFixed(1)}] ${line}\n`);
}

export default async function peersBench(opts: BenchOptions): Promise<BenchResult> {
  const quick = opts.quick === true;
  let o: PeersOptions;
  try {
    o = parsePeersArgs(opts.args, quick ? 1 : 3);
  } catch (e) {
    if (e instanceof PeersUsageError) throw new UsageError(e.message);
    throw e;
  }
  const python = o.python ?? defaultPython();
  const mp: MpspdzConfig | undefined = o.mpspdz ? { root: resolve(o.mpspdz), python } : undefined;
  const ct: CryptenConfig | undefined = o.crypten ? { root: resolve(o.crypten), python } : undefined;
  const bad = (mp && checkMpspdzTree(mp.root)) || (ct && checkCryptenTree(ct.root));
  if (bad) throw new UsageError(`${bad}\n${PEERS_USAGE}`);
  const variants = (o.variants ?? MPSPDZ_VARIANT_NAMES) as MpspdzVariant[];
  for (const v of variants) if (!MPSPDZ_VARIANT_NAMES.includes(v)) throw new UsageError(`unknown MP-SPDZ variant '${v}' (${MPSPDZ_VARIANT_NAMES.join(', ')})`);
  const p = plan(quick);
  const loadBefore = loadavg().map((l) => l.toFixed(1)).join(' / ');
  const started = new Date();

  // compile every MP-SPDZ program first (cached in the tree), so compile time never lands inside a round
  const progsOf = new Map<PeerOp, MpspdzProgram[]>();
  if (mp) {
    for (const op of o.ops) {
      const list: MpspdzProgram[] = [];
      for (const prog of mpspdzPrograms(op)) for (const variant of variants) list.push({ prog, variant, reps: p.mpspdzReps, ...(quick ? { n: p.s.n } : {}) });
      for (const q of list) {
        log(`MP-SPDZ compile ${q.prog}/${q.variant}`);
        await compileProgram(mp, q);
      }
      progsOf.set(op, list);
    }
  }

  const rows: OpRow[] = [];
  const figures: Record<string, number> = {};
  const tableRows: Record<string, string | number>[] = [];
  const failures: string[] = [];
  /** one retry: a run that fails twice is recorded in the notes and skipped for this round */
  const attempt = async <T>(what: string, f: () => Promise<T>): Promise<T | undefined> => {
    for (let i = 1; i <= 2; i++) {
      try {
        return await f();
      } catch (e) {
        const msg = (e as Error).message.split('\n').slice(0, 3).join(' ').slice(0, 300);
        log(`${what} failed (attempt ${i}): ${msg}`);
        if (i === 2) failures.push(`${what}: ${msg}`);
      }
    }
    return undefined;
  };
  for (const op of o.ops) {
    const spec = opSpec(op, p.s);
    const ref = opReference(op, p.s);
    const ours = newSamples('');
    const mps = new Map<string, Samples>();
    const cts = new Map<string, Samples>();
    let progs = progsOf.get(op) ?? [];
    const keyOf = (q: MpspdzProgram): string => `${q.variant}${q.prog === op ? '' : ` (${q.prog})`}`;
    for (let round = 0; round < o.rounds; round++) {
      const tag = `${op} round ${round + 1}/${o.rounds}`;
      log(`${tag}: mpcache`);
      const rs = await attempt(`mpcache ${tag}`, () => runOurs(p, op));
      if (rs) {
        ours.cold.push(rs[0].coldMs / 1000);
        ours.warm.push(...rs[0].ms.map((v) => v / 1000));
        for (let i = 0; i < rs[0].ms.length; i++) ours.cpu.push(Math.max(...rs.map((r) => r.cpuMs[i])) / 1000);
        ours.bytesPerElem = rs.reduce((acc, r) => acc + r.cost.bytesSent, 0) / 3 / spec.elems;
        ours.rounds = rs[0].cost.rounds;
        ours.err = Math.max(ours.err, rs[0].err ?? NaN);
      }
      for (const q of progs) {
        log(`${tag}: MP-SPDZ ${q.prog}/${q.variant}`);
        const r = await attempt(`MP-SPDZ ${q.prog}/${q.variant} ${tag}`, () => runProgram(mp!, q));
        if (!r) continue;
        const smp = mps.get(keyOf(q)) ?? newSamples(keyOf(q));
        smp.cold.push(r.coldS);
        smp.warm.push(...r.warmS);
        smp.cpu.push(Math.max(...r.cpuTotalS) / q.reps);
        smp.bytesPerElem = (r.bytesSent[0] + r.bytesSent[1] + r.bytesSent[2]) / 3 / spec.elems;
        smp.rounds = r.rounds;
        smp.err = Math.max(smp.err, r.out ? opError(spec, decodeMpspdz(op, r.out, p.s), ref) : NaN);
        mps.set(keyOf(q), smp);
      }
      if (round === 0 && progs.length > 1) {
        // later rounds run only the variants that can still be the best (within 2x of it)
        const keep = keepVariants([...mps.values()].map(summarize), ours.err);
        const dropped = progs.filter((q) => !keep.has(keyOf(q))).map(keyOf);
        if (dropped.length) log(`${op}: MP-SPDZ variants not run again (slower than 2x the best, or less accurate): ${dropped.join(', ')}`);
        progs = progs.filter((q) => keep.has(keyOf(q)));
      }
      const cp = p.crypten(op);
      if (ct && round < (cp.rounds ?? o.rounds)) {
        for (const v of cryptenVariants(op)) {
          log(`${tag}: CrypTen ${v}`);
          const { warmup, reps } = cp;
          const r = await attempt(`CrypTen ${v} ${tag}`, () => runCrypten(ct, op, v, reps, warmup, quick));
          if (!r) continue;
          const sc = cts.get(v) ?? newSamples(v);
          sc.cold.push(r.coldS);
          sc.warm.push(...r.warmS);
          sc.cpu.push(...r.cpuS);
          sc.bytesPerElem = (r.bytesSent[0] + r.bytesSent[1] + r.bytesSent[2]) / 3 / spec.elems;
          sc.detail = `(P0 ${(r.bytesSent[0] / spec.elems).toFixed(0)}, P1 ${(r.bytesSent[1] / spec.elems).toFixed(0)}, TTP ${(r.bytesSent[2] / spec.elems).toFixed(0)}; ${r.ttpRequests} TTP requests${warmup === 0 ? '; one cold execution' : ''})`;
          sc.rounds = r.rounds;
          sc.err = Math.max(sc.err, opError(spec, r.out, ref));
          cts.set(v, sc);
        }
      }
    }
    if (ours.warm.length === 0) throw new Error(`bench peers: mpcache's ${op} failed in every round`);
    const row: OpRow = {
      op, label: spec.label, size: spec.size, ours: summarize(ours),
      ...(mp ? { mpspdz: [...mps.values()].map(summarize) } : {}),
      ...(ct ? { crypten: [...cts.values()].map(summarize) } : {}),
      ...(COUNTERPARTS[op] ? { counterpart: COUNTERPARTS[op] } : {}),
    };
    rows.push(row);
    const f = opFigures(row, op === 'mul' ? `mul_${spec.size}_s` : undefined);
    Object.assign(figures, f);
    tableRows.push({
      op, size: spec.size, s: f[`${op}_s`] ?? '-', cpu_s: f[`${op}_cpu_s`] ?? '-', bytes: f[`${op}_bytes_per_elem`] ?? '-', rounds: f[`${op}_rounds`] ?? '-', err: f[`${op}_err`] ?? '-',
      mpspdz_warm_s: f[`${op}_mpspdz_warm_s`] ?? '-', mpspdz_cold_s: f[`${op}_mpspdz_s`] ?? '-', mpspdz_err: f[`${op}_mpspdz_err`] ?? '-',
      crypten_s: f[`${op}_crypten_s`] ?? '-', crypten_err: f[`${op}_crypten_err`] ?? '-',
      x_mpspdz: f[`${op}_peer_ratio_mpspdz`] ?? '-', x_crypten: f[`${op}_peer_ratio_crypten`] ?? '-',
    });
    log(`${op}: ${JSON.stringify(f)}`);
    // progress, so that an interrupted run keeps what it measured
    writeFileSync(PROGRESS, `${JSON.stringify({ rows, figures }, null, 1)}\n`);
  }

  const title = `mpcache vs MP-SPDZ and CrypTen, side by side${quick ? ' (quick sizes)' : ''}`;
  const notes: string[] = [];
  const miss = misses(figures, o.ops);
  if (mp || ct) notes.push(miss.length ? `below 1.2x (warmed): ${miss.join('; ')}` : 'mpcache is at least 1.2x ahead of every peer on every op measured');
  if (!mp && !ct) notes.push('no peers given (--mpspdz / --crypten): mpcache only');
  for (const f of failures) notes.push(`FAILED (skipped in that round): ${f}`);
  const cpuInfo = cpus();
  const machine = `${cpuInfo.length} x ${cpuInfo[0]?.model.trim() ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB`;
  const md = [
    `# ${title}`,
    '',
    `Generated by \`npm run bench -- peers --mpspdz TREE --crypten CHECKOUT\` (bench/peers.ts) on ${started.toISOString().slice(0, 16).replace('T', ' ')} UTC; do not edit by hand.`,
    `Machine: ${machine}; load average (1/5/15 min) ${loadBefore} before, ${loadavg().map((l) => l.toFixed(1)).join(' / ')} after. ${o.rounds} interleaved rounds (mpcache, MP-SPDZ variants, CrypTen per op).`,
    'Same inputs, sizes and fixed point (18 fractional bits, ring 2^64) everywhere. Times: medians; mpcache and CrypTen warmed (after untimed executions in the same process),',
    'MP-SPDZ warmed = its 2nd-4th executions in one process, cold = its 1st. B = bytes sent per party per element (mean of the three processes; CrypTen: P0, P1, TTP).',
    'err = max |out - float64| (lt, argmax: fraction wrong). Ratios = peer warmed time / mpcache warmed time (> 1: mpcache faster). A peer\'s best variant = its fastest at least as accurate as mpcache (errors within 2x count as equal; else its most accurate).',
    '',
    ...peersTable(rows),
    '',
    ...rows.filter((r) => r.counterpart).map((r) => `- ${r.label}: ${r.counterpart}`),
    ...notes.map((n) => `- ${n}`),
    '',
    '## Every variant',
    '',
    ...variantTable(rows),
    '',
  ].join('\n');
  if (!quick) {
    const out = join(here, 'results', 'peers.md');
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, md);
    notes.push(`table written to ${out}`);
  } else {
    process.stdout.write(`\n${md}\n`);
  }
  return { title, rows: tableRows, figures, notes };
}
