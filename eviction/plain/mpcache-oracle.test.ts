import { describe, it, expect } from 'vitest';
import {
  blockRepresentatives,
  blockTokens,
  exactBound,
  linearSimilarity,
  mergeRepresentatives,
  selectionSourceLayer,
  staticKeepThreshold,
  staticKeepTopK,
  staticWindowScores,
  staticWindowSize,
  twoLevelSelect,
} from './mpcache-oracle.js';
import { mpcachePolicy } from './mpcache.js';
import { ArrayLayerCache, noise } from './testing/array-cache.js';

/** Naive head-mean window scores, written independently of the oracle. */
function naiveScores(Q: Float32Array[], K: Float32Array[], T: number, d: number, w: number, scaled: boolean, causal: boolean) {
  const H = Q.length;
  const g = H / K.length;
  const sum = new Array<number>(T).fill(0);
  const max = new Array<number>(T).fill(0);
  for (let q = T - w; q < T; q++) {
    const m = new Array<number>(T).fill(0);
    for (let h = 0; h < H; h++) {
      const logits: number[] = [];
      const nk = causal ? q + 1 : T;
      for (let j = 0; j < nk; j++) {
        let s = 0;
        for (let i = 0; i < d; i++) s += Q[h][q * d + i] * K[Math.floor(h / g)][j * d + i];
        logits.push(scaled ? s / Math.sqrt(d) : s);
      }
      const mx = Math.max(...logits);
      const e = logits.map((x) => Math.exp(x - mx));
      const z = e.reduce((a, b) => a + b, 0);
      e.forEach((v, j) => (m[j] += v / z / H));
    }
    m.forEach((v, j) => {
      sum[j] += v;
      max[j] = Math.max(max[j], v);
    });
  }
  return { sum, max };
}

