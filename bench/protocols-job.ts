/**
 * The party-side job of the protocol benchmark (bench/protocols.ts): shares benchmark
 * inputs (not secret: the tests' fixed LCG, testing/protocol-helpers.ts), runs one protocol block `reps` times and reports each
 * repetition's latency and the traffic of one repetition as counted by the channel.
 *
 * Launched by runLocalParties as `bench/protocols-job.ts#protocolBench`.
 */
import type { JobIO } from '../parties/job.js';
import type { StepStats } from '../protocols/channel.js';
import type { Context } from '../protocols/context.js';
import * as P from '../protocols/index.js';
import type { ArithShare } from '../protocols/types.js';
import { randFloats as values, share } from '../testing/protocol-helpers.js';

export type BenchOp = 'mul' | 'fxmul' | 'fxmul1' | 'lt' | 'exp' | 'reciprocal' | 'softmax' | 'argmax' | 'matmul' | 'topk';

export interface ProtocolBenchArgs {
  readonly op: BenchOp;
  /** input shape of the block (for matmul: [m, k, n]) */
  readonly shape: readonly number[];
  readonly reps: number;
  /** untimed repetitions first (page faults, JIT warm-up); default 1 */
  readonly warmup?: number;
  /** top-k's k */
  readonly k?: number;
}

export interface ProtocolBenchResult {
  readonly op: BenchOp;
  /** why the block did not run (the function does not exist yet) */
  readonly skipped?: string;
  /** latency of each repetition on this party, ms */
  readonly ms: number[];
  /** CPU time (user + system) of this party process in each repetition, ms */
  readonly cpuMs: number[];
  /** traffic of ONE repetition on this party */
  readonly cost?: StepStats;
}

type Fn = (...a: never[]) => Promise<unknown>;

/**
 * A protocol function by name: from protocols/index.ts, else from protocols/<name>.ts (the
 * nonlinear blocks may not be re-exported yet), else undefined.
 */
async function lookup(name: string): Promise<Fn | undefined> {
  const f = (P as Record<string, unknown>)[name];
  if (typeof f === 'function') return f as Fn;
  try {
    const mod = (await import(`../protocols/${name}.js`)) as Record<string, unknown>;
    const g = mod[name];
    return typeof g === 'function' ? (g as Fn) : undefined;
  } catch (e) {
    if ((e as { code?: string }).code === 'ERR_MODULE_NOT_FOUND') return undefined;
    throw e;
  }
}

async function barrier(ctx: Context): Promise<void> {
  const peers = ([0, 1, 2] as const).filter((p) => p !== ctx.party);
  const one = new Uint8Array(1);
  await ctx.ch.exchange({ step: 'bench.barrier', send: { [peers[0]]: one, [peers[1]]: one }, recv: peers });
}

export async function protocolBench(ctx: Context, rawArgs: unknown, io: JobIO): Promise<ProtocolBenchResult> {
  const args = rawArgs as ProtocolBenchArgs;
  const { op, shape, reps } = args;
  const size = shape.reduce((a, b) => a * b, 1);
  let run: () => Promise<unknown>;
  switch (op) {
    case 'mul':
    case 'fxmul':
    case 'fxmul1':
    case 'lt': {
      const x = await share(ctx, 0, [size], values(size, -10, 10, 1));
      const y = await share(ctx, 1, [size], values(size, -10, 10, 2));
      run =
        op === 'mul' ? () => P.mul(ctx, x, y)
        : op === 'fxmul' ? () => P.mulFixed(ctx, x, y)
        : op === 'fxmul1' ? () => P.mulFixed(ctx, x, y, { rounds: 1 })
        : () => P.lt(ctx, x, y);
      break;
    }
    case 'argmax': {
      const x = await share(ctx, 1, [...shape], values(size, -8, 8, 3));
      run = () => P.argmax(ctx, x);
      break;
    }
    case 'matmul': {
      const [m, k, n] = shape;
      const x = await share(ctx, 1, [m, k], values(m * k, -1, 1, 4));
      const w = await share(ctx, 0, [k, n], values(k * n, -0.1, 0.1, 5));
      run = () => P.matmulFixed(ctx, x, w);
      break;
    }
    case 'exp':
    case 'reciprocal':
    case 'softmax':
    case 'topk': {
      const f = await lookup(op);
      if (f === undefined) return { op, skipped: `no '${op}' in protocols/index.ts or protocols/${op}.ts yet`, ms: [], cpuMs: [] };
      const [lo, hi] = op === 'exp' ? [-14, 0] : op === 'reciprocal' ? [1, 1000] : [-8, 8];
      const x = await share(ctx, 1, [...shape], values(size, lo, hi, 6));
      const g = f as unknown as (c: Context, a: ArithShare, k?: number) => Promise<unknown>;
      run = op === 'topk' ? () => g(ctx, x, args.k ?? 64) : () => g(ctx, x);
      break;
    }
    default:
      throw new RangeError(`protocolBench: unknown op '${String(op)}'`);
  }
  const ms: number[] = [];
  const cpuMs: number[] = [];
  let cost: StepStats | undefined;
  const warmup = args.warmup ?? 1;
  for (let r = 0; r < warmup + reps; r++) {
    await barrier(ctx);
    const before = P.snapshotStats(ctx.ch.stats);
    const t = performance.now();
    const c0 = process.cpuUsage();
    await run();
    const wall = performance.now() - t;
    const c1 = process.cpuUsage(c0);
    if (r === 0) cost = P.diffStats(P.snapshotStats(ctx.ch.stats), before);
    if (r < warmup) continue;
    ms.push(wall);
    cpuMs.push((c1.user + c1.system) / 1000);
  }
  io.log(`${op} [${shape.join('x')}]: ${ms.map((v) => v.toFixed(1)).join(', ')} ms`);
  await barrier(ctx); // every party has consumed every protocol message before anyone closes
  return { op, ms, cpuMs, cost };
}
