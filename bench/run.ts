/**
 * Benchmark runner: `tsx bench/run.ts <suite> [--json FILE] [--quick] [--net SETTING] [args...]`.
 * Imports bench/<suite>.ts (a fixed set of known suite names), runs its default export,
 * prints the rows as a table and the figures, and writes the figures as JSON with --json.
 * `--net` (generation, mpcache, protocols, network) runs the parties through the link
 * emulator (parties/netem/): a full run then keeps its figures as
 * bench/results/<suite>-<setting>.{json,md} and refreshes the README's network section.
 * Exits 2 on a usage error, 1 when the suite fails.
 */
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { isMpcError } from '../protocols/errors.js';
import { NET_SETTING_HELP, parseNetSetting, type NetSetting } from '../parties/netem/settings.js';
import { reportName } from './net-keys.js';
import { NETWORK_SECTION, networkSection } from './network-report.js';
import type { BenchOptions, BenchResult, BenchSuite } from './types.js';

export const KNOWN_SUITES = ['kernels', 'transport', 'protocols', 'generation', 'eval', 'mpcache', 'default-model', 'long-eval', 'network', 'peers', 'correctness'] as const;
export type SuiteName = (typeof KNOWN_SUITES)[number];
/** suites that run the parties and take `--net` */
export const NET_SUITES: readonly SuiteName[] = ['protocols', 'generation', 'mpcache', 'network'];


export class UsageError extends Error {}

export interface ParsedArgs {
  readonly suite: SuiteName;
  readonly opts: BenchOptions;
}

const USAGE = `usage: npm run bench -- <suite> [--json FILE] [--quick] [--net SETTING] [args...]\n  suites: ${KNOWN_SUITES.join(', ')}\n  --net (${NET_SUITES.join(', ')}): ${NET_SETTING_HELP}`;

function netArg(text: string | undefined): NetSetting {
  if (text === undefined || text === '' || text.startsWith('--')) throw new UsageError(`--net needs a setting\n${USAGE}`);
  try {
    return parseNetSetting(text);
  } catch (e) {
    if (isMpcError(e)) throw new UsageError(e.message);
    throw e;
  }
}

export function parseArgs(argv: readonly string[]): ParsedArgs {
  let suite: string | undefined;
  let json: string | undefined;
  let quick = false;
  let net: NetSetting | undefined;
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--json') {
      const file = argv[++i];
      if (file === undefined || file.startsWith('--')) throw new UsageError(`--json needs a file name\n${USAGE}`);
      json = file;
    } else if (a.startsWith('--json=')) {
      json = a.slice('--json='.length);
      if (!json) throw new UsageError(`--json needs a file name\n${USAGE}`);
    } else if (a === '--quick') {
      quick = true;
    } else if (a === '--net') {
      net = netArg(argv[++i]);
    } else if (a.startsWith('--net=')) {
      net = netArg(a.slice('--net='.length));
    } else if (a === '--help' || a === '-h') {
      throw new UsageError(USAGE);
    } else if (suite === undefined && !a.startsWith('--')) {
      suite = a;
    } else {
      args.push(a);
    }
  }
  if (suite === undefined) throw new UsageError(`no suite given\n${USAGE}`);
  if (!(KNOWN_SUITES as readonly string[]).includes(suite)) throw new UsageError(`unknown suite '${suite}'\n${USAGE}`);
  if (net !== undefined && !NET_SUITES.includes(suite as SuiteName)) throw new UsageError(`suite '${suite}' does not run over a network: --net goes with ${NET_SUITES.join(', ')}`);
  return { suite: suite as SuiteName, opts: { json, quick, args, ...(net !== undefined ? { net } : {}) } };
}

