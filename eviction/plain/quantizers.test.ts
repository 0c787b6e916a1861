import { describe, expect, it } from 'vitest';
import { keyRotaryOf } from '../../models/key-rotary.js';
import { RopeTable } from '../../models/rope.js';
import { resolveBudget, type ModelShape } from '../policy.js';
import { h2oPolicy } from './h2o.js';
import { bfpKsortPolicy, ksortOrder } from './bfp-ksort.js';
import { gearCompress, gearPolicy } from './gear.js';
import { fwht, numericalRank } from './linalg.js';
import { mikvBalancer, mikvPolicy } from './mikv.js';
import { rotatekvHeadGroup, rotatekvOrder, rotatekvPivots, rotatekvPolicy, rotatekvRotate } from './rotatekv.js';
import { kvquantPolicy } from './kvquant.js';
import { mixSeed } from './seeded-rng.js';
import { bottomKAscending, iota } from './select.js';
import { zipcachePolicy, zipcacheProbes, zipcacheSaliency } from './zipcache.js';
import { distinctCount, strided } from './quant-kit.js';
import { driveLayer, type LayerScenario } from './testing/array-cache.js';
import { buildScenario } from './testing/scenarios.js';

const model: ModelShape = { nLayers: 2, nHeads: 4, nKvHeads: 2, headDim: 8 };
const rotary = keyRotaryOf(new RopeTable(8, 10000));

/** A scenario whose keys/queries are pre-RoPE (the driver rotates them) with distinct values. */
function preRopeScenario(T: number, steps = 0, seed = 7): LayerScenario {
  const sc = buildScenario({ T, steps, seed, amp: 1 });
  const values = buildScenario({ T, steps, seed: seed + 50, amp: 1 });
  return { ...sc, rotary, values: values.keys, stepValues: values.stepKeys };
}

/** Un-rotated cached keys of a KV head (rows in cache order). */
function unrotatedKeys(K: Float32Array, positions: Int32Array, d: number): Float32Array {
  const out = Float32Array.from(K);
  for (let i = 0; i < positions.length; i++) rotary.unrotate(out, i * d, positions[i]);
  return out;
}

describe('KVQuant', () => {
  it('quantizes keys per channel BEFORE RoPE onto 2^bits levels, keeps outliers and the sink exact', () => {
    const T = 200;
    const sc = preRopeScenario(T, 3);
    sc.keys[0][50 * 8 + 3] = 25; // an outlier
    sc.keys[1][120 * 8 + 6] = -30;
    const orig = sc.keys.map((k) => Float32Array.from(k));
    const p = kvquantPolicy({ bits: 2, model });
    const r = driveLayer(p, sc);
    for (let kv = 0; kv < 2; kv++) {
      const U = unrotatedKeys(r.cache.keys(kv), r.cache.positions(kv), 8);
      // the sink (token 0) is exact
      for (let c = 0; c < 8; c++) expect(U[c]).toBeCloseTo(orig[kv][c], 4);
      for (let c = 0; c < 8; c++) {
        const rows = Array.from({ length: T - 1 }, (_, i) => i + 1).filter((t) => Math.abs(U[t * 8 + c] - orig[kv][t * 8 + c]) > 1e-4);
        // every quantized entry of the channel lies on one of 4 levels of that channel
        expect(distinctCount(U, rows.map((t) => t * 8 + c), 1e-4)).toBeLessThanOrEqual(4);
        expect(rows.length).toBeGreaterThan(0.9 * (T - 1));
      }
    }
    const U0 = unrotatedKeys(r.cache.keys(0), r.cache.positions(0), 8);
    const U1 = unrotatedKeys(r.cache.keys(1), r.cache.positions(1), 8);
    expect(U0[50 * 8 + 3]).toBeCloseTo(25, 4);
    expect(U1[120 * 8 + 6]).toBeCloseTo(-30, 4);
    // decode tokens too are quantized per channel with the prefill levels
    const last = T + 2;
    expect(Math.abs(U0[last * 8] - sc.stepKeys![0][2 * 8])).toBeGreaterThan(0);
  });
  it('values are per token on 2^bits levels; 4 bits beats 2 bits; the memory ratio counts scales and outliers', () => {
    const sc = preRopeScenario(160);
    const err = (bits: 2 | 4) => {
      const r = driveLayer(kvquantPolicy({ bits, model }), sc);
      let e = 0;
      for (let t = 1; t < 160; t++) {
        const idx = [...strided(t * 8, 8, 1)];
        // the 16 values of a token (both KV heads) share one level set
        const both = [...Array.from(r.cache.values(0).slice(t * 8, t * 8 + 8)), ...Array.from(r.cache.values(1).slice(t * 8, t * 8 + 8))];
        expect(distinctCount(both, both.map((_, i) => i), 1e-5)).toBeLessThanOrEqual(1 << bits);
        for (const i of idx) e += (r.cache.values(0)[i] - sc.values![0][i]) ** 2;
      }
      return e;
    };
    expect(err(4)).toBeLessThan(err(2));
    const m2 = kvquantPolicy({ bits: 2, model }).memoryRatio!(448, 8);
    const m4 = kvquantPolicy({ bits: 4, model }).memoryRatio!(448, 8);
    expect(m2).toBeGreaterThan(2 / 16);
    expect(m2).toBeLessThan(m4);
    expect(m4).toBeLessThan(0.5);
  });
});

