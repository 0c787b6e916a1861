/**
 * Hand-written SVG chart of an EvalReport: one panel per metric (NLL increase over Full,
 * top-1 agreement with Full, passkey exact match, NLL of the passkey), budget on a log x axis, one line per
 * policy, KIVI as single points at its memory ratio, Full as a dashed reference, legend.
 */
import type { EvalReport, EvalRow } from './harness.js';

interface Metric {
  title: string;
  unit: string;
  get: (r: EvalRow) => number;
  /** fixed y range, or undefined for the data range */
  range?: [number, number];
}

const PALETTE: Record<string, string> = {
  'streaming-llm': '#7f7f7f',
  h2o: '#1f77b4',
  snapkv: '#2ca02c',
  pyramidkv: '#98df8a',
  tova: '#9467bd',
  scissorhands: '#c5b0d5',
  keyformer: '#17becf',
  quest: '#ff7f0e',
  infllm: '#bcbd22',
  'duo-attention': '#8c564b',
  'kivi-2': '#e377c2',
  'kivi-4': '#f7b6d2',
  mpcache: '#d62728',
  'mpcache-static': '#ff9896',
  'mpcache-dynamic': '#a50f15',
  'mpcache-noshare': '#fb6a4a',
  'mpcache-unscaled': '#8c6d31',
  'mpcache-max': '#7570b3',
  // merging and head-similarity (issue 17)
  minicache: '#00a087',
  kvmerger: '#3c5488',
  d2o: '#f39b7f',
  ems: '#8491b4',
  kvcrush: '#66c2a5',
  'razor-attention': '#4dbbd5',
  'kv-head-merge': '#6a3d9a',
  full: '#000000',
};
const DASHED = new Set(['mpcache-static', 'mpcache-dynamic', 'mpcache-noshare', 'mpcache-unscaled', 'mpcache-max', 'pyramidkv', 'scissorhands']);

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function fmt(v: number): string {
  return Math.abs(v) >= 10 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(1) : v.toFixed(2);
}

function niceTicks(lo: number, hi: number, n = 5): number[] {
  const span = hi - lo || 1;
  const step0 = span / n;
  const mag = 10 ** Math.floor(Math.log10(step0));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= step0) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9; v += step) out.push(Number(v.toFixed(10)));
  return out;
}

