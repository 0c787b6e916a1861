/**
 * Worker-thread entry of the parallel long suite (long-parallel.ts): loads the model, builds
 * the same prompts, documents and candidates as the main thread (all deterministic from the
 * settings), runs the units it is given and posts each outcome back as it finishes.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { loadEvalModel } from './load-model.js';
import { runUnit } from './long-run.js';
import { longPrompts, plainCandidates, type LongSuiteSettings } from './long-suite.js';
import { sampleDocument } from './tasks.js';

export interface LongWorkerData {
  readonly modelPath: string;
  readonly settings: LongSuiteSettings;
  /** prompt indices to run */
  readonly prompts: readonly number[];
  /** held-out document indices to sample and run */
  readonly docs: readonly number[];
}

const port = parentPort;
if (!port) throw new Error('long-worker.ts runs as a worker thread');
const wd = workerData as LongWorkerData;
const em = await loadEvalModel(wd.modelPath);
const s = wd.settings;
const prompts = longPrompts(em, s);
const cands = plainCandidates(em, s);
for (const i of wd.prompts) {
  const p = prompts[i];
  port.postMessage({ kind: 'prompt', index: i, outcome: runUnit(em.model, p.tokens, p.answer, cands) });
}
for (const i of wd.docs) {
  const t0 = performance.now();
  const doc = sampleDocument(em.model, em.tokenizer.bos, s.nllLength + s.nllCont, s.seed * 31 + i, s.temperature);
  const sampleMs = performance.now() - t0;
  port.postMessage({ kind: 'doc', index: i, sampleMs, outcome: runUnit(em.model, doc.slice(0, s.nllLength), doc.slice(s.nllLength), cands) });
}
port.postMessage({ kind: 'done' });