describe('ZipCache', () => {
  it('salient tokens (normalized attention of the probes) get the higher precision', () => {
    const T = 160;
    const sc = { ...buildScenario({ T, amp: 1, needle: { pos: 30, strength: 8, qStrength: 2, late: T } }), values: buildScenario({ T, seed: 99, amp: 1 }).keys };
    let probs: readonly Float32Array[] = [];
    driveLayer({ onPrefill: (c) => void (probs = c.probs) }, sc);
    const r = driveLayer(zipcachePolicy({ model }), sc);
    const probes = zipcacheProbes(T, 0.05, mixSeed(1, 0));
    for (let kv = 0; kv < 2; kv++) {
      const s = zipcacheSaliency({ layer: 0, length: T, cache: r.cache, queries: [], probs }, kv, probes);
      const low = new Set(bottomKAscending(s, Math.floor(0.4 * T), iota(T)));
      expect(low.has(30)).toBe(false);
      const K = r.cache.keys(kv);
      const lowRows = [...low];
      const hiRows = Array.from({ length: T }, (_, t) => t).filter((t) => !low.has(t));
      for (let c = 0; c < 8; c++) {
        expect(distinctCount(K, lowRows.map((t) => t * 8 + c), 1e-5)).toBeLessThanOrEqual(4);
        const hi = distinctCount(K, hiRows.map((t) => t * 8 + c), 1e-5);
        expect(hi).toBeLessThanOrEqual(16);
        expect(hi).toBeGreaterThan(4);
      }
      // values: per token, after the channel scales, 4 (low) or 16 (salient) levels
      const V = r.cache.values(kv);
      const scale = Array.from({ length: 8 }, (_, c) => Math.sqrt(Math.max(...Array.from({ length: T }, (_, t) => Math.abs(sc.values[kv][t * 8 + c])))));
      for (let t = 0; t < T; t++) {
        const row = Array.from({ length: 8 }, (_, c) => V[t * 8 + c] / scale[c]);
        expect(distinctCount(row, iota(8), 1e-4)).toBeLessThanOrEqual(low.has(t) ? 4 : 16);
      }
    }
    const m = zipcachePolicy({ model }).memoryRatio!(448, 8);
    expect(m).toBeGreaterThan((0.6 * 4 + 0.4 * 2) / 16);
    expect(m).toBeLessThan(0.4);
  });
});

