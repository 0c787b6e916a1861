/**
 * The long-context accuracy suite (`mpcache eval --suite long`, `npm run bench -- long-eval`):
 * retrieval at long prompts on the default model, every candidate (policy x budget) on the
 * same prompts.
 *
 * - Tasks (long-tasks.ts): passkey, multikey, kv, at each length (default 1024 and 2000
 *   tokens), `prompts` prompts per task and length with the asked needle at depths
 *   i / (prompts - 1) spread over 0-100%, keys from the seed.
 * - Score: exact match of the greedy answer, measured as "every teacher-forced argmax of the
 *   answer tokens is right" (the same event as greedy decoding producing the answer), with a
 *   95% Wilson interval; also per-token accuracy and the answer's NLL (graded signals when
 *   exact match is near 0 for everyone).
 * - Held-out NLL: `nllDocs` documents the model samples from BOS (seeded, temperature 0.9),
 *   a prompt of `nllLength` tokens (2000) and a `nllCont`-token continuation teacher-forced
 *   with the policy acting as in generation; dNLL against Full, top-1 agreement with Full.
 * - Cost: every prompt is prefilled ONCE with full attention (the prompt's attention does not
 *   depend on the policy: static policies act after it); each candidate runs on a fork of that
 *   session after its onPrefill saw the recorded prefill contexts (harness.ts scoreOn, tested
 *   bit-identical to a fresh run). `timing` gives the prefill and per-candidate seconds.
 *
 * Candidates are behind `LongCandidate`, so a secure policy (which runs its own private
 * prefill) can be plugged in later next to the plaintext ones.
 */
import type { KvPolicy } from '../policy.js';
import { createPolicy, type PolicyExtras, type PolicyName } from '../plain/registry.js';
import { Metered, scoreOn, type Prefilled } from './harness.js';
import type { EvalModel } from './load-model.js';
import { LONG_TASKS, longTaskPrompt, spreadDepths, type LongPrompt, type LongTask } from './long-tasks.js';
import { aggregateLong, runUnit } from './long-run.js';
import { sampleDocument } from './tasks.js';

export interface LongSuiteSettings {
  readonly policies: readonly PolicyName[];
  /** budget ratios of the prompt length */
  readonly budgets: readonly number[];
  readonly tasks: readonly LongTask[];
  /** prompt lengths in tokens */
  readonly lengths: readonly number[];
  /** prompts per task and length */
  readonly prompts: number;
  readonly seed: number;
  /** held-out documents for the NLL (0: none) */
  readonly nllDocs: number;
  /** prompt tokens of each held-out document */
  readonly nllLength: number;
  /** continuation tokens scored per document */
  readonly nllCont: number;
  readonly temperature: number;
}

/** The policies the suite runs by default (the issue's comparison set). */
export const LONG_DEFAULT_POLICIES: readonly PolicyName[] = ['full', 'mpcache', 'mpcache-v1', 'mpcache-paper', 'snapkv', 'quest', 'streaming-llm', 'tova'];

/**
 * The suite's settings: full = 60 prompts per task at 1024 and 2000 tokens, budgets 5/10/20%,
 * 4 held-out documents of 2000 + 48 tokens; quick (CI) = 2 prompts per task at 256 tokens,
 * budget 10%, one held-out document of 240 + 8 tokens.
 */
export function longSuiteSettings(quick: boolean, over: Partial<LongSuiteSettings> = {}): LongSuiteSettings {
  const base: LongSuiteSettings = quick
    ? { policies: LONG_DEFAULT_POLICIES, budgets: [0.1], tasks: LONG_TASKS, lengths: [256], prompts: 2, seed: 2026, nllDocs: 1, nllLength: 240, nllCont: 8, temperature: 0.9 }
    : { policies: LONG_DEFAULT_POLICIES, budgets: [0.05, 0.1, 0.2], tasks: LONG_TASKS, lengths: [1024, 2000], prompts: 60, seed: 2026, nllDocs: 4, nllLength: 2000, nllCont: 48, temperature: 0.9 };
  return { ...base, ...over };
}

