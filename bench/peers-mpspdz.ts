/**
 * MP-SPDZ side of the peers suite: compiles bench/peers/bench_op.mpc for an op and a compiler
 * variant inside an MP-SPDZ tree the user built (the suite never builds it: `--mpspdz PATH`
 * points at a tree with replicated-ring-party.x and the parties' certificates, see peers.ts),
 * runs the three parties on loopback (TLS between them, the protocol's default) and parses
 * the per-execution timers, the bytes each party sent inside them, the rounds and the
 * revealed output.
 *
 * Variants (compiler settings; the suite keeps the best one per op):
 *   def: -R 64                       (MP-SPDZ's defaults: daBit-style conversions, exact truncation)
 *   Y:   -R 64 -Y                    (edaBits)
 *   Z:   -R 64 -Z 3, trunc_pr, unsplit1   (what `compile.py -E ring` selects for this protocol:
 *        local share splitting, probabilistic truncation)
 * argmax is compiled twice per variant: 'argmax' on sfix (31-bit comparisons, k = 31) and
 * 'argmax63' on the integer encodings (63-bit comparisons, mpcache's default width).
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FRAC_BITS, type OpSizes, type PeerOp } from './peers-ops.js';

const here = dirname(fileURLToPath(import.meta.url));
export const MPC_PROGRAM = join(here, 'peers', 'bench_op.mpc');

export const MPSPDZ_VARIANTS = {
  def: { flags: ['-R', '64'], tags: ['vdef'] },
  Y: { flags: ['-R', '64', '-Y'], tags: ['vY'] },
  Z: { flags: ['-R', '64', '-Z', '3'], tags: ['vZ', 'trunc_pr', 'unsplit1'] },
} as const;
export type MpspdzVariant = keyof typeof MPSPDZ_VARIANTS;
export const MPSPDZ_VARIANT_NAMES = Object.keys(MPSPDZ_VARIANTS) as MpspdzVariant[];

/** the bench_op.mpc programs that count for an op */
export function mpspdzPrograms(op: PeerOp): string[] {
  return op === 'argmax' ? ['argmax', 'argmax63'] : [op];
}

export interface MpspdzProgram {
  readonly prog: string;
  readonly variant: MpspdzVariant;
  /** executions inside one process (first = cold) */
  readonly reps: number;
  /** element count override for --quick (bench_op.mpc's n<N>) */
  readonly n?: number;
}

export function compileArgs(p: MpspdzProgram): string[] {
  const v = MPSPDZ_VARIANTS[p.variant];
  return [...v.flags, MPC_PROGRAM, p.prog, ...v.tags, `r${p.reps}`, ...(p.n !== undefined ? [`n${p.n}`] : [])];
}

/** MP-SPDZ's program name: the source's base name and the arguments, joined by '-' */
export function programName(p: MpspdzProgram): string {
  const v = MPSPDZ_VARIANTS[p.variant];
  return ['bench_op', p.prog, ...v.tags, `r${p.reps}`, ...(p.n !== undefined ? [`n${p.n}`] : [])].join('-');
}

export interface MpspdzTimer {
  readonly s: number;
  readonly mb: number;
  readonly rounds: number;
}

export interface MpspdzLog {
  /** Timer i (1-based) at index i - 1 */
  readonly timers: MpspdzTimer[];
  /** the raw ring integers of 'OUT <tag> [...]' (party 0 only) */
  readonly out?: bigint[];
}

const NUM = '([0-9.eE+-]+)';

/** Parse one party's output (stdout and stderr together). */
export function parseMpspdzLog(text: string): MpspdzLog {
  const timers: MpspdzTimer[] = [];
  const re = new RegExp(`^Time(\\d+) = ${NUM} seconds \\(${NUM} MB, (\\d+) rounds\\)`, 'gm');
  for (const m of text.matchAll(re)) {
    const i = Number(m[1]);
    if (i >= 1) timers[i - 1] = { s: Number(m[2]), mb: Number(m[3]), rounds: Number(m[4]) };
  }
  for (let i = 0; i < timers.length; i++) if (timers[i] === undefined) throw new Error(`MP-SPDZ log: Timer${i + 1} missing`);
  const o = /^OUT \S+ \[([^\]]*)\]/m.exec(text);
  const out = o ? (o[1].trim() === '' ? [] : o[1].split(',').map((t) => BigInt(t.trim()))) : undefined;
  return out === undefined ? { timers } : { timers, out };
}

