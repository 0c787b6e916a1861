/**
 * Renderings of a LongReport: a Markdown report (sample sizes and 95% Wilson intervals) and
 * the flat figures of `npm run bench -- long-eval`.
 *
 * Figure keys (one scheme for every task, length and policy):
 *   <policy>_<pct>pct_<task>_<len>        exact match in [0, 1]
 *   <policy>_<pct>pct_<task>_<len>_lo/_hi 95% Wilson bounds
 *   <policy>_<pct>pct_<task>_<len>_tokacc teacher-forced per-token accuracy of the answer
 *   <policy>_<pct>pct_nll_<len>           held-out NLL (nats/token), and ..._nll_delta_<len>
 * with <policy> the registry name with '-' -> '_' (mpcache_paper, streaming_llm), <pct> the
 * budget in percent (5, 10, 20), <task> passkey | multikey | kv, <len> 1k (1024 tokens) or
 * 2k (2000 tokens; otherwise the token count). Full has no budget: full_<task>_<len>,
 * full_nll_<len>. Plus long_prompts_per_task_length, long_suite_s and the timing figures.
 */
import type { LongReport, LongTaskRow } from './long-suite.js';

/** '1k' for 1024, '2k' for 2000 (and 2048), the token count otherwise. */
export function lengthTag(L: number): string {
  if (L === 1024) return '1k';
  if (L === 2000 || L === 2048) return '2k';
  return String(L);
}

/** The key prefix of a policy at a budget: `mpcache_10pct`, `full`. */
export function candidateKey(policy: string, budget: number | null): string {
  const p = policy.replace(/-/g, '_');
  return budget === null ? p : `${p}_${Math.round(budget * 100)}pct`;
}

/** The flat figures of a report. */
export function longFigures(r: LongReport): Record<string, number> {
  const f: Record<string, number> = {
    long_prompts_per_task_length: r.settings.prompts,
    long_suite_s: r.timing.totalSeconds,
    long_prefill_s: r.timing.prefillSeconds,
    long_candidate_s: r.timing.candidateSeconds,
    long_candidates: r.candidates.length,
    long_shared_prefill_speedup: r.timing.sharedPrefillSpeedup,
  };
  for (const t of r.tasks) {
    const k = `${candidateKey(t.policy, t.budget)}_${t.task}_${lengthTag(t.length)}`;
    f[k] = t.exact;
    f[`${k}_lo`] = t.lo;
    f[`${k}_hi`] = t.hi;
    f[`${k}_tokacc`] = t.tokenAccuracy;
  }
  const tag = lengthTag(r.settings.nllLength);
  for (const n of r.nll) {
    const k = candidateKey(n.policy, n.budget);
    f[`${k}_nll_${tag}`] = n.nll;
    f[`${k}_nll_delta_${tag}`] = n.nllDelta;
  }
  return f;
}

const pct = (x: number) => `${(100 * x).toFixed(0)}%`;
const budgetCell = (b: number | null) => (b === null ? '100%' : pct(b));

function cell(t: LongTaskRow | undefined): string {
  if (!t) return '-';
  return `${t.hits}/${t.n} ${(100 * t.exact).toFixed(0)} [${(100 * t.lo).toFixed(0)}, ${(100 * t.hi).toFixed(0)}]`;
}

/** The Markdown report: one table of exact match per task and length, one of NLL. */
export function renderLongMarkdown(r: LongReport): string {
  const s = r.settings;
  const cols: [string, number][] = [];
  for (const task of s.tasks) for (const L of s.lengths) cols.push([task, L]);
  const lines: string[] = [];
  lines.push(
    `Long-context suite on ${r.model.name} (${r.model.nLayers} layers, ${r.model.nHeads} heads / ${r.model.nKvHeads} KV heads, context ${r.model.maxSeqLen}): ` +
      `${s.prompts} prompts per task and length, depths spread over 0-100%, seed ${s.seed}. ` +
      `Cells: hits/prompts, exact match % [95% Wilson interval]; read = cached tokens attention read per head per step.`,
    '',
  );
  lines.push(`| policy | budget | ${cols.map(([t, L]) => `${t} ${lengthTag(L)}`).join(' | ')} | read |`);
  lines.push(`|---|---:|${cols.map(() => '---:').join('|')}|---:|`);
  for (const c of r.candidates) {
    const rows = r.tasks.filter((t) => t.policy === c.policy && t.budget === c.budget);
    const read = rows.length ? rows.reduce((a, t) => a + t.readFraction, 0) / rows.length : NaN;
    lines.push(`| ${c.policy} | ${budgetCell(c.budget)} | ${cols.map(([task, L]) => cell(rows.find((t) => t.task === task && t.length === L))).join(' | ')} | ${Number.isFinite(read) ? `${(100 * read).toFixed(1)}%` : '-'} |`);
  }
  lines.push('', `Answer-token accuracy (teacher-forced, %):`, '');
  lines.push(`| policy | budget | ${cols.map(([t, L]) => `${t} ${lengthTag(L)}`).join(' | ')} |`);
  lines.push(`|---|---:|${cols.map(() => '---:').join('|')}|`);
  for (const c of r.candidates) {
    const rows = r.tasks.filter((t) => t.policy === c.policy && t.budget === c.budget);
    lines.push(`| ${c.policy} | ${budgetCell(c.budget)} | ${cols.map(([task, L]) => {
      const t = rows.find((x) => x.task === task && x.length === L);
      return t ? (100 * t.tokenAccuracy).toFixed(0) : '-';
    }).join(' | ')} |`);
  }
  if (r.nll.length) {
    lines.push('', `Held-out NLL: ${s.nllDocs} sampled documents, prompt ${s.nllLength} tokens, ${s.nllCont} scored tokens each (${s.nllDocs * s.nllCont} tokens):`, '');
    lines.push('| policy | budget | NLL | dNLL | agreement | read |', '|---|---:|---:|---:|---:|---:|');
    for (const n of r.nll) lines.push(`| ${n.policy} | ${budgetCell(n.budget)} | ${n.nll.toFixed(3)} | ${n.nllDelta >= 0 ? '+' : ''}${n.nllDelta.toFixed(3)} | ${(100 * n.agreement).toFixed(1)}% | ${(100 * n.readFraction).toFixed(1)}% |`);
  }
  const tm = r.timing;
  lines.push(
    '',
    `Time: ${tm.totalSeconds.toFixed(0)} s in all; ${tm.prefills} prefills ${tm.prefillSeconds.toFixed(0)} s, ${tm.candidateRuns} candidate runs ${tm.candidateSeconds.toFixed(0)} s, ` +
      `sampling ${tm.sampleSeconds.toFixed(0)} s; one shared prefill per prompt is ${tm.sharedPrefillSpeedup.toFixed(1)}x faster than one prefill per candidate.`,
  );
  return lines.join('\n') + '\n';
}