/** One thing to evaluate: a policy at a budget (or a secure policy, later). */
export interface LongCandidate {
  readonly policy: string;
  /** budget ratio, or null for budget-free candidates (Full) */
  readonly budget: number | null;
  /**
   * Teacher-forces `cont` after the prefilled prompt: per-token NLL and argmax, and the
   * cached tokens attention read / could have read (summed over heads, layers, steps).
   */
  run(pre: Prefilled, cont: readonly number[]): { nll: Float64Array; argmax: Int32Array; read: number; total: number };
}

/** A plaintext policy of the registry as a candidate (a fresh policy object per run). */
export function plainCandidate(name: PolicyName, budget: number | null, model: EvalModel['model'], seed: number, extras: PolicyExtras = {}): LongCandidate {
  const make = (): KvPolicy => createPolicy(name, { budget: { ratio: budget ?? 1 }, model: model.config, seed }, extras);
  return {
    policy: name,
    budget,
    run(pre, cont) {
      const m = new Metered(make());
      const r = scoreOn(pre, m, cont);
      return { ...r, read: m.read, total: m.total };
    },
  };
}

/** The candidates of the settings: Full once, every other policy at every budget. */
export function plainCandidates(em: EvalModel, s: LongSuiteSettings): LongCandidate[] {
  const out: LongCandidate[] = [plainCandidate('full', null, em.model, s.seed)];
  // budget-independent static scores computed once per prompt and layer
  const extras: PolicyExtras = { mpcachePaper: { scoreMemo: new WeakMap() } };
  for (const p of s.policies) {
    if (p === 'full') continue;
    for (const b of s.budgets) out.push(plainCandidate(p, b, em.model, s.seed, extras));
  }
  return out;
}

export interface LongTaskRow {
  readonly policy: string;
  readonly budget: number | null;
  readonly task: LongTask;
  readonly length: number;
  /** prompts */
  readonly n: number;
  /** exact matches */
  readonly hits: number;
  readonly exact: number;
  /** 95% Wilson interval of `exact` */
  readonly lo: number;
  readonly hi: number;
  /** fraction of answer tokens whose teacher-forced argmax is right */
  readonly tokenAccuracy: number;
  /** mean NLL of the answer tokens (nats/token) */
  readonly answerNll: number;
  /** cached tokens read per query head per decode step / tokens so far */
  readonly readFraction: number;
}

export interface LongNllRow {
  readonly policy: string;
  readonly budget: number | null;
  readonly nll: number;
  readonly nllDelta: number;
  readonly agreement: number;
  readonly readFraction: number;
}

export interface LongTiming {
  /** prompts and documents prefilled (each once) */
  readonly prefills: number;
  readonly prefillSeconds: number;
  /** candidate runs (fork + onPrefill replay + decode steps) */
  readonly candidateRuns: number;
  readonly candidateSeconds: number;
  /** sampling the held-out documents */
  readonly sampleSeconds: number;
  readonly totalSeconds: number;
  /**
   * (prefill x candidates + candidate time) / (prefill + candidate time) over the scored
   * prompts: the speed-up of one shared prefill over one prefill per candidate
   */
  readonly sharedPrefillSpeedup: number;
}

export interface LongReport {
  readonly model: { readonly name: string; readonly nLayers: number; readonly nHeads: number; readonly nKvHeads: number; readonly headDim: number; readonly maxSeqLen: number };
  readonly settings: LongSuiteSettings;
  readonly candidates: readonly { readonly policy: string; readonly budget: number | null }[];
  readonly tasks: LongTaskRow[];
  readonly nll: LongNllRow[];
  readonly timing: LongTiming;
  readonly notes: string[];
}

export interface LongProgress {
  readonly done: number;
  readonly total: number;
  readonly label: string;
  readonly elapsedMs: number;
}

