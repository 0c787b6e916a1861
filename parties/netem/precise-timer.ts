/**
 * A one-shot deadline timer with microsecond precision that does not keep a core busy.
 *
 * Node's own timers are millisecond-granular and on this VM fire 0.1-0.5 ms late; a pure
 * setImmediate spin is precise but burns a core for as long as anything is pending. Here:
 *  - a worker thread sleeps in Atomics.wait (a futex with a sub-millisecond timeout) until
 *    `deadline - lead`, then wakes this thread with a message (its event loop's async handle);
 *  - this thread spins with setImmediate (I/O keeps being served between turns) for the
 *    short rest and fires at the deadline, never before it;
 *  - `lead` adapts: the median of the last 32 observed wake-up delays (the worker's oversleep
 *    plus the message's delivery: 0.1-0.4 ms on this VM, longer after longer sleeps) plus
 *    50 us, clamped to [20 us, 1 ms]; delays over 3 ms (a descheduled thread on a busy host,
 *    the worker's start) are not learned from. Most wake-ups thus arrive a little early and
 *    the spin covers the difference; a late one fires late (the relay counts its lateness).
 * A deadline closer than the lead is served by the spin directly. CPU cost: one spin of about
 * (lead - actual delay) per armed deadline, instead of the whole wait. A deadline armed with
 * `precise = false` skips the lead and the spin: it fires when the worker's wake-up arrives
 * (never early, typically 0.1-0.3 ms late) - for the middle of a saturated stream, where a
 * constant offset costs nothing but a spin every piece would cost a core.
 *
 * Times are ns as numbers since `timeOriginNs()` (process.hrtime, monotonic).
 */
import { Worker } from 'node:worker_threads';

const ORIGIN = process.hrtime.bigint();

/** ns since this module's origin (monotonic). */
export function nowNs(): number {
  return Number(process.hrtime.bigint() - ORIGIN);
}

// plain JavaScript (no loader needed in the worker)
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const ctl = new Int32Array(workerData.sab, 0, 2);
const target = new BigInt64Array(workerData.sab, 8, 1);
for (;;) {
  if (Atomics.load(ctl, 1) !== 0) break;
  const seq = Atomics.load(ctl, 0);
  const t = Atomics.load(target, 0);
  if (t === 0n) { Atomics.wait(ctl, 0, seq); continue; }
  const rem = Number(t - process.hrtime.bigint());
  if (rem > 0) { Atomics.wait(ctl, 0, seq, rem / 1e6); continue; }
  if (Atomics.compareExchange(target, 0, t, 0n) === t) parentPort.postMessage(t);
}
`;

const SAMPLES = 32;
const MIN_LEAD_NS = 20_000;
const MAX_LEAD_NS = 1_000_000;
const INITIAL_LEAD_NS = 200_000;
/** wake-up delays longer than this are a descheduled thread, not the wake-up cost: not learned from */
const OUTLIER_NS = 3_000_000;
/** lead = this quantile of the recent wake-up delays + LEAD_PAD_NS */
const LEAD_Q = 0.5;
const LEAD_PAD_NS = 50_000;

export interface PreciseTimerStats {
  /** deadlines fired */
  fired: number;
  /** wake-ups by the worker */
  workerWakeups: number;
  /** setImmediate turns spent spinning */
  spinTurns: number;
  /** current lead, ns */
  leadNs: number;
  /** worker wake-up delays seen (ns): sum and count, for the mean */
  wakeDelaySumNs: number;
  wakeDelayMaxNs: number;
}

export class PreciseTimer {
  private readonly worker: Worker;
  private readonly ctl: Int32Array;
  private readonly target: BigInt64Array;
  private deadline: number | undefined;
  private precise = true;
  private spinning = false;
  private readonly delays: number[] = [];
  private lead = INITIAL_LEAD_NS;
  private closed = false;
  readonly stats: PreciseTimerStats = { fired: 0, workerWakeups: 0, spinTurns: 0, leadNs: INITIAL_LEAD_NS, wakeDelaySumNs: 0, wakeDelayMaxNs: 0 };

  constructor(private readonly onFire: () => void) {
    const sab = new SharedArrayBuffer(16);
    this.ctl = new Int32Array(sab, 0, 2);
    this.target = new BigInt64Array(sab, 8, 1);
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { sab } });
    this.worker.unref();
    this.worker.on('message', (t: bigint) => this.onWake(t));
    this.worker.on('error', (e: Error) => {
      throw e; // a bug in the worker source: nothing can recover
    });
  }

  /** Fire `onFire` once at `deadlineNs` (nowNs() time base; never before it); replaces a pending deadline. */
  at(deadlineNs: number, precise = true): void {
    if (this.closed) throw new Error('PreciseTimer: closed');
    this.deadline = deadlineNs;
    this.precise = precise;
    this.plan();
  }

  cancel(): void {
    this.deadline = undefined;
    this.setTarget(0n);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.deadline = undefined;
    Atomics.store(this.ctl, 1, 1);
    Atomics.add(this.ctl, 0, 1);
    Atomics.notify(this.ctl, 0);
    await this.worker.terminate();
  }

  private setTarget(t: bigint): void {
    Atomics.store(this.target, 0, t);
    Atomics.add(this.ctl, 0, 1);
    Atomics.notify(this.ctl, 0);
  }

  /** spin if the deadline is near, else let the worker wake us `lead` before it */
  private plan(): void {
    const d = this.deadline;
    if (d === undefined) return;
    const now = nowNs();
    if (now >= d) {
      this.deadline = undefined;
      this.setTarget(0n);
      this.stats.fired++;
      this.onFire();
      return;
    }
    if (!this.precise) {
      this.setTarget(ORIGIN + BigInt(Math.ceil(d)));
      return;
    }
    if (d - now <= this.lead + 20_000) {
      this.setTarget(0n);
      if (!this.spinning) {
        this.spinning = true;
        setImmediate(this.spin);
      }
      return;
    }
    this.setTarget(ORIGIN + BigInt(Math.round(d - this.lead)));
  }

  private readonly spin = (): void => {
    this.spinning = false;
    if (this.closed) return;
    this.stats.spinTurns++;
    this.plan();
  };

  private onWake(t: bigint): void {
    this.stats.workerWakeups++;
    const late = Number(process.hrtime.bigint() - t);
    this.stats.wakeDelaySumNs += late;
    if (late > this.stats.wakeDelayMaxNs) this.stats.wakeDelayMaxNs = late;
    if (late < OUTLIER_NS) {
      this.delays.push(late);
      if (this.delays.length > SAMPLES) this.delays.shift();
      const s = [...this.delays].sort((a, b) => a - b);
      this.lead = Math.min(MAX_LEAD_NS, Math.max(MIN_LEAD_NS, s[Math.floor(LEAD_Q * (s.length - 1))] + LEAD_PAD_NS));
    }
    this.stats.leadNs = this.lead;
    if (!this.closed) this.plan();
  }
}
