/**
 * Secure SnapKV (plain twin: eviction/plain/snapkv.ts with its defaults): static, once at
 * prefill, per KV head, from the observation window. B = resolveBudget(budget, T), window
 * w = min(32, max(1, floor(B / 2)), T); per KV head the window probabilities of its query
 * heads summed (window-keep.ts windowMass; the twin's group MEAN times G), restricted to the
 * T - w tokens before the window and avg-pooled over 7 (poolSum: the twin's avg_pool1d times
 * 7, zero padding at both ends of those T - w), then the top (B - w) of them plus the window.
 * Decode steps then attend over the B kept tokens plus the generated ones (the decoder's own
 * full attention: no hooks at decode time).
 *
 * Cost: at prefill q K^T + softmax over nHeads x w rows of T, topk(nKv x (T - w), B - w),
 * nKv (B - w)^2 lt and eq, 2 matmul rounds (window-keep.ts); per decode step nothing beyond
 * attention over the kept cache (0 extra rounds, 0 extra bytes). Reveals nothing.
 */
import type { SecureKvPolicy } from '../../models/secure-hooks.js';
import { type Budget, aBudget, resolveBudget } from '../policy.js';
import { snapWindow } from '../plain/snapkv.js';
import { aPosInt } from '../plain/select.js';
import { keepRowsPerHead, poolSum, windowMass } from './window-keep.js';

export interface SecureSnapKvOptions {
  readonly budget: Budget;
  readonly window?: number;
  readonly kernel?: number;
}

export function secureSnapKvPolicy(o: SecureSnapKvOptions): SecureKvPolicy {
  const budget = aBudget(o.budget);
  const window = aPosInt(o.window ?? 32, 'window');
  const kernel = aPosInt(o.kernel ?? 7, 'kernel');
  if (kernel % 2 !== 1) throw new RangeError('kernel must be odd');
  return {
    name: 'snapkv',
    leaks: '',
    async afterPrefill(ctx, cache, queries) {
      const T = cache.length;
      const B = resolveBudget(budget, T);
      if (B >= T) return cache;
      const w = snapWindow(window, B, T);
      const mass = await windowMass(ctx, cache, queries, w);
      return keepRowsPerHead(ctx, cache, poolSum(ctx, mass, kernel, T - w), B - w, w);
    },
  };
}
