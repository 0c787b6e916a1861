/**
 * The defining rule of each merging / head-similarity policy (issue 17), on synthetic inputs
 * where the right answer is known, plus the reference model's logMass hook they rely on.
 */
import { describe, expect, it } from 'vitest';
import { makeConfig } from '../../models/config.js';
import { randomWeights } from '../../models/random-weights.js';
import { ReferenceModel } from '../../models/reference.js';
import type { PrefillContext } from '../../models/attention-hooks.js';
import { resolveBudget, type ModelShape } from '../policy.js';
import { d2oLayerRatios, d2oLayerStat, d2oPolicy } from './d2o.js';
import { duoSplit } from './duo-attention.js';
import { emsPolicy, globalLocalScore } from './ems.js';
import { groupHeads, kvHeadMergePolicy } from './kv-head-merge.js';
import { kvCrushPolicy } from './kvcrush.js';
import { kvMergerPolicy } from './kvmerger.js';
import { symmetricEigen } from './linalg.js';
import { miniCachePolicy } from './minicache.js';
import { razorAttentionPolicy, razorRetrievalHeads } from './razor-attention.js';
import { prefillMass } from './scores.js';
import { driveLayer, driveLayers, noise, type LayerScenario } from './testing/array-cache.js';
import { buildScenario } from './testing/scenarios.js';

const dot = (a: ArrayLike<number>, ao: number, b: ArrayLike<number>, bo: number, d: number) => {
  let s = 0;
  for (let i = 0; i < d; i++) s += a[ao + i] * b[bo + i];
  return s;
};
const cos = (a: ArrayLike<number>, ao: number, b: ArrayLike<number>, bo: number, d: number) => dot(a, ao, b, bo, d) / Math.sqrt(dot(a, ao, a, ao, d) * dot(b, bo, b, bo, d));
const row = (x: Float32Array, r: number, d: number) => Array.from(x.subarray(r * d, r * d + d));
const unit = (d: number, i: number, scale = 1) => Float32Array.from({ length: d }, (_, j) => (j === i ? scale : 0));
/** T rows of d from a list of row vectors */
const rows = (list: ArrayLike<number>[]) => {
  const d = list[0].length;
  const out = new Float32Array(list.length * d);
  list.forEach((r, i) => out.set(Array.from(r), i * d));
  return out;
};
const captureProbs = (sc: LayerScenario): PrefillContext => {
  let got: PrefillContext | undefined;
  driveLayer({ onPrefill: (ctx) => void (got = ctx) }, sc);
  return got!;
};

describe('cache logMass (models/kv-cache.ts, reference.ts)', () => {
  const cfg = makeConfig({ dim: 32, hiddenDim: 48, nLayers: 2, nHeads: 4, nKvHeads: 2, vocabSize: 40, maxSeqLen: 64 });
  const model = new ReferenceModel(randomWeights(cfg, 7));
  const prompt = [1, 5, 9, 3, 7, 2, 8, 4];
  it('an entry of log multiplicity -Infinity is an evicted entry; ln 2 is a duplicated entry; fork copies it', () => {
    const base = model.newSession();
    base.prefill(prompt);
    const evicted = base.fork();
    const masked = base.fork();
    const dup = base.fork();
    const twice = base.fork();
    for (let l = 0; l < 2; l++)
      for (let kv = 0; kv < 2; kv++) {
        evicted.cache.layer(l).keep(kv, Int32Array.from([0, 1, 2, 4, 5, 6, 7]));
        masked.cache.layer(l).logMass(kv)[3] = -Infinity;
        const c = dup.cache.layer(l);
        c.append(kv, 2, c.keys(kv), 2 * cfg.headDim, c.values(kv), 2 * cfg.headDim);
        twice.cache.layer(l).logMass(kv)[2] = Math.LN2;
      }
    const forkOfTwice = twice.fork();
    const moved = twice.fork();
    moved.cache.layer(0).keep(0, Int32Array.from([0, 2, 7]));
    expect(Array.from(moved.cache.layer(0).logMass(0))).toEqual([0, Math.fround(Math.LN2), 0]);
    expect(Array.from(masked.step(6))).toEqual(Array.from(evicted.step(6)));
    const a = dup.step(6);
    const b = twice.step(6);
    const c = forkOfTwice.step(6);
    for (let i = 0; i < a.length; i++) expect(b[i]).toBeCloseTo(a[i], 5);
    expect(Array.from(c)).toEqual(Array.from(b));
    expect(Array.from(base.step(6))).not.toEqual(Array.from(b));
  });
});

