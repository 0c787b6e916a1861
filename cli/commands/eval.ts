/**
 * `mpcache eval`: the KV-policy accuracy harness (eviction/eval/). Every policy at every
 * budget on held-out NLL, passkey retrieval and agreement with Full; progress on stderr,
 * a table on stdout, JSON / SVG chart / Markdown table to files.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { renderChart } from '../../eviction/eval/chart.js';
import { defaultSettings, runEval, type EvalSettings } from '../../eviction/eval/harness.js';
import { defaultEvalModelPath, loadEvalModel } from '../../eviction/eval/load-model.js';
import { renderMarkdown, renderTable } from '../../eviction/eval/report.js';
import { longSuiteSettings, runLongSuite, type LongProgress, type LongSuiteSettings } from '../../eviction/eval/long-suite.js';
import { runLongSuiteParallel } from '../../eviction/eval/long-parallel.js';
import { renderLongMarkdown } from '../../eviction/eval/long-report.js';
import { LONG_TASKS, type LongTask } from '../../eviction/eval/long-tasks.js';
import { DEFAULT_MODEL } from '../../eviction/eval/load-model.js';
import { isPolicyName, POLICY_NAMES, type PolicyName } from '../../eviction/plain/registry.js';
import { type Command, configError, parseFlags } from '../command.js';

function numList(v: string | undefined, flag: string): number[] | undefined {
  if (v === undefined) return undefined;
  const xs = v.split(',').map((s) => Number(s.trim()));
  if (!xs.length || xs.some((x) => !Number.isFinite(x))) throw configError(`${flag} must be a comma-separated list of numbers`);
  return xs;
}

/** --budgets: ratios in (0, 1]. */
function budgetList(v: string | undefined): number[] | undefined {
  const budgets = numList(v, '--budgets');
  if (budgets?.some((b) => !(b > 0 && b <= 1))) throw configError('--budgets must be ratios in (0, 1]');
  return budgets;
}

function posInt(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 1) throw configError(`${flag} must be a positive integer`);
  return n;
}

function write(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
}

