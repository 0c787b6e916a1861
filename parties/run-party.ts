/**
 * Run one party of a session in this process: connect (handshake + seeds), build the
 * Context, run the job, close in order. On any failure the channel aborts (peers are told)
 * and the error is rethrown; the caller decides how to exit.
 */
import { loadKernels } from '../kernels/index.js';
import type { RingKernels } from '../kernels/api.js';
import type { PartyId, StepStats } from '../protocols/channel.js';
import { Context } from '../protocols/context.js';
import { MpcError, isMpcError } from '../protocols/errors.js';
import type { Identity } from './identity.js';
import type { Job, JobIO } from './job.js';
import type { SessionConfig, SessionOptions } from './session-config.js';
import { WsChannel, type WireStats } from './ws-channel.js';

/** Plain-object counters of one party (structured-clonable; sent to the launcher). */
export interface PartyStats extends StepStats {
  readonly byStep: Record<string, StepStats>;
  readonly wire: WireStats;
  /** connect + handshake + seed agreement */
  readonly setupMs: number;
  /** the job itself */
  readonly jobMs: number;
  readonly mode: 'sealed' | 'plain';
  readonly kernels: 'native' | 'twin';
}

export interface RunPartyOptions {
  readonly session: SessionConfig;
  readonly self: PartyId;
  readonly identity: Identity;
  readonly job: Job;
  readonly args?: unknown;
  readonly io: JobIO;
  readonly insecurePlaintext?: boolean;
  readonly overrides?: Partial<SessionOptions>;
  /** kernels for the Context (default loadKernels()) */
  readonly kernels?: RingKernels;
}

export interface PartyRun {
  readonly result: unknown;
  readonly stats: PartyStats;
}

export async function runParty(opts: RunPartyOptions): Promise<PartyRun> {
  const k = opts.kernels ?? loadKernels();
  const t0 = performance.now();
  const { channel, seeds } = await WsChannel.connect({
    session: opts.session,
    self: opts.self,
    identity: opts.identity,
    insecurePlaintext: opts.insecurePlaintext,
    overrides: opts.overrides,
  });
  const t1 = performance.now();
  let result: unknown;
  try {
    const ctx = new Context(opts.self, channel, k, seeds, { fracBits: channel.options.fracBits });
    result = await opts.job(ctx, opts.args, opts.io);
  } catch (e) {
    // a peer's failure (already failed the channel) or our own: make sure every peer hears of it
    const err = isMpcError(e) ? e : e instanceof Error ? e : new Error(String(e));
    await channel.abort(err);
    throw e;
  }
  const t2 = performance.now();
  await channel.close();
  const s = channel.stats;
  return {
    result,
    stats: {
      rounds: s.rounds,
      bytesSent: s.bytesSent,
      bytesReceived: s.bytesReceived,
      messagesSent: s.messagesSent,
      byStep: Object.fromEntries([...s.byStep].map(([k2, v]) => [k2, { ...v }])),
      wire: { ...channel.wire },
      setupMs: t1 - t0,
      jobMs: t2 - t1,
      mode: channel.mode,
      kernels: k.backend,
    },
  };
}

/** A structured-clonable description of an error (for IPC / printing). */
export interface ErrorReport {
  readonly code: string;
  readonly message: string;
  readonly party?: number;
  readonly peer?: number;
  readonly step?: string;
  readonly round?: number;
}

export function errorReport(e: unknown): ErrorReport {
  if (e instanceof MpcError) {
    return { code: e.code, message: e.message, party: e.party, peer: e.peer, step: e.step, round: e.round };
  }
  const err = e instanceof Error ? e : new Error(String(e));
  return { code: err.name || 'Error', message: err.stack ?? err.message };
}
