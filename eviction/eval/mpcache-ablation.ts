/**
 * Which part of MPCache costs passkey retrieval? Exact-match rate of the passkey answer at a
 * 10% budget for MPCache with its parts switched and its similarity varied, next to Quest.
 * Run: npx tsx eviction/eval/mpcache-ablation.ts [--model PATH] [--budget 0.1]
 * (default model: models/default, the project's own; stories260K cannot retrieve at all).
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { KvPolicy, ModelShape } from '../policy.js';
import { mpcachePolicy, type MpCacheOptions } from '../plain/mpcache.js';
import { questPolicy } from '../plain/quest.js';
import { Metered, prefillOnce, scoreOn } from './harness.js';
import { loadEvalModel, REPO_ROOT, type EvalModel } from './load-model.js';
import { passkeyPrompt } from './tasks.js';

export interface AblationRow {
  readonly variant: string;
  readonly hits: number;
  readonly prompts: number;
}

/** The variants: name -> factory. */
export function ablationVariants(model: ModelShape, ratio: number): [string, () => KvPolicy][] {
  const budget = { ratio };
  const mp = (o: Partial<MpCacheOptions>) => () => mpcachePolicy({ budget, model, ...o });
  return [
    ['mpcache (defaults)', mp({})],
    ['mpcache, no layer sharing', mp({ share: false })],
    ['mpcache, top-k on window max', mp({ aggregate: 'max' })],
    ['mpcache, alpha 1 (r_max only)', mp({ alpha: 1 })],
    ['mpcache, layers 0-1 dense', mp({ denseLayers: 2 })],
    ['mpcache, no layer sharing, layers 0-1 dense', mp({ share: false, denseLayers: 2 })],
    ['mpcache, no layer sharing, layers 0-1 dense, alpha 1', mp({ share: false, denseLayers: 2, alpha: 1 })],
    ['mpcache static only', mp({ dynamic: false })],
    ['mpcache dynamic only', mp({ static: false })],
    ['mpcache dynamic only, no sharing', mp({ static: false, share: false })],
    ['mpcache dynamic only, no sharing, no level-1 filter, alpha 1, no forced first', mp({ static: false, share: false, ratio1: 1, alpha: 1, forceFirst: false })],
    ['quest (exact bound, layers 0-1 dense)', () => questPolicy({ budget, model })],
    ['quest, no dense layers', () => questPolicy({ budget, model, denseLayers: 0 })],
  ];
}

export function runAblation(em: EvalModel, ratio = 0.1, lengths = [512, 1024], depths = [0.1, 0.3, 0.5, 0.7], seed = 100): AblationRow[] {
  const variants = ablationVariants(em.model.config, ratio);
  const hits = new Map<string, number>();
  let n = 0;
  for (const L of lengths) {
    for (const depth of depths) {
      const pk = passkeyPrompt(em.tokenizer, Math.min(L, em.model.config.maxSeqLen - 8), depth, seed + n++);
      const pre = prefillOnce(em.model, pk.tokens);
      for (const [name, make] of variants) {
        const r = scoreOn(pre, new Metered(make()), pk.answer);
        const ok = pk.answer.every((t, i) => r.argmax[i] === t);
        hits.set(name, (hits.get(name) ?? 0) + (ok ? 1 : 0));
      }
    }
  }
  return variants.map(([variant]) => ({ variant, hits: hits.get(variant) ?? 0, prompts: n }));
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const args = process.argv.slice(2);
  const at = (flag: string) => (args.indexOf(flag) >= 0 ? args[args.indexOf(flag) + 1] : undefined);
  const em = await loadEvalModel(at('--model') ?? resolve(REPO_ROOT, 'models', 'default'));
  const ratio = Number(at('--budget') ?? 0.1);
  const rows = runAblation(em, ratio);
  process.stdout.write(`passkey exact match at ${Math.round(ratio * 100)}% budget, ${em.name}\n`);
  for (const r of rows) process.stdout.write(`${String(r.hits).padStart(3)}/${r.prompts}  ${r.variant}\n`);
}
