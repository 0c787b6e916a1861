/**
 * `npm run bench -- long-eval [--quick] [--json FILE] [--model PATH] [--prompts N] [--workers N]`: the
 * long-context accuracy suite (eviction/eval/long-suite.ts) on the default model for the
 * suite's policies at 5/10/20%: passkey, multikey and kv at 1024 and 2000 tokens, 60 prompts
 * per task and length, plus held-out NLL at 2000 tokens.
 *
 * Keys (eviction/eval/long-report.ts): <policy>_<pct>pct_<task>_<len> (exact match; _lo/_hi
 * the 95% Wilson bounds, _tokacc the answer-token accuracy) with <task> in passkey |
 * multikey | kv and <len> in 1k | 2k, e.g. mpcache_10pct_passkey_2k, quest_10pct_multikey_2k,
 * mpcache_paper_5pct_kv_1k; full_<task>_<len>; <policy>_<pct>pct_nll_2k and _nll_delta_2k;
 * long_prompts_per_task_length, long_suite_s, long_shared_prefill_speedup (derived from the
 * measured prefill and candidate times) and, full runs only, long_speedup_measured_1k (one
 * prompt, every candidate with its own prefill vs one shared prefill, both timed).
 * --quick: the CI form (2 prompts per task at 256 tokens, budget 10%).
 */
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { prefillOnce } from '../eviction/eval/harness.js';
import { DEFAULT_MODEL, loadEvalModel } from '../eviction/eval/load-model.js';
import { longFigures, renderLongMarkdown } from '../eviction/eval/long-report.js';
import { runLongSuiteParallel } from '../eviction/eval/long-parallel.js';
import { longPrompts, longSuiteSettings, plainCandidates, runLongSuite, type LongProgress } from '../eviction/eval/long-suite.js';
import type { BenchOptions, BenchResult } from './types.js';

function arg(args: readonly string[], flag: string): string | undefined {
  const i = args.indexOf(flag);
  return i >= 0 ? args[i + 1] : undefined;
}

export default async function longEvalBench(opts: BenchOptions): Promise<BenchResult> {
  const em = await loadEvalModel(arg(opts.args, '--model') ?? DEFAULT_MODEL);
  const prompts = arg(opts.args, '--prompts');
  const settings = longSuiteSettings(opts.quick === true, prompts === undefined ? {} : { prompts: Number(prompts) });
  const load0 = loadavg()[0];
  const workers = Number(arg(opts.args, '--workers') ?? 1);
  const progress = (p: LongProgress) => {
    if (p.done % 100 === 0) process.stderr.write(`long-eval: ${p.done}/${p.total} ${(p.elapsedMs / 1000).toFixed(0)} s\n`);
  };
  const report = workers > 1 ? await runLongSuiteParallel(em, settings, workers, progress) : runLongSuite(em, settings, progress);
  const figures = longFigures(report);
  if (!opts.quick) {
    // the speed-up of the shared prefill, measured directly on the first 1k prompt
    const p = longPrompts(em, { ...settings, lengths: [1024], tasks: ['passkey'], prompts: 1 })[0];
    const cands = plainCandidates(em, settings);
    const t0 = performance.now();
    const pre = prefillOnce(em.model, p.tokens);
    for (const c of cands) c.run(pre, p.answer);
    const shared = performance.now() - t0;
    const t1 = performance.now();
    for (const c of cands) c.run(prefillOnce(em.model, p.tokens), p.answer);
    figures.long_speedup_measured_1k = (performance.now() - t1) / shared;
  }
  figures.long_loadavg_start = load0;
  figures.long_loadavg_end = loadavg()[0];
  const md = renderLongMarkdown(report);
  const mdOut = arg(opts.args, '--md');
  if (mdOut) writeFileSync(mdOut, md);
  return {
    title: `Long-context suite: ${em.name}, ${settings.policies.length} policies x ${settings.budgets.length} budgets, ${settings.prompts} prompts per task and length${opts.quick ? ' (quick)' : ''}; keys <policy>_<pct>pct_<task>_<len> (task passkey|multikey|kv, len 1k|2k), _lo/_hi = 95% Wilson`,
    rows: report.tasks.map((t) => ({
      policy: t.policy,
      budget: t.budget === null ? '-' : `${Math.round(t.budget * 100)}%`,
      task: t.task,
      length: t.length,
      n: t.n,
      exact: Number(t.exact.toFixed(3)),
      lo: Number(t.lo.toFixed(3)),
      hi: Number(t.hi.toFixed(3)),
      tokacc: Number(t.tokenAccuracy.toFixed(3)),
      read_pct: Number((100 * t.readFraction).toFixed(1)),
    })),
    figures,
    notes: [...report.notes, `suite ${report.timing.totalSeconds.toFixed(0)} s (load average ${load0.toFixed(1)} at the start)`],
  };
}
