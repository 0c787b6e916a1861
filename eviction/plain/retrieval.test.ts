import { describe, expect, it } from 'vitest';
import { keyRotaryOf } from '../../models/key-rotary.js';
import { RopeTable } from '../../models/rope.js';
import { resolveBudget, type ModelShape } from '../policy.js';
import { cskvPolicy, densityRank, leftSingularBasis } from './cskv.js';
import { leadingColumns, numericalRank, projectRow } from './linalg.js';
import { matryoshkaKvPolicy, pcaBasis } from './matryoshkakv.js';
import { shadowkvPolicy, shadowkvSplit } from './shadowkv.js';
import { driveLayer, type LayerScenario } from './testing/array-cache.js';
import { buildScenario } from './testing/scenarios.js';

const model: ModelShape = { nLayers: 2, nHeads: 4, nKvHeads: 2, headDim: 8 };
const rotary = keyRotaryOf(new RopeTable(8, 10000));

/** Pre-RoPE scenario with a needle on the slowest-rotating pair (channel 6) that decode queries look for. */
function needleScenario(T: number, steps: number, pos: number, strength = 6): LayerScenario {
  const sc = buildScenario({ T, steps, amp: 0.5, seed: 11 });
  for (const K of sc.keys) K[pos * 8 + 6] += strength;
  for (const Q of sc.stepQueries!) for (let s = 0; s < steps; s++) Q[s * 8 + 6] += 2;
  const v = buildScenario({ T, steps, amp: 0.5, seed: 12 });
  return { ...sc, rotary, values: v.keys, stepValues: v.stepKeys };
}

function unrotated(K: Float32Array, positions: Int32Array): Float32Array {
  const out = Float32Array.from(K);
  for (let i = 0; i < positions.length; i++) rotary.unrotate(out, i * 8, positions[i]);
  return out;
}

describe('ShadowKV', () => {
  it('reads only the selected chunks, the outlier chunks, the local window and generated tokens', () => {
    const T = 256;
    const steps = 3;
    const sc = needleScenario(T, steps, 50);
    const split = shadowkvSplit(128, 8);
    expect(split).toEqual({ local: 4, outliers: 1, selected: 11 });
    const r = driveLayer(shadowkvPolicy({ budget: { ratio: 0.5 }, model }), sc);
    r.attendedPositions.forEach((step, s) => {
      for (const a of step) {
        expect(a.length).toBe(32 + s + 1 + 8 + 88);
        const set = new Set(a);
        for (let t = 224; t <= T + s; t++) expect(set.has(t)).toBe(true);
        expect(set.has(50)).toBe(true);
        // whole chunks only
        for (const t of a) if (t < 224) for (let u = t - (t % 8); u < t - (t % 8) + 8; u++) expect(set.has(u)).toBe(true);
      }
    });
  });
  it('keys of landmarked chunks are rank-r reconstructions of the PRE-RoPE keys; local and outlier chunks exact', () => {
    const T = 256;
    const sc = needleScenario(T, 1, 50);
    const r = driveLayer(shadowkvPolicy({ budget: { ratio: 0.5 }, model }), sc);
    const U = [0, 1].map((kv) => unrotated(r.cache.keys(kv), r.cache.positions(kv)));
    const exact = (kv: number, t: number) => Array.from({ length: 8 }, (_, i) => Math.abs(U[kv][t * 8 + i] - sc.keys[kv][t * 8 + i]) < 1e-4).every(Boolean);
    for (let kv = 0; kv < 2; kv++) for (let t = 224; t < T; t++) expect(exact(kv, t)).toBe(true);
    // one outlier chunk per head: exact; all other prompt chunks changed
    for (let kv = 0; kv < 2; kv++) {
      const exactChunks = Array.from({ length: 28 }, (_, c) => c).filter((c) => exact(kv, c * 8) && exact(kv, c * 8 + 5));
      expect(exactChunks.length).toBe(1);
    }
    const rows: number[] = [];
    for (let t = 0; t < 224; t++) if (!exact(0, t) && !exact(1, t)) rows.push(t);
    expect(rows.length).toBeGreaterThanOrEqual(224 - 16);
    const joint = new Float64Array(rows.length * 16);
    rows.forEach((t, j) => {
      for (let kv = 0; kv < 2; kv++) for (let i = 0; i < 8; i++) joint[j * 16 + kv * 8 + i] = U[kv][t * 8 + i];
    });
    expect(numericalRank(joint, rows.length, 16, 1e-9)).toBe(Math.round((160 / 1024) * 16));
  });
});