describe('MiniCache', () => {
  const d = 8;
  const L = 6;
  const T = 48;
  const model: ModelShape = { nLayers: L, nHeads: 4, nKvHeads: 2, headDim: d };
  const distinct = [5, 17];
  /** layer 4 = layer 3 + a little noise, except the distinct tokens, which are at exactly 90 degrees */
  const build = (steps = 0): LayerScenario[] => {
    const base = Array.from({ length: L }, (_, l) => ({
      keys: [0, 1].map((kv) => noise(T * d, 100 * l + kv)),
      values: [0, 1].map((kv) => noise(T * d, 100 * l + 50 + kv)),
      stepKeys: [0, 1].map((kv) => noise(Math.max(1, steps) * d, 100 * l + 70 + kv)),
    }));
    for (const kind of ['keys', 'values', 'stepKeys'] as const) {
      for (let kv = 0; kv < 2; kv++) {
        const lo = base[3][kind][kv];
        const hi = base[4][kind][kv];
        const n = lo.length / d;
        const jitter = noise(n * d, 999 + kv, 0.02);
        for (let j = 0; j < n; j++) {
          const x = lo.subarray(j * d, j * d + d);
          if (kind !== 'stepKeys' && distinct.includes(j)) {
            const u = noise(d, 31 * j + kv);
            const proj = dot(u, 0, x, 0, d) / dot(x, 0, x, 0, d);
            const nx = Math.sqrt(dot(x, 0, x, 0, d));
            for (let e = 0; e < d; e++) u[e] -= proj * x[e];
            const nu = Math.sqrt(dot(u, 0, u, 0, d));
            for (let e = 0; e < d; e++) hi[j * d + e] = (u[e] / nu) * nx * 1.3;
          } else for (let e = 0; e < d; e++) hi[j * d + e] = x[e] + jitter[j * d + e];
        }
      }
    }
    return base.map((b, l) => ({
      layer: l,
      nHeads: 4,
      nKvHeads: 2,
      headDim: d,
      keys: b.keys,
      values: b.values,
      queries: [0, 1, 2, 3].map((h) => noise(T * d, 500 + 10 * l + h)),
      stepKeys: b.stepKeys,
      stepValues: b.stepKeys,
      stepQueries: [0, 1, 2, 3].map((h) => noise(Math.max(1, steps) * d, 700 + 10 * l + h)),
      steps,
    }));
  };

  it('merges only the pair (3, 4) from the start layer floor(L/2): other layers untouched, merged tokens share one direction and keep their magnitudes, the distinct tokens stay unmerged', () => {
    const sc = build();
    const out = driveLayers(miniCachePolicy({ budget: { ratio: 1 }, model }), sc);
    for (const l of [0, 1, 2, 5])
      for (let kv = 0; kv < 2; kv++) {
        expect(Array.from(out[l].cache.keys(kv)), `layer ${l} keys`).toEqual(Array.from(sc[l].keys[kv]));
        expect(Array.from(out[l].cache.values(kv)), `layer ${l} values`).toEqual(Array.from(sc[l].values![kv]));
      }
    for (let kv = 0; kv < 2; kv++)
      for (const [tensor, orig3, orig4] of [
        ['keys', sc[3].keys[kv], sc[4].keys[kv]],
        ['values', sc[3].values![kv], sc[4].values![kv]],
      ] as const) {
        const m3 = tensor === 'keys' ? out[3].cache.keys(kv) : out[3].cache.values(kv);
        const m4 = tensor === 'keys' ? out[4].cache.keys(kv) : out[4].cache.values(kv);
        for (let j = 0; j < T; j++) {
          if (distinct.includes(j)) {
            expect(row(m3, j, d)).toEqual(row(orig3, j, d));
            expect(row(m4, j, d)).toEqual(row(orig4, j, d));
            continue;
          }
          expect(cos(m3, j * d, m4, j * d, d)).toBeGreaterThan(1 - 1e-6);
          expect(row(m3, j, d)).not.toEqual(row(orig3, j, d));
          expect(dot(m3, j * d, m3, j * d, d)).toBeCloseTo(dot(orig3, j * d, orig3, j * d, d), 4);
          expect(dot(m4, j * d, m4, j * d, d)).toBeCloseTo(dot(orig4, j * d, orig4, j * d, d), 4);
          // the shared direction is the SLERP at t = 0.6 of the two directions
          const om = Math.acos(cos(orig3, j * d, orig4, j * d, d));
          const n3 = Math.sqrt(dot(orig3, j * d, orig3, j * d, d));
          const n4 = Math.sqrt(dot(orig4, j * d, orig4, j * d, d));
          const e = Array.from({ length: d }, (_, i) => (Math.sin(0.4 * om) / Math.sin(om)) * (orig3[j * d + i] / n3) + (Math.sin(0.6 * om) / Math.sin(om)) * (orig4[j * d + i] / n4));
          expect(cos(m4, j * d, e, 0, d)).toBeGreaterThan(1 - 1e-6);
        }
      }
  });

  it('below the merged share the layers keep the same sink + recent window W > B, the stored floats stay within L * B, and new tokens of the pair merge after attention', () => {
    const sc = build(3);
    const ratio = 0.25;
    const B = resolveBudget({ ratio }, T);
    const out = driveLayers(miniCachePolicy({ budget: { ratio }, model }), sc);
    const W = out[0].cache.length(0);
    expect(W).toBeGreaterThan(B);
    for (const o of out) for (let kv = 0; kv < 2; kv++) expect(Array.from(o.cache.positions(kv))).toEqual(Array.from(out[0].cache.positions(0)));
    // one pair of 6 layers: stored = 4 W + 2 W (d+2)/(2d) (+ retained) per tensor <= 6 B
    expect(4 * W + (2 * W * (d + 2)) / (2 * d)).toBeLessThanOrEqual(L * B + 1e-9);
    const n = out[3].cache.length(0);
    expect(cos(out[3].cache.keys(0), (n - 1) * d, out[4].cache.keys(0), (n - 1) * d, d)).toBeGreaterThan(1 - 1e-6);
    expect(cos(out[2].cache.keys(0), (n - 1) * d, out[3].cache.keys(0), (n - 1) * d, d)).toBeLessThan(0.99);
  });
});

