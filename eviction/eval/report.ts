/** Text renderings of an EvalReport: a console table and a Markdown table. */
import type { EvalReport, EvalRow } from './harness.js';

function cells(r: EvalRow): string[] {
  return [
    r.policy,
    r.budget === null ? (r.policy === 'full' ? '100%' : `mem ${(100 * r.memory).toFixed(0)}%`) : `${(100 * r.budget).toFixed(0)}%`,
    r.nll.toFixed(3),
    (r.nllDelta >= 0 ? '+' : '') + r.nllDelta.toFixed(3),
    `${(100 * r.agreement).toFixed(1)}%`,
    Number.isFinite(r.passkey) ? `${(100 * r.passkey).toFixed(0)}%` : '-',
    Number.isFinite(r.passkeyNll) ? r.passkeyNll.toFixed(2) : '-',
    `${(100 * r.readFraction).toFixed(1)}%`,
    r.seconds.toFixed(1),
  ];
}

const HEAD = ['policy', 'budget', 'NLL', 'dNLL', 'agree', 'passkey', 'key NLL', 'read', 's'];

export function renderTable(report: EvalReport): string {
  const rows = [HEAD, ...report.rows.map(cells)];
  const w = HEAD.map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  ')).join('\n') + '\n';
}

export function renderMarkdown(report: EvalReport): string {
  const lines = [`| ${HEAD.join(' | ')} |`, `|${HEAD.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`];
  for (const r of report.rows) lines.push(`| ${cells(r).join(' | ')} |`);
  return lines.join('\n') + '\n';
}