describe('MiKV', () => {
  it('keeps what H2O would evict at low precision instead of dropping it; H2O\'s keepers stay exact', () => {
    const T = 128;
    const steps = 6;
    const sc = { ...buildScenario({ T, steps, amp: 1, sink: 3, needle: { pos: 40, strength: 5, qStrength: 1.5 } }), values: buildScenario({ T, steps, seed: 21, amp: 1 }).keys, stepValues: buildScenario({ T, steps, seed: 21, amp: 1 }).stepKeys };
    const ratio = 0.2;
    const h2o = driveLayer(h2oPolicy({ budget: { ratio }, model }), sc);
    const mikv = driveLayer(mikvPolicy({ budget: { ratio }, model }), sc);
    let probs: readonly Float32Array[] = [];
    let queries: readonly Float32Array[] = [];
    driveLayer({ onPrefill: (c) => ((probs = c.probs), (queries = c.queries)) }, sc);
    for (let kv = 0; kv < 2; kv++) {
      expect(mikv.cache.length(kv)).toBe(T + steps);
      expect(mikv.cache.keepCalls).toBe(0);
      const kept = new Set(h2o.cache.positions(kv));
      const K = mikv.cache.keys(kv);
      const V = mikv.cache.values(kv);
      const origK = (t: number, c: number) => (t < T ? sc.keys[kv][t * 8 + c] : sc.stepKeys![kv][(t - T) * 8 + c]);
      const origV = (t: number, c: number) => (t < T ? sc.values[kv][t * 8 + c] : sc.stepValues![kv][(t - T) * 8 + c]);
      const bal = mikvBalancer({ layer: 0, length: T, cache: driveLayer({}, sc).cache, queries, probs }, kv);
      let low = 0;
      for (let t = 0; t < T + steps; t++) {
        if (kept.has(t)) {
          for (let c = 0; c < 8; c++) expect(K[t * 8 + c]).toBe(origK(t, c));
          for (let c = 0; c < 8; c++) expect(V[t * 8 + c]).toBe(origV(t, c));
        } else {
          low++;
          const balanced = Array.from({ length: 8 }, (_, c) => K[t * 8 + c] * bal[c]);
          expect(distinctCount(balanced, iota(8), 1e-4)).toBeLessThanOrEqual(4);
          expect(distinctCount(V, strided(t * 8, 8, 1), 1e-5)).toBeLessThanOrEqual(4);
        }
      }
      expect(low).toBe(T + steps - resolveBudget({ ratio }, T));
      expect(kept.has(40)).toBe(true);
    }
    const m = mikvPolicy({ budget: { ratio }, model }).memoryRatio!(448, 8);
    expect(m).toBeGreaterThan(0.2);
    expect(m).toBeLessThan(0.2 + 0.8 * (2 * 8 + 32) / (8 * 16) + 0.01);
  });
});

