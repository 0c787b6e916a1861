/**
 * Jobs for tests and fault-injection runs of the launcher (`--job-module
 * testing/party-jobs.ts#ticker`). Not registered as built-in CLI jobs.
 */
import type { PartyId } from '../protocols/channel.js';
import type { Context } from '../protocols/context.js';
import type { JobIO } from '../parties/job.js';

/**
 * `ticker`: `rounds` rounds in which every party sends 8 bytes to both peers and receives
 * from both, logging `tick <r>` after each and pausing `pauseMs` between rounds.
 * Returns the number of rounds completed.
 */
export async function ticker(ctx: Context, args: unknown, io: JobIO): Promise<number> {
  const a = (args ?? {}) as { rounds?: number; pauseMs?: number };
  const rounds = a.rounds ?? 10;
  const pauseMs = a.pauseMs ?? 20;
  const peers = ([0, 1, 2] as PartyId[]).filter((p) => p !== ctx.party);
  for (let r = 0; r < rounds; r++) {
    const msg = new Uint8Array(8).fill(r & 0xff);
    await ctx.ch.exchange({ step: `tick.${r}`, send: { [peers[0]]: msg, [peers[1]]: msg }, recv: peers });
    io.log(`tick ${r}`);
    if (pauseMs > 0) await new Promise((res) => setTimeout(res, pauseMs));
  }
  return rounds;
}

/** `pairwise`: returns the first PRG words of each stream so a test can check seed agreement. */
export async function seedProbe(ctx: Context): Promise<{ next: string; prev: string; common: string }> {
  await ctx.ch.exchange({ step: 'probe' });
  return { next: ctx.prgNext.words(1)[0].toString(16), prev: ctx.prgPrev.words(1)[0].toString(16), common: ctx.prgCommon.words(1)[0].toString(16) };
}