describe('KVMerger', () => {
  const d = 8;
  const j = (s: number, amp: number) => noise(d, s, amp);
  const add = (a: Float32Array, b: Float32Array) => Float32Array.from(a, (v, i) => v + b[i]);
  // sets {1,2,3} and {5,6} are runs of near-identical keys; token 10 copies token 1 but is not adjacent to it
  const keyList = [unit(d, 0), add(unit(d, 1), j(1, 0.05)), add(unit(d, 1), j(2, 0.2)), add(unit(d, 1), j(3, 0.1)), unit(d, 2), add(unit(d, 3), j(4, 0.05)), add(unit(d, 3), j(5, 0.15)), unit(d, 4), unit(d, 5), unit(d, 6), add(unit(d, 1), j(1, 0.05)), unit(d, 7)];
  const T = keyList.length;
  const sc: LayerScenario = {
    nHeads: 2,
    nKvHeads: 1,
    headDim: d,
    keys: [rows(keyList)],
    values: [noise(T * d, 77)],
    queries: [noise(T * d, 8), noise(T * d, 9)],
  };
  const model: ModelShape = { nLayers: 1, nHeads: 2, nKvHeads: 1, headDim: d };

  it('merges exactly the runs of consecutive similar keys (never token 10 with token 1) with Gaussian-kernel weights around the most-attended member', () => {
    const B = T - 3;
    const r = driveLayer(kvMergerPolicy({ budget: { tokens: B }, model }), sc);
    const ctx = captureProbs(sc);
    const mass = prefillMass(ctx, 0, 0, T);
    const pivot = (set: number[]) => set.reduce((p, i) => (mass[i] > mass[p] ? i : p), set[0]);
    const p1 = pivot([1, 2, 3]);
    const p2 = pivot([5, 6]);
    expect(Array.from(r.cache.positions(0))).toEqual([0, p1, 4, p2, 7, 8, 9, 10, 11]);
    const K0 = sc.keys[0];
    const V0 = sc.values![0];
    for (const [set, p] of [[[1, 2, 3], p1], [[5, 6], p2]] as const) {
      const d2 = set.map((i) => row(K0, i, d).reduce((s, v, e) => s + (v - K0[p * d + e]) ** 2, 0));
      const sigma2 = d2.reduce((a, b) => a + b, 0) / (set.length - 1);
      const w = d2.map((x) => Math.exp(-x / (2 * sigma2)));
      const z = w.reduce((a, b) => a + b, 0);
      const at = Array.from(r.cache.positions(0)).indexOf(p);
      for (let e = 0; e < d; e++) {
        expect(r.cache.keys(0)[at * d + e]).toBeCloseTo(set.reduce((s, i, k) => s + w[k] * K0[i * d + e], 0) / z, 5);
        expect(r.cache.values(0)[at * d + e]).toBeCloseTo(set.reduce((s, i, k) => s + w[k] * V0[i * d + e], 0) / z, 5);
      }
      // Gaussian weights, not a plain mean
      expect(new Set(w.map((x) => x.toFixed(6))).size).toBeGreaterThan(1);
    }
    expect(row(r.cache.keys(0), 7, d)).toEqual(row(K0, 10, d));
  });
  it('with a threshold, every link at or above it merges even under budget; below it nothing merges', () => {
    const r = driveLayer(kvMergerPolicy({ budget: { tokens: T - 1 }, model, threshold: 0.9 }), sc);
    expect(r.cache.length(0)).toBe(T - 3);
  });
});

