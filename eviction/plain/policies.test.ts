import { describe, it, expect } from 'vitest';
import { createPolicy, POLICY_NAMES, type PolicyName } from './registry.js';
import { driveLayer } from './testing/array-cache.js';
import { buildScenario } from './testing/scenarios.js';
import { resolveBudget, type ModelShape } from '../policy.js';
import { sinkPlusRecent } from './streaming-llm.js';
import { pyramidCapacity } from './pyramidkv.js';
import { duoSplit } from './duo-attention.js';
import { infllmSplit } from './infllm.js';
import { kiviMemoryRatio } from './kivi.js';
import { topKAscending, topKWithForced } from './select.js';
import { staticKeepTopK, staticWindowScoresFromProbs, staticWindowSize } from './mpcache-oracle.js';

const model: ModelShape = { nLayers: 6, nHeads: 4, nKvHeads: 2, headDim: 8 };
const T = 128;
const headScores = Array.from({ length: 6 }, (_, l) => [l === 3 ? 1 : 0.1 * l, l === 4 ? 0.9 : 0]);
const razorHeads = { echo: headScores.map((r) => r.map((v) => v / 2)), induction: headScores };
const make = (name: PolicyName, ratio: number, seed = 1) =>
  createPolicy(name, { budget: { ratio }, model, seed }, { headScores, razorHeads, infllm: { blockSize: 16 } });

const evicting: PolicyName[] = ['streaming-llm', 'h2o', 'tova', 'scissorhands', 'keyformer'];
const statics: PolicyName[] = ['snapkv', 'mpcache-static'];

describe('selection helpers', () => {
  it('topK keeps the lower index on ties and returns ascending indices', () => {
    expect(Array.from(topKAscending([1, 3, 3, 2, 3], 2))).toEqual([1, 2]);
    expect(Array.from(topKAscending([0, 0, 0, 0], 3))).toEqual([0, 1, 2]);
    expect(Array.from(topKAscending([5, NaN, 7], 2))).toEqual([0, 2]);
    expect(Array.from(topKWithForced([9, 1, 1, 8, 0], 3, [4]))).toEqual([0, 3, 4]);
    expect(Array.from(topKWithForced([9, 1, 1, 8, 0], 1, [4, 2]))).toEqual([2, 4]);
  });
  it('resolves budgets as floor(ratio * T), at least 1, at most T', () => {
    expect(resolveBudget({ ratio: 0.05 }, 500)).toBe(25);
    expect(resolveBudget({ ratio: 0.1 }, 510)).toBe(51);
    expect(resolveBudget({ ratio: 0.01 }, 20)).toBe(1);
    expect(resolveBudget({ tokens: 900 }, 512)).toBe(512);
    expect(() => resolveBudget({ ratio: 0.1 }, -1)).toThrow(RangeError);
  });
});

