/**
 * Three parties in ONE process over the in-memory channel, for library use and examples:
 * `runInProcess(fn)` builds three Contexts with FRESH random session seeds (node:crypto;
 * the pairwise seeds consistent as the key exchange makes them), runs `fn` on the three
 * concurrently and returns the three results (index = party).
 *
 * This is a real three-party run (every protocol message goes through the channel), but all
 * parties live in the same process, so it protects nothing from whoever runs that process:
 * use it to develop, test and demonstrate; deploy with three processes (parties/launcher.ts,
 * `mpcache party`). testing/trio.ts runTrio is the same with PUBLIC deterministic seeds
 * for reproducible tests.
 */
import { randomBytes } from 'node:crypto';
import type { RingKernels } from '../kernels/api.js';
import { loadKernels } from '../kernels/index.js';
import type { PartyId } from '../protocols/channel.js';
import { Context, type SessionSeeds } from '../protocols/context.js';
import { MpcError } from '../protocols/errors.js';
import { MemoryChannel } from './memory-channel.js';

export interface InProcessOptions {
  /** fractional bits (default 18) */
  readonly fracBits?: number;
  /** kernels (default loadKernels()) */
  readonly kernels?: RingKernels;
  /** receive timeout of the in-memory channels (default 60 s) */
  readonly recvTimeoutMs?: number;
}

/** Fresh random session seeds for three parties (pair seeds consistent: i.next = (i+1).prev). */
export function freshSeeds(): [SessionSeeds, SessionSeeds, SessionSeeds] {
  const pair = [randomBytes(16), randomBytes(16), randomBytes(16)].map((b) => new Uint8Array(b)); // pair[i] = seed_{i,i+1}
  const common = new Uint8Array(randomBytes(16));
  const mk = (i: PartyId): SessionSeeds => ({ next: pair[i], prev: pair[(i + 2) % 3], common, own: new Uint8Array(randomBytes(16)) });
  return [mk(0), mk(1), mk(2)];
}

/**
 * Run `fn` as party 0, 1 and 2 in this process; resolves with the three results. When a party
 * throws, its channel aborts the session (the others fail fast) and the first party's own
 * error is rethrown.
 */
export async function runInProcess<T>(fn: (ctx: Context) => Promise<T>, opts: InProcessOptions = {}): Promise<[T, T, T]> {
  if (typeof fn !== 'function') throw new TypeError('runInProcess: fn must be a function');
  return runOnContexts(memoryContexts(freshSeeds(), { recvTimeoutMs: 60_000, ...opts }), fn);
}

/** Three connected Contexts (party 0, 1, 2) over in-memory channels with the given seeds. */
export function memoryContexts(seeds: readonly [SessionSeeds, SessionSeeds, SessionSeeds], opts: InProcessOptions = {}): [Context, Context, Context] {
  const k = opts.kernels ?? loadKernels();
  const chans = MemoryChannel.trio({ recvTimeoutMs: opts.recvTimeoutMs ?? 60_000 });
  const o = opts.fracBits === undefined ? {} : { fracBits: opts.fracBits };
  return [new Context(0, chans[0], k, seeds[0], o), new Context(1, chans[1], k, seeds[1], o), new Context(2, chans[2], k, seeds[2], o)];
}

/**
 * Run `fn` on three connected Contexts concurrently; resolves with the three results. When a
 * party throws, its channel aborts the session (the others fail fast) and the first party's
 * own error (not the induced MPC_ERR_ABORTED ones) is rethrown. The channels are closed after.
 */
export async function runOnContexts<T>(ctxs: readonly [Context, Context, Context], fn: (ctx: Context) => Promise<T>): Promise<[T, T, T]> {
  const runs = ctxs.map(async (ctx) => {
    try {
      return await fn(ctx);
    } catch (e) {
      await ctx.ch.abort(e instanceof Error ? e : new Error(String(e)));
      throw e;
    }
  });
  const settled = await Promise.allSettled(runs);
  await Promise.all(ctxs.map((c) => c.ch.close()));
  const failures = settled.filter((s): s is PromiseRejectedResult => s.status === 'rejected').map((s) => s.reason as unknown);
  if (failures.length > 0) throw failures.find((e) => !(e instanceof MpcError && e.code === 'MPC_ERR_ABORTED')) ?? failures[0];
  return settled.map((s) => (s as PromiseFulfilledResult<T>).value) as [T, T, T];
}