describe('D2O', () => {
  it('layer budgets follow attention density: clamp(softmax(-v) L r), lower normalised variance gets more; the statistic is the heads-mean of min-max normalised column-sum variances', () => {
    const ratios = d2oLayerRatios([0, 0.5, 1], 0.2);
    expect(ratios[0]).toBeGreaterThan(ratios[1]);
    expect(ratios[1]).toBeGreaterThan(ratios[2]);
    expect(ratios.reduce((a, b) => a + b, 0) / 3).toBeCloseTo(0.2, 12);
    const e = [1, Math.exp(-0.5), Math.exp(-1)];
    expect(ratios[0]).toBeCloseTo((e[0] / (e[0] + e[1] + e[2])) * 3 * 0.2, 12);
    expect(d2oLayerRatios([0, 0], 0.9)).toEqual([0.9, 0.9]);
    expect(d2oLayerRatios([0, 20], 0.9)[0]).toBe(1);
    // two heads, T = 2: head A columns [1.5, 0.5] (var 0.5), head B [1, 1] (var 0) -> (1 + 0) / 2
    const A = Float32Array.from([1, 0, 0.5, 0.5]);
    const Bh = Float32Array.from([1, 0, 0, 1]);
    expect(d2oLayerStat([A, Bh], 2)).toBeCloseTo(0.5 / (0.5 + 1e-6) / 2, 9);
    // three layers of a driven model: each keeps floor(ratio_l * T) as computed from its own prompt attention
    const T = 48;
    const scs = [0, 1, 2].map((l) => ({ ...buildScenario({ T, seed: 3 + l, amp: 0.3 + 0.6 * l, sink: l }), layer: l }));
    const stats = scs.map((s) => d2oLayerStat(captureProbs(s).probs, T));
    const want = d2oLayerRatios(stats, 0.25).map((r) => Math.floor(r * T + 1e-9));
    const out = driveLayers(d2oPolicy({ budget: { ratio: 0.25 }, model: { nLayers: 3, nHeads: 4, nKvHeads: 2, headDim: 8 } }), scs);
    expect(out.map((o) => o.cache.length(0))).toEqual(want);
    expect(new Set(want).size).toBeGreaterThan(1);
  });

  it('an evicted token merges into its most similar kept token only at or above the threshold (mean of the max similarities), with the e / exp(u) weights', () => {
    const d = 4;
    const k2 = Float32Array.from([1, 0.3, 0, 0]);
    const far = Float32Array.from([-0.5, -0.5, -0.5, -0.5]);
    const keyList = [unit(d, 0), unit(d, 1), k2, far, Float32Array.from(far, (v, i) => v * (1 + 0.1 * i)), Float32Array.from(far, (v, i) => v * (1 + 0.2 * (3 - i))), unit(d, 2), unit(d, 3)];
    const T = keyList.length;
    const sc: LayerScenario = { nHeads: 1, nKvHeads: 1, headDim: d, keys: [rows(keyList)], values: [noise(T * d, 5)], queries: [noise(T * d, 6, 0.1)] };
    // B = 4: recent 2 (tokens 6, 7), heavy 2 = the forced first tokens 0, 1; evicted 2..5
    const r = driveLayer(d2oPolicy({ budget: { tokens: 4 }, model: { nLayers: 1, nHeads: 1, nKvHeads: 1, headDim: d } }), sc);
    expect(Array.from(r.cache.positions(0))).toEqual([0, 1, 6, 7]);
    const u2 = cos(k2, 0, keyList[0], 0, d);
    const K0 = sc.keys[0];
    const V0 = sc.values![0];
    const we = Math.E;
    const w2 = Math.exp(u2);
    for (let e = 0; e < d; e++) {
      expect(r.cache.keys(0)[e]).toBeCloseTo((we * K0[e] + w2 * K0[2 * d + e]) / (we + w2), 6);
      expect(r.cache.values(0)[e]).toBeCloseTo((we * V0[e] + w2 * V0[2 * d + e]) / (we + w2), 6);
    }
    // tokens 3..5 are below the threshold: nothing else changed
    expect(row(r.cache.keys(0), 1, d)).toEqual(row(K0, 1, d));
    expect(row(r.cache.keys(0), 2, d)).toEqual(row(K0, 6, d));
    expect(row(r.cache.values(0), 3, d)).toEqual(row(V0, 7, d));
  });
});