/**
 * MP-SPDZ's revealed ring integers in the canonical layout of peers-ops.ts: decoded at the
 * op's scale, column-major programs transposed back, argmax indices as they are, top-k keys
 * unpacked (key = row * 2^24 + x + 2^23, ascending per row) into descending values.
 */
export function decodeMpspdz(op: PeerOp, ints: readonly bigint[], s: OpSizes): Float64Array {
  const f = 2 ** FRAC_BITS;
  const num = Float64Array.from(ints, (v) => Number(v));
  const colToRow = (rows: number, cols: number): Float64Array => {
    if (num.length !== rows * cols) throw new RangeError(`MP-SPDZ ${op}: ${num.length} outputs, expected ${rows * cols}`);
    const o = new Float64Array(rows * cols);
    for (let c = 0; c < cols; c++) for (let r = 0; r < rows; r++) o[r * cols + c] = num[c * rows + r] / f;
    return o;
  };
  switch (op) {
    case 'mul': return num.map((v) => v / (f * f));
    case 'lt':
    case 'argmax': return num;
    case 'softmax': return colToRow(s.rows, s.cols);
    case 'layernorm': return colToRow(s.ln[0], s.ln[1]);
    case 'topk': {
      const [rows, , k] = s.tk;
      if (num.length !== rows * k) throw new RangeError(`MP-SPDZ topk: ${num.length} outputs, expected ${rows * k}`);
      const o = new Float64Array(rows * k);
      for (let r = 0; r < rows; r++) {
        for (let t = 0; t < k; t++) o[r * k + t] = (num[r * k + (k - 1 - t)] - r * 2 ** 24 - 2 ** 23) / f;
      }
      return o;
    }
    default: return num.map((v) => v / f);
  }
}

export interface MpspdzRun {
  readonly prog: string;
  readonly variant: MpspdzVariant;
  /** party 0's first execution, s */
  readonly coldS: number;
  /** party 0's later executions, s */
  readonly warmS: number[];
  /** bytes SENT per party inside one (warm, else the cold) execution */
  readonly bytesSent: [number, number, number];
  /** party 0's rounds in that execution */
  readonly rounds: number;
  /** CPU time (user + system) of each party process over its whole run (setup, all executions, output) */
  readonly cpuTotalS: [number, number, number];
  readonly out?: bigint[];
}

/** The children's CPU times that bash's `times` prints last ('0m0.123s 0m0.045s'), user + system, s. */
export function parseTimes(text: string): number {
  const all = [...text.matchAll(/^(\d+)m([\d.]+)s (\d+)m([\d.]+)s\s*$/gm)];
  const m = all[all.length - 1];
  if (m === undefined) throw new Error('MP-SPDZ: no CPU times in the party log');
  return Number(m[1]) * 60 + Number(m[2]) + Number(m[3]) * 60 + Number(m[4]);
}

export interface MpspdzConfig {
  /** the MP-SPDZ source tree */
  readonly root: string;
  /** python for compile.py */
  readonly python: string;
}

/** Run a command in its own process group (a timeout kills the whole group), output into logFile. */
function sh(cmd: string, args: readonly string[], cwd: string, logFile: string, timeoutMs: number, env?: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const out: Buffer[] = [];
    const p = spawn(cmd, args, { cwd, env: env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    p.stdout.on('data', (d: Buffer) => out.push(d));
    p.stderr.on('data', (d: Buffer) => out.push(d));
    const timer = setTimeout(() => {
      try {
        if (p.pid !== undefined) process.kill(-p.pid, 'SIGKILL');
      } catch {
        p.kill('SIGKILL'); // the group is gone already: the child alone
      }
    }, timeoutMs);
    p.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    p.on('close', (code, sig) => {
      clearTimeout(timer);
      writeFileSync(logFile, Buffer.concat(out));
      resolve(code ?? (sig ? 128 : 1));
    });
  });
}

/** Check the tree has what the suite needs; returns a usage message or undefined. */
export function checkMpspdzTree(root: string): string | undefined {
  for (const f of ['compile.py', 'replicated-ring-party.x', 'Player-Data/P0.pem', 'Player-Data/P2.key']) {
    if (!existsSync(join(root, f))) {
      return `--mpspdz ${root}: ${f} is missing (the suite needs replicated-ring-party.x built in that tree and the parties' certificates from its Scripts/setup-ssl.sh 3)`;
    }
  }
  return undefined;
}