export const evalCommand: Command = {
  summary: 'accuracy of the plaintext KV-cache policies vs budget (NLL, passkey, agreement with Full)',
  usage: `mpcache eval [options]
  --suite NAME        'short' (default: the table below) or 'long': the long-context suite
                      (passkey / multikey / kv at 1024 and 2000 tokens, 60 prompts each,
                      Wilson intervals, held-out NLL at 2000; default model models/default)
  --quick             (long) the CI form: 2 prompts per task at 256 tokens, budget 10%
  --prompts N         (long) prompts per task and length (default 60)
  --lengths L         (long) prompt lengths (default 1024,2000)
  --tasks L           (long) comma-separated of ${LONG_TASKS.join(',')}
  --nll-docs N        (long) held-out documents for the NLL (default 4; 0 = none)
  --workers N         (long) worker threads, each with its own copy of the model (default 1)
  --model PATH        model: HF dir (config.json + model.safetensors) or llama2.c .bin / dir
                      (default ../shared/models/stories260K when present, else models/default)
  --tokenizer PATH    tokenizer (tok*.bin or tokenizer.json) when not beside the model
  --policies LIST     comma-separated (default all: ${POLICY_NAMES.join(',')})
  --budgets LIST      budget ratios (default 0.05,0.1,0.2,0.5)
  --docs N            held-out documents (default 4)
  --cont N            continuation tokens per document (default min(64, ctx/8))
  --prompt N          prompt tokens per document (default ctx - cont)
  --passkey-lengths L passkey prompt lengths (default 128,256,ctx-8)
  --passkey-depths L  needle depths (default 0.1,0.5,0.9)
  --seed N            data and policy seed (default 2025)
  --json FILE         write the full report as JSON
  --svg FILE          write the chart (SVG)
  --md FILE           write the results table (Markdown)
  --quiet             no progress line`,
  async run(argv) {
    const f = parseFlags(
      argv,
      {
        model: { type: 'string' },
        tokenizer: { type: 'string' },
        policies: { type: 'string' },
        budgets: { type: 'string' },
        docs: { type: 'string' },
        cont: { type: 'string' },
        prompt: { type: 'string' },
        'passkey-lengths': { type: 'string' },
        'passkey-depths': { type: 'string' },
        seed: { type: 'string' },
        json: { type: 'string' },
        svg: { type: 'string' },
        md: { type: 'string' },
        quiet: { type: 'boolean' },
        suite: { type: 'string' },
        quick: { type: 'boolean' },
        prompts: { type: 'string' },
        lengths: { type: 'string' },
        tasks: { type: 'string' },
        'nll-docs': { type: 'string' },
        workers: { type: 'string' },
      },
      'eval',
    );
    let policies: PolicyName[] = [...POLICY_NAMES];
    if (f.policies !== undefined) {
      policies = [];
      for (const p of f.policies.split(',').map((s) => s.trim())) {
        if (!isPolicyName(p)) throw configError(`--policies: unknown policy '${p}' (known: ${POLICY_NAMES.join(', ')})`);
        policies.push(p);
      }
    }
    const suite = f.suite ?? 'short';
    if (suite !== 'short' && suite !== 'long') throw configError(`--suite must be 'short' or 'long', got '${suite}'`);
    if (suite === 'long') return runLong(f, f.policies === undefined ? undefined : policies);
    const em = await loadEvalModel(f.model ?? defaultEvalModelPath(), f.tokenizer);
    const ctx = em.model.config.maxSeqLen;
    const over: { -readonly [K in keyof EvalSettings]?: EvalSettings[K] } = { policies };
    const budgets = budgetList(f.budgets);
    if (budgets) over.budgets = budgets;
    const docs = posInt(f.docs, '--docs');
    if (docs) over.docs = docs;
    const cont = posInt(f.cont, '--cont');
    if (cont) {
      over.contLen = cont;
      over.promptLen = ctx - cont;
    }
    const prompt = posInt(f.prompt, '--prompt');
    if (prompt) over.promptLen = prompt;
    const pl = numList(f['passkey-lengths'], '--passkey-lengths');
    if (pl) over.passkeyLengths = pl;
    const pd = numList(f['passkey-depths'], '--passkey-depths');
    if (pd) over.passkeyDepths = pd;
    const seed = posInt(f.seed, '--seed');
    if (seed) over.seed = seed;
    const settings = defaultSettings(ctx, over);
    if (settings.promptLen + settings.contLen > ctx) throw configError(`--prompt + --cont must not exceed the model context (${ctx})`);
    if (settings.passkeyLengths.some((l) => !Number.isSafeInteger(l) || l < 64 || l > ctx)) throw configError(`--passkey-lengths must be integers in [64, ${ctx}]`);
    const quiet = f.quiet === true || !process.stderr.isTTY;
    let lastPrint = 0;
    process.stderr.write(`eval: ${em.name} (${em.path}), ${policies.length} policies x ${settings.budgets.length} budgets\n`);
    const report = runEval(em, settings, (p) => {
      const now = p.elapsedMs;
      if (p.done !== p.total && now - lastPrint < (quiet ? 15000 : 200)) return;
      lastPrint = now;
      const pct = p.done / p.total;
      const bar = '#'.repeat(Math.round(pct * 30)).padEnd(30, '.');
      const eta = p.done ? ((now / p.done) * (p.total - p.done)) / 1000 : 0;
      const line = `[${bar}] ${p.done}/${p.total} ${(now / 1000).toFixed(0)}s eta ${eta.toFixed(0)}s  ${p.label}`;
      process.stderr.write(quiet ? `${line}\n` : `\r${line.padEnd(100)}${p.done === p.total ? '\n' : ''}`);
    });
    process.stdout.write(renderTable(report));
    process.stdout.write(`total ${report.totalSeconds.toFixed(1)} s\n`);
    if (f.json) write(f.json, JSON.stringify(report, null, 1) + '\n');
    if (f.svg) write(f.svg, renderChart(report));
    if (f.md) write(f.md, renderMarkdown(report));
    return 0;
  },
};