describe('EMS', () => {
  it('keeps the window and the best Global-Local centres; an evicted token merges into its nearest centre only at or above theta (GL-weighted), else it is evicted', () => {
    const T = 64;
    const theta = 0.3;
    const sc = { ...buildScenario({ T, seed: 11, amp: 0.5, sink: 2 }), values: [noise(T * 8, 41), noise(T * 8, 42)] };
    const B = 16;
    const w = 8;
    const r = driveLayer(emsPolicy({ budget: { tokens: B }, model: { nLayers: 1, nHeads: 4, nKvHeads: 2, headDim: 8 }, theta }), sc);
    const ctx = captureProbs(sc);
    const d = 8;
    let merged = 0;
    let dropped = 0;
    for (let kv = 0; kv < 2; kv++) {
      const gl = globalLocalScore(ctx, kv, w, 0.5);
      // the score by hand: per-query mean over the queries that see j (global) + window sum (local), each normalised
      const g = new Float64Array(T);
      const loc = new Float64Array(T);
      for (const h of [2 * kv, 2 * kv + 1])
        for (let q = 0; q < T; q++)
          for (let j = 0; j <= q; j++) {
            g[j] += ctx.probs[h][q * T + j] / (2 * (T - j));
            if (q >= T - w) loc[j] += ctx.probs[h][q * T + j] / 2;
          }
      const sg = g.reduce((a, b) => a + b, 0);
      const sl = loc.reduce((a, b) => a + b, 0);
      for (let j = 0; j < T; j++) expect(gl[j]).toBeCloseTo(0.5 * (g[j] / sg) + 0.5 * (loc[j] / sl), 9);
      const order = Array.from({ length: T - w }, (_, i) => i).sort((a, b) => gl[b] - gl[a] || a - b);
      const centres = order.slice(0, B - w).sort((a, b) => a - b);
      const keep = [...centres, ...Array.from({ length: w }, (_, i) => T - w + i)];
      expect(Array.from(r.cache.positions(kv))).toEqual(keep);
      const K = sc.keys[kv];
      const V = sc.values[kv];
      const into = new Map<number, number[]>(centres.map((c) => [c, [c]]));
      for (let e = 0; e < T - w; e++) {
        if (centres.includes(e)) continue;
        let best = centres[0];
        for (const c of centres) if (cos(K, e * d, K, c * d, d) > cos(K, e * d, K, best * d, d)) best = c;
        if (cos(K, e * d, K, best * d, d) >= theta) {
          into.get(best)!.push(e);
          merged++;
        } else dropped++;
      }
      centres.forEach((c, i) => {
        const m = into.get(c)!;
        const z = m.reduce((s, t) => s + gl[t] + 1e-12, 0);
        for (let e = 0; e < d; e++) {
          expect(r.cache.keys(kv)[i * d + e]).toBeCloseTo(m.reduce((s, t) => s + (gl[t] + 1e-12) * K[t * d + e], 0) / z, 5);
          expect(r.cache.values(kv)[i * d + e]).toBeCloseTo(m.reduce((s, t) => s + (gl[t] + 1e-12) * V[t * d + e], 0) / z, 5);
        }
      });
    }
    expect(merged).toBeGreaterThan(0);
    expect(dropped).toBeGreaterThan(0);
  });
});