describe('budgets are respected exactly', () => {
  for (const name of evicting) {
    it(`${name}: B entries per KV head after prefill and after every step`, () => {
      for (const ratio of [0.05, 0.1, 0.2, 0.5]) {
        const B = resolveBudget({ ratio }, T);
        const r = driveLayer(make(name, ratio), { ...buildScenario({ T, steps: 6, sink: 3 }), layer: 2 });
        for (let kv = 0; kv < 2; kv++) expect(r.cache.length(kv)).toBe(B);
        for (const step of r.attendedPositions) for (const a of step) expect(a.length).toBe(B + 1);
      }
    });
  }
  for (const name of statics) {
    it(`${name}: B prompt entries survive prefill; generated tokens are kept`, () => {
      for (const ratio of [0.05, 0.2, 0.5]) {
        const B = resolveBudget({ ratio }, T);
        const r = driveLayer(make(name, ratio), buildScenario({ T, steps: 5 }));
        for (let kv = 0; kv < 2; kv++) {
          expect(r.cache.length(kv)).toBe(B + 5);
          expect(Array.from(r.cache.positions(kv).slice(B))).toEqual([128, 129, 130, 131, 132]);
        }
      }
    });
  }
  it('pyramidkv: capacities shrink with depth and average at most B', () => {
    for (const ratio of [0.05, 0.1, 0.2, 0.5]) {
      const B = resolveBudget({ ratio }, T);
      const w = Math.min(32, Math.floor(B / 2));
      const caps = Array.from({ length: 6 }, (_, l) => pyramidCapacity(l, 6, B, w, T));
      for (let l = 1; l < 6; l++) expect(caps[l]).toBeLessThanOrEqual(caps[l - 1]);
      expect(caps[0]).toBeGreaterThan(caps[5]);
      expect(caps.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(6 * B);
      const r = driveLayer(make('pyramidkv', ratio), { ...buildScenario({ T }), layer: 5 });
      expect(r.cache.length(0)).toBe(Math.min(T, caps[5]));
    }
  });
  for (const name of ['quest', 'infllm', 'mpcache-dynamic'] as PolicyName[]) {
    it(`${name}: evicts nothing and reads at most B tokens per step`, () => {
      for (const ratio of [0.1, 0.2, 0.5]) {
        const B = resolveBudget({ ratio }, T);
        const r = driveLayer(make(name, ratio), { ...buildScenario({ T, steps: 4 }), layer: 2 });
        expect(r.cache.keepCalls).toBe(0);
        expect(r.cache.length(0)).toBe(T + 4);
        for (const step of r.attendedPositions) for (const a of step) {
          expect(a.length).toBeLessThanOrEqual(name === 'mpcache-dynamic' ? Math.max(B, 32) + 16 : B);
          expect(a[a.length - 1]).toBe(T + r.attendedPositions.indexOf(step));
        }
      }
    });
  }
  it('infllm: the budget split adds up to B', () => {
    for (const B of [6, 12, 25, 51, 128, 256]) {
      const s = infllmSplit(B, 4, 16);
      expect(s.init + s.blocks * 16 + s.local).toBe(B);
      expect(s.local).toBeGreaterThanOrEqual(Math.floor(B / 2));
    }
  });
  it('duo-attention: mean kept size over heads is at most B', () => {
    for (const [B, T2, NH] of [[25, 512, 20], [51, 512, 20], [102, 512, 20], [256, 512, 20], [6, 128, 12]]) {
      const { nRet, window } = duoSplit(B, T2, NH, 4);
      expect(nRet * T2 + (NH - nRet) * window).toBeLessThanOrEqual(B * NH);
      expect(nRet * T2 + (NH - nRet) * (window + 1)).toBeGreaterThan(B * NH);
    }
  });
  it('full and kivi keep every entry', () => {
    for (const name of ['full', 'kivi-2', 'kivi-4'] as PolicyName[]) {
      const r = driveLayer(make(name, 0.1), buildScenario({ T, steps: 3 }));
      expect(r.cache.length(1)).toBe(T + 3);
      expect(r.cache.keepCalls).toBe(0);
    }
  });
});

describe('known answers on hand-built patterns', () => {
  it('sink: attention-driven policies keep token 0', () => {
    for (const name of ['h2o', 'tova', 'scissorhands', 'keyformer', 'snapkv', 'pyramidkv', 'mpcache-static', 'streaming-llm'] as PolicyName[]) {
      const r = driveLayer(make(name, 0.1), { ...buildScenario({ T, steps: 4, sink: 8 }), layer: 2 });
      for (let kv = 0; kv < 2; kv++) expect(r.cache.positions(kv)[0], name).toBe(0);
    }
  });
  it('needle: score-based policies keep it, StreamingLLM drops it', () => {
    const sc = buildScenario({ T, steps: 4, needle: { pos: 50, strength: 6, qStrength: 1.5, late: 40 } });
    for (const name of ['h2o', 'tova', 'snapkv', 'pyramidkv', 'mpcache-static', 'keyformer'] as PolicyName[]) {
      const r = driveLayer(make(name, 0.1), { ...sc, layer: 2 });
      for (let kv = 0; kv < 2; kv++) expect(Array.from(r.cache.positions(kv)), name).toContain(50);
    }
    const s = driveLayer(make('streaming-llm', 0.1), sc);
    expect(Array.from(s.cache.positions(0))).not.toContain(50);
    // query-aware at 25% of 256 (64 tokens): 4 pages / blocks, one memory block for InfLLM
    const sc2 = buildScenario({ T: 256, steps: 4, needle: { pos: 100, strength: 6, qStrength: 1.5, late: 40 } });
    for (const name of ['quest', 'infllm', 'mpcache-dynamic'] as PolicyName[]) {
      const r = driveLayer(make(name, 0.25), { ...sc2, layer: 2 });
      for (const step of r.attendedPositions) for (const a of step) expect(Array.from(a), name).toContain(100);
    }
    // MPCache-R (ratio2 0.5) keeps 2B = 128 of 256 tokens statically; its level-1 top-k
    // counts the forced first and last 32-blocks inside k = floor(0.5 G1), so at G1 = 4 no
    // free level-1 slot is left and a middle needle cannot be read: the regime needs G1 >= 6
    // (T >= 384 at 25%). At T = 512 (G1 = 8, two free slots) it must be read at every step.
    const sc3 = buildScenario({ T: 512, steps: 4, needle: { pos: 200, strength: 6, qStrength: 1.5, late: 40 } });
    const r3 = driveLayer(make('mpcache', 0.25), { ...sc3, layer: 2 });
    for (const step of r3.attendedPositions) for (const a of step) expect(Array.from(a), 'mpcache').toContain(200);
  });
  it('recency: StreamingLLM keeps 4 sinks and the newest B - 4', () => {
    const r = driveLayer(make('streaming-llm', 0.1), buildScenario({ T, steps: 3 }));
    const B = resolveBudget({ ratio: 0.1 }, T);
    expect(Array.from(r.cache.positions(0))).toEqual([0, 1, 2, 3, ...Array.from({ length: B - 4 }, (_, i) => T + 3 - (B - 4) + i)]);
    expect(Array.from(sinkPlusRecent(10, 4, 4))).toEqual([0, 1, 8, 9]);
  });
  it('recency: H2O and Scissorhands protect the newest entries', () => {
    const B = resolveBudget({ ratio: 0.2 }, T);
    for (const [name, recent] of [['h2o', Math.floor(B / 2)], ['scissorhands', Math.min(16, Math.floor(B / 2))]] as const) {
      const r = driveLayer(make(name, 0.2), buildScenario({ T, steps: 3, sink: 4 }));
      const p = Array.from(r.cache.positions(1));
      for (let i = 0; i < recent; i++) expect(p, name).toContain(T + 3 - 1 - i);
    }
  });
  it('ties: uniform attention keeps the lowest indices (plus the window)', () => {
    const sc = buildScenario({ T, zero: true });
    const B = resolveBudget({ ratio: 0.2 }, T);
    const tova = driveLayer(make('tova', 0.2), sc);
    expect(Array.from(tova.cache.positions(0))).toEqual(Array.from({ length: B }, (_, i) => i));
    const snap = driveLayer(createPolicy('snapkv', { budget: { ratio: 0.2 }, model }, {}), sc);
    const w = Math.min(32, Math.floor(B / 2));
    // avg pooling with zero padding lowers the first and last 3 pooled scores: the interior ties
    expect(Array.from(snap.cache.positions(0))).toEqual([...Array.from({ length: B - w }, (_, i) => 3 + i), ...Array.from({ length: w }, (_, i) => T - w + i)]);
  });
  it('tova: one index set per layer', () => {
    const r = driveLayer(make('tova', 0.1), buildScenario({ T, steps: 5, seed: 3 }));
    expect(Array.from(r.cache.positions(0))).toEqual(Array.from(r.cache.positions(1)));
  });
  it('duo-attention: retrieval heads keep all, streaming heads keep sinks + recent', () => {
    // layer 3 KV head 0 has the top score; at 50% of 128 over 12 heads, several retrieve
    const r = driveLayer(make('duo-attention', 0.5), { ...buildScenario({ T, steps: 2 }), layer: 3 });
    expect(r.cache.length(0)).toBe(T + 2);
    const { nRet, window } = duoSplit(64, T, 12, 4);
    expect(nRet).toBeLessThan(12);
    if (r.cache.length(1) !== T + 2) {
      expect(r.cache.length(1)).toBe(window);
      expect(Array.from(r.cache.positions(1).slice(0, 4))).toEqual([0, 1, 2, 3]);
    }
    const low = driveLayer(make('duo-attention', 0.1), { ...buildScenario({ T, steps: 2 }), layer: 0 });
    expect(low.cache.length(1)).toBe(duoSplit(12, T, 12, 4).window);
  });
});

describe('determinism', () => {
  it('same seed, same result; the seed matters for Keyformer', () => {
    const sc = buildScenario({ T, steps: 6, amp: 0.05 });
    const run = (seed: number) => {
      const r = driveLayer(make('keyformer', 0.2, seed), sc);
      return Array.from(r.cache.positions(0)).join(',');
    };
    expect(run(5)).toBe(run(5));
    const outs = new Set([1, 2, 3, 4, 5, 6].map(run));
    expect(outs.size).toBeGreaterThan(1);
  });
  it('every policy gives the same selections on a rerun', () => {
    for (const name of POLICY_NAMES) {
      const sc = { ...buildScenario({ T, steps: 3, sink: 2, needle: { pos: 40, strength: 3 }, reference: true }), layer: 2 };
      const a = driveLayer(make(name, 0.2), sc);
      const b = driveLayer(make(name, 0.2), sc);
      expect(a.attendedPositions.map((s) => s.map((x) => Array.from(x)))).toEqual(b.attendedPositions.map((s) => s.map((x) => Array.from(x))));
    }
  });
});

describe('KIVI', () => {
  it('quantizes old keys per channel and old values per token; keeps the last R exact', () => {
    const sc = buildScenario({ T: 100, steps: 0 });
    const d = 8;
    const orig = Float32Array.from(sc.keys[0]);
    const origV = Float32Array.from(sc.keys[0]);
    const r = driveLayer(createPolicy('kivi-2', { budget: { ratio: 1 }, model }), sc);
    const K = r.cache.keys(0);
    const V = r.cache.values(0);
    // keys: 2 chunks of 32 tokens quantized (64 <= 100 - 32), tokens 64..99 untouched
    for (let c = 0; c < d; c++) {
      const vals = new Set<number>();
      for (let t = 0; t < 32; t++) vals.add(K[t * d + c]);
      expect(vals.size).toBeLessThanOrEqual(4);
    }
    expect(Array.from(K.slice(64 * d))).toEqual(Array.from(orig.slice(64 * d)));
    // values: tokens 0..67 quantized per token (group = min(32, d) = 8 channels)
    for (let t = 0; t < 68; t++) expect(new Set(V.slice(t * d, t * d + d)).size).toBeLessThanOrEqual(4);
    expect(Array.from(V.slice(68 * d))).toEqual(Array.from(origV.slice(68 * d)));
  });
  it('4 bits is closer to the original than 2 bits; memory ratio below 1', () => {
    const err = (bits: 'kivi-2' | 'kivi-4') => {
      const sc = buildScenario({ T: 128 });
      const orig = Float32Array.from(sc.keys[1]);
      const r = driveLayer(createPolicy(bits, { budget: { ratio: 1 }, model }), sc);
      let e = 0;
      r.cache.keys(1).forEach((v, i) => (e += (v - orig[i]) ** 2));
      return e;
    };
    expect(err('kivi-4')).toBeLessThan(err('kivi-2'));
    expect(err('kivi-2')).toBeGreaterThan(0);
    expect(kiviMemoryRatio(512, 64, 2, 32, 32)).toBeLessThan(kiviMemoryRatio(512, 64, 4, 32, 32));
    expect(kiviMemoryRatio(512, 64, 4, 32, 32)).toBeLessThan(0.5);
  });
});

describe('query-aware ties', () => {
  it('Quest on all-zero keys reads the last page plus the lowest pages', () => {
    const r = driveLayer(make('quest', 0.25), { ...buildScenario({ T, steps: 1, zero: true }), layer: 2 });
    // budget 32 -> 2 pages: page 8 (the current token, forced) and page 0 (tie -> lowest index)
    expect(Array.from(r.attendedPositions[0][0])).toEqual([...Array.from({ length: 16 }, (_, i) => i), 128]);
  });
  it('InfLLM on all-zero keys reads init, the lowest memory block and the local window', () => {
    const r = driveLayer(make('infllm', 0.5), { ...buildScenario({ T, steps: 1, zero: true }), layer: 2 });
    const { init, local } = infllmSplit(64, 4, 16);
    const want = [...Array.from({ length: init }, (_, i) => i), ...Array.from({ length: 16 }, (_, i) => init + i), ...Array.from({ length: local }, (_, i) => 129 - local + i)];
    expect(Array.from(r.attendedPositions[0][1])).toEqual(want);
  });
});

describe('MPCache options', () => {
  it("aggregate 'sum' / 'max' keep the oracle's top-k of the window-summed / window-max scores", () => {
    const sc = { ...buildScenario({ T, needle: { pos: 30, strength: 3, qStrength: 2, late: 2 }, sink: 1 }), layer: 2 };
    let probs: readonly Float32Array[] = [];
    driveLayer({ onPrefill: (ctx) => void (probs = ctx.probs) }, sc);
    const w = staticWindowSize(T);
    const scores = staticWindowScoresFromProbs(probs, T, w);
    const B = resolveBudget({ ratio: 0.2 }, T);
    const kept = new Set<string>();
    for (const aggregate of ['sum', 'max'] as const) {
      const got = Array.from(driveLayer(createPolicy('mpcache-static', { budget: { ratio: 0.2 }, model }, { mpcache: { aggregate } }), sc).cache.positions(0));
      expect(got).toEqual(Array.from(staticKeepTopK(aggregate === 'sum' ? scores.sum : scores.max, T, B, w)));
      kept.add(got.join(','));
    }
    expect(kept.size).toBe(2);
  });
  it('denseLayers leaves the first layers untouched', () => {
    const p = createPolicy('mpcache', { budget: { ratio: 0.1 }, model }, { mpcache: { denseLayers: 2 } });
    const r1 = driveLayer(p, { ...buildScenario({ T, steps: 2 }), layer: 1 });
    expect(r1.cache.length(0)).toBe(T + 2);
    expect(r1.attendedPositions[1][0].length).toBe(T + 2);
    const r2 = driveLayer(p, { ...buildScenario({ T, steps: 2 }), layer: 2 });
    expect(r2.cache.length(0)).toBeLessThan(T);
  });
});
