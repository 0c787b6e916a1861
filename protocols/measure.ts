/**
 * Measuring what a protocol call costs on one party: the difference of the channel's
 * counters (rounds, payload bytes and messages sent, bytes received) around the call.
 */
import { type StepStats, diffStats, snapshotStats } from './channel.js';
import type { Context } from './context.js';

/** Start measuring a party's traffic; the returned function gives the cost since the call. */
export function costOf(ctx: Context): () => StepStats {
  const before = snapshotStats(ctx.ch.stats);
  return () => diffStats(snapshotStats(ctx.ch.stats), before);
}

/** Run `fn` and report its cost on this party (rounds, bytes and messages it sent/received). */
export async function measured<T>(ctx: Context, fn: () => Promise<T>): Promise<{ value: T; cost: StepStats }> {
  const done = costOf(ctx);
  const value = await fn();
  return { value, cost: done() };
}