describe('KVCrush', () => {
  it('keeps sinks, the window, each KV head its importance top, and exactly one representative per head-signature group (the first of each)', () => {
    const T = 96;
    const sc = buildScenario({ T, seed: 5, amp: 0.6, sink: 2 });
    const B = 32;
    const r = driveLayer(kvCrushPolicy({ budget: { tokens: B }, model: { nLayers: 1, nHeads: 4, nKvHeads: 2, headDim: 8 } }), sc);
    const ctx = captureProbs(sc);
    const w = 8;
    const s = 4;
    const clus = 8;
    const impo = B - s - w - clus;
    const mid = Array.from({ length: T - w - s }, (_, i) => s + i);
    const topOf = (score: ArrayLike<number>, k: number) => [...mid].sort((a, b) => score[b] - score[a] || a - b).slice(0, k);
    const chosen = [0, 1].map((kv) => topOf(prefillMass(ctx, kv, T - w, T), impo));
    const taken = new Set(chosen.flat());
    // signatures: bit h = among the top half of query head h's window scores over the middle
    const bits = mid.map(() => [0, 0, 0, 0]);
    for (let h = 0; h < 4; h++) {
      const sc1 = new Float64Array(T);
      for (let q = T - w; q < T; q++) for (let j = 0; j <= q; j++) sc1[j] += ctx.probs[h][q * T + j];
      for (const j of topOf(sc1, Math.floor(mid.length / 2))) bits[j - s][h] = 1;
    }
    const anchor = [0, 1, 0, 1];
    const cand = mid.filter((j) => !taken.has(j));
    const ham = (j: number) => bits[j - s].reduce((a, b, h) => a + (b !== anchor[h] ? 1 : 0), 0);
    cand.sort((a, b) => ham(a) - ham(b) || a - b);
    const groups = Array.from({ length: clus }, (_, k) => cand.slice(Math.floor((k * cand.length) / clus), Math.floor(((k + 1) * cand.length) / clus)));
    for (let kv = 0; kv < 2; kv++) {
      const kept = new Set(Array.from(r.cache.positions(kv)));
      expect(kept.size).toBe(B);
      for (const g of groups) {
        expect(g.filter((j) => kept.has(j))).toEqual([g[0]]);
      }
      for (const j of chosen[kv]) expect(kept.has(j)).toBe(true);
      for (let j = 0; j < s; j++) expect(kept.has(j)).toBe(true);
      for (let j = T - w; j < T; j++) expect(kept.has(j)).toBe(true);
    }
  });
});

