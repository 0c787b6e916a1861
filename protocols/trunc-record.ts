/**
 * Truncation recorder (MEASUREMENT MODE ONLY; off by default, never used in production).
 *
 * When `ctx.state.trunc.recorder` is set, every truncation call (mul.ts trunc, truncEach,
 * mulTrunc, mulTruncEach, truncTerms, matmulFixed, mulFixed; faithful or probabilistic)
 * hands the recorder this party's ADDITIVE component of the value being truncated (x_i of a
 * replicated share, or the 3-of-3 product term z_i). The recorder must be shared by the three
 * Contexts of an in-process trio (testing/trio.ts, parties/in-process.ts): when all three
 * components of a call have arrived it adds them (the true ring value, which no single party
 * can compute) and records, per call site: calls, elements, max |x| and the expected number of
 * failures sum |x| / 2^64 of the PROBABILISTIC calls (faithful calls contribute 0: their
 * result is floor or floor + 1 whenever |x| < 2^62, and the recorder counts the elements
 * beyond 2^62 separately as `faithfulOutOfRange`).
 *
 * Calls are matched across the parties by (context traceId, per-context call number): the
 * three parties run the same program, and derived contexts get the same traceId on each.
 * The call site is the first stack frame outside protocols/mul.ts, trunc-*.ts, rotate.ts,
 * parallel.ts and balanced.ts (plus the step tag). In a multi-process run no party can see x;
 * there this recorder must not be installed (it would wait forever for the other components
 * and record nothing).
 */
import type { U64 } from '../kernels/api.js';
import type { Context, TruncMode } from './context.js';

export interface TruncSiteStats {
  /** step tag and the calling frame */
  readonly site: string;
  calls: number;
  elements: number;
  faithfulElements: number;
  /** max |x| over the site's elements (ring value as a signed 64-bit integer, as a float) */
  maxAbs: number;
  /** sum over probabilistic elements of |x| / 2^64 */
  expectedFailures: number;
  /** faithful elements with |x| >= 2^62 (outside the faithful bound) */
  faithfulOutOfRange: number;
  /** sum over ALL elements of |x| / 2^64: what the site would cost with probabilistic truncation */
  probEquivalent: number;
}

interface Pending {
  readonly parts: U64[];
  readonly site: string;
  readonly mode: TruncMode;
}

const SKIP = /protocols[\\/](mul|trunc-[a-z]+|rotate|parallel|balanced)\.[jt]s|node:internal|trunc-record/;

function callSite(): string {
  const lines = (new Error().stack ?? '').split('\n').slice(1);
  for (const l of lines) {
    if (!l.includes('(') && !l.includes('at ')) continue;
    if (SKIP.test(l)) continue;
    const m = /at (?:async )?([^\s(]*)\s*\(?([^()]*?):(\d+):\d+\)?$/.exec(l.trim());
    if (m !== null) return `${m[1] || '<anon>'} ${m[2].replace(/^.*[\\/](protocols|models|eviction|bench|testing)[\\/]/, '$1/')}:${m[3]}`;
  }
  return '<unknown>';
}

export class TruncRecorder {
  readonly sites = new Map<string, TruncSiteStats>();
  private readonly pending = new Map<string, Pending>();
  private readonly seq = new Map<string, number>();
  /** a label prefixed to every site (e.g. 'prefill' / 'decode'), set by the measuring code */
  scope = '';

  /** This party's additive component of the value a truncation call is about to truncate. */
  contribute(ctx: Context, step: string, mode: TruncMode, words: U64): void {
    const sk = `${ctx.party}|${ctx.traceId}`;
    const n = this.seq.get(sk) ?? 0;
    this.seq.set(sk, n + 1);
    const key = `${ctx.traceId}#${n}`;
    let p = this.pending.get(key);
    if (p === undefined) {
      p = { parts: [], site: `${this.scope}${this.scope === '' ? '' : ' '}${step} @ ${callSite()}`, mode };
      this.pending.set(key, p);
    }
    p.parts.push(words.slice());
    if (p.parts.length === 3) {
      this.pending.delete(key);
      this.finish(ctx, p);
    }
  }

  private finish(ctx: Context, p: Pending): void {
    const k = ctx.k;
    const x = k.add(k.add(p.parts[0], p.parts[1]), p.parts[2]);
    const u = new Uint32Array(x.buffer, x.byteOffset, 2 * x.length);
    const i32 = new Int32Array(x.buffer, x.byteOffset, 2 * x.length);
    let max = 0;
    let sum = 0;
    let out = 0;
    for (let i = 0; i < x.length; i++) {
      const v = Math.abs(i32[2 * i + 1] * 4294967296 + u[2 * i]);
      if (v > max) max = v;
      sum += v;
      if (v >= 2 ** 62) out++;
    }
    let s = this.sites.get(p.site);
    if (s === undefined) {
      s = { site: p.site, calls: 0, elements: 0, faithfulElements: 0, maxAbs: 0, expectedFailures: 0, faithfulOutOfRange: 0, probEquivalent: 0 };
      this.sites.set(p.site, s);
    }
    s.calls++;
    s.elements += x.length;
    if (max > s.maxAbs) s.maxAbs = max;
    s.probEquivalent += sum / 2 ** 64;
    if (p.mode === 'faithful') {
      s.faithfulElements += x.length;
      s.faithfulOutOfRange += out;
    } else {
      s.expectedFailures += sum / 2 ** 64;
    }
  }

  /** sum of the sites' expected failures */
  get expectedFailures(): number {
    let t = 0;
    for (const s of this.sites.values()) t += s.expectedFailures;
    return t;
  }

  /** calls still waiting for components (non-zero only if the parties diverged or a run was cut short) */
  get pendingCalls(): number {
    return this.pending.size;
  }

  /** the sites, largest expected failures first */
  report(): TruncSiteStats[] {
    return [...this.sites.values()].sort((a, b) => b.expectedFailures - a.expectedFailures || b.elements - a.elements);
  }
}

/** Install one recorder on the three in-process contexts (measurement mode). Returns it. */
export function recordTruncations(ctxs: readonly Context[], rec = new TruncRecorder()): TruncRecorder {
  for (const c of ctxs) c.state.trunc.recorder = rec;
  return rec;
}

/** Hook for mul.ts / trunc-faithful.ts: record when a recorder is installed (no cost otherwise). */
export function noteTrunc(ctx: Context, step: string, mode: TruncMode, words: U64): void {
  const r = ctx.state.trunc.recorder;
  if (r !== undefined) r.contribute(ctx, step, mode, words);
}
