/**
 * mpcache's side of the peers suite (bench/peers.ts): a party job that shares an op's inputs
 * (bench/peers-ops.ts: a public LCG, not secrets), runs the op `warmup + reps` times, reveals
 * the last output and (party 0) measures its error against the float64 reference.
 *
 * Launched by runLocalParties as `bench/peers-job.ts#peersBench`.
 *
 * The blocks are the project's default calls (what the model code runs), except:
 *   - top-k with { oneHot: false } (the peers' counterparts return the values only);
 *   - LayerNorm, which protocols/ does not have (the models use RMSNorm): composed here from
 *     protocol blocks as a GPT-2-style model would: mean (sum, one public-multiply
 *     truncation), centred squares (one fused product-truncation), variance (one truncation),
 *     rsqrt, and the product (mulFixed).
 */
import type { JobIO } from '../parties/job.js';
import type { StepStats } from '../protocols/channel.js';
import type { Context } from '../protocols/context.js';
import * as P from '../protocols/index.js';
import type { ArithShare } from '../protocols/types.js';
import { FULL_SIZES, LN_EPS, type OpSizes, type PeerOp, QUICK_SIZES, argmaxIndex, opError, opInputs, opReference, opSpec } from './peers-ops.js';

export interface PeersJobArgs {
  readonly op: PeerOp;
  readonly quick: boolean;
  readonly reps: number;
  /** untimed executions first; the first one's latency is reported as coldMs */
  readonly warmup: number;
}

export interface PeersJobResult {
  readonly op: PeerOp;
  /** latency of each timed repetition on this party, ms */
  readonly ms: number[];
  /** latency of the very first execution in this process (before any warm-up), ms */
  readonly coldMs: number;
  /** CPU time (user + system) of this process in each timed repetition, ms */
  readonly cpuMs: number[];
  /** traffic of ONE execution on this party */
  readonly cost: StepStats;
  /** party 0: error of the last output against the float64 reference (peers-ops.ts opError) */
  readonly err?: number;
  /** CLOCK_MONOTONIC microseconds at the start of the first and the end of the last timed execution (to cut CPU profiles) */
  readonly timedUs: [number, number];
}

const nowUs = (): number => Number(process.hrtime.bigint() / 1000n);

async function barrier(ctx: Context): Promise<void> {
  const peers = ([0, 1, 2] as const).filter((p) => p !== ctx.party);
  const one = new Uint8Array(1);
  await ctx.ch.exchange({ step: 'bench.barrier', send: { [peers[0]]: one, [peers[1]]: one }, recv: peers });
}

/** LayerNorm over the last axis of x [rows, d], no gain or bias (see the header). */
export async function layerNorm(ctx: Context, x: ArithShare, eps = LN_EPS): Promise<ArithShare> {
  const d = x.shape[x.shape.length - 1];
  const mean = await P.mulPublicFloat(ctx, P.sumAxis(ctx, x), 1 / d);
  const xc = P.sub(ctx, x, P.broadcastLast(ctx, mean, d));
  const sq = await P.mulTrunc(ctx, xc, xc, ctx.f);
  const v = await P.mulPublicFloat(ctx, P.sumAxis(ctx, sq), 1 / d);
  const r = await P.rsqrt(ctx, P.addPublic(ctx, v, eps));
  return P.mulFixed(ctx, xc, P.broadcastLast(ctx, r, d));
}

type Run = () => Promise<ArithShare>;

async function prepare(ctx: Context, op: PeerOp, s: OpSizes): Promise<{ run: Run; decode: (v: Float64Array) => Float64Array }> {
  const inp = opInputs(op, s);
  const a = await P.input(ctx, 1, [...inp.aShape], ctx.party === 1 ? inp.a : undefined);
  const b = inp.b === undefined ? undefined : await P.input(ctx, 0, [...inp.bShape!], ctx.party === 0 ? inp.b : undefined);
  const same = (v: Float64Array): Float64Array => v;
  switch (op) {
    case 'mul': return { run: () => P.mul(ctx, b!, a), decode: same };
    case 'fxmul': return { run: () => P.mulFixed(ctx, b!, a), decode: same };
    case 'lt': return { run: () => P.lt(ctx, b!, a), decode: same };
    case 'exp': return { run: () => P.exp(ctx, a), decode: same };
    case 'reciprocal': return { run: () => P.reciprocal(ctx, a), decode: same };
    case 'gelu': return { run: () => P.gelu(ctx, a), decode: same };
    case 'silu': return { run: () => P.silu(ctx, a), decode: same };
    case 'rsqrt': return { run: () => P.rsqrt(ctx, a), decode: same };
    case 'softmax': return { run: () => P.softmax(ctx, a), decode: same };
    case 'matmul': return { run: () => P.matmulFixed(ctx, a, b!), decode: same };
    case 'layernorm': return { run: () => layerNorm(ctx, a), decode: same };
    case 'argmax': {
      const cols = s.cols;
      return {
        run: async () => (await P.argmax(ctx, a)).oneHot,
        decode: (v) => Float64Array.from({ length: v.length / cols }, (_, r) => argmaxIndex(v.subarray(r * cols, (r + 1) * cols))),
      };
    }
    case 'topk': return { run: async () => (await P.topk(ctx, a, s.tk[2], { oneHot: false })).values, decode: same };
  }
}

export async function peersBench(ctx: Context, rawArgs: unknown, io: JobIO): Promise<PeersJobResult> {
  const args = rawArgs as PeersJobArgs;
  const s = args.quick ? QUICK_SIZES : FULL_SIZES;
  const spec = opSpec(args.op, s);
  const { run, decode } = await prepare(ctx, args.op, s);
  const ms: number[] = [];
  const cpuMs: number[] = [];
  let cost: StepStats | undefined;
  let coldMs = NaN;
  let last: ArithShare | undefined;
  const timedUs: [number, number] = [0, 0];
  for (let r = 0; r < args.warmup + args.reps; r++) {
    await barrier(ctx);
    if (r === args.warmup) timedUs[0] = nowUs();
    const before = P.snapshotStats(ctx.ch.stats);
    const c0 = process.cpuUsage(); // (a syscall: kept outside the timed stretch)
    const t = performance.now();
    last = await run();
    const wall = performance.now() - t;
    const c1 = process.cpuUsage(c0);
    if (r === 0) {
      cost = P.diffStats(P.snapshotStats(ctx.ch.stats), before);
      coldMs = wall;
    }
    if (r < args.warmup) continue;
    ms.push(wall);
    cpuMs.push((c1.user + c1.system) / 1000);
  }
  timedUs[1] = nowUs();
  const plain = await P.revealFloat(ctx, last!, 0);
  let err: number | undefined;
  if (ctx.party === 0) err = opError(spec, decode(plain!), opReference(args.op, s));
  io.log(`${args.op} [${spec.size}]: ${ms.map((v) => v.toFixed(1)).join(', ')} ms${err !== undefined ? `, err ${err.toExponential(2)}` : ''}`);
  await barrier(ctx); // every party has consumed every protocol message before anyone closes
  return { op: args.op, ms, coldMs, cpuMs, cost: cost!, timedUs, ...(err !== undefined ? { err } : {}) };
}
