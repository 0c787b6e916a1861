/**
 * The party-side job of the transport benchmark (bench/transport.ts), run in three
 * processes by the launcher.
 *  - round trips: for each payload size, party 0 sends the payload to party 1, which sends it
 *    back; timed on party 0 (party 2 takes no part);
 *  - empty rounds: every party sends an empty payload to both peers and receives from both,
 *    each round timed on every party.
 */
import type { PartyId } from '../protocols/channel.js';
import type { Context } from '../protocols/context.js';

export interface TransportJobArgs {
  /** payload sizes in bytes (multiples of 8) */
  readonly sizes: readonly number[];
  /** repetitions per size (after one warm-up) */
  readonly reps: readonly number[];
  readonly emptyRounds: number;
  readonly emptyWarmup: number;
}

export interface TransportJobResult {
  /** per size: round-trip ms of each repetition (party 0 only; empty elsewhere) */
  readonly rttMs: number[][];
  /** per empty round: ms on this party (after the warm-up) */
  readonly emptyRoundMs: number[];
}

export async function transportJob(ctx: Context, args: unknown): Promise<TransportJobResult> {
  const a = args as TransportJobArgs;
  const rttMs: number[][] = [];
  for (let i = 0; i < a.sizes.length; i++) {
    const size = a.sizes[i];
    const times: number[] = [];
    if (ctx.party === 0) {
      const payload = new BigUint64Array(size / 8);
      for (let j = 0; j < payload.length; j += 512) payload[j] = BigInt(j);
      for (let r = 0; r <= a.reps[i]; r++) {
        const t0 = performance.now();
        await ctx.ch.exchange({ step: 'ping', send: { 1: payload } });
        const back = await ctx.ch.exchange({ step: 'pong', recv: [1] });
        if (r > 0) times.push(performance.now() - t0);
        if (back.get(1)!.byteLength !== size) throw new Error('transport bench: wrong echo size');
      }
    } else if (ctx.party === 1) {
      for (let r = 0; r <= a.reps[i]; r++) {
        const m = await ctx.ch.exchange({ step: 'ping', recv: [0] });
        await ctx.ch.exchange({ step: 'pong', send: { 0: m.get(0)! } });
      }
    }
    rttMs.push(times);
  }
  const peers = ([0, 1, 2] as PartyId[]).filter((p) => p !== ctx.party);
  const empty = new Uint8Array(0);
  const send = { [peers[0]]: empty, [peers[1]]: empty };
  const emptyRoundMs: number[] = [];
  for (let r = 0; r < a.emptyWarmup + a.emptyRounds; r++) {
    const t0 = performance.now();
    await ctx.ch.exchange({ step: 'empty', send, recv: peers });
    if (r >= a.emptyWarmup) emptyRoundMs.push(performance.now() - t0);
  }
  return { rttMs, emptyRoundMs };
}
