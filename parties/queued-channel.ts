/**
 * The part of a Channel that every transport shares: per-peer inboxes, step-tag checks,
 * round/byte counters, receive timeouts and session abort. A transport subclasses it and
 * implements `transmit` (put one message on the wire) and calls `deliver` / `fail` when
 * something arrives or breaks.
 */
import {
  type Channel,
  type ChannelStats,
  type ExchangeRequest,
  type Payload,
  type PartyId,
  type StepStats,
  emptyChannelStats,
  emptyStepStats,
} from '../protocols/channel.js';
import { MpcError } from '../protocols/errors.js';
import { bareMessage } from './error-text.js';

export interface QueuedChannelOptions {
  /** a receive that waits longer than this rejects with MPC_ERR_TIMEOUT (default 30 s) */
  readonly recvTimeoutMs?: number;
  /** at most this many undelivered messages may wait per peer (default 1024) */
  readonly maxPendingMessages?: number;
  /** at most this many undelivered payload bytes may wait per peer (default: unlimited) */
  readonly maxBufferedBytes?: number;
}

interface Waiter {
  readonly step: string;
  resolve(p: Payload): void;
  reject(e: Error): void;
}

export abstract class QueuedChannel implements Channel {
  readonly self: PartyId;
  readonly stats: ChannelStats = emptyChannelStats();
  protected readonly recvTimeoutMs: number;
  protected readonly maxPendingMessages: number;
  protected readonly maxBufferedBytes: number;
  private readonly inbox = new Map<PartyId, { step: string; payload: Payload }[]>();
  private readonly inboxBytes = new Map<PartyId, number>();
  /** peers that will send nothing more (orderly close), with the error a receive from them gets */
  private readonly gone = new Map<PartyId, MpcError>();
  private lastStep: string | undefined;
  /** the transport's shutdown, once started */
  private closing: Promise<void> | undefined;
  private readonly waiters = new Map<PartyId, Waiter>();
  private failure: MpcError | undefined;
  private busy = false;

  constructor(self: PartyId, opts: QueuedChannelOptions = {}) {
    this.self = self;
    this.recvTimeoutMs = opts.recvTimeoutMs ?? 30_000;
    this.maxPendingMessages = opts.maxPendingMessages ?? 1024;
    this.maxBufferedBytes = opts.maxBufferedBytes ?? Number.POSITIVE_INFINITY;
  }

  /** The step tag of the exchange in progress, or of the last one (for error reports). */
  protected get currentStep(): string | undefined {
    return this.lastStep;
  }

  /** Put one message on the wire to `to`. Must not block; may throw MpcError. */
  protected abstract transmit(to: PartyId, step: string, payload: Payload): void;
  /** Tell peers that this party aborts (best effort) and release transport resources. */
  protected abstract shutdown(abortError: MpcError | undefined): Promise<void>;

  /** The error that ended this channel, if any. */
  get error(): MpcError | undefined {
    return this.failure;
  }

  async exchange(req: ExchangeRequest): Promise<Map<PartyId, Payload>> {
    if (this.failure) throw this.failureAt(req.step);
    if (this.busy) {
      throw new MpcError('MPC_ERR_PROTOCOL', 'overlapping exchanges on one channel', {
        party: this.self,
        step: req.step,
        round: this.stats.rounds,
      });
    }
    this.busy = true;
    this.lastStep = req.step;
    try {
      const st = this.stepStats(req.step);
      this.stats.rounds++;
      st.rounds++;
      if (req.send) {
        for (const key of Object.keys(req.send)) {
          const to = Number(key) as PartyId;
          const payload = req.send[to];
          if (payload === undefined) continue;
          if (to === this.self || (to !== 0 && to !== 1 && to !== 2)) {
            throw new RangeError(`exchange: cannot send to party ${key}`);
          }
          this.transmit(to, req.step, payload);
          this.stats.bytesSent += payload.byteLength;
          this.stats.messagesSent++;
          st.bytesSent += payload.byteLength;
          st.messagesSent++;
        }
      }
      const out = new Map<PartyId, Payload>();
      const recv = req.recv ?? [];
      const got = await Promise.all(recv.map((from) => this.receive(from, req.step)));
      recv.forEach((from, i) => {
        const p = got[i];
        out.set(from, p);
        this.stats.bytesReceived += p.byteLength;
        st.bytesReceived += p.byteLength;
      });
      return out;
    } catch (e) {
      if (e instanceof MpcError) this.fail(e);
      throw e;
    } finally {
      this.busy = false;
    }
  }

  private stepStats(step: string): StepStats {
    let s = this.stats.byStep.get(step);
    if (!s) {
      s = emptyStepStats();
      this.stats.byStep.set(step, s);
    }
    return s;
  }

