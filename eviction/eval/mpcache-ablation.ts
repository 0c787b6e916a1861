/**
 * Which part of MPCache costs retrieval? Exact match on the long suite's prompts
 * (long-tasks.ts) for MPCache with its parts switched and its rules varied, next to
 * mpcache-paper, Quest and SnapKV; every variant on the same prompts, each prompt
 * prefilled once. Prints hits / prompts with 95% Wilson intervals and the read fraction.
 * Run: npx tsx eviction/eval/mpcache-ablation.ts [--model PATH] [--budget 0.1] [--agreement]
 *        [--length 2000] [--prompts 16] [--task passkey] [--seed N] [--only 'SUBSTRING|SUBSTRING']
 * (default model: models/default, the project's own; stories260K cannot retrieve at all).
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { KvPolicy, ModelShape } from '../policy.js';
import { mpcachePolicy, type MpCacheOptions } from '../plain/mpcache.js';
import { mpcachePaperPolicy, type MpCachePaperOptions } from '../plain/mpcache-paper.js';
import { questPolicy } from '../plain/quest.js';
import { snapKvPolicy } from '../plain/snapkv.js';
import { Metered, prefillOnce, scoreOn } from './harness.js';
import { loadEvalModel, REPO_ROOT, type EvalModel } from './load-model.js';
import { type LongTask, longTaskPrompt, spreadDepths } from './long-tasks.js';
import { wilsonInterval } from './wilson.js';

export interface AblationRow {
  readonly variant: string;
  readonly hits: number;
  readonly prompts: number;
  readonly lo: number;
  readonly hi: number;
  readonly readFraction: number;
}

/** The variants: name -> factory. */
export function ablationVariants(model: ModelShape, ratio: number): [string, () => KvPolicy][] {
  const budget = { ratio };
  const mp = (o: Partial<MpCacheOptions>) => () => mpcachePolicy({ budget, model, ...o });
  const pp = (o: Partial<MpCachePaperOptions>) => () => mpcachePaperPolicy({ budget, model, ...o });
  const R: Partial<MpCacheOptions> = { obsWindow: 32, pool: 7, staticPerKvHead: true, recent: 16, share: false };
  return [
    ['mpcache (defaults)', mp({})],
    ['mpcache, no layer sharing', mp({ share: false })],
    ['mpcache, layers 0-1 dense', mp({ denseLayers: 2 })],
    ['mpcache static only', mp({ dynamic: false })],
    ['mpcache dynamic only', mp({ static: false })],
    ['mpcache dynamic only, no sharing', mp({ static: false, share: false })],
    ['mpcache-paper', pp({})],
    ['mpcache-paper, no layer sharing', pp({ share: false })],
    ['v1 no sharing, authors static score (unscaled, unmasked, max)', mp({ share: false, scaled: false, causal: false, aggregate: 'max' })],
    ['v1 no sharing, unscaled unmasked (sum)', mp({ share: false, scaled: false, causal: false })],
    ['v1 no sharing, max (scaled causal)', mp({ share: false, aggregate: 'max' })],
    ['mpcache, static window 32', mp({ obsWindow: 32 })],
    ['mpcache, static window 32 pool 7', mp({ obsWindow: 32, pool: 7 })],
    ['mpcache, static window 32 pool 7 per KV head', mp({ obsWindow: 32, pool: 7, staticPerKvHead: true })],
    ['mpcache, static window 32 pool 7, recent 16', mp({ obsWindow: 32, pool: 7, recent: 16 })],
    ['mpcache, static window 32 pool 7, recent 16, no sharing', mp({ obsWindow: 32, pool: 7, recent: 16, share: false })],
    ['mpcache, static window 32 pool 7 static only', mp({ obsWindow: 32, pool: 7, dynamic: false })],
    ['mpcache, recent 16', mp({ recent: 16 })],
    ['mpcache, recent 16, no sharing', mp({ recent: 16, share: false })],
    ['mpcache, recent 16, alpha 1', mp({ recent: 16, alpha: 1 })],
    ['R: window 32 pool 7 per KV head, recent 16, no sharing', mp(R)],
    ['R, ratio2 0.5', mp({ ...R, ratio2: 0.5 })],
    ['R, with sharing', mp({ ...R, share: true })],
    ['R, no recent', mp({ ...R, recent: 0 })],
    ['R, layer-mean static', mp({ ...R, staticPerKvHead: false })],
    ['R, static only', mp({ ...R, dynamic: false })],
    ['R, ratio1 1 (no level-1 filter)', mp({ ...R, ratio1: 1 })],
    ['R, recent 32', mp({ ...R, recent: 32 })],
    ['R, no pooling', mp({ ...R, pool: 1 })],
    ['R, window 64', mp({ ...R, obsWindow: 64 })],
    ['R, alpha 0.8', mp({ ...R, alpha: 0.8 })],
    ['quest (exact bound, layers 0-1 dense)', () => questPolicy({ budget, model })],
    ['snapkv', () => snapKvPolicy({ budget, model })],
  ];
}

