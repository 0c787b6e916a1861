/**
 * The `selftest` job: share, add, reveal over the real transport.
 *
 * Party 1 inputs x, party 0 inputs y (args `{ x?: number[], y?: number[] }`, integers; each
 * owner reads only its own vector from the arguments, the other parties only its length).
 * Each owner splits its vector into three replicated shares (one round: it sends the two
 * components each other party holds), the parties add locally and reveal (one round: every
 * party sends its second component to the previous party). Three rounds (two inputs, one reveal); every party returns
 * and prints x + y.
 */
import type { U64 } from '../kernels/api.js';
import { type PartyId, nextParty, prevParty } from '../protocols/channel.js';
import type { Context } from '../protocols/context.js';
import { MpcError } from '../protocols/errors.js';
import { expectWords } from '../protocols/wire.js';
import type { JobIO } from './job.js';

interface SelftestArgs {
  readonly x: readonly number[];
  readonly y: readonly number[];
}

function vector(v: unknown, name: string): readonly number[] {
  if (!Array.isArray(v) || v.some((e) => typeof e !== 'number' || !Number.isSafeInteger(e))) {
    throw new MpcError('MPC_ERR_CONFIG', `selftest: job argument '${name}' must be an array of safe integers`);
  }
  return v as number[];
}

function parseArgs(args: unknown): SelftestArgs {
  const o = (args ?? {}) as Record<string, unknown>;
  if (typeof o !== 'object' || Array.isArray(o)) throw new MpcError('MPC_ERR_CONFIG', 'selftest: job arguments must be an object { x, y }');
  const x = o.x === undefined ? [1, 2, 3, 4] : vector(o.x, 'x');
  const y = o.y === undefined ? [10, 20, 30, 40] : vector(o.y, 'y');
  if (x.length !== y.length) throw new MpcError('MPC_ERR_CONFIG', 'selftest: job arguments x and y must have the same length');
  return { x, y };
}

/** Replicated components (s0 = v_i, s1 = v_{i+1}) of this party. */
interface Components {
  readonly s0: U64;
  readonly s1: U64;
}

/** Owner `owner` shares `values` (only the owner's copy is used); one round. */
async function share(ctx: Context, owner: PartyId, values: readonly number[], step: string): Promise<Components> {
  const n = values.length;
  const me = ctx.party;
  if (me === owner) {
    // v = v_o + v_{o+1} + v_{o+2}; the two masks come from the owner's private stream
    const v = BigUint64Array.from(values, (e) => BigInt.asUintN(64, BigInt(e)));
    const a1 = ctx.prgOwn.words(n); // v_{o+1}
    const a2 = ctx.prgOwn.words(n); // v_{o+2}
    const a0 = ctx.k.sub(ctx.k.sub(v, a1), a2); // v_o
    const payloadNext = new BigUint64Array(2 * n); // party o+1 holds (v_{o+1}, v_{o+2})
    payloadNext.set(a1, 0);
    payloadNext.set(a2, n);
    const payloadPrev = new BigUint64Array(2 * n); // party o+2 holds (v_{o+2}, v_o)
    payloadPrev.set(a2, 0);
    payloadPrev.set(a0, n);
    await ctx.ch.exchange({ step, send: { [nextParty(owner)]: payloadNext, [prevParty(owner)]: payloadPrev } });
    return { s0: a0, s1: a1 };
  }
  const got = await ctx.ch.exchange({ step, recv: [owner] });
  const w = expectWords(ctx, got, owner, 2 * n, step);
  return { s0: w.slice(0, n), s1: w.slice(n) };
}

/** Open a replicated sharing to everyone; one round. */
async function reveal(ctx: Context, c: Components, step: string): Promise<U64> {
  // party i lacks v_{i+2}, which party i+1 holds as its s1: everyone sends s1 to prev
  const got = await ctx.ch.exchange({ step, send: { [ctx.prev]: c.s1 }, recv: [ctx.next] });
  const missing = expectWords(ctx, got, ctx.next, c.s0.length, step);
  return ctx.k.add(ctx.k.add(c.s0, c.s1), missing);
}

export async function selftestJob(ctx: Context, args: unknown, io: JobIO): Promise<number[]> {
  const { x, y } = parseArgs(args);
  io.log(`selftest: party ${ctx.party} ready (${ctx.k.backend} kernels); party 1 inputs x, party 0 inputs y (${x.length} elements)`);
  const xs = await share(ctx, 1, x, 'selftest.share.x');
  const ys = await share(ctx, 0, y, 'selftest.share.y');
  const sum = { s0: ctx.k.add(xs.s0, ys.s0), s1: ctx.k.add(xs.s1, ys.s1) };
  const opened = await reveal(ctx, sum, 'selftest.reveal');
  const result = Array.from(opened, (e) => Number(BigInt.asIntN(64, e)));
  io.log(`selftest: x + y = [${result.join(', ')}] (${ctx.ch.stats.rounds} rounds, ${ctx.ch.stats.bytesSent} bytes sent)`);
  return result;
}