export async function loadSuite(name: SuiteName): Promise<BenchSuite> {
  const url = new URL(`./${name}.ts`, import.meta.url);
  if (!existsSync(fileURLToPath(url))) {
    throw new UsageError(`benchmark suite '${name}' is not implemented yet (bench/${name}.ts does not exist)`);
  }
  const mod = (await import(url.href)) as { default?: unknown };
  if (typeof mod.default !== 'function') throw new Error(`bench/${name}.ts has no default export function`);
  return mod.default as BenchSuite;
}

export function checkResult(name: string, r: unknown): BenchResult {
  const res = r as BenchResult;
  if (typeof res !== 'object' || res === null || typeof res.title !== 'string' || !Array.isArray(res.rows) || typeof res.figures !== 'object' || res.figures === null) {
    throw new Error(`suite '${name}' returned a malformed result`);
  }
  for (const [k, v] of Object.entries(res.figures)) {
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`suite '${name}': figure '${k}' is not a finite number (${String(v)})`);
  }
  return res;
}

function fmt(v: string | number): string {
  if (typeof v === 'string') return v;
  if (Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e6 || a < 1e-3)) return v.toExponential(3);
  return v.toPrecision(4);
}

export function formatTable(rows: readonly Record<string, string | number>[]): string {
  const cols: string[] = [];
  for (const r of rows) for (const k of Object.keys(r)) if (!cols.includes(k)) cols.push(k);
  const cells = rows.map((r) => cols.map((c) => (r[c] === undefined ? '' : fmt(r[c]))));
  const width = cols.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i].length)));
  const line = (vals: string[]) => vals.map((v, i) => (i === 0 ? v.padEnd(width[i]) : v.padStart(width[i]))).join('  ');
  return [line(cols), width.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)].join('\n');
}