describe('MPCache oracle: look-once static eviction', () => {
  const T = 20;
  const d = 4;
  const Q = [0, 1, 2, 3].map((h) => noise(T * d, 10 + h, 1.5));
  const K = [0, 1].map((kv) => noise(T * d, 20 + kv, 1.5));
  it('window = floor(0.2 T), 10% above 24,000 tokens', () => {
    expect(staticWindowSize(512)).toBe(102);
    expect(staticWindowSize(4)).toBe(1);
    expect(staticWindowSize(30000)).toBe(3000);
  });
  for (const [scaled, causal] of [[true, true], [false, false], [true, false], [false, true]]) {
    it(`head-mean window scores match a naive computation (scaled=${scaled}, causal=${causal})`, () => {
      const got = staticWindowScores(Q, K, T, d, 5, { scaled, causal });
      const want = naiveScores(Q, K, T, d, 5, scaled, causal);
      for (let j = 0; j < T; j++) {
        expect(got.sum[j]).toBeCloseTo(want.sum[j], 6);
        expect(got.max[j]).toBeCloseTo(want.max[j], 6);
      }
    });
  }
  it('the authors\' form (unscaled, no mask) differs from the default', () => {
    const a = staticWindowScores(Q, K, T, d, 5);
    const b = staticWindowScores(Q, K, T, d, 5, { scaled: false, causal: false });
    expect(Array.from(a.sum)).not.toEqual(Array.from(b.sum));
    // with the causal mask, a window query gives nothing to later keys: the last key only gets the last query
    const lastOnly = naiveScores(Q, K, T, d, 1, true, true).sum[T - 1];
    expect(staticWindowScores(Q, K, T, d, 1).sum[T - 1]).toBeCloseTo(lastOnly, 9);
  });
  it('top-k keeps exactly the budget: the window plus the best earlier scores, ties to the lower index', () => {
    const scores = Float64Array.from([5, 1, 9, 1, 1, 7, 0, 0, 0, 0]);
    expect(Array.from(staticKeepTopK(scores, 10, 6, 3))).toEqual([0, 2, 5, 7, 8, 9]);
    expect(Array.from(staticKeepTopK(scores, 10, 5, 3))).toEqual([0, 2, 5, 8, 9]); // window shrinks to floor(5/2)
    expect(Array.from(staticKeepTopK(new Float64Array(10), 10, 6, 3))).toEqual([0, 1, 2, 7, 8, 9]);
    expect(Array.from(staticKeepTopK(scores, 10, 12, 3))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    for (let B = 1; B <= 10; B++) expect(staticKeepTopK(scores, 10, B, 3).length).toBe(B);
  });
  it('threshold rule keeps scores >= tau plus the window (data-dependent count)', () => {
    const max = Float64Array.from([0.5, 1e-4, 2e-3, 1e-3, 0, 0]);
    expect(Array.from(staticKeepThreshold(max, 6, 1e-3, 2))).toEqual([0, 2, 3, 4, 5]);
  });
});

describe('MPCache oracle: clustered selection', () => {
  it('block representatives: per-dimension max/min over the real rows; level 1 merges two children', () => {
    const keys = Float32Array.from([1, -1, 3, 0, -2, 5, 4, 4, 0, 9]); // 5 rows of d=2
    const r = blockRepresentatives(keys, 5, 2, 2);
    expect(r.nBlocks).toBe(3);
    expect(Array.from(r.rmax)).toEqual([3, 0, 4, 5, 0, 9]);
    expect(Array.from(r.rmin)).toEqual([1, -1, -2, 4, 0, 9]);
    const m = mergeRepresentatives(r);
    const direct = blockRepresentatives(keys, 5, 2, 4);
    expect(Array.from(m.rmax)).toEqual(Array.from(direct.rmax));
    expect(Array.from(m.rmin)).toEqual(Array.from(direct.rmin));
  });
  it('linear similarity q.(a rmax + (1-a) rmin) and the exact bound', () => {
    const reps = blockRepresentatives(Float32Array.from([1, -1, 3, 0]), 2, 2, 2); // rmax [3,0], rmin [1,-1]
    expect(linearSimilarity([2, -1], reps, 0.6)[0]).toBeCloseTo(2 * (0.6 * 3 + 0.4 * 1) - (0.6 * 0 + 0.4 * -1), 12);
    expect(exactBound([2, -1], reps)[0]).toBeCloseTo(2 * 3 + 1, 12);
  });
  it('exact bound is an upper bound of every q.k in the block', () => {
    const n = 70;
    const d = 8;
    const keys = noise(n * d, 3, 2);
    const q = noise(d, 4, 2);
    const eb = exactBound(q, blockRepresentatives(keys, n, d, 16));
    for (let t = 0; t < n; t++) {
      let s = 0;
      for (let i = 0; i < d; i++) s += q[i] * keys[t * d + i];
      expect(s).toBeLessThanOrEqual(eb[Math.floor(t / 16)] + 1e-9);
    }
  });
  it('two-level selection: forced first/last, k1 = int(G1 * 0.5), k2 = int(G2 * 0.2), needle block found', () => {
    const n = 320;
    const d = 4;
    const keys = new Float32Array(n * d);
    for (let i = 0; i < d; i++) keys[(150 * d) + i] = 0; // explicit: zeros everywhere ...
    keys[150 * d] = 5; // ... except the needle at token 150 (level-2 block 9, level-1 block 4)
    keys[250 * d] = 2; // a weaker one at token 250 (level-2 block 15, level-1 block 7)
    const sel = twoLevelSelect([1, 0, 0, 0], keys, n, d);
    expect(sel.g1).toBe(10);
    expect(sel.g2).toBe(20);
    expect(Array.from(sel.level1)).toEqual([0, 1, 4, 7, 9]); // forced 0, 9; best 4, 7; then tie -> lowest (1)
    expect(Array.from(sel.level2)).toEqual([0, 9, 15, 19]); // k2 = 4: forced 0, 19; best 9, 15
    expect(Array.from(sel.tokens)).toEqual(Array.from(blockTokens([0, 9, 15, 19], 16, n)));
    expect(Array.from(sel.tokens)).toContain(150);
  });
  it('ties go to the lower block index at both levels; partial last block is forced', () => {
    const n = 200;
    const sel = twoLevelSelect([1, 1], new Float32Array(n * 2), n, 2);
    expect(sel.g1).toBe(7);
    expect(sel.g2).toBe(13);
    expect(Array.from(sel.level1)).toEqual([0, 1, 6]); // k1 = 3
    expect(Array.from(sel.level2)).toEqual([0, 12]); // k2 = max(int(2.6), 2) = 2: forced only
    expect(sel.tokens[sel.tokens.length - 1]).toBe(199);
    expect(sel.tokens.length).toBe(16 + 8);
  });
  it('cross-layer sharing: first two and last two compute, pairs in between', () => {
    const src = (L: number) => Array.from({ length: L }, (_, l) => selectionSourceLayer(l, L));
    expect(src(5)).toEqual([0, 1, 2, 3, 4]);
    expect(src(8)).toEqual([0, 1, 2, 2, 4, 4, 6, 7]);
    expect(src(9)).toEqual([0, 1, 2, 2, 4, 4, 6, 7, 8]);
    expect(src(12)).toEqual([0, 1, 2, 2, 4, 4, 6, 6, 8, 8, 10, 11]);
  });
  it('the policy reuses the source layer\'s blocks at the same step, and recomputes without sharing', () => {
    const d = 4;
    const mk = (layer: number, seed: number) => {
      const c = new ArrayLayerCache(layer, 2, 1, d);
      const k = noise(300 * d, seed, 1);
      for (let t = 0; t < 300; t++) c.append(0, t, k.subarray(t * d, t * d + d), k.subarray(t * d, t * d + d));
      return c;
    };
    const model = { nLayers: 8, nHeads: 2, nKvHeads: 1, headDim: d };
    const run = (share: boolean) => {
      const p = mpcachePolicy({ budget: { ratio: 0.2 }, model, static: false, share });
      const c2 = mk(2, 1);
      const c3 = mk(3, 2);
      for (const c of [c2, c3]) p.onPrefill!({ layer: c.layer, length: 300, cache: c, queries: [], probs: [] });
      const q = [noise(d, 5, 1), noise(d, 6, 1)];
      const s2 = p.selectForStep!({ layer: 2, step: 0, position: 300, cache: c2, query: q })!;
      const s3 = p.selectForStep!({ layer: 3, step: 0, position: 300, cache: c3, query: q })!;
      const own3 = twoLevelSelect(q[0], c3.keys(0), 300, d, { ratio2: 0.2 }).tokens;
      return { s2, s3, own3 };
    };
    const shared = run(true);
    expect(Array.from(shared.s3[0]!)).toEqual(Array.from(shared.s2[0]!));
    expect(Array.from(shared.s3[1]!)).toEqual(Array.from(shared.s2[1]!));
    const own = run(false);
    expect(Array.from(own.s3[0]!)).toEqual(Array.from(own.own3));
    expect(Array.from(own.s3[0]!)).not.toEqual(Array.from(own.s2[0]!));
  });
});

describe('MPCache policy, paper mode (staticRatio)', () => {
  it('keeps floor(0.3 T) prompt tokens and reads twoLevelSelect(ratio2 = 0.2) each step', async () => {
    const { driveLayer } = await import('./testing/array-cache.js');
    const { buildScenario } = await import('./testing/scenarios.js');
    const model = { nLayers: 4, nHeads: 2, nKvHeads: 1, headDim: 8 };
    const sc = { ...buildScenario({ T: 200, steps: 2, nHeads: 2, nKvHeads: 1, sink: 2 }), layer: 1 };
    const p = mpcachePolicy({ budget: { ratio: 0.05 }, model, staticRatio: 0.3, ratio2: 0.2 });
    const r = driveLayer(p, sc);
    expect(r.cache.length(0)).toBe(60 + 2);
    // replay the last step's selection from the final cache (its keys are what the step saw)
    const n = r.cache.length(0);
    const want = twoLevelSelect(sc.stepQueries![0].subarray(8, 16), r.cache.keys(0), n, 8, { ratio2: 0.2 }).tokens;
    const pos = r.cache.positions(0);
    expect(Array.from(r.attendedPositions[1][0])).toEqual(Array.from(want, (i) => pos[i]));
  });
});

describe('static scores from precomputed probabilities', () => {
  it('equal the oracle computed from queries and keys (scaled, causal)', async () => {
    const { driveLayer } = await import('./testing/array-cache.js');
    const { buildScenario } = await import('./testing/scenarios.js');
    const { staticWindowScoresFromProbs } = await import('./mpcache-oracle.js');
    const sc = buildScenario({ T: 60, nHeads: 4, nKvHeads: 2, sink: 2 });
    let probs: readonly Float32Array[] = [];
    driveLayer({ onPrefill: (ctx) => void (probs = ctx.probs) }, sc);
    const a = staticWindowScoresFromProbs(probs, 60, 12);
    const b = staticWindowScores(sc.queries, sc.keys, 60, 8, 12);
    for (let j = 0; j < 60; j++) {
      expect(a.sum[j]).toBeCloseTo(b.sum[j], 5);
      expect(a.max[j]).toBeCloseTo(b.max[j], 6);
    }
  });
});
