/**
 * `npm run bench -- default-model [--quick] [--json FILE]`: the shipped default model
 * (models/default) through the TypeScript float reference, plaintext only:
 * - passkey retrieval with the full cache at context 1024, in the eval harness's prompt form
 *   (eviction/eval/tasks.ts): `default_model_passkey_1024` (fraction; target >= 0.9);
 * - held-out NLL on models/default/heldout-sample.txt (`default_model_heldout_nll`);
 * - the attention sink: mean attention probability on position 0, averaged over the layers
 *   after the first two, heads and queries 1..T-1 (`default_model_sink_layers2plus`);
 * - plaintext decode speed at context 256 (`default_model_plain_tokens_per_s_ctx256`).
 * The private generation figure (`default_model_private_tokens_per_s`) belongs to the secure
 * decoder's benchmark. --quick: 3 passkey prompts instead of 10.
 */
import { passkeyPrompt } from '../eviction/eval/tasks.js';
import { heldoutSampleDocs, loadDefaultModel } from '../models/default-model.js';
import { logProb } from '../models/float-ops.js';
import { ReferenceModel } from '../models/reference.js';
import { parameterCount } from '../models/weights.js';
import type { BenchOptions, BenchResult } from './types.js';

export default async function defaultModelBench(opts: BenchOptions): Promise<BenchResult> {
  const t0 = performance.now();
  const dm = await loadDefaultModel();
  const model = new ReferenceModel(dm.weights);
  const loadS = (performance.now() - t0) / 1000;
  const c = dm.weights.config;
  const tok = dm.tokenizer;
  const rows: Record<string, string | number>[] = [];
  const figures: Record<string, number> = { default_model_params: parameterCount(c), default_model_load_s: loadS };

  // passkey @1024, full cache
  const n = opts.quick ? 3 : 10;
  let ok = 0;
  const tp = performance.now();
  for (let i = 0; i < n; i++) {
    const p = passkeyPrompt(tok, 1024, i / Math.max(1, n - 1), 4242 + i);
    const out = model.generate(p.tokens, p.answer.length);
    const hit = out.every((t, j) => t === p.answer[j]);
    ok += hit ? 1 : 0;
    rows.push({ measure: 'passkey@1024', depth: Number(p.depth.toFixed(2)), key: p.key, answer: tok.decode(out).trim(), ok: hit ? 'yes' : 'no' });
  }
  figures.default_model_passkey_1024 = ok / n;
  figures.default_model_passkey_1024_s_per_prompt = (performance.now() - tp) / 1000 / n;

  // held-out NLL
  let total = 0;
  let count = 0;
  for (const doc of heldoutSampleDocs(dm.dir)) {
    const ids = tok.encode(doc, { bos: true });
    const logits = model.logits(ids);
    for (let t = 1; t < ids.length; t++) total -= logProb(logits[t - 1], ids[t]);
    count += ids.length - 1;
  }
  figures.default_model_heldout_nll = total / count;
  rows.push({ measure: 'held-out NLL', value: Number((total / count).toFixed(4)), recorded: Number(dm.quality.heldout_sample_nll.toFixed(4)), tokens: count });

  // attention sink on a passkey prompt of 1024 tokens
  const sinkPrompt = passkeyPrompt(tok, 1024, 0.5, 77).tokens;
  const s = model.newSession({ recordAttention: true });
  s.prefill(sinkPrompt);
  const T = sinkPrompt.length;
  const perLayer = (s.attention ?? []).map((la) => {
    let acc = 0;
    for (const pr of la.probs) for (let q = 1; q < T; q++) acc += pr[q * T];
    return acc / (la.probs.length * (T - 1));
  });
  const after2 = perLayer.slice(2);
  figures.default_model_sink_layers2plus = after2.reduce((a, b) => a + b, 0) / Math.max(1, after2.length);
  // share of position 0 under uniform causal attention, for comparison
  let uni = 0;
  for (let q = 1; q < T; q++) uni += 1 / (q + 1);
  figures.default_model_sink_uniform_baseline = uni / (T - 1);
  perLayer.forEach((v, l) => rows.push({ measure: 'attention on position 0', layer: l, value: Number(v.toFixed(4)) }));

  // plaintext decode speed at context 256
  const ctx = tok.encode(heldoutSampleDocs(dm.dir).join('\n'), { bos: true }).slice(0, 224);
  const gen = model.newSession();
  const tpre = performance.now();
  let logits = gen.prefill(ctx);
  const prefillS = (performance.now() - tpre) / 1000;
  const steps = 32;
  const td = performance.now();
  for (let i = 0; i < steps; i++) {
    let b = 0;
    for (let j = 1; j < logits.length; j++) if (logits[j] > logits[b]) b = j;
    logits = gen.step(b);
  }
  const decodeS = (performance.now() - td) / 1000;
  figures.default_model_plain_tokens_per_s_ctx256 = steps / decodeS;
  figures.default_model_plain_prefill_tokens_per_s = ctx.length / prefillS;
  rows.push({ measure: 'plain decode, context 224..256', value: Number((steps / decodeS).toFixed(1)), unit: 'tokens/s' });

  return {
    title: `default model (models/default): ${parameterCount(c)} parameters, context ${c.maxSeqLen}, float reference${opts.quick ? ' (quick)' : ''}`,
    rows,
    figures,
    notes: [
      `training record (PyTorch, float32 on the fp16 weights): passkey@1024 ${dm.quality.passkey_1024}, held-out NLL ${dm.quality.heldout_sample_nll.toFixed(4)}`,
      'default_model_private_tokens_per_s is measured by the secure decoder benchmark, not here',
    ],
  };
}