  private receive(from: PartyId, step: string): Promise<Payload> {
    if (this.failure) return Promise.reject(this.failure);
    const q = this.inbox.get(from);
    if (q && q.length > 0) {
      const m = q.shift()!;
      this.inboxBytes.set(from, (this.inboxBytes.get(from) ?? 0) - m.payload.byteLength);
      if (m.step !== step) return Promise.reject(this.mismatch(from, step, m.step));
      return Promise.resolve(m.payload);
    }
    const gone = this.gone.get(from);
    if (gone) return Promise.reject(this.failureAt(step, gone));
    if (this.waiters.has(from)) {
      return Promise.reject(new MpcError('MPC_ERR_PROTOCOL', 'two receives from one peer in one round', { party: this.self, peer: from, step }));
    }
    return new Promise<Payload>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(from);
        const e = new MpcError('MPC_ERR_TIMEOUT', `no message from party ${from} within ${this.recvTimeoutMs} ms`, {
          party: this.self,
          peer: from,
          step,
          round: this.stats.rounds,
        });
        reject(e);
      }, this.recvTimeoutMs);
      this.waiters.set(from, {
        step,
        resolve: (p) => {
          clearTimeout(timer);
          resolve(p);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
    });
  }

  private mismatch(from: PartyId, expected: string, got: string): MpcError {
    return new MpcError('MPC_ERR_PROTOCOL', `expected step '${expected}' from party ${from} but received '${got}'`, {
      party: this.self,
      peer: from,
      step: expected,
      round: this.stats.rounds,
    });
  }

  /** Transport: a message arrived from `from`. */
  protected deliver(from: PartyId, step: string, payload: Payload): void {
    if (this.failure) return;
    const w = this.waiters.get(from);
    if (w) {
      this.waiters.delete(from);
      if (w.step !== step) {
        const e = this.mismatch(from, w.step, step);
        w.reject(e);
        this.fail(e);
        return;
      }
      w.resolve(payload);
      return;
    }
    let q = this.inbox.get(from);
    if (!q) {
      q = [];
      this.inbox.set(from, q);
    }
    if (q.length >= this.maxPendingMessages) {
      this.fail(new MpcError('MPC_ERR_BUFFER_FULL', `more than ${this.maxPendingMessages} undelivered messages from party ${from}`, { party: this.self, peer: from, step: this.lastStep }));
      return;
    }
    const bytes = (this.inboxBytes.get(from) ?? 0) + payload.byteLength;
    if (bytes > this.maxBufferedBytes) {
      this.fail(new MpcError('MPC_ERR_BUFFER_FULL', `more than ${this.maxBufferedBytes} undelivered bytes from party ${from}`, { party: this.self, peer: from, step: this.lastStep }));
      return;
    }
    this.inboxBytes.set(from, bytes);
    q.push({ step, payload });
  }

  /**
   * Transport: `from` will send nothing more (it closed in order). Messages already queued
   * stay receivable; a receive waiting on it now, or any later one past the queue, rejects
   * with `e` (and fails the channel).
   */
  protected peerGone(from: PartyId, e: MpcError): void {
    if (this.failure || this.gone.has(from)) return;
    this.gone.set(from, e);
    const w = this.waiters.get(from);
    if (w) {
      this.waiters.delete(from);
      const err = this.failureAt(w.step, e);
      w.reject(err);
      this.fail(err);
    }
  }

  /** `e` (default: the channel's failure) annotated with `step` when it names none. */
  private failureAt(step: string, e: MpcError = this.failure!): MpcError {
    if (e.step !== undefined) return e;
    return new MpcError(e.code, bareMessage(e), { party: e.party ?? this.self, peer: e.peer, step, round: this.stats.rounds, cause: e.cause ?? e });
  }

  /** Transport or protocol: the session is broken. Rejects every pending receive; idempotent. */
  fail(e: MpcError): void {
    if (this.failure) return;
    this.failure = e;
    for (const [, w] of this.waiters) w.reject(e);
    this.waiters.clear();
    this.inbox.clear();
    this.inboxBytes.clear();
    this.closing = this.shutdown(e).catch(() => undefined);
  }

  /**
   * Abort the session (peers are told). Resolves once the transport has shut down — also
   * when the channel had already failed, so a caller may exit the process right after.
   */
  async abort(error: Error): Promise<void> {
    const e =
      error instanceof MpcError
        ? error
        : new MpcError('MPC_ERR_ABORTED', error.message, { party: this.self, cause: error });
    if (!this.failure) {
      this.failure = e;
      for (const [, w] of this.waiters) w.reject(e);
      this.waiters.clear();
      this.inbox.clear();
      this.inboxBytes.clear();
      this.closing = this.shutdown(e);
    }
    await this.closing;
  }

  async close(): Promise<void> {
    if (!this.failure) {
      this.failure = new MpcError('MPC_ERR_CLOSED', 'channel closed', { party: this.self });
      for (const [, w] of this.waiters) w.reject(this.failure);
      this.waiters.clear();
      this.closing = this.shutdown(undefined);
    }
    await this.closing;
  }
}