describe('RazorAttention', () => {
  const d = 8;
  const T = 64;
  const model: ModelShape = { nLayers: 2, nHeads: 4, nKvHeads: 2, headDim: d };
  // head (layer 1, kv 0) is the best induction head
  const headScores = { echo: [[0.1, 0.2], [0.3, 0.1]], induction: [[0.2, 0.1], [0.9, 0.3]] };
  const scs = [0, 1].map((l) => ({ ...buildScenario({ T, steps: 3, seed: 20 + l, amp: 0.5 }), layer: l, values: [noise(T * d, 60 + l), noise(T * d, 70 + l)] }));

  it('retrieval heads keep everything; the others keep sinks + window + exactly one compensation token (mean of the dropped K/V, counted N times), also while decoding', () => {
    const ratio = 0.5;
    const B = resolveBudget({ ratio }, T);
    const { nRet, window } = duoSplit(B, T, 4, 4);
    expect(nRet).toBe(1);
    const out = driveLayers(razorAttentionPolicy({ budget: { ratio }, model, headScores }), scs);
    expect(out[1].cache.length(0)).toBe(T + 3);
    const s = 4;
    const rr = window - s - 1;
    for (const [l, kv] of [[0, 0], [0, 1], [1, 1]]) {
      const c = out[l].cache;
      expect(c.length(kv)).toBe(window);
      const pos = Array.from(c.positions(kv));
      expect(pos.slice(0, s)).toEqual([0, 1, 2, 3]);
      expect(pos.slice(s + 1)).toEqual(Array.from({ length: rr }, (_, i) => T + 3 - rr + i));
      const lm = Array.from(c.logMass!(kv));
      const N = T + 3 - rr - s;
      expect(lm.filter((v) => v !== 0)).toHaveLength(1);
      expect(lm[s]).toBeCloseTo(Math.log(N), 6);
      for (let e = 0; e < d; e++) {
        let mk = 0;
        let mv = 0;
        for (let j = s; j < s + N; j++) {
          mk += scs[l].keys[kv][j * d + e];
          mv += scs[l].values[kv][j * d + e];
        }
        expect(c.keys(kv)[s * d + e]).toBeCloseTo(mk / N, 5);
        expect(c.values(kv)[s * d + e]).toBeCloseTo(mv / N, 5);
      }
    }
    // attention weighs the compensation token N times: p_comp / p_j = N exp(q.(k^ - k_j)/sqrt d), at the last step
    const step = 2;
    const h = 0; // query head 0 reads layer 0 KV head 0
    const probs = out[0].attendedProbs[step][h];
    const q = scs[0].stepQueries![h].subarray(step * d, step * d + d);
    const N = T + step - (window - s - 1) - s; // tokens folded in before this step's attention
    expect(probs.length).toBe(window + 1);
    const kh = Array.from({ length: d }, (_, e) => {
      let m = 0;
      for (let j = s; j < s + N; j++) m += scs[0].keys[0][j * d + e];
      return m / N;
    });
    const want = N * Math.exp((dot(q, 0, kh, 0, d) - dot(q, 0, scs[0].keys[0], 0, d)) / Math.sqrt(d));
    expect(Math.abs(probs[s] / probs[0] / want - 1)).toBeLessThan(1e-4);
  });

  it("'mean' compensation counts the token once; the retrieval choice takes floor(nRet / 15) by echo and the rest by induction", () => {
    const out = driveLayers(razorAttentionPolicy({ budget: { ratio: 0.5 }, model, headScores, compensation: 'mean' }), scs);
    expect(Array.from(out[0].cache.logMass!(0)).every((v) => v === 0)).toBe(true);
    const echo = Float64Array.from({ length: 20 }, (_, i) => (i === 7 ? 1 : 0.01 * i));
    const induction = Float64Array.from({ length: 20 }, (_, i) => 1 - 0.01 * i);
    expect([...razorRetrievalHeads(echo, induction, 15)].sort((a, b) => a - b)).toEqual([...Array.from({ length: 14 }, (_, i) => i), 7].filter((v, i, a) => a.indexOf(v) === i).concat(7 < 14 ? [14] : []).sort((a, b) => a - b));
    expect([...razorRetrievalHeads(echo, induction, 3)].sort((a, b) => a - b)).toEqual([0, 1, 2]);
  });
});