/** The suite's prompts, in run order (task-major, then length, then depth). */
export function longPrompts(em: EvalModel, s: LongSuiteSettings): LongPrompt[] {
  const out: LongPrompt[] = [];
  s.tasks.forEach((task, ti) => {
    for (const L of s.lengths) {
      if (L > em.model.config.maxSeqLen) throw new RangeError(`length ${L} exceeds the model context ${em.model.config.maxSeqLen}`);
      spreadDepths(s.prompts).forEach((d, i) => out.push(longTaskPrompt(task, em.tokenizer, L, d, s.seed * 7919 + ti * 1_000_003 + L * 1009 + i)));
    }
  });
  return out;
}

/** The model summary of a report. */
export function reportModel(em: EvalModel): LongReport['model'] {
  const c = em.model.config;
  return { name: em.name, nLayers: c.nLayers, nHeads: c.nHeads, nKvHeads: c.nKvHeads, headDim: c.headDim, maxSeqLen: c.maxSeqLen };
}

/** The report's notes for the settings. */
export function longNotes(s: LongSuiteSettings): string[] {
  return [
    `tasks ${s.tasks.join('/')} at ${s.lengths.join('/')} tokens, ${s.prompts} prompts per task and length (depths i/${Math.max(1, s.prompts - 1)}), seed ${s.seed}; exact match of the greedy answer with 95% Wilson intervals`,
    s.nllDocs ? `held-out NLL: ${s.nllDocs} documents sampled from the model (temperature ${s.temperature}), prompt ${s.nllLength} + ${s.nllCont} scored tokens` : 'no held-out NLL',
    'budgets are fractions of the prompt length; read = cached tokens attention read per query head per decode step / tokens so far',
  ];
}

function checkSettings(em: EvalModel, s: LongSuiteSettings): void {
  if (!Number.isSafeInteger(s.prompts) || s.prompts < 1) throw new RangeError(`prompts must be a positive integer, got ${s.prompts}`);
  if (!Number.isSafeInteger(s.nllDocs) || s.nllDocs < 0) throw new RangeError(`nllDocs must be a non-negative integer, got ${s.nllDocs}`);
  if (s.nllDocs > 0 && s.nllLength + s.nllCont > em.model.config.maxSeqLen) throw new RangeError(`nllLength + nllCont exceeds the model context ${em.model.config.maxSeqLen}`);
}

/** Runs the suite on this thread. `candidates` defaults to the plaintext policies of the settings. */
export function runLongSuite(em: EvalModel, s: LongSuiteSettings, onProgress?: (p: LongProgress) => void, candidates?: readonly LongCandidate[]): LongReport {
  const t0 = performance.now();
  const { model, tokenizer } = em;
  checkSettings(em, s);
  const cands = candidates ?? plainCandidates(em, s);
  if (!cands.length || cands[0].policy !== 'full') throw new RangeError("the first candidate must be 'full' (the reference)");
  const prompts = longPrompts(em, s);
  const total = (prompts.length + s.nllDocs) * cands.length;
  let done = 0;
  const tag = (c: LongCandidate) => `${c.policy}${c.budget === null ? '' : `@${c.budget}`}`;
  const tick = (label: string) => onProgress?.({ done: ++done, total, label, elapsedMs: performance.now() - t0 });
  const promptOutcomes = prompts.map((p, pi) => runUnit(model, p.tokens, p.answer, cands, (ci) => tick(`${p.task} ${p.length} #${pi + 1}/${prompts.length} ${tag(cands[ci])}`)));
  let sampleMs = 0;
  const docOutcomes = Array.from({ length: s.nllDocs }, (_, i) => {
    const t1 = performance.now();
    const doc = sampleDocument(model, tokenizer.bos, s.nllLength + s.nllCont, s.seed * 31 + i, s.temperature);
    sampleMs += performance.now() - t1;
    return runUnit(model, doc.slice(0, s.nllLength), doc.slice(s.nllLength), cands, (ci) => tick(`nll doc ${i + 1}/${s.nllDocs} ${tag(cands[ci])}`));
  });
  return aggregateLong({
    model: reportModel(em),
    settings: s,
    candidates: cands.map((x) => ({ policy: x.policy, budget: x.budget })),
    prompts,
    promptOutcomes,
    docOutcomes,
    sampleSeconds: sampleMs / 1000,
    totalSeconds: (performance.now() - t0) / 1000,
    notes: longNotes(s),
  });
}