export async function main(argv: readonly string[]): Promise<number> {
  let parsed: ParsedArgs;
  try {
    parsed = parseArgs(argv);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`${e.message}\n`);
      return 2;
    }
    throw e;
  }
  const { suite, opts } = parsed;
  let result: BenchResult;
  const startedMs = Date.now();
  try {
    const run = await loadSuite(suite);
    result = withNetFigures(checkResult(suite, await run(opts)), suite, opts.net);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`bench ${suite}: ${e.message}\n`);
      return 2;
    }
    process.stderr.write(`bench ${suite} failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    return 1;
  }
  process.stdout.write(`\n${result.title}\n\n${formatTable(result.rows)}\n\n`);
  const figs = Object.entries(result.figures);
  if (figs.length) process.stdout.write(`${formatTable(figs.map(([figure, value]) => ({ figure, value })))}\n`);
  for (const n of result.notes ?? []) process.stdout.write(`note: ${n}\n`);
  if (opts.json) {
    writeFileSync(opts.json, `${JSON.stringify(result.figures, null, 2)}\n`);
    process.stdout.write(`figures written to ${opts.json}\n`);
  }
  if (!opts.quick) {
    const name = reportName(suite, opts.net);
    const md = writeReport(name, result, startedMs, opts.net);
    if (name === suite && suite !== 'network' && spliceIntoReadme(suite, readmeSection(name, readFileSync(md, 'utf8')))) process.stdout.write(`README.md section '${suite}' updated from ${md}\n`);
    if ((suite === 'network' || (suite === 'generation' && opts.net !== undefined)) && spliceIntoReadme(NETWORK_SECTION, networkSection(RESULTS_DIR))) {
      process.stdout.write(`README.md section '${NETWORK_SECTION}' updated from bench/results/network.json and generation*.json\n`);
    }
  }
  return 0;
}

/**
 * A run with an emulated link records it among its figures (so a `--json` file says what it
 * measured): net_rtt_ms, net_rate_mbps (absent when unlimited), net_jitter_ms.
 */
export function withNetFigures(result: BenchResult, suite: SuiteName, net: NetSetting | undefined): BenchResult {
  const l = net?.link;
  if (l === undefined || suite === 'network') return result;
  const figures: Record<string, number> = { ...result.figures, net_rtt_ms: 2 * l.delayMs, net_jitter_ms: l.jitterMs };
  if (Number.isFinite(l.rateBps)) figures.net_rate_mbps = l.rateBps / 1e6;
  return { ...result, figures };
}

const RESULTS_DIR = fileURLToPath(new URL('./results/', import.meta.url));
const README = fileURLToPath(new URL('../README.md', import.meta.url));

/**
 * Keep the figures of a full (non --quick) run in the repository: bench/results/<suite>.json,
 * and bench/results/<suite>.md unless the suite wrote its own (richer) report during this run.
 * Returns the markdown file's path.
 */
export function writeReport(suite: string, result: BenchResult, startedMs: number, net?: NetSetting): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const stamp = new Date().toISOString().slice(0, 16).replace('T', ' ');
  const load = loadavg().map((l) => l.toFixed(1)).join(' / ');
  const netField = net === undefined ? {} : { net: net.name };
  writeFileSync(`${RESULTS_DIR}${suite}.json`, `${JSON.stringify({ suite, date: stamp, loadavg: load, ...netField, figures: result.figures }, null, 2)}\n`);
  const md = `${RESULTS_DIR}${suite}.md`;
  if (existsSync(md) && statSync(md).mtimeMs >= startedMs) return md;
  const figs = Object.entries(result.figures).map(([figure, value]) => ({ figure, value }));
  const body = [
    `${result.title} (run ${stamp} UTC, load average ${load})`,
    '',
    markdownTable(result.rows),
    '',
    figs.length ? markdownTable(figs) : '',
    ...(result.notes ?? []).map((n) => `- ${n}`),
  ].join('\n');
  writeFileSync(md, `${body.trimEnd()}\n`);
  return md;
}

export function markdownTable(rows: readonly Record<string, string | number>[]): string {
  if (rows.length === 0) return '';
  const cols: string[] = [];
  for (const r of rows) for (const k of Object.keys(r)) if (!cols.includes(k)) cols.push(k);
  const line = (vals: string[]) => `| ${vals.join(' | ')} |`;
  return [line(cols), line(cols.map(() => '---')), ...rows.map((r) => line(cols.map((c) => (r[c] === undefined ? '' : fmt(r[c])))))].join('\n');
}

/** A report as the README shows it: without the flat `| figure | value |` table (kept in the JSON), with a link to it. */
export function readmeSection(suite: string, markdown: string): string {
  const lines = markdown.split('\n');
  const at = lines.findIndex((l) => l.trim() === '| figure | value |');
  if (at >= 0) {
    let end = at;
    while (end < lines.length && lines[end].startsWith('|')) end++;
    lines.splice(at, end - at);
  }
  return `${lines.join('\n').trimEnd()}\n\nAll figures: [bench/results/${suite}.json](bench/results/${suite}.json)`;
}

/** Replace the README text between `<!-- bench:<suite> -->` and `<!-- /bench:<suite> -->`. Returns whether it did. */
export function spliceIntoReadme(suite: string, markdown: string, readmePath = README): boolean {
  if (!existsSync(readmePath)) return false;
  const text = readFileSync(readmePath, 'utf8');
  const open = `<!-- bench:${suite} -->`;
  const close = `<!-- /bench:${suite} -->`;
  const a = text.indexOf(open);
  const b = text.indexOf(close);
  if (a < 0 || b < a) return false;
  // the report's own headings sit under the README's section heading (###): demote them
  const body = markdown.trimEnd().replace(/^(#{1,3}) /gm, (_m, h: string) => `${'#'.repeat(Math.min(6, h.length + 3))} `);
  writeFileSync(readmePath, `${text.slice(0, a + open.length)}\n${body}\n${text.slice(b)}`);
  return true;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main(process.argv.slice(2)).then(
    (code) => { process.exitCode = code; },
    (e: unknown) => {
      process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exitCode = 1;
    },
  );
}