describe('RotateKV', () => {
  it('the grouped-head rotation is orthogonal and its own inverse', () => {
    for (const n of [8, 32]) {
      const H = Array.from({ length: n }, (_, i) => {
        const e = new Float64Array(n);
        e[i] = 1;
        fwht(e, 0, n);
        return e;
      });
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
        let s = 0;
        for (let k = 0; k < n; k++) s += H[i][k] * H[j][k];
        expect(s).toBeCloseTo(i === j ? 1 : 0, 12);
      }
      const x = Float64Array.from({ length: n }, (_, i) => Math.sin(i + 1));
      const y = Float64Array.from(x);
      fwht(y, 0, n);
      fwht(y, 0, n);
      for (let i = 0; i < n; i++) expect(y[i]).toBeCloseTo(x[i], 12);
    }
    expect(() => fwht(new Float64Array(6), 0, 6)).toThrow(RangeError);
    expect(rotatekvHeadGroup({ nLayers: 1, nHeads: 8, nKvHeads: 4, headDim: 8 })).toBe(4);
    expect(rotatekvHeadGroup({ nLayers: 1, nHeads: 6, nKvHeads: 3, headDim: 32 })).toBe(1);
  });
  it('keeps the massive-activation sink tokens exact and quantizes the rest in the rotated, reordered domain', () => {
    const T = 96;
    const sc0 = preRopeScenario(T, 2);
    const residual = Float32Array.from({ length: T * 16 }, (_, i) => Math.sin(i) * 0.5);
    residual[0 * 16 + 3] = 80; // massive activations at tokens 0 and 17
    residual[17 * 16 + 9] = -95;
    const sc = { ...sc0, residual };
    const p = rotatekvPolicy({ bits: 2, model, pivots: 2 });
    const r = driveLayer(p, sc);
    const pivots = rotatekvPivots(residual, T, 2);
    expect([...pivots].sort((a, b) => a - b)).toEqual([0, 17]);
    const U = [0, 1].map((kv) => unrotatedKeys(r.cache.keys(kv), r.cache.positions(kv), 8));
    for (const t of [0, 17]) for (let kv = 0; kv < 2; kv++) for (let c = 0; c < 8; c++) {
      expect(U[kv][t * 8 + c]).toBeCloseTo(sc.keys[kv][t * 8 + c], 5);
      expect(r.cache.values(kv)[t * 8 + c]).toBe(sc.values![kv][t * 8 + c]);
    }
    // rotated (2 heads x 8 = 16-wide Hadamard), reordered: every 8-channel group of a token on <= 4 levels
    const rows = Array.from({ length: T }, (_, t) => {
      const x = new Float64Array(16);
      for (let kv = 0; kv < 2; kv++) for (let c = 0; c < 8; c++) x[kv * 8 + c] = sc.keys[kv][t * 8 + c];
      rotatekvRotate(x, 2, 8, 2);
      return x;
    });
    const ord = rotatekvOrder(rows, 16);
    for (let t = 1; t < T + 2; t++) {
      if (t === 17) continue;
      const x = new Float64Array(16);
      for (let kv = 0; kv < 2; kv++) for (let c = 0; c < 8; c++) x[kv * 8 + c] = U[kv][t * 8 + c];
      rotatekvRotate(x, 2, 8, 2);
      const perm = Float64Array.from(ord, (c) => x[c]);
      expect(distinctCount(perm, iota(8), 1e-4)).toBeLessThanOrEqual(4);
      expect(distinctCount(perm, iota(8, 8), 1e-4)).toBeLessThanOrEqual(4);
      for (let kv = 0; kv < 2; kv++) {
        const v = Float64Array.from(r.cache.values(kv).subarray(t * 8, t * 8 + 8));
        fwht(v, 0, 8);
        expect(distinctCount(v, iota(8), 1e-4)).toBeLessThanOrEqual(4);
      }
    }
  });
});

describe('GEAR', () => {
  const opts = { bits: 2, grouping: 'kivi' as const, group: 32, sparsity: 0.04, rank: 2, loops: 3, seed: 5 };
  it('X ~ D + L: sparse outliers exact in D, L of exactly the configured rank, D on the quantization grid', () => {
    const n = 64;
    const d = 8;
    const X = buildScenario({ T: n, amp: 1, seed: 3 }).keys[0];
    X[10 * d + 2] = 40;
    for (const kind of ['key', 'value'] as const) {
      for (const rank of [1, 2, 3]) {
        const b = gearCompress(X, n, d, kind, { ...opts, rank });
        expect(numericalRank(b.L, n, d, 1e-10)).toBe(rank);
        for (let i = 0; i < n * d; i++) expect(b.out[i]).toBeCloseTo(b.D[i] + b.L[i], 12);
        let outliers = 0;
        for (let i = 0; i < n * d; i++) if (b.outlier[i]) {
          outliers++;
          expect(b.D[i]).toBe(X[i]);
        }
        expect(b.outlier[10 * d + 2]).toBe(1);
        expect(outliers).toBe(kind === 'key' ? 2 * Math.round(0.02 * n) * d : 2 * Math.round(0.02 * n * d));
        // the non-outlier entries of D: 4 levels per channel per 32-token chunk (keys) / per token (values)
        if (kind === 'key') {
          for (let c = 0; c < d; c++) {
            const idx = [...strided(c, 32, d)].filter((i) => !b.outlier[i]);
            expect(distinctCount(b.D, idx, 1e-9)).toBeLessThanOrEqual(4);
          }
        } else {
          for (let t = 0; t < n; t++) {
            const idx = [...strided(t * d, d, 1)].filter((i) => !b.outlier[i]);
            expect(distinctCount(b.D, idx, 1e-9)).toBeLessThanOrEqual(4);
          }
        }
      }
    }
    // the low-rank term reduces the error of the quantized part
    const b = gearCompress(X, n, d, 'key', opts);
    let eD = 0;
    let eOut = 0;
    for (let i = 0; i < n * d; i++) {
      eD += (X[i] - b.D[i]) ** 2;
      eOut += (X[i] - b.out[i]) ** 2;
    }
    expect(eOut).toBeLessThan(eD);
  });
  it('the policy stores the prompt block as D + L of the prefill rank and streams later tokens by chunks', () => {
    const T = 80;
    const sc = { ...buildScenario({ T, steps: 20, amp: 1 }), values: buildScenario({ T, steps: 20, seed: 8, amp: 1 }).keys, stepValues: buildScenario({ T, steps: 20, seed: 8, amp: 1 }).stepKeys };
    const p = gearPolicy({ bits: 2, model, seed: 9 });
    const r = driveLayer(p, sc);
    expect(p.params.prefillRank).toBe(1);
    const want = gearCompress(sc.keys[1].subarray(0, 64 * 8), 64, 8, 'key', { bits: 2, grouping: 'kivi', group: 32, sparsity: 0.02, rank: 1, loops: 3, seed: mixSeed(9, 0, 1, 0, 0) });
    for (let i = 0; i < 64 * 8; i++) expect(r.cache.keys(1)[i]).toBeCloseTo(want.out[i], 5);
    // tokens 64..95 were compressed as one streamed chunk, 96..99 still wait in full precision
    for (let i = 96 * 8; i < 100 * 8; i++) expect(r.cache.keys(0)[i]).toBe(sc.stepKeys![0][i - T * 8]);
    expect(r.cache.keys(0)[70 * 8]).not.toBe(sc.keys[0][70 * 8]);
    expect(gearPolicy({ bits: 2, model }).memoryRatio!(448, 8)).toBeLessThan(gearPolicy({ bits: 4, model }).memoryRatio!(448, 8));
  });
});

