/**
 * `npm run bench -- correctness [--json FILE] [--quick] [--T1 N] [--T2 N] [--ctx N] [--long N]
 * [--long-len N] [--gpt2-T N] [--carry-long FILE]`: truncation and range correctness of the secure model (issue 13),
 * in-process (three parties in one process, memory channels: the recorder needs all three
 * shares; protocols/trunc-record.ts).
 *
 * Keys:
 *   trunc_expected_failures_default_2048: the expected truncation failures (sum |x|/2^64 of the
 *     probabilistic calls; faithful calls count 0) of a default-model run with a 2048-token
 *     prefill + 256 decode tokens, from a MEASURED PER-SITE MODEL: per call site, elements and
 *     sum |x| recorded on real secure runs at prefill lengths T1 and T2 (+ 2 decode tokens
 *     each), then extrapolated with the site's measured power law in T (elements ~ T^a, a
 *     fitted from T1 -> T2: 1 for the linear layers, 2 for the attention scores); decode sites
 *     likewise in the cache length, times 256 tokens. Under the model's faithful policy no
 *     call is probabilistic, so this is 0 unless some site was measured out of the faithful
 *     range (trunc_faithful_out_of_range_default counts those elements; must be 0); the larger of
 *     the full-cache and MPCache runs (trunc_expected_failures_{full,mpcache}_default_2048);
 *   trunc_expected_failures_prob_default_2048: the same model for the OLD code (every call
 *     probabilistic), for comparison;
 *   trunc_max_abs_log2_default: log2 of the largest |x| truncated (faithful bound: < 62);
 *   trunc_expected_failures_gpt2dims_512 / _prob_: the same at GPT-2-small dimensions
 *     (random weights, so magnitudes are those of random-weight activations; T1 = gpt2-T,
 *     T2 = 2 gpt2-T, extrapolated to 512 + 64);
 *   decode_rounds_per_token_{prob,faithful}_<ctx>, decode_bytes_per_token_{prob,faithful}_<ctx>
 *     (max over parties, bytes sent), decode_rounds_increase_pct_<ctx>, decode_bytes_increase_pct_<ctx>:
 *     default model, argmax decoding, after a <ctx>-token prefill;
 *   long_prompt_full_agreement, long_prompt_mpcache_agreement: teacher-forced top-1 agreement of
 *     the secure logits (revealed to the user) with the plaintext twin (full cache / MPCache's
 *     twin) over 16 new tokens of `--long` prompts of `--long-len` tokens (passkey prompts);
 *     long_prompt_garbage_runs: runs whose secure logits leave the float logits by > 1.0
 *     anywhere; long_prompt_n: how many prompts per policy were run (the issue asks 20);
 *     long_prompt_max_gap_at_disagreement: the largest plaintext logit gap between the two
 *     candidates where secure and plaintext top-1 differ (0 when they never do; a gap below the
 *     run's logit error is a near-tie that fixed-point arithmetic can flip).
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { freshSeeds, memoryContexts, runOnContexts } from '../parties/in-process.js';
import { recordTruncations, type TruncRecorder } from '../protocols/trunc-record.js';
import { diffStats, snapshotStats, type StepStats } from '../protocols/channel.js';
import type { TruncMode } from '../protocols/context.js';
import { SecureDecoder } from '../models/secure-decoder.js';
import { shareModel } from '../models/secure-weights.js';
import { heldoutSampleDocs, loadDefaultModel, passkeyPromptTokens } from '../models/default-model.js';
import { ReferenceModel } from '../models/reference.js';
import { randomWeights } from '../models/random-weights.js';
import { makeConfig, type ModelConfig } from '../models/config.js';
import type { ModelWeights } from '../models/weights.js';
import { createPlainTwin, createSecurePolicy } from '../eviction/secure/registry.js';
import type { BenchOptions, BenchResult } from './types.js';

function arg(args: readonly string[], flag: string, dflt: number): number {
  const i = args.indexOf(flag);
  return i >= 0 ? Number(args[i + 1]) : dflt;
}

interface RunOut {
  readonly tokens: number[];
  readonly logits: Float64Array[];
  /** per decode token (nextToken + step), max over parties */
  readonly perToken: { rounds: number; bytes: number }[];
}