describe('KV-head merge', () => {
  it('groups the most similar heads first (average linkage)', () => {
    const S = [
      [0, 0.1, 0.5, 0.1],
      [0.1, 0, 0.1, 0.9],
      [0.5, 0.1, 0, 0.1],
      [0.1, 0.9, 0.1, 0],
    ];
    const { groups, order } = groupHeads((i, j) => S[i][j], 4, 1);
    expect(order).toEqual([
      [1, 3],
      [0, 2],
      [0, 1],
    ]);
    expect(groups).toEqual([[0, 1, 2, 3]]);
    expect(groupHeads((i, j) => S[i][j], 4, 2).groups).toEqual([
      [0, 2],
      [1, 3],
    ]);
  });

  it('merges heads 1 and 3 (identical caches: lossless) and 0 with 2 (lossy rank-d), projecting new tokens too', () => {
    const T = 40;
    const d = 8;
    const sc = buildScenario({ T, steps: 2, nHeads: 8, nKvHeads: 4, headDim: d, seed: 9, amp: 0.5 });
    sc.keys[3] = Float32Array.from(sc.keys[1]);
    sc.stepKeys![3] = Float32Array.from(sc.stepKeys![1]);
    // head 2 mostly follows head 0
    sc.keys[2] = Float32Array.from(sc.keys[0], (v, i) => v + 0.3 * sc.keys[2][i]);
    const r = driveLayer(kvHeadMergePolicy({ budget: { ratio: 0.5 }, model: { nLayers: 1, nHeads: 8, nKvHeads: 4, headDim: d } }), sc);
    // g = 2 stored heads of 4, so the window is W = floor(0.5 T 4 / 2) = T: 4 sinks + the newest
    const pos = Array.from(r.cache.positions(0));
    expect(pos).toEqual([0, 1, 2, 3, ...Array.from({ length: T - 4 }, (_, i) => 6 + i)]);
    const orig = (h: number, p: number) => (p < T ? row(sc.keys[h], p, d) : row(sc.stepKeys![h], p - T, d));
    const k1 = Array.from(r.cache.keys(1));
    pos.forEach((p, i) => orig(1, p).forEach((v, e) => expect(k1[i * d + e]).toBeCloseTo(v, 4)));
    expect(Array.from(r.cache.keys(3))).toEqual(k1);
    let diff0 = 0;
    let last0 = 0;
    pos.forEach((p, i) =>
      orig(0, p).forEach((v, e) => {
        diff0 += Math.abs(v - r.cache.keys(0)[i * d + e]);
        if (p === T + 1) last0 += Math.abs(v - r.cache.keys(0)[i * d + e]);
      }),
    );
    expect(diff0).toBeGreaterThan(1e-3);
    expect(last0).toBeGreaterThan(1e-4);
  });

  it('symmetric eigen-decomposition satisfies A v = lambda v', () => {
    const n = 7;
    const M = noise(n * n, 3);
    const A = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) for (let k = 0; k < n; k++) A[i * n + j] += M[i * n + k] * M[j * n + k];
    const { values, vectors } = symmetricEigen(A, n);
    for (let k = 0; k < n; k++) {
      if (k) expect(values[k]).toBeLessThanOrEqual(values[k - 1]);
      for (let i = 0; i < n; i++) {
        let s = 0;
        for (let j = 0; j < n; j++) s += A[i * n + j] * vectors[j * n + k];
        expect(s).toBeCloseTo(values[k] * vectors[i * n + k], 10);
      }
    }
  });
});