describe('CSKV', () => {
  it('projects the pre-RoPE keys (layer-joint) and values onto the top singular vectors of W_k / W_v with the configured rank; the newest window stays full size', () => {
    const T = 100;
    const steps = 30;
    const sc0 = needleScenario(T, steps, 20);
    const dim = 12;
    const wk = Float32Array.from({ length: 16 * dim }, (_, i) => Math.sin(1 + i * 0.71) * (1 + (i % 5)));
    const wv = Float32Array.from({ length: 16 * dim }, (_, i) => Math.cos(2 + i * 0.53));
    const sc = { ...sc0, projection: { wk, wv, dim } };
    for (const ratio of [0.1, 0.25, 0.5]) {
      const r = driveLayer(cskvPolicy({ budget: { ratio }, model }), sc);
      const rank = densityRank(resolveBudget({ ratio }, T) / T, 16);
      const U = [0, 1].map((kv) => unrotated(r.cache.keys(kv), r.cache.positions(kv)));
      const n = T + steps; // 130: windows [0, 128) compressed, [128, 130) full size
      const joint = (A: Float32Array[], rows: number[]) => {
        const m = new Float64Array(rows.length * 16);
        rows.forEach((t, j) => {
          for (let kv = 0; kv < 2; kv++) for (let i = 0; i < 8; i++) m[j * 16 + kv * 8 + i] = A[kv][t * 8 + i];
        });
        return m;
      };
      const old = Array.from({ length: 128 }, (_, t) => t);
      expect(numericalRank(joint(U, old), 128, 16, 1e-9)).toBe(rank);
      expect(numericalRank(joint([r.cache.values(0), r.cache.values(1)], old), 128, 16, 1e-9)).toBe(rank);
      // the compressed keys lie in the span of W_k's top left singular vectors
      const B = leftSingularBasis(wk, 16, dim, rank);
      const k0 = joint(U, [5]);
      const pk = Float64Array.from(k0);
      projectRow(pk, 0, B, 16, rank);
      for (let i = 0; i < 16; i++) expect(pk[i]).toBeCloseTo(k0[i], 4);
      for (let t = 128; t < n; t++) for (let kv = 0; kv < 2; kv++) for (let i = 0; i < 8; i++) expect(U[kv][t * 8 + i]).toBeCloseTo(sc.stepKeys![kv][(t - T) * 8 + i], 4);
      expect(cskvPolicy({ budget: { ratio }, model }).memoryRatio!(448, 8)).toBeCloseTo((448 * 2 * densityRank(ratio, 16) + 0) / (2 * 448 * 16), 1);
    }
  });
});

describe('MatryoshkaKV', () => {
  it('projects each head onto its leading principal directions with the configured rank; smaller ranks are prefixes (nested)', () => {
    const T = 120;
    const sc = needleScenario(T, 4, 30);
    for (const ratio of [0.1, 0.25, 0.5]) {
      const rank = densityRank(resolveBudget({ ratio }, T) / T, 8);
      const r = driveLayer(matryoshkaKvPolicy({ budget: { ratio }, model }), sc);
      for (let kv = 0; kv < 2; kv++) {
        expect(numericalRank(r.cache.keys(kv), T + 4, 8, 1e-9)).toBe(rank);
        expect(numericalRank(r.cache.values(kv), T + 4, 8, 1e-9)).toBe(rank);
      }
    }
    // nesting: the rank-1 basis is the first column of the rank-4 basis
    const K = driveLayer({}, sc).cache.keys(0);
    const U = pcaBasis(K, T, 8);
    const b1 = leadingColumns(U, 8, 1);
    const b4 = leadingColumns(U, 8, 4);
    for (let i = 0; i < 8; i++) expect(b1[i]).toBe(b4[i * 4]);
    for (let i = 0; i < 8; i++) for (let j = 0; j < 8; j++) {
      let s = 0;
      for (let k = 0; k < 8; k++) s += U[k * 8 + i] * U[k * 8 + j];
      expect(s).toBeCloseTo(i === j ? 1 : 0, 10);
    }
  });
});
