/**
 * CrypTen side of the peers suite: runs bench/peers/crypten_bench.py (2 parties + CrypTen's
 * trusted third party, 3 processes, gloo on loopback) against a CrypTen checkout the user
 * provides (`--crypten PATH`, put on PYTHONPATH; it needs torch, omegaconf and onnx in the
 * python given by `--python`) and reads back what the processes wrote.
 *
 * Variants: gelu has two (CrypTen has no GeLU): 'erf' (x/2 (1 + erf(x/sqrt 2)) with CrypTen's
 * Taylor-series erf) and 'sigmoid' (x sigmoid(1.702 x)); rsqrt and LayerNorm also run with
 * more Newton iterations in inv_sqrt ('nr4', 'nr8': CrypTen's default 3 is far less accurate
 * there), so that the comparison can be made at equal accuracy; every other op has one
 * ('std'). CrypTen's exp cannot be made more accurate at 18 fractional bits (more
 * iterations lose more to rounding: 8 give 1.2e-3, 11 give 7.7e-3), nor its reciprocal
 * converge above x ~ 670 (NR's initial guess; the 'log' method fails as well).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PeerOp } from './peers-ops.js';

const here = dirname(fileURLToPath(import.meta.url));
export const CRYPTEN_SCRIPT = join(here, 'peers', 'crypten_bench.py');

export function cryptenVariants(op: PeerOp): string[] {
  return op === 'gelu' ? ['erf', 'sigmoid'] : op === 'rsqrt' ? ['std', 'nr4'] : op === 'layernorm' ? ['std', 'nr8'] : ['std'];
}

/** what crypten_bench.py writes per process (result-<rank>.json) */
export interface CryptenRecord {
  readonly op: string;
  readonly variant: string;
  readonly rank: number;
  readonly ms: number[];
  /** CPU time of this process per timed execution */
  readonly cpu_ms: number[];
  readonly cold_ms: number;
  /** bytes this process sent during ONE execution */
  readonly bytes_sent: number;
  /** CrypTen's count of communication calls in that execution */
  readonly crypten_rounds: number;
  /** rank 0: bytes the TTP sent to it in that execution, and the number of TTP requests */
  readonly ttp_bytes_sent?: number;
  readonly ttp_requests?: number;
}

export interface CryptenRun {
  readonly variant: string;
  readonly coldS: number;
  readonly warmS: number[];
  /** the busier party's CPU time per timed execution (the TTP's is not counted) */
  readonly cpuS: number[];
  /** bytes sent in ONE execution by party 0, party 1 and the TTP */
  readonly bytesSent: [number, number, number];
  /** party-to-party communication calls (rank 1's count) */
  readonly rounds: number;
  readonly ttpRequests: number;
  readonly out: Float64Array;
}

export function parseCryptenRecords(r0: CryptenRecord, r1: CryptenRecord, out: Float64Array): CryptenRun {
  if (r0.rank !== 0 || r1.rank !== 1) throw new Error('CrypTen: result records out of order');
  if (r0.ttp_bytes_sent === undefined) throw new Error('CrypTen: rank 0 record lacks the TTP counters');
  return {
    variant: r0.variant,
    coldS: r0.cold_ms / 1000,
    warmS: r0.ms.map((v) => v / 1000),
    cpuS: r0.cpu_ms.map((v, i) => Math.max(v, r1.cpu_ms[i] ?? 0) / 1000),
    bytesSent: [r0.bytes_sent, r1.bytes_sent, r0.ttp_bytes_sent],
    rounds: r1.crypten_rounds,
    ttpRequests: r0.ttp_requests ?? 0,
    out,
  };
}

export interface CryptenConfig {
  readonly root: string;
  readonly python: string;
}

export function checkCryptenTree(root: string): string | undefined {
  if (!existsSync(join(root, 'crypten', '__init__.py'))) return `--crypten ${root}: crypten/__init__.py is missing (a CrypTen source checkout is expected)`;
  return undefined;
}

export async function runCrypten(cfg: CryptenConfig, op: PeerOp, variant: string, reps: number, warmup: number, quick: boolean, timeoutMs = 900_000): Promise<CryptenRun> {
  const dir = mkdtempSync(join(tmpdir(), 'mpcache-crypten-'));
  try {
    const log: Buffer[] = [];
    const rc = await new Promise<number>((resolve, reject) => {
      const p = spawn(cfg.python, [CRYPTEN_SCRIPT, dir, op, variant, String(reps), String(warmup), quick ? 'quick' : 'full'], {
        env: { ...process.env, PYTHONPATH: cfg.root, OMP_NUM_THREADS: '1', PYTHONWARNINGS: 'ignore' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      p.stdout.on('data', (d: Buffer) => log.push(d));
      p.stderr.on('data', (d: Buffer) => log.push(d));
      const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
      p.on('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      p.on('close', (code, sig) => {
        clearTimeout(timer);
        resolve(code ?? (sig ? 128 : 1));
      });
    });
    const read = (r: number): CryptenRecord => JSON.parse(readFileSync(join(dir, `result-${r}.json`), 'utf8')) as CryptenRecord;
    // both parties write their records before they exit; a crash after that (gloo's teardown
    // aborts now and then: 'terminate called without an active exception') loses nothing
    const complete = ['result-0.json', 'result-1.json', 'out.f64'].every((f) => existsSync(join(dir, f)));
    if (!complete) throw new Error(`CrypTen ${op}/${variant} failed (rc ${rc}):\n${Buffer.concat(log).toString().slice(-2000)}`);
    const buf = readFileSync(join(dir, 'out.f64'));
    const out = new Float64Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
    return parseCryptenRecords(read(0), read(1), out);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