export function runAblation(
  em: EvalModel,
  o: { ratio?: number; length?: number; prompts?: number; task?: LongTask; seed?: number; only?: string } = {},
  onPrompt?: (done: number, rows: AblationRow[]) => void,
): AblationRow[] {
  const ratio = o.ratio ?? 0.1;
  const only = o.only?.split('|');
  const variants = ablationVariants(em.model.config, ratio).filter(([n]) => !only || only.some((x) => n.includes(x)));
  const acc = new Map<string, { hits: number; read: number; total: number }>();
  const depths = spreadDepths(o.prompts ?? 16);
  depths.forEach((depth, i) => {
    const pk = longTaskPrompt(o.task ?? 'passkey', em.tokenizer, Math.min(o.length ?? 2000, em.model.config.maxSeqLen - 8), depth, (o.seed ?? 100) + i);
    const pre = prefillOnce(em.model, pk.tokens);
    for (const [name, make] of variants) {
      const m = new Metered(make());
      const r = scoreOn(pre, m, pk.answer);
      const a = acc.get(name) ?? { hits: 0, read: 0, total: 0 };
      if (pk.answer.every((t, j) => r.argmax[j] === t)) a.hits++;
      a.read += m.read;
      a.total += m.total;
      acc.set(name, a);
    }
    onPrompt?.(i + 1, rowsOf(i + 1));
  });
  function rowsOf(n: number): AblationRow[] {
    return variants.map(([variant]) => {
      const a = acc.get(variant) ?? { hits: 0, read: 0, total: 1 };
      const w = wilsonInterval(a.hits, n);
      return { variant, hits: a.hits, prompts: n, lo: w.lo, hi: w.hi, readFraction: a.read / a.total };
    });
  }
  return rowsOf(depths.length);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const args = process.argv.slice(2);
  const at = (flag: string) => (args.indexOf(flag) >= 0 ? args[args.indexOf(flag) + 1] : undefined);
  const em = await loadEvalModel(at('--model') ?? resolve(REPO_ROOT, 'models', 'default'));
  const ratio = Number(at('--budget') ?? 0.1);
  const length = Number(at('--length') ?? 2000);
  const prompts = Number(at('--prompts') ?? 16);
  const task = (at('--task') ?? 'passkey') as LongTask;
  const t0 = performance.now();
  if (args.includes('--agreement')) {
    const { MPCACHE_DEFAULTS } = await import('../plain/mpcache.js');
    const a = selectionAgreement(em, () => mpcachePolicy({ budget: { ratio }, model: em.model.config, ...MPCACHE_DEFAULTS }), { length, prompts, task });
    process.stdout.write(`selection agreement (mean Jaccard of layer l and l+1 token sets, MPCache-R at ${Math.round(ratio * 100)}%, ${prompts} ${task} prompts of ${length}):\n`);
    a.forEach((v, l) => process.stdout.write(`  layers ${l}-${l + 1}: ${v.toFixed(3)}\n`));
    process.exit(0);
  }
  const seed = at('--seed') === undefined ? undefined : Number(at('--seed'));
  const rows = runAblation(em, { ratio, length, prompts, task, seed, only: at('--only') }, (done, rs) =>
    process.stderr.write(`after ${done}: ${rs.map((r) => r.hits).join(' ')} (${((performance.now() - t0) / 1000).toFixed(0)} s)\n`),
  );
  process.stdout.write(`${task} exact match at ${Math.round(ratio * 100)}% budget, ${length} tokens, ${em.name} (${((performance.now() - t0) / 1000).toFixed(0)} s)\n`);
  for (const r of rows) process.stdout.write(`${String(r.hits).padStart(3)}/${r.prompts} [${r.lo.toFixed(2)}, ${r.hi.toFixed(2)}] read ${(100 * r.readFraction).toFixed(1)}%  ${r.variant}\n`);
}

/**
 * How much two layers' own selections agree (the condition for sharing one's indices with
 * the other): mean Jaccard similarity of the token sets the policy selects in layer l and in
 * layer l + 1 for the same query head at the same step, over the prompts' answer steps.
 * Run with a policy that shares nothing (default: MPCache-R), so each layer's set is its own;
 * returns one value per consecutive pair (l, l + 1).
 */
export function selectionAgreement(em: EvalModel, make: () => KvPolicy, o: { length?: number; prompts?: number; task?: LongTask; seed?: number } = {}): number[] {
  const L = em.model.config.nLayers;
  const sum = new Float64Array(L - 1);
  const cnt = new Float64Array(L - 1);
  spreadDepths(o.prompts ?? 4).forEach((depth, i) => {
    const pk = longTaskPrompt(o.task ?? 'passkey', em.tokenizer, Math.min(o.length ?? 1024, em.model.config.maxSeqLen - 8), depth, (o.seed ?? 100) + i);
    const pre = prefillOnce(em.model, pk.tokens);
    const p = make();
    const seen = new Map<string, Int32Array>();
    const positions = new Map<string, Int32Array>();
    const rec: KvPolicy = {
      ...p,
      onPrefill: (ctx) => p.onPrefill?.(ctx),
      onAttention: (ctx) => p.onAttention?.(ctx),
      selectForStep(ctx) {
        const sel = p.selectForStep?.(ctx);
        sel?.forEach((rows, h) => {
          if (!rows) return;
          // compare original positions (layers may keep different prompt tokens)
          const kv = Math.floor(h / (ctx.cache.nHeads / ctx.cache.nKvHeads));
          const key = `${ctx.step}|${ctx.layer}|${h}`;
          if (!positions.has(`${ctx.step}|${ctx.layer}|kv${kv}`)) positions.set(`${ctx.step}|${ctx.layer}|kv${kv}`, ctx.cache.positions(kv));
          const pos = positions.get(`${ctx.step}|${ctx.layer}|kv${kv}`)!;
          seen.set(key, Int32Array.from(rows, (r) => pos[r]));
        });
        return sel;
      },
    };
    scoreOn(pre, new Metered(rec), pk.answer);
    for (const [key, a] of seen) {
      const [step, layer, h] = key.split('|').map(Number);
      const b = seen.get(`${step}|${layer + 1}|${h}`);
      if (!b) continue;
      const A = new Set(a);
      let inter = 0;
      for (const x of b) if (A.has(x)) inter++;
      sum[layer] += inter / (A.size + b.length - inter);
      cnt[layer]++;
    }
  });
  return Array.from(sum, (s, l) => (cnt[l] ? s / cnt[l] : NaN));
}