/** One secure run in-process: prefill `prompt`, then nNew tokens (argmax, or revealed logits). */
async function secureRun(weights: ModelWeights, prompt: readonly number[], nNew: number, o: { mode: TruncMode; rec?: TruncRecorder; policy?: string; revealLogits?: boolean }): Promise<RunOut> {
  const c = weights.config;
  const ctxs = memoryContexts(freshSeeds(), { recvTimeoutMs: 1_200_000 });
  if (o.rec !== undefined) recordTruncations(ctxs, o.rec);
  const res = await runOnContexts(ctxs, async (ctx) => {
    const model = await shareModel(ctx, c, ctx.party === 0 ? weights : undefined);
    const policy = o.policy === undefined || o.policy === 'full' ? undefined : createSecurePolicy(o.policy, c);
    const dec = new SecureDecoder(ctx, model, { truncMode: o.mode, policy, revealLogits: o.revealLogits === true, maxSeqLen: prompt.length + nNew + 1 });
    if (o.rec !== undefined && ctx.party === 0) o.rec.scope = 'prefill';
    let logits = await dec.prefill(ctx.party === 1 ? prompt : undefined, prompt.length);
    const tokens: number[] = [];
    const lg: Float64Array[] = [];
    const per: StepStats[] = [];
    for (let i = 0; i < nNew; i++) {
      const before = snapshotStats(ctx.ch.stats);
      if (o.rec !== undefined && ctx.party === 0 && i === 1) o.rec.scope = 'decode';
      const ch = await dec.nextToken(logits);
      if (ch.token !== undefined) tokens.push(ch.token);
      if (ch.logits !== undefined) lg.push(ch.logits);
      if (i + 1 < nNew) logits = await dec.step(ch.oneHot);
      per.push(diffStats(snapshotStats(ctx.ch.stats), before));
    }
    return { tokens, lg, per };
  });
  // token i's cost: nextToken(i) + step(i) (the last has no step: left out)
  const perToken = res[0].per.slice(0, -1).map((p, i) => ({ rounds: p.rounds, bytes: Math.max(...res.map((r) => r.per[i].bytesSent)) }));
  return { tokens: res[1].tokens, logits: res[1].lg, perToken };
}

/** per-site model: from recorders at prefill T1 and T2, the expected failures (actual and all-probabilistic) at prefill T + D decode tokens */
function extrapolate(r1: TruncRecorder, r2: TruncRecorder, T1: number, T2: number, T: number, D: number): { actual: number; prob: number; maxAbs: number; outOfRange: number; sites: Record<string, string | number>[] } {
  let actual = 0;
  let prob = 0;
  let maxAbs = 0;
  let outOfRange = 0;
  const sites: Record<string, string | number>[] = [];
  for (const s2 of r2.sites.values()) {
    const s1 = r1.sites.get(s2.site);
    const decode = s2.site.startsWith('decode');
    // decode sites were recorded over 1 token (the 2nd), at cache lengths T1 and T2; scale to cache T + D/2, times D tokens
    const target = decode ? T + D / 2 : T;
    const a = s1 === undefined || s1.elements === 0 ? 1 : Math.max(0, Math.log(s2.elements / s1.elements) / Math.log(T2 / T1));
    const scale = (target / T2) ** a * (decode ? D : 1);
    actual += s2.expectedFailures * scale;
    prob += s2.probEquivalent * scale;
    maxAbs = Math.max(maxAbs, s2.maxAbs, s1?.maxAbs ?? 0);
    outOfRange += s2.faithfulOutOfRange + (s1?.faithfulOutOfRange ?? 0);
    sites.push({ site: s2.site, elements_T2: s2.elements, exponent: Number(a.toFixed(2)), max_abs_log2: Number(Math.log2(Math.max(1, s2.maxAbs)).toFixed(1)), prob_failures_extrapolated: Number((s2.probEquivalent * scale).toExponential(2)) });
  }
  sites.sort((x, y) => Number(y.prob_failures_extrapolated) - Number(x.prob_failures_extrapolated));
  return { actual, prob, maxAbs, outOfRange, sites };
}

function gpt2Weights(): ModelWeights {
  const cfg: ModelConfig = makeConfig({ dim: 768, nLayers: 12, nHeads: 12, nKvHeads: 12, hiddenDim: 3072, vocabSize: 50257, maxSeqLen: 1024 });
  return randomWeights(cfg, 7);
}

