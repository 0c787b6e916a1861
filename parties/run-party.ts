/**
 * Run one party of a session in this process: connect (handshake + seeds), check the public
 * job arguments with both peers (public-args.ts, one round), build the Context, run the job,
 * close in order. On any failure the channel aborts — peers are told the error CODE with a
 * fixed text, never the local message (error-text.ts) — and the error is rethrown with its
 * full text; the caller decides how to exit and what to log.
 *
 * `--insecure-plaintext` (insecurePlaintext) is refused with MPC_ERR_CONFIG unless every
 * party of the session is on a loopback host.
 */
import { loadKernels } from '../kernels/index.js';
import type { RingKernels } from '../kernels/api.js';
import { type PartyId, type StepStats, diffStats, snapshotStats } from '../protocols/channel.js';
import { Context } from '../protocols/context.js';
import { MpcError } from '../protocols/errors.js';
import { peerSafeError } from './error-text.js';
import type { Identity } from './identity.js';
import type { Job, JobIO, PrivateInputs } from './job.js';
import { PUBLIC_ARGS_STEP, checkPublicArgs, describePublicArgs, encodeDescription } from './public-args.js';
import { type SessionConfig, type SessionOptions, checkPlaintextAllowed } from './session-config.js';
import { WsChannel, type WireStats } from './ws-channel.js';

/** Plain-object counters of one party (structured-clonable; sent to the launcher). */
export interface PartyStats extends StepStats {
  readonly byStep: Record<string, StepStats>;
  readonly wire: WireStats;
  /** connect + handshake + seed agreement + the public-argument check (its round is not in the counters above) */
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
  /** the job's id in the public check (prepareJob): all parties must agree */
  readonly jobId: string;
  /** PUBLIC job arguments: compared field by field with both peers before the job runs */
  readonly args?: unknown;
  /** progress lines */
  readonly log: JobIO['log'];
  /** the job's events (text produced, progress; parties/job-output.ts) */
  readonly emit?: JobIO['emit'];
  /** setup progress: whom this party still waits for (WsChannel's onWaiting) */
  readonly onWaiting?: (line: string) => void;
  /** this party's PRIVATE inputs (io.inputs of the job; never sent, logged or compared) */
  readonly inputs?: PrivateInputs;
  readonly insecurePlaintext?: boolean;
  readonly overrides?: Partial<SessionOptions>;
  /** listen on this host instead of this party's host in the session (the port stays the session's) */
  readonly listenHost?: string;
  /** kernels for the Context (default loadKernels()) */
  readonly kernels?: RingKernels;
}

export interface PartyRun {
  readonly result: unknown;
  readonly stats: PartyStats;
}

export async function runParty(opts: RunPartyOptions): Promise<PartyRun> {
  if (opts.insecurePlaintext) checkPlaintextAllowed(opts.session);
  const description = describePublicArgs(opts.jobId, opts.args);
  encodeDescription(description); // non-JSON or too many arguments: MPC_ERR_CONFIG before connecting
  const k = opts.kernels ?? loadKernels();
  const t0 = performance.now();
  const { channel, seeds } = await WsChannel.connect({
    session: opts.session,
    self: opts.self,
    identity: opts.identity,
    insecurePlaintext: opts.insecurePlaintext,
    overrides: opts.overrides,
    listenHost: opts.listenHost,
    onWaiting: opts.onWaiting,
  });
  let result: unknown;
  let t1 = t0;
  let before: StepStats | undefined;
  try {
    await checkPublicArgs(channel, description);
    t1 = performance.now();
    before = snapshotStats(channel.stats);
    const ctx = new Context(opts.self, channel, k, seeds, { fracBits: channel.options.fracBits });
    const io: JobIO = { party: opts.self, log: opts.log, inputs: opts.inputs ?? {}, ...(opts.emit ? { emit: opts.emit } : {}) };
    result = await opts.job(ctx, opts.args, io);
  } catch (e) {
    // a peer's failure (already failed the channel) or our own: make sure every peer hears of
    // it, with the code and a fixed text only (the message may quote a secret: it stays here)
    await channel.abort(peerSafeError(e, opts.self));
    throw e;
  }
  const t2 = performance.now();
  await channel.close();
  const s = channel.stats;
  const job = diffStats(snapshotStats(s), before!);
  return {
    result,
    stats: {
      ...job,
      byStep: Object.fromEntries([...s.byStep].filter(([k2]) => k2 !== PUBLIC_ARGS_STEP).map(([k2, v]) => [k2, { ...v }])),
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
