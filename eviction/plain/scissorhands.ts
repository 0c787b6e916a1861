/**
 * Scissorhands (Liu et al., 2023); evicting. The paper has no official code; the rule used
 * here ("persistence of importance"):
 * - each cached entry of a KV head carries the history of the last `history` queries it
 *   was scored by: a query marks it LOW when the group-mean probability it gives the entry
 *   is below the average 1/n over the n entries that query read ('group-mean' under GQA);
 * - at prefill the last `history` prompt queries fill the histories (query q scores keys <= q);
 *   every decode step adds one more;
 * - when the cache exceeds B, the `recent` newest entries are protected
 *   (recent = min(history, floor(B/2))) and among the older ones those with the FEWEST
 *   LOW marks in their history are kept (ties keep the lower index).
 * Defaults: history 16.
 */
import type { AttendedContext, PrefillContext } from '../../models/attention-hooks.js';
import { aBudget, resolveBudget, type KvPolicy, type PolicyOptions } from '../policy.js';
import { headsOf, stepMass } from './scores.js';
import { aPosInt, compactU32, growU32, heavyRecentLayers } from './select.js';

export interface ScissorhandsOptions extends PolicyOptions {
  /** history window in queries, 1..30 (default 16) */
  readonly history?: number;
}

function popcount(x: number): number {
  x = x - ((x >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24);
}

export function scissorhandsPolicy(o: ScissorhandsOptions): KvPolicy {
  const budget = aBudget(o.budget);
  const history = aPosInt(o.history ?? 16, 'history');
  if (history > 30) throw new RangeError('history must be <= 30');
  const mask = (1 << history) - 1;
  const layers = heavyRecentLayers((B) => Math.min(history, Math.floor(B / 2)), (hk: Uint32Array) => Float64Array.from(hk, (h) => -popcount(h)), compactU32);
  return {
    name: 'scissorhands',
    kind: 'evicting',
    gqa: 'group-mean',
    params: { history },
    onPrefill(ctx: PrefillContext) {
      const T = ctx.length;
      const B = resolveBudget(budget, T);
      const { nHeads, nKvHeads } = ctx.cache;
      const hist: Uint32Array[] = [];
      for (let kv = 0; kv < nKvHeads; kv++) {
        const heads = headsOf(nHeads, nKvHeads, kv);
        const hk = new Uint32Array(T);
        for (let q = Math.max(0, T - history); q < T; q++) {
          const avg = 1 / (q + 1);
          for (let j = 0; j <= q; j++) {
            let m = 0;
            for (const h of heads) m += ctx.probs[h][q * T + j];
            m /= heads.length;
            hk[j] = ((hk[j] << 1) | (m < avg ? 1 : 0)) & mask;
          }
        }
        hist.push(hk);
      }
      layers.start(ctx.layer, ctx.cache, B, hist);
    },
    onAttention(ctx: AttendedContext) {
      layers.step(ctx.layer, ctx.cache, (hist) => {
        const { nHeads, nKvHeads } = ctx.cache;
        for (let kv = 0; kv < nKvHeads; kv++) {
          const n = ctx.cache.length(kv);
          hist[kv] = growU32(hist[kv], n);
          const read = new Uint8Array(n);
          let count = 0;
          for (const h of headsOf(nHeads, nKvHeads, kv)) for (const i of ctx.attended[h]) if (!read[i]) { read[i] = 1; count++; }
          const m = stepMass(ctx, kv, n);
          const avg = 1 / count;
          for (let j = 0; j < n; j++) if (read[j]) hist[kv][j] = ((hist[kv][j] << 1) | (m[j] < avg ? 1 : 0)) & mask;
        }
      });
    },
  };
}
