/**
 * The work units of the long suite and their aggregation, shared by the sequential run
 * (long-suite.ts runLongSuite) and the worker-thread run (long-parallel.ts): a unit is one
 * prompt (or one held-out document) prefilled once and scored by every candidate; its outcome
 * is plain numbers, so units can run anywhere and be aggregated in their index order (the
 * report is the same whatever the number of workers, timings aside).
 */
import type { ReferenceModel } from '../../models/reference.js';
import { prefillOnce } from './harness.js';
import type { LongCandidate, LongNllRow, LongReport, LongSuiteSettings, LongTaskRow } from './long-suite.js';
import type { LongPrompt, LongTask } from './long-tasks.js';
import { wilsonInterval } from './wilson.js';

/** What one candidate did on one prompt. */
export interface CandidateOutcome {
  /** exact match */
  readonly hit: boolean;
  /** answer tokens whose argmax was right */
  readonly tokHits: number;
  /** summed NLL of the answer (or continuation) tokens */
  readonly nll: number;
  /** continuation positions whose argmax equals the first candidate's (Full's) */
  readonly agree: number;
  readonly read: number;
  readonly total: number;
  readonly ms: number;
}

export interface UnitOutcome {
  readonly prefillMs: number;
  /** one per candidate, in candidate order */
  readonly cands: readonly CandidateOutcome[];
}

/** Prefills `tokens` once and teacher-forces `cont` with every candidate (the first is the agreement reference). */
export function runUnit(model: ReferenceModel, tokens: readonly number[], cont: readonly number[], cands: readonly LongCandidate[], onCandidate?: (ci: number) => void): UnitOutcome {
  const t0 = performance.now();
  const pre = prefillOnce(model, tokens);
  const prefillMs = performance.now() - t0;
  let ref: Int32Array | undefined;
  const out: CandidateOutcome[] = cands.map((c, ci) => {
    const t1 = performance.now();
    const r = c.run(pre, cont);
    const ms = performance.now() - t1;
    if (ci === 0) ref = r.argmax;
    let tokHits = 0;
    let nll = 0;
    let agree = 0;
    for (let i = 0; i < cont.length; i++) {
      if (r.argmax[i] === cont[i]) tokHits++;
      if (ref && r.argmax[i] === ref[i]) agree++;
      nll += r.nll[i];
    }
    onCandidate?.(ci);
    return { hit: tokHits === cont.length, tokHits, nll, agree, read: r.read, total: r.total, ms };
  });
  return { prefillMs, cands: out };
}

export interface LongRunInput {
  readonly model: LongReport['model'];
  readonly settings: LongSuiteSettings;
  readonly candidates: readonly { readonly policy: string; readonly budget: number | null }[];
  readonly prompts: readonly Pick<LongPrompt, 'task' | 'length' | 'answer'>[];
  readonly promptOutcomes: readonly UnitOutcome[];
  /** continuation length of each held-out document */
  readonly docOutcomes: readonly UnitOutcome[];
  readonly sampleSeconds: number;
  readonly totalSeconds: number;
  readonly notes: string[];
}

/** The report from the unit outcomes. */
export function aggregateLong(x: LongRunInput): LongReport {
  const s = x.settings;
  const tasks: LongTaskRow[] = [];
  x.candidates.forEach((c, ci) => {
    for (const task of s.tasks) {
      for (const L of s.lengths) {
        let n = 0;
        let hits = 0;
        let tokHits = 0;
        let tok = 0;
        let nll = 0;
        let read = 0;
        let total = 0;
        x.prompts.forEach((p, pi) => {
          if (p.task !== (task as LongTask) || p.length !== L) return;
          const o = x.promptOutcomes[pi].cands[ci];
          n++;
          if (o.hit) hits++;
          tokHits += o.tokHits;
          tok += p.answer.length;
          nll += o.nll;
          read += o.read;
          total += o.total;
        });
        if (!n) continue;
        const w = wilsonInterval(hits, n);
        tasks.push({ policy: c.policy, budget: c.budget, task, length: L, n, hits, exact: hits / n, lo: w.lo, hi: w.hi, tokenAccuracy: tokHits / tok, answerNll: nll / tok, readFraction: total ? read / total : 1 });
      }
    }
  });
  const per = (ci: number) => {
    let nll = 0;
    let agree = 0;
    let read = 0;
    let total = 0;
    for (const d of x.docOutcomes) {
      const o = d.cands[ci];
      nll += o.nll;
      agree += o.agree;
      read += o.read;
      total += o.total;
    }
    const n = x.docOutcomes.length * s.nllCont;
    return { nll: nll / n, agreement: agree / n, readFraction: total ? read / total : 1 };
  };
  const full = x.docOutcomes.length ? per(0).nll : NaN;
  const nll: LongNllRow[] = x.docOutcomes.length
    ? x.candidates.map((c, ci) => {
        const v = per(ci);
        return { policy: c.policy, budget: c.budget, nll: v.nll, nllDelta: v.nll - full, agreement: v.agreement, readFraction: v.readFraction };
      })
    : [];
  let prefillMs = 0;
  let candMs = 0;
  let runs = 0;
  let shared = 0;
  let naive = 0;
  for (const u of [...x.promptOutcomes, ...x.docOutcomes]) {
    const c = u.cands.reduce((a, o) => a + o.ms, 0);
    prefillMs += u.prefillMs;
    candMs += c;
    runs += u.cands.length;
    shared += u.prefillMs + c;
    naive += u.prefillMs * u.cands.length + c;
  }
  return {
    model: x.model,
    settings: s,
    candidates: x.candidates,
    tasks,
    nll,
    timing: {
      prefills: x.promptOutcomes.length + x.docOutcomes.length,
      prefillSeconds: prefillMs / 1000,
      candidateRuns: runs,
      candidateSeconds: candMs / 1000,
      sampleSeconds: x.sampleSeconds,
      totalSeconds: x.totalSeconds,
      sharedPrefillSpeedup: shared > 0 ? naive / shared : 1,
    },
    notes: x.notes,
  };
}
