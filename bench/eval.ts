/**
 * `npm run bench -- eval [--quick] [--json FILE] [--model PATH]`: the KV-policy accuracy
 * harness on stories260K (or --model): every policy x budgets 5/10/20/50%, timed end to end
 * (`eval_s260k_all_policies_s`, model load excluded), with every policy's 10% scores as figures
 * (`eval_s260k_<policy>_10pct_nll_delta`, `_10pct_agreement`; '-' in a name becomes '_').
 * --quick: 1 document, 3 passkey prompts, budgets 10% and 50%.
 */
import { defaultSettings, runEval } from '../eviction/eval/harness.js';
import { loadEvalModel, STORIES260K } from '../eviction/eval/load-model.js';
import { POLICY_NAMES } from '../eviction/plain/registry.js';
import type { BenchOptions, BenchResult } from './types.js';

export default async function evalBench(opts: BenchOptions): Promise<BenchResult> {
  const mi = opts.args.indexOf('--model');
  const path = mi >= 0 ? opts.args[mi + 1] : STORIES260K;
  const em = await loadEvalModel(path);
  const ctx = em.model.config.maxSeqLen;
  const settings = defaultSettings(
    ctx,
    opts.quick
      ? { policies: [...POLICY_NAMES], docs: 1, budgets: [0.1, 0.5], passkeyLengths: [Math.min(256, ctx - 8)] }
      : { policies: [...POLICY_NAMES] },
  );
  const report = runEval(em, settings);
  const tag = mi >= 0 ? em.name.toLowerCase().replace(/[^a-z0-9]+/g, '_') : 's260k';
  const figures: Record<string, number> = {
    [`eval_${tag}_all_policies_s`]: report.totalSeconds,
    [`eval_${tag}_configs`]: report.rows.length,
  };
  const full = report.rows.find((r) => r.policy === 'full');
  if (full) {
    figures[`eval_${tag}_full_nll`] = full.nll;
    figures[`eval_${tag}_full_passkey`] = full.passkey;
  }
  for (const r of report.rows) {
    if (r.budget !== 0.1) continue; // every budgeted policy: eval_<tag>_<policy>_10pct_nll_delta / _agreement
    const p = r.policy.replace(/-/g, '_');
    figures[`eval_${tag}_${p}_10pct_nll_delta`] = r.nllDelta;
    figures[`eval_${tag}_${p}_10pct_agreement`] = r.agreement;
  }
  return {
    title: `KV-policy accuracy harness: ${em.name}, ${settings.policies.length} policies x ${settings.budgets.length} budgets${opts.quick ? ' (quick)' : ''}`,
    rows: report.rows.map((r) => ({
      policy: r.policy,
      budget: r.budget === null ? '-' : `${Math.round(r.budget * 100)}%`,
      nll: Number(r.nll.toFixed(4)),
      nll_delta: Number(r.nllDelta.toFixed(4)),
      agreement_pct: Number((100 * r.agreement).toFixed(1)),
      passkey_pct: Number((100 * r.passkey).toFixed(0)),
      read_pct: Number((100 * r.readFraction).toFixed(1)),
      s: Number(r.seconds.toFixed(2)),
    })),
    figures,
    notes: report.notes,
  };
}