interface LongFlags {
  readonly model?: string;
  readonly tokenizer?: string;
  readonly budgets?: string;
  readonly seed?: string;
  readonly json?: string;
  readonly md?: string;
  readonly quiet?: boolean;
  readonly quick?: boolean;
  readonly prompts?: string;
  readonly lengths?: string;
  readonly tasks?: string;
  readonly 'nll-docs'?: string;
  readonly workers?: string;
}

/** `mpcache eval --suite long`. */
async function runLong(f: LongFlags, policies: PolicyName[] | undefined): Promise<number> {
  const over: { -readonly [K in keyof LongSuiteSettings]?: LongSuiteSettings[K] } = {};
  if (policies) over.policies = policies.includes('full') ? policies : ['full', ...policies];
  const budgets = budgetList(f.budgets);
  if (budgets) over.budgets = budgets;
  const prompts = posInt(f.prompts, '--prompts');
  if (prompts) over.prompts = prompts;
  const lengths = numList(f.lengths, '--lengths');
  if (lengths) over.lengths = lengths;
  const seed = posInt(f.seed, '--seed');
  if (seed) over.seed = seed;
  if (f['nll-docs'] !== undefined) {
    const n = Number(f['nll-docs']);
    if (!Number.isSafeInteger(n) || n < 0) throw configError('--nll-docs must be a non-negative integer');
    over.nllDocs = n;
  }
  if (f.tasks !== undefined) {
    const ts: LongTask[] = [];
    for (const t of f.tasks.split(',').map((x) => x.trim())) {
      if (!(LONG_TASKS as readonly string[]).includes(t)) throw configError(`--tasks: unknown task '${t}' (known: ${LONG_TASKS.join(', ')})`);
      ts.push(t as LongTask);
    }
    over.tasks = ts;
  }
  const em = await loadEvalModel(f.model ?? DEFAULT_MODEL, f.tokenizer);
  const ctx = em.model.config.maxSeqLen;
  const settings = longSuiteSettings(f.quick === true, over);
  if (settings.lengths.some((l) => !Number.isSafeInteger(l) || l < 64 || l > ctx)) throw configError(`--lengths must be integers in [64, ${ctx}]`);
  const quiet = f.quiet === true || !process.stderr.isTTY;
  let lastPrint = 0;
  process.stderr.write(`eval --suite long: ${em.name} (${em.path}), ${settings.policies.length} policies x ${settings.budgets.length} budgets, ${settings.prompts} prompts per task and length\n`);
  const workers = posInt(f.workers, '--workers') ?? 1;
  const progress = (p: LongProgress) => {
    if (p.done !== p.total && p.elapsedMs - lastPrint < (quiet ? 30000 : 200)) return;
    lastPrint = p.elapsedMs;
    const eta = p.done ? ((p.elapsedMs / p.done) * (p.total - p.done)) / 1000 : 0;
    const line = `[${p.done}/${p.total}] ${(p.elapsedMs / 1000).toFixed(0)}s eta ${eta.toFixed(0)}s  ${p.label}`;
    process.stderr.write(quiet ? `${line}\n` : `\r${line.padEnd(100)}${p.done === p.total ? '\n' : ''}`);
  };
  const report = workers > 1 ? await runLongSuiteParallel(em, settings, workers, progress) : runLongSuite(em, settings, progress);
  const md = renderLongMarkdown(report);
  process.stdout.write(md);
  if (f.json) write(f.json, JSON.stringify(report, null, 1) + '\n');
  if (f.md) write(f.md, md);
  return 0;
}