export const LOG_DIR = join(tmpdir(), 'mpcache-peers-logs');

/**
 * Compile a program unless the tree already has it from this exact bench_op.mpc; its input
 * files go to Player-Data/<name>/ (compile.py writes them to Player-Data/Input-Binary-P*-0).
 */
export async function compileProgram(cfg: MpspdzConfig, p: MpspdzProgram): Promise<string> {
  const name = programName(p);
  const dir = join(cfg.root, 'Player-Data', name);
  const stamp = join(dir, 'mpcache-source.sha256');
  const hash = createHash('sha256').update(readFileSync(MPC_PROGRAM)).digest('hex');
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === hash && existsSync(join(cfg.root, 'Programs', 'Schedules', `${name}.sch`))) return name;
  mkdirSync(LOG_DIR, { recursive: true });
  const log = join(LOG_DIR, `compile-${name}.log`);
  const rc = await sh(cfg.python, ['./compile.py', ...compileArgs(p)], cfg.root, log, 1_800_000);
  if (rc !== 0) throw new Error(`MP-SPDZ compile of ${name} failed (rc ${rc}):\n${readFileSync(log, 'utf8').slice(-2000)}`);
  mkdirSync(dir, { recursive: true });
  for (const pl of [0, 1]) {
    const src = join(cfg.root, 'Player-Data', `Input-Binary-P${pl}-0`);
    if (existsSync(src)) renameSync(src, join(dir, `Input-Binary-P${pl}-0`));
  }
  writeFileSync(stamp, hash);
  return name;
}

/** a free loopback port base (MP-SPDZ's party i listens on base + i) */
async function freePortBase(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 30_000);
    const ok = await Promise.all([0, 1, 2].map((i) => new Promise<boolean>((res) => {
      const srv = createServer();
      srv.once('error', () => res(false));
      srv.listen(base + i, '127.0.0.1', () => srv.close(() => res(true)));
    })));
    if (ok.every(Boolean)) return base;
  }
  throw new Error('MP-SPDZ: no free port range on loopback');
}

/** Run a compiled program with three local parties and parse what they report. */
export async function runProgram(cfg: MpspdzConfig, p: MpspdzProgram, timeoutMs = 600_000): Promise<MpspdzRun> {
  const name = programName(p);
  const port = await freePortBase();
  mkdirSync(LOG_DIR, { recursive: true });
  const env = { ...process.env, LD_LIBRARY_PATH: cfg.root };
  const logs = [0, 1, 2].map((i) => join(LOG_DIR, `${name}-P${i}.log`));
  // under bash, whose `times` then prints the party's CPU time (user, system) last
  const party = (i: number): string[] => ['-c', '"$@"; rc=$?; times; exit $rc', 'party', join(cfg.root, 'replicated-ring-party.x'),
    String(i), '-v', '-IF', `Player-Data/${name}/Input`, name, '-pn', String(port), '-h', 'localhost'];
  const rcs = await Promise.all([0, 1, 2].map((i) => sh('bash', party(i), cfg.root, logs[i], timeoutMs, env)));
  const texts = logs.map((l) => readFileSync(l, 'utf8'));
  if (rcs.some((r) => r !== 0)) throw new Error(`MP-SPDZ run of ${name} failed (rcs ${rcs.join(', ')}):\n${texts[0].slice(-2000)}`);
  const parsed = texts.map(parseMpspdzLog);
  const t0 = parsed[0].timers;
  if (t0.length !== p.reps) throw new Error(`MP-SPDZ ${name}: ${t0.length} timers, expected ${p.reps}`);
  const pick = p.reps > 1 ? 1 : 0;
  const bytesSent = parsed.map((q) => q.timers[pick].mb * 1e6) as [number, number, number];
  const cpuTotalS = texts.map(parseTimes) as [number, number, number];
  return { prog: p.prog, variant: p.variant, coldS: t0[0].s, warmS: t0.slice(1).map((t) => t.s), bytesSent, rounds: t0[pick].rounds, cpuTotalS, out: parsed[0].out };
}
