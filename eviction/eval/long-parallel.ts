/**
 * The long suite on worker threads: the prompts and held-out documents are dealt round-robin
 * to `workers` threads (each loads the model and builds the same candidates), and the outcomes
 * are aggregated in index order, so the report equals runLongSuite's (timings aside). For a
 * many-core machine; the default everywhere is one thread (runLongSuite).
 */
import { Worker } from 'node:worker_threads';
import type { EvalModel } from './load-model.js';
import { aggregateLong, type UnitOutcome } from './long-run.js';
import { longNotes, longPrompts, reportModel, plainCandidates, type LongProgress, type LongReport, type LongSuiteSettings } from './long-suite.js';
import type { LongWorkerData } from './long-worker.js';

type WorkerMessage =
  | { kind: 'prompt'; index: number; outcome: UnitOutcome }
  | { kind: 'doc'; index: number; sampleMs: number; outcome: UnitOutcome }
  | { kind: 'done' }
  | { kind: 'error'; message: string };

function startWorker(data: LongWorkerData): Worker {
  const here = import.meta.url;
  if (here.endsWith('.ts')) {
    // running from source under tsx: register its loader in the worker first
    const url = new URL('./long-worker.ts', here).href;
    const boot = `import('tsx/esm/api').then((a) => { a.register(); return import(${JSON.stringify(url)}); }).catch((e) => { require('node:worker_threads').parentPort.postMessage({ kind: 'error', message: String((e && e.stack) || e) }); })`;
    return new Worker(boot, { eval: true, workerData: data, stderr: true });
  }
  return new Worker(new URL('./long-worker.js', here), { workerData: data });
}

/** runLongSuite on `workers` threads (model loaded from em.path in each). */
export async function runLongSuiteParallel(em: EvalModel, s: LongSuiteSettings, workers: number, onProgress?: (p: LongProgress) => void): Promise<LongReport> {
  if (!Number.isSafeInteger(workers) || workers < 1 || workers > 64) throw new RangeError(`workers must be an integer in [1, 64], got ${workers}`);
  const t0 = performance.now();
  const prompts = longPrompts(em, s);
  const cands = plainCandidates(em, s);
  const promptOutcomes: (UnitOutcome | undefined)[] = new Array(prompts.length);
  const docOutcomes: (UnitOutcome | undefined)[] = new Array(s.nllDocs);
  let sampleMs = 0;
  let done = 0;
  const total = prompts.length + s.nllDocs;
  const deal = (n: number, w: number) => Array.from({ length: n }, (_, i) => i).filter((i) => i % workers === w);
  await Promise.all(
    Array.from({ length: Math.min(workers, total) }, (_, w) =>
      new Promise<void>((resolve, reject) => {
        const worker = startWorker({ modelPath: em.path, settings: s, prompts: deal(prompts.length, w), docs: deal(s.nllDocs, w) });
        let finished = false;
        worker.on('message', (m: WorkerMessage) => {
          if (m.kind === 'done') {
            finished = true;
            resolve();
            void worker.terminate();
            return;
          }
          if (m.kind === 'error') {
            reject(new Error(`long-suite worker ${w} failed to start: ${m.message}`));
            void worker.terminate();
            return;
          }
          if (m.kind === 'prompt') promptOutcomes[m.index] = m.outcome;
          else {
            docOutcomes[m.index] = m.outcome;
            sampleMs += m.sampleMs;
          }
          onProgress?.({ done: ++done, total, label: `${m.kind} ${m.index + 1}`, elapsedMs: performance.now() - t0 });
        });
        let err = '';
        worker.stderr?.on('data', (d: Buffer) => (err += d.toString()));
        worker.on('error', reject);
        worker.on('exit', (code) => (finished || code === 0 ? resolve() : reject(new Error(`long-suite worker ${w} exited with code ${code}: ${err.slice(-2000)}`))));
      }),
    ),
  );
  const missing = promptOutcomes.findIndex((o) => !o);
  if (missing >= 0 || docOutcomes.some((o) => !o)) throw new Error(`long-suite workers returned no outcome for unit ${missing}`);
  return aggregateLong({
    model: reportModel(em),
    settings: s,
    candidates: cands.map((x) => ({ policy: x.policy, budget: x.budget })),
    prompts,
    promptOutcomes: promptOutcomes as UnitOutcome[],
    docOutcomes: docOutcomes as UnitOutcome[],
    sampleSeconds: sampleMs / 1000,
    totalSeconds: (performance.now() - t0) / 1000,
    notes: [...longNotes(s), `run on ${workers} worker threads`],
  });
}
