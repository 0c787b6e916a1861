/**
 * Calibrates LoCoCo's fusion kernels (eviction/plain/lococo.ts) on documents each model samples
 * itself, and writes eviction/plain/lococo-kernels.json (the committed fixture the policy looks
 * up by model shape). Seeded and deterministic; CPU only.
 *
 *   npx tsx scripts/calibrate-lococo.ts [--out FILE] [MODEL_PATH ...]
 *
 * Default models: ../shared/models/stories260K (when present) and models/default.
 * Events: 2 documents of 512 tokens (sampling seed 7331, temperature 0.9; the evaluation uses
 * seed 2025), cut at 50% and 75% of 480 tokens; at each cut, per layer and KV head, the prefix is
 * compressed to 5/10/20/50% of its length and scored on the next 32 queries of the KV head's
 * query heads. Adam, 150 steps, learning rate 0.02, kernel 5, from w = 0, u = 0, lambda = 0.5.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PrefillContext } from '../models/attention-hooks.js';
import { DEFAULT_MODEL, loadEvalModel, REPO_ROOT, STORIES260K } from '../eviction/eval/load-model.js';
import { sampleDocument } from '../eviction/eval/tasks.js';
import { calibrateLococoLayer, type LococoEvent } from '../eviction/plain/lococo-calibrate.js';
import type { LococoKernelSet } from '../eviction/plain/lococo.js';
import { headsOf } from '../eviction/plain/scores.js';

const SEED = 7331;
const DOCS = 2;
const DOC_LEN = 512;
const FUTURE = 32;
const CUTS = [0.5, 0.75];
const BUDGETS = [0.05, 0.1, 0.2, 0.5];
const OPTS = { kernel: 5, steps: 150, lr: 0.02, hhKeepRate: 0.5 };

const round = (v: number) => Number(v.toPrecision(6));

async function calibrate(path: string): Promise<LococoKernelSet> {
  const em = await loadEvalModel(path);
  const c = em.model.config;
  const d = c.headDim;
  const len = Math.min(DOC_LEN, c.maxSeqLen);
  const events: LococoEvent[][] = Array.from({ length: c.nLayers }, () => []);
  for (let doc = 0; doc < DOCS; doc++) {
    const tokens = sampleDocument(em.model, em.tokenizer.bos, len, SEED * 31 + doc, 0.9);
    const layers: PrefillContext[] = [];
    em.model.newSession({ hooks: { onPrefill: (ctx) => void layers.push(ctx) } }).prefill(tokens);
    for (const ctx of layers) {
      const T = ctx.length;
      for (const cut of CUTS) {
        const P = Math.floor(cut * (T - FUTURE));
        for (let kv = 0; kv < c.nKvHeads; kv++) {
          const heads = headsOf(c.nHeads, c.nKvHeads, kv);
          const acc = new Float64Array(P);
          for (const h of heads) for (let q = 0; q < P; q++) for (let j = 0; j <= q; j++) acc[j] += ctx.probs[h][q * T + j] / heads.length;
          const keys = Float64Array.from(ctx.cache.keys(kv).subarray(0, P * d));
          const values = Float64Array.from(ctx.cache.values(kv).subarray(0, P * d));
          const queries: Float64Array[] = [];
          for (const h of heads) for (let q = P; q < P + FUTURE; q++) queries.push(Float64Array.from(ctx.queries[h].subarray(q * d, (q + 1) * d)));
          for (const b of BUDGETS) events[ctx.layer].push({ d, n: P, M: Math.max(2, Math.floor(b * P)), keys, values, acc, queries });
        }
      }
    }
  }
  const losses: string[] = [];
  const layers = events.map((evs, l) => {
    const r = calibrateLococoLayer(evs, d, OPTS);
    losses.push(`${r.lossStart.toFixed(4)}->${r.lossEnd.toFixed(4)}`);
    console.error(`${em.name} layer ${l}: ${evs.length} events, loss ${r.lossStart.toFixed(4)} -> ${r.lossEnd.toFixed(4)}, lambda ${(1 / (1 + Math.exp(-r.kernel.logitLambda))).toFixed(3)}`);
    return { kernel: r.kernel.kernel, w: r.kernel.w.map(round), u: r.kernel.u.map(round), logitLambda: round(r.kernel.logitLambda) };
  });
  return {
    model: em.name,
    shape: { nLayers: c.nLayers, nHeads: c.nHeads, nKvHeads: c.nKvHeads, headDim: c.headDim },
    layers,
    calibration: { seed: SEED, docs: DOCS, docLen: len, future: FUTURE, cuts: CUTS.join('/'), budgets: BUDGETS.join('/'), steps: OPTS.steps, lr: OPTS.lr, loss: losses.join(' ') },
  };
}

const args = process.argv.slice(2);
const oi = args.indexOf('--out');
const out = oi >= 0 ? args[oi + 1] : join(REPO_ROOT, 'eviction', 'plain', 'lococo-kernels.json');
const paths = args.filter((_, i) => i !== oi && i !== oi + 1);
const models = paths.length ? paths : [...(existsSync(STORIES260K) ? [STORIES260K] : []), DEFAULT_MODEL];
const sets: LococoKernelSet[] = [];
for (const p of models) sets.push(await calibrate(p));
writeFileSync(out, JSON.stringify({ note: 'written by scripts/calibrate-lococo.ts; do not edit', sets }) + '\n');
console.error(`wrote ${out}`);