/** The chart as an SVG document. */
export function renderChart(report: EvalReport): string {
  const metrics: Metric[] = [
    { title: 'NLL increase over Full (nats/token, lower is better)', unit: '', get: (r) => r.nllDelta },
    { title: 'Top-1 agreement with Full (%)', unit: '%', get: (r) => 100 * r.agreement },
    { title: 'Passkey exact match (%)', unit: '%', get: (r) => 100 * r.passkey, range: [0, 100] },
    { title: 'Passkey: key-token NLL (nats, lower is better)', unit: '', get: (r) => r.passkeyNll },
  ];
  const panelW = 380;
  const panelH = 220;
  const left = 60;
  const top0 = 80;
  const gapX = 80;
  const gapY = 80;
  const legendX = left + 2 * panelW + gapX + 30;
  const W = legendX + 170;
  const H = top0 + 2 * panelH + gapY + 50;
  const xLo = Math.log(0.04);
  const xHi = Math.log(1.05);
  const policies = [...new Set(report.rows.map((r) => r.policy))];
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="#ffffff"/>`);
  const m = report.model;
  out.push(
    `<text x="${left}" y="24" font-size="16" font-weight="bold">KV-cache policies vs budget: ${esc(m.name)} (${m.nLayers} layers, ${m.nHeads} heads / ${m.nKvHeads} KV heads, context ${m.maxSeqLen})</text>`,
  );
  const s = report.settings;
  out.push(
    `<text x="${left}" y="44" fill="#444">budget = fraction of the ${s.promptLen}-token prompt kept/read; ${s.docs} sampled documents x ${s.contLen} continuation tokens; ${s.passkeyLengths.length * s.passkeyDepths.length * s.passkeySeeds} passkey prompts; KIVI plotted at its memory ratio</text>`,
  );
  metrics.forEach((mt, pi) => {
    const x0 = left + (pi % 2) * (panelW + gapX);
    const top = top0 + Math.floor(pi / 2) * (panelH + gapY);
    const vals = report.rows.map(mt.get).filter((v) => Number.isFinite(v));
    const fullRow = report.rows.find((r) => r.policy === 'full');
    const anchor = fullRow && Number.isFinite(mt.get(fullRow)) ? mt.get(fullRow) : 0;
    let [lo, hi] = mt.range ?? [Math.min(anchor, ...vals), Math.max(anchor, ...vals)];
    if (!mt.range) {
      const pad = (hi - lo) * 0.05 || 0.1;
      lo -= pad;
      hi += pad;
    }
    const X = (b: number) => x0 + ((Math.log(b) - xLo) / (xHi - xLo)) * panelW;
    const Y = (v: number) => top + panelH - ((v - lo) / (hi - lo || 1)) * panelH;
    out.push(`<text x="${x0}" y="${top - 10}" font-weight="bold">${esc(mt.title)}</text>`);
    out.push(`<rect x="${x0}" y="${top}" width="${panelW}" height="${panelH}" fill="none" stroke="#999"/>`);
    for (const t of niceTicks(lo, hi)) {
      out.push(`<line x1="${x0}" x2="${x0 + panelW}" y1="${Y(t).toFixed(1)}" y2="${Y(t).toFixed(1)}" stroke="#eee"/>`);
      out.push(`<text x="${x0 - 6}" y="${(Y(t) + 4).toFixed(1)}" text-anchor="end" fill="#444">${fmt(t)}</text>`);
    }
    for (const b of [0.05, 0.1, 0.2, 0.5, 1]) {
      out.push(`<line x1="${X(b).toFixed(1)}" x2="${X(b).toFixed(1)}" y1="${top}" y2="${top + panelH}" stroke="#eee"/>`);
      out.push(`<text x="${X(b).toFixed(1)}" y="${top + panelH + 16}" text-anchor="middle" fill="#444">${Math.round(b * 100)}%</text>`);
    }
    out.push(`<text x="${x0 + panelW / 2}" y="${top + panelH + 34}" text-anchor="middle" fill="#444">KV budget (log scale)</text>`);
    const full = report.rows.find((r) => r.policy === 'full');
    if (full && Number.isFinite(mt.get(full))) {
      const y = Y(mt.get(full)).toFixed(1);
      out.push(`<line x1="${x0}" x2="${x0 + panelW}" y1="${y}" y2="${y}" stroke="#000" stroke-dasharray="6 4"/>`);
    }
    for (const p of policies) {
      if (p === 'full') continue;
      const rows = report.rows.filter((r) => r.policy === p && Number.isFinite(mt.get(r)));
      const color = PALETTE[p] ?? '#333';
      if (rows.length === 1 && rows[0].budget === null) {
        const r = rows[0];
        out.push(`<rect x="${(X(r.memory) - 5).toFixed(1)}" y="${(Y(mt.get(r)) - 5).toFixed(1)}" width="10" height="10" fill="${color}" stroke="#333"><title>${esc(p)}: ${fmt(mt.get(r))}${mt.unit} at memory ${(100 * r.memory).toFixed(0)}%</title></rect>`);
        continue;
      }
      rows.sort((a, b) => (a.budget ?? 1) - (b.budget ?? 1));
      const pts = rows.map((r) => `${X(r.budget ?? 1).toFixed(1)},${Y(mt.get(r)).toFixed(1)}`).join(' ');
      const w = p === 'mpcache' ? 3.5 : 1.8;
      out.push(`<polyline points="${pts}" fill="none" stroke="${color}" stroke-width="${w}"${DASHED.has(p) ? ' stroke-dasharray="5 3"' : ''}/>`);
      for (const r of rows) out.push(`<circle cx="${X(r.budget ?? 1).toFixed(1)}" cy="${Y(mt.get(r)).toFixed(1)}" r="${p === 'mpcache' ? 4 : 2.8}" fill="${color}"><title>${esc(p)} @ ${(100 * (r.budget ?? 1)).toFixed(0)}%: ${fmt(mt.get(r))}${mt.unit}</title></circle>`);
    }
  });
  let ly = top0;
  out.push(`<text x="${legendX}" y="${ly - 10}" font-weight="bold">policy</text>`);
  for (const p of policies) {
    const color = PALETTE[p] ?? '#333';
    const isPoint = report.rows.filter((r) => r.policy === p).every((r) => r.budget === null) && p !== 'full';
    if (p === 'full') out.push(`<line x1="${legendX}" x2="${legendX + 24}" y1="${ly}" y2="${ly}" stroke="#000" stroke-dasharray="6 4"/>`);
    else if (isPoint) out.push(`<rect x="${legendX + 7}" y="${ly - 5}" width="10" height="10" fill="${color}" stroke="#333"/>`);
    else out.push(`<line x1="${legendX}" x2="${legendX + 24}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="${p === 'mpcache' ? 3.5 : 2}"${DASHED.has(p) ? ' stroke-dasharray="5 3"' : ''}/>`);
    out.push(`<text x="${legendX + 30}" y="${ly + 4}"${p === 'mpcache' ? ' font-weight="bold"' : ''}>${esc(p)}</text>`);
    ly += 17;
  }
  out.push('</svg>');
  return out.join('\n') + '\n';
}