describe('BFP with K-sort', () => {
  it('sorts RoPE pairs by the W_k row norms so the outlier channels share blocks; each block shares one exponent', () => {
    const dim = 16;
    const T = 64;
    const big = new Set([2, 3, 6, 7]); // pairs 1 and 3 are outlier channels
    const wk = Float32Array.from({ length: 16 * dim }, (_, i) => {
      const row = Math.floor(i / dim) % 8;
      return (big.has(row) ? 30 : 1) * Math.sin(i * 0.37 + 1);
    });
    const ord = Array.from(ksortOrder(wk, dim, 0, 8));
    expect(new Set(ord.slice(0, 4))).toEqual(big);
    for (let i = 0; i < 8; i += 2) expect(ord[i + 1]).toBe(ord[i] + 1);
    const sc0 = buildScenario({ T, amp: 1 });
    const keys = sc0.keys.map((K) => Float32Array.from(K, (v, i) => (big.has(i % 8) ? 30 * v : v)));
    const sc = { ...sc0, keys, projection: { wk, wv: wk, dim } };
    const err = (sort: boolean) => {
      const r = driveLayer(bfpKsortPolicy({ model, sort }), sc);
      let e = 0;
      for (let kv = 0; kv < 2; kv++) for (let i = 0; i < T * 8; i++) if (!big.has(i % 8)) e += (r.cache.keys(kv)[i] - keys[kv][i]) ** 2;
      return { e, r };
    };
    const sorted = err(true);
    const plain = err(false);
    expect(sorted.e).toBeLessThan(0.25 * plain.e);
    // one shared exponent per block: every value is an integer multiple (|q| <= 7) of the block's step
    const K = sorted.r.cache.keys(0);
    for (let t = 0; t < T; t++) for (const blk of [ord.slice(0, 4), ord.slice(4)]) {
      const orig = blk.map((c) => keys[0][t * 8 + c]);
      const e = Math.floor(Math.log2(Math.max(...orig.map(Math.abs)))) + 1;
      const step = 2 ** (e - 3);
      for (const c of blk) {
        const q = K[t * 8 + c] / step;
        expect(Math.abs(q - Math.round(q))).toBeLessThan(1e-4);
        expect(Math.abs(q)).toBeLessThanOrEqual(7);
      }
    }
    expect(bfpKsortPolicy({ model }).memoryRatio!(448, 8)).toBeCloseTo((4 + 2 + 8 + 2) / 32, 12);
  });
});
