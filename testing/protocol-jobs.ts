/**
 * Party jobs for the multi-process integration test (protocols.integration.test.ts): run
 * the core blocks (and the round multiplexer) on fixed inputs over whatever channel the launcher provides (real
 * WebSockets) and returns the opened results, so the test can compare them with float64.
 * Test-only; the inputs are public test data.
 */
import type { Context } from '../protocols/context.js';
import { eq, lt } from '../protocols/compare.js';
import { argmax } from '../protocols/max.js';
import { matmulFixed, mulFixed, trunc } from '../protocols/mul.js';
import { parallel } from '../protocols/parallel.js';
import { input, reveal, revealFloat } from '../protocols/sharing.js';
import type { ArithShare, PublicTensor } from '../protocols/types.js';

export interface CheckArgs {
  /** values of x (owned by party 0) and y (owned by party 1), same length, multiple of rowLen */
  readonly x: number[];
  readonly y: number[];
  readonly rowLen: number;
}

export interface CheckResult {
  readonly lt: number[];
  readonly eq: number[];
  readonly mulFixed: number[];
  readonly trunc: number[];
  readonly argmax: number[];
  readonly matmul: number[];
  readonly rounds: number;
}

/** x shared by party 0, y by party 1. */
async function inputs(ctx: Context, a: CheckArgs): Promise<[ArithShare, ArithShare]> {
  const n = a.x.length;
  const x = await input(ctx, 0, [n], ctx.party === 0 ? Float64Array.from(a.x) : undefined);
  const y = await input(ctx, 1, [n], ctx.party === 1 ? Float64Array.from(a.y) : undefined);
  return [x, y];
}

const nums = async (p: Promise<PublicTensor | undefined>): Promise<number[]> => Array.from((await p)!.data, (v) => Number(BigInt.asIntN(64, v)));
const floats = async (p: Promise<Float64Array | undefined>): Promise<number[]> => Array.from((await p)!);

export async function protocolCheck(ctx: Context, rawArgs: unknown): Promise<CheckResult> {
  const a = rawArgs as CheckArgs;
  const n = a.x.length;
  const [x, y] = await inputs(ctx, a);
  const rows = n / a.rowLen;
  const am = await argmax(ctx, x.reshape([rows, a.rowLen]));
  return {
    lt: await nums(reveal(ctx, await lt(ctx, x, y))),
    eq: await nums(reveal(ctx, await eq(ctx, x, y))),
    mulFixed: await floats(revealFloat(ctx, await mulFixed(ctx, x, y))),
    trunc: await floats(revealFloat(ctx, await trunc(ctx, x, 4, { scale: ctx.f - 4 }))),
    argmax: await nums(reveal(ctx, am.oneHot)),
    matmul: await floats(revealFloat(ctx, await matmulFixed(ctx, x.reshape([rows, a.rowLen]), y.reshape([rows, a.rowLen]), { transB: true }))),
    rounds: ctx.ch.stats.rounds,
  };
}

export interface ParallelCheckResult {
  readonly mulFixed: number[];
  readonly lt: number[];
  readonly eq: number[];
  readonly trunc: number[];
  /** rounds and bytes this party sent during the parallel call */
  readonly rounds: number;
  readonly bytesSent: number;
}

/**
 * `parallelCheck`: the round multiplexer over the real transport: mulFixed (1 round), lt
 * (7 rounds) and a nested parallel of eq and trunc in lanes of one call; returns the opened
 * results and the call's rounds.
 */
export async function parallelCheck(ctx: Context, rawArgs: unknown): Promise<ParallelCheckResult> {
  const [x, y] = await inputs(ctx, rawArgs as CheckArgs);
  const before = { rounds: ctx.ch.stats.rounds, bytes: ctx.ch.stats.bytesSent };
  const [m, l, [e, t]] = await parallel(ctx, [
    (c) => mulFixed(c, x, y),
    (c) => lt(c, x, y),
    (c) => parallel(c, [(d) => eq(d, x, y), (d) => trunc(d, x, 4, { scale: d.f - 4 })]),
  ]);
  const rounds = ctx.ch.stats.rounds - before.rounds;
  const bytesSent = ctx.ch.stats.bytesSent - before.bytes;
  return {
    mulFixed: await floats(revealFloat(ctx, m)),
    lt: await nums(reveal(ctx, l)),
    eq: await nums(reveal(ctx, e)),
    trunc: await floats(revealFloat(ctx, t)),
    rounds,
    bytesSent,
  };
}