export default async function correctnessBench(opts: BenchOptions): Promise<BenchResult> {
  const a = opts.args;
  const quick = opts.quick === true;
  const T1 = arg(a, '--T1', quick ? 16 : 64);
  const T2 = arg(a, '--T2', quick ? 32 : 128);
  const CTX = arg(a, '--ctx', quick ? 32 : 256);
  const nLong = arg(a, '--long', quick ? 0 : 1);
  const longLen = arg(a, '--long-len', 1000);
  const g2T = arg(a, '--gpt2-T', quick ? 0 : 8);
  const load0 = loadavg()[0];
  const t0 = performance.now();
  const dm = await loadDefaultModel();
  const w = dm.weights;
  const tok = dm.tokenizer;
  const figures: Record<string, number> = {};
  const rows: Record<string, string | number>[] = [];
  const notes: string[] = [];
  const log = (m: string) => process.stderr.write(`correctness: ${m} (${((performance.now() - t0) / 1000).toFixed(0)} s)\n`);
  // passkey prompts from 128 tokens on, else held-out text (BOS + the first n - 1 tokens of the documents)
  const textTokens = tok.encode(heldoutSampleDocs().join('\n\n'), { bos: true });
  const prompt = (n: number, seed: number): number[] =>
    n >= 128 ? passkeyPromptTokens(tok, String(10000 + ((seed * 7919) % 89999)), n, (seed % 5) / 4).prompt : textTokens.slice(0, n);

  // 1. truncation model, default model
  const recs: TruncRecorder[] = [];
  for (const T of [T1, T2]) {
    const rec = recordTruncations([]);
    await secureRun(w, prompt(T, T), 2, { mode: 'faithful', rec });
    if (rec.pendingCalls !== 0) throw new Error(`recorder: ${rec.pendingCalls} unmatched calls`);
    recs.push(rec);
    log(`recorded T = ${T}`);
  }
  const exFull = extrapolate(recs[0], recs[1], T1, T2, 2048, 256);
  // the same with the secure MPCache policy (its own truncations included)
  const mrecs: TruncRecorder[] = [];
  for (const T of [T1, T2]) {
    const rec = recordTruncations([]);
    await secureRun(w, prompt(T, T), 2, { mode: 'faithful', rec, policy: 'mpcache' });
    mrecs.push(rec);
    log(`recorded T = ${T} (mpcache)`);
  }
  const exMp = extrapolate(mrecs[0], mrecs[1], T1, T2, 2048, 256);
  const ex = exMp.actual > exFull.actual || (exMp.actual === exFull.actual && exMp.prob > exFull.prob) ? exMp : exFull;
  figures.trunc_expected_failures_default_2048 = Math.max(exFull.actual, exMp.actual);
  figures.trunc_expected_failures_full_default_2048 = exFull.actual;
  figures.trunc_expected_failures_mpcache_default_2048 = exMp.actual;
  figures.trunc_expected_failures_prob_default_2048 = Math.max(exFull.prob, exMp.prob);
  figures.trunc_max_abs_log2_default = Math.log2(Math.max(1, exFull.maxAbs, exMp.maxAbs));
  figures.trunc_faithful_out_of_range_default = exFull.outOfRange + exMp.outOfRange;
  for (const s of ex.sites.slice(0, 12)) rows.push({ model: ex === exMp ? 'default (mpcache)' : 'default (full)', ...s });

  // 2. GPT-2-small dims (random weights)
  if (g2T > 0) {
    const gw = gpt2Weights();
    const grecs: TruncRecorder[] = [];
    for (const T of [g2T, 2 * g2T]) {
      const rec = recordTruncations([]);
      await secureRun(gw, Array.from({ length: T }, (_, i) => (i * 7919 + 13) % gw.config.vocabSize), 2, { mode: 'faithful', rec });
      grecs.push(rec);
      log(`gpt2 dims recorded T = ${T}`);
    }
    const gx = extrapolate(grecs[0], grecs[1], g2T, 2 * g2T, 512, 64);
    figures.trunc_expected_failures_gpt2dims_512 = gx.actual;
    figures.trunc_expected_failures_prob_gpt2dims_512 = gx.prob;
    figures.trunc_max_abs_log2_gpt2dims = Math.log2(Math.max(1, gx.maxAbs));
    figures.trunc_faithful_out_of_range_gpt2dims = gx.outOfRange;
    for (const s of gx.sites.slice(0, 6)) rows.push({ model: 'gpt2dims', ...s });
    notes.push(`GPT-2-small dims: random weights (models/random-weights.ts), Llama blocks, recorded at T = ${g2T}, ${2 * g2T} + 2 decode tokens, extrapolated to 512 + 64.`);
  }

  // 3. decode cost at CTX, before (prob) / after (faithful)
  for (const mode of ['prob', 'faithful'] as const) {
    const r = await secureRun(w, prompt(CTX, 3), 3, { mode });
    const last = r.perToken[r.perToken.length - 1];
    figures[`decode_rounds_per_token_${mode}_${CTX}`] = last.rounds;
    figures[`decode_bytes_per_token_${mode}_${CTX}`] = last.bytes;
    log(`decode cost ${mode}: ${last.rounds} rounds, ${last.bytes} bytes`);
  }
  figures[`decode_rounds_increase_pct_${CTX}`] = 100 * (figures[`decode_rounds_per_token_faithful_${CTX}`] / figures[`decode_rounds_per_token_prob_${CTX}`] - 1);
  figures[`decode_bytes_increase_pct_${CTX}`] = 100 * (figures[`decode_bytes_per_token_faithful_${CTX}`] / figures[`decode_bytes_per_token_prob_${CTX}`] - 1);

  // 4. long prompts: secure (revealed logits) vs the plaintext twin, teacher-forced
  const ref = new ReferenceModel(w);
  let garbage = 0;
  let maxGap = 0;
  for (const pol of ['full', 'mpcache']) {
    let agree = 0;
    let total = 0;
    for (let p = 0; p < nLong; p++) {
      const pr = prompt(longLen + ((p * 331) % 1000), 100 + p);
      const r = await secureRun(w, pr, 16, { mode: 'faithful', policy: pol, revealLogits: true });
      const s = ref.newSession(createPlainTwin(pol, w.config));
      let lg = s.prefill(pr);
      let worst = 0;
      const perToken: number[] = [];
      for (let i = 0; i < r.logits.length; i++) {
        const sl = r.logits[i];
        let am = 0;
        let bm = 0;
        let tokenWorst = 0;
        for (let j = 0; j < lg.length; j++) {
          tokenWorst = Math.max(tokenWorst, Math.abs(sl[j] - lg[j]));
          if (sl[j] > sl[am]) am = j;
          if (lg[j] > lg[bm]) bm = j;
        }
        perToken.push(tokenWorst);
        worst = Math.max(worst, tokenWorst);
        total++;
        if (am === bm) agree++;
        else {
          // the plaintext gap between the two candidates: a near-tie (within the run's logit error) can flip
          const gap = lg[bm] - lg[am];
          maxGap = Math.max(maxGap, gap);
          log(`long ${pol} ${p}: token ${i + 1} differs: secure ${am}, plaintext ${bm}, plaintext gap ${gap.toFixed(3)}`);
        }
        if (i + 1 < r.logits.length) lg = s.step(r.tokens[i]);
      }
      if (worst > 1.0) garbage++;
      rows.push({ model: 'default', site: `long prompt ${p} (${pr.length} tokens) ${pol}`, max_logit_err: Number(worst.toFixed(3)) });
      log(`long ${pol} ${p}: ${pr.length} tokens, worst logit error ${worst.toFixed(3)}; per token ${perToken.map((e) => e.toFixed(2)).join(' ')}`);
    }
    figures[`long_prompt_${pol}_agreement`] = total === 0 ? -1 : agree / total;
  }
  figures.long_prompt_garbage_runs = garbage;
  figures.long_prompt_max_gap_at_disagreement = maxGap;
  figures.long_prompt_n = nLong;
  // --carry-long FILE: with --long 0, take the long_prompt_* figures of an earlier run's JSON (said in the notes)
  const ci = a.indexOf('--carry-long');
  if (ci >= 0 && nLong === 0) {
    const raw = JSON.parse(readFileSync(a[ci + 1], 'utf8')) as { figures?: Record<string, number> } & Record<string, unknown>;
    const prev = (raw.figures ?? raw) as Record<string, number>;
    for (const [key, v] of Object.entries(prev)) if (key.startsWith('long_prompt_')) figures[key] = v;
    notes.push(`long_prompt_* figures carried from ${a[ci + 1]} (an earlier run of this suite on the same protocol code; its rows are not repeated here).`);
  }
  figures.correctness_loadavg_start = load0;
  figures.correctness_loadavg_end = loadavg()[0];
  notes.push(
    `Truncation figures: per-site model from recorded secure runs at T = ${T1}, ${T2} (+ 2 decode tokens), extrapolated to 2048 + 256 (see the header); faithful sites count 0.`,
    `Decode cost: default model, in-process, after a ${CTX}-token prefill, the 2nd decode token.`,
    `Long prompts: ${figures.long_prompt_n} per policy (the issue asks 20; ~100+ s each on a 2-core machine), 16 new tokens, teacher-forced; -1 = not run.`,
    `Load average ${load0.toFixed(1)} at the start; ${((performance.now() - t0) / 1000).toFixed(0)} s in all.`,
  );
  return { title: 'Correctness: truncation failures, decode cost of faithful truncation, long prompts (in-process)', rows, figures, notes };
}
