import { describe, expect, it } from 'vitest';
import type { PrefillContext } from '../../models/attention-hooks.js';
import { resolveBudget, type ModelShape } from '../policy.js';
import { MPCACHE_DEFAULTS } from './mpcache.js';
import { staticKeepTopK } from './mpcache-oracle.js';
import { createPolicy } from './registry.js';
import { driveLayer } from './testing/array-cache.js';
import { buildScenario } from './testing/scenarios.js';

const model: ModelShape = { nLayers: 6, nHeads: 4, nKvHeads: 2, headDim: 8 };
const T = 128;

describe('MPCache-R (the default) options', () => {
  it('static: per KV head, the last obsWindow rows summed over its query heads, avg-pooled, top-k plus the window', () => {
    const sc = { ...buildScenario({ T, needle: { pos: 30, strength: 3, qStrength: 2, late: 2 }, sink: 1 }), layer: 2 };
    let ctx0: PrefillContext | undefined;
    driveLayer({ onPrefill: (ctx) => void (ctx0 = ctx) }, sc);
    const B = resolveBudget({ ratio: 0.2 }, T);
    const r = driveLayer(createPolicy('mpcache', { budget: { ratio: 0.2 }, model }, { mpcache: { dynamic: false } }), sc);
    for (let kv = 0; kv < model.nKvHeads; kv++) {
      // independent computation: window 32, mean over the group's two query heads, kernel 7 zero-padded average
      const mass = new Float64Array(T);
      for (const h of [2 * kv, 2 * kv + 1]) for (let q = T - 32; q < T; q++) for (let j = 0; j <= q; j++) mass[j] += ctx0!.probs[h][q * T + j] / 2;
      const pooled = Float64Array.from(mass, (_, j) => {
        let s = 0;
        for (let i = j - 3; i <= j + 3; i++) if (i >= 0 && i < T) s += mass[i];
        return s / 7;
      });
      expect(Array.from(r.cache.positions(kv))).toEqual(Array.from(staticKeepTopK(pooled, T, B, 32)));
    }
    expect(Array.from(r.cache.positions(0))).toContain(30); // the needle
  });
  it('dynamic: the newest 16 entries are always read and the step stays within the budget', () => {
    const p = createPolicy('mpcache', { budget: { ratio: 0.25 }, model }, { mpcache: { static: false } });
    const r = driveLayer(p, { ...buildScenario({ T, steps: 3 }), layer: 3 });
    for (const step of r.attendedPositions) {
      for (const pos of step) {
        const n = pos[pos.length - 1] + 1;
        for (let t = n - 16; t < n; t++) expect(pos).toContain(t);
        expect(pos.length).toBeLessThanOrEqual(resolveBudget({ ratio: 0.25 }, T) + 32);
      }
    }
  });
  it("'mpcache' is MPCACHE_DEFAULTS and selects in every layer; 'mpcache-v1' is the former default", () => {
    expect(createPolicy('mpcache', { budget: { ratio: 0.1 }, model }).params).toMatchObject({ ...MPCACHE_DEFAULTS });
    expect(createPolicy('mpcache-v1', { budget: { ratio: 0.1 }, model }).params).toMatchObject({ share: true, recent: 0, pool: 1, staticPerKvHead: false, obsWindow: 'windowRatio' });
    expect(createPolicy('mpcache', { budget: { ratio: 0.1 }, model }).name).toBe('mpcache');
  });
});
