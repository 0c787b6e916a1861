/**
 * Keyformer (Adnan et al., 2024); evicting, like H2O but the score a token accumulates from
 * a query is softmax((z + g) / tau) instead of softmax(z): z are that query's attention
 * logits (recovered as log p, which differs from QK^T/sqrt(d) by a per-row constant that
 * softmax ignores), g is standard Gumbel noise drawn per (query, key) from a seeded stream,
 * and tau grows linearly from tauInit (prefill and step 0) to tauEnd (step `steps - 1`).
 * Recent window = floor(0.3 * B), the rest of the budget goes to the top accumulated
 * scores among older tokens (ties keep the lower index). GQA: 'group-mean'.
 * Same seed, same noise: streams are keyed by (seed, layer, KV head, query head, step).
 */
import type { AttendedContext, PrefillContext } from '../../models/attention-hooks.js';
import { aBudget, resolveBudget, type KvPolicy, type PolicyOptions } from '../policy.js';
import { headsOf } from './scores.js';
import { mixSeed, SeededRng } from './seeded-rng.js';
import { aPosInt, aRatio, compact, grow, heavyRecentLayers } from './select.js';

export interface KeyformerOptions extends PolicyOptions {
  readonly tauInit?: number;
  readonly tauEnd?: number;
  /** number of decode steps over which tau moves from tauInit to tauEnd (default 32) */
  readonly steps?: number;
  /** recent share of the budget (default 0.3) */
  readonly recentShare?: number;
  /** prompt rows that feed the prefill scores: the last `prefillRows` queries (default all) */
  readonly prefillRows?: number;
}

const LOG_FLOOR = 1e-30;

/** Adds softmax((log p + g)/tau) over entries `idx` to acc (scaled by w). */
function addNoisy(acc: Float64Array, p: ArrayLike<number>, idx: ArrayLike<number> | null, count: number, tau: number, rng: SeededRng, w: number, buf: Float64Array): void {
  let m = -Infinity;
  for (let i = 0; i < count; i++) {
    const z = (Math.log(Math.max(p[i], LOG_FLOOR)) + rng.gumbel()) / tau;
    buf[i] = z;
    if (z > m) m = z;
  }
  let s = 0;
  for (let i = 0; i < count; i++) {
    buf[i] = Math.exp(buf[i] - m);
    s += buf[i];
  }
  const k = w / s;
  for (let i = 0; i < count; i++) acc[idx ? idx[i] : i] += buf[i] * k;
}

export function keyformerPolicy(o: KeyformerOptions): KvPolicy {
  const budget = aBudget(o.budget);
  const seed = o.seed ?? 1;
  const tauInit = o.tauInit ?? 1;
  const tauEnd = o.tauEnd ?? 2;
  if (!(tauInit > 0) || !(tauEnd > 0)) throw new RangeError('tauInit and tauEnd must be positive');
  const steps = aPosInt(o.steps ?? 32, 'steps');
  const recentShare = aRatio(o.recentShare ?? 0.3, 'recentShare');
  const prefillRows = o.prefillRows === undefined ? Infinity : aPosInt(o.prefillRows, 'prefillRows');
  const tauAt = (step: number): number => tauInit + (tauEnd - tauInit) * Math.min(1, step / Math.max(1, steps - 1));
  const layers = heavyRecentLayers((B) => Math.floor(B * recentShare), (a: Float64Array) => a, compact);
  return {
    name: 'keyformer',
    kind: 'evicting',
    gqa: 'group-mean',
    params: { tauInit, tauEnd, steps, recentShare, seed, prefillRows: Number.isFinite(prefillRows) ? prefillRows : 'all' },
    onPrefill(ctx: PrefillContext) {
      const T = ctx.length;
      const B = resolveBudget(budget, T);
      const { nHeads, nKvHeads } = ctx.cache;
      const buf = new Float64Array(T);
      const acc: Float64Array[] = [];
      for (let kv = 0; kv < nKvHeads; kv++) {
        const a = new Float64Array(T);
        const heads = headsOf(nHeads, nKvHeads, kv);
        for (const h of heads) {
          const rng = new SeededRng(mixSeed(seed, ctx.layer, kv, h, -1));
          const P = ctx.probs[h];
          for (let q = Math.max(0, T - prefillRows); q < T; q++) addNoisy(a, P.subarray(q * T, q * T + q + 1), null, q + 1, tauInit, rng, 1 / heads.length, buf);
        }
        acc.push(a);
      }
      layers.start(ctx.layer, ctx.cache, B, acc);
    },
    onAttention(ctx: AttendedContext) {
      layers.step(ctx.layer, ctx.cache, (acc) => {
        const { nHeads, nKvHeads } = ctx.cache;
        const tau = tauAt(ctx.step);
        for (let kv = 0; kv < nKvHeads; kv++) {
          const n = ctx.cache.length(kv);
          acc[kv] = grow(acc[kv], n);
          const heads = headsOf(nHeads, nKvHeads, kv);
          const buf = new Float64Array(n);
          for (const h of heads) {
            const rng = new SeededRng(mixSeed(seed, ctx.layer, kv, h, ctx.step));
            addNoisy(acc[kv], ctx.probs[h], ctx.attended[h], ctx.attended[h].length, tau, rng, 1 / heads.length, buf);
          }
        }
      });
    },
  };
}
