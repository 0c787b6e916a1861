import { describe, expect, it } from 'vitest';
import { keyRotaryOf } from '../../models/key-rotary.js';
import { RopeTable } from '../../models/rope.js';
import type { PrefillContext } from '../../models/attention-hooks.js';
import { resolveBudget, type ModelShape } from '../policy.js';
import { activationProbe, actqkvPolicy, dynamicCutoff } from './actqkv.js';
import { infllmPolicy } from './infllm.js';
import { a2atsEncode, a2atsHead, a2atsPolicy, a2atsSplit, windowedQuery } from './a2ats.js';
import { cskvPolicy, densityRank, leftSingularBasis } from './cskv.js';
import { leadingColumns, numericalRank, projectRow, topRightSingular } from './linalg.js';
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
    const rank = Math.round((160 / 1024) * 16);
    expect(numericalRank(joint, rows.length, 16, 1e-9)).toBe(rank);
    // and they are the projections of the PRE-RoPE keys on the top right singular vectors of the prompt's pre-RoPE keys
    const pre = new Float64Array(T * 16);
    for (let t = 0; t < T; t++) for (let kv = 0; kv < 2; kv++) for (let i = 0; i < 8; i++) pre[t * 16 + kv * 8 + i] = sc.keys[kv][t * 8 + i];
    const basis = topRightSingular(pre, T, 16, rank);
    rows.slice(0, 20).forEach((t, j) => {
      const p = pre.slice(t * 16, t * 16 + 16);
      projectRow(p, 0, basis, 16, rank);
      for (let i = 0; i < 16; i++) expect(joint[j * 16 + i]).toBeCloseTo(p[i], 4);
    });
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
      // a compressed key is the projection of its PRE-RoPE key onto W_k's top left singular vectors
      const B = leftSingularBasis(wk, 16, dim, rank);
      for (const t of [0, 5, 77, 99, 110]) {
        const pre = joint(t < T ? sc.keys : sc.stepKeys!.map((K) => K.subarray((t - T) * 8)), [t < T ? t : 0]);
        projectRow(pre, 0, B, 16, rank);
        const got = joint(U, [t]);
        for (let i = 0; i < 16; i++) expect(got[i]).toBeCloseTo(pre[i], 4);
      }
      for (let t = 128; t < n; t++) for (let kv = 0; kv < 2; kv++) for (let i = 0; i < 8; i++) expect(U[kv][t * 8 + i]).toBeCloseTo(sc.stepKeys![kv][(t - T) * 8 + i], 4);
      // right after the prefill the prompt's last, incomplete window (96..99) is still full size
      const p0 = driveLayer(cskvPolicy({ budget: { ratio }, model }), { ...sc, steps: 0 });
      const U0 = [0, 1].map((kv) => unrotated(p0.cache.keys(kv), p0.cache.positions(kv)));
      for (let t = 96; t < T; t++) for (let kv = 0; kv < 2; kv++) for (let i = 0; i < 8; i++) expect(U0[kv][t * 8 + i]).toBeCloseTo(sc.keys[kv][t * 8 + i], 4);
      expect(numericalRank(joint(U0, Array.from({ length: 96 }, (_, t) => t)), 96, 16, 1e-9)).toBe(rank);
      expect(cskvPolicy({ budget: { ratio }, model }).memoryRatio!(448, 8)).toBeCloseTo((448 * 2 * densityRank(ratio, 16) + 0) / (2 * 448 * 16), 1);
    }
  });
});

describe('MatryoshkaKV', () => {
  it('projects each head onto its leading principal directions (centered) with the configured rank; smaller ranks are prefixes (nested)', () => {
    const T = 120;
    const sc = needleScenario(T, 4, 30);
    const base = driveLayer({}, sc).cache;
    for (const ratio of [0.1, 0.25, 0.5]) {
      const rank = densityRank(resolveBudget({ ratio }, T) / T, 8);
      const r = driveLayer(matryoshkaKvPolicy({ budget: { ratio }, model }), sc);
      for (let kv = 0; kv < 2; kv++) {
        for (const A of ['keys', 'values'] as const) {
          const { mean } = pcaBasis(base[A](kv), T, 8);
          const c = Float64Array.from(r.cache[A](kv), (v, i) => v - mean[i % 8]);
          expect(numericalRank(c, T + 4, 8, 1e-9)).toBe(rank);
        }
      }
    }
    // nesting: the rank-1 basis is the first column of the rank-4 basis; U is orthogonal
    const { U } = pcaBasis(base.keys(0), T, 8);
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

describe('A^2ATS', () => {
  it('windowed RoPE: the approximate score ignores a key\'s position; query-aware VQ: codes minimise the H-weighted error', () => {
    const T = 160;
    const sc = needleScenario(T, 1, 30);
    sc.keys[0].copyWithin(120 * 8, 10 * 8, 11 * 8); // token 120 has token 10's pre-RoPE key
    for (const Q of sc.queries) for (let t = 0; t < T; t++) (Q[t * 8] *= 8), (Q[t * 8 + 1] *= 8); // anisotropic queries: H is far from the identity
    let ctx: PrefillContext | undefined;
    driveLayer({ onPrefill: (c) => void (ctx = c) }, sc);
    const windowed: Float32Array[] = [];
    for (const h of [0, 1]) for (let t = 0; t < T; t++) windowed.push(windowedQuery(ctx!.queries[h].subarray(t * 8, t * 8 + 8), t, 80, rotary));
    // the windowed query equals RoPE(q_pre, 80) whatever the position it came from
    const w = windowedQuery(ctx!.queries[0].subarray(50 * 8, 51 * 8), 50, 80, rotary);
    const direct = Float32Array.from(sc.queries[0].subarray(50 * 8, 51 * 8));
    rotary.rotate(direct, 0, 80);
    for (let i = 0; i < 8; i++) expect(w[i]).toBeCloseTo(direct[i], 5);
    const head = a2atsHead(sc.keys[0], T, 8, windowed, 16, 10, 3);
    expect(head.codes[120]).toBe(head.codes[10]);
    // H from the windowed queries, independently of the policy's
    const Hq = new Float64Array(64);
    for (const q of windowed) for (let a = 0; a < 8; a++) for (let b = 0; b < 8; b++) Hq[a * 8 + b] += q[a] * q[b];
    for (const t of [0, 10, 77, 150]) {
      const k = sc.keys[0].subarray(t * 8, t * 8 + 8);
      const err = (j: number) => {
        let s = 0;
        for (let a = 0; a < 8; a++) for (let b = 0; b < 8; b++) s += (k[a] - head.cHat[j * 8 + a]) * Hq[a * 8 + b] * (k[b] - head.cHat[j * 8 + b]);
        return s;
      };
      const errs = Array.from({ length: 16 }, (_, j) => err(j));
      expect(err(head.codes[t])).toBeLessThanOrEqual(Math.min(...errs) * (1 + 1e-6) + 1e-9);
      expect(a2atsEncode(head, k, 8)).toBe(head.codes[t]);
    }
  });
  it('reads the sinks, the local window and the union of each query head\'s top-k; finds the needle', () => {
    const T = 256;
    const sc = needleScenario(T, 3, 60, 10);
    const r = driveLayer(a2atsPolicy({ budget: { ratio: 0.25 }, model }), sc);
    const { sinks, local, k } = a2atsSplit(64, 2);
    expect({ sinks, local, k }).toEqual({ sinks: 8, local: 16, k: 20 });
    r.attendedPositions.forEach((step, s) => {
      const n = T + s + 1;
      for (const a of step) {
        const set = new Set(a);
        expect(a.length).toBeLessThanOrEqual(64);
        expect(a.length).toBeGreaterThan(sinks + local + k - 1);
        for (let t = 0; t < sinks; t++) expect(set.has(t)).toBe(true);
        for (let t = n - local; t < n; t++) expect(set.has(t)).toBe(true);
        expect(set.has(60)).toBe(true);
      }
      expect(Array.from(step[0])).toEqual(Array.from(step[1])); // one set per KV head
    });
  });
});

describe('ActQKV', () => {
  it('the probe is the activation-bias weighted window: an anchor query dominates it', () => {
    const win = Array.from({ length: 20 }, (_, t) => Float32Array.from({ length: 8 }, (_, j) => 0.1 * Math.sin(t * 3 + j)));
    win[7] = Float32Array.from({ length: 8 }, (_, j) => (j === 2 ? 5 : 0.1));
    const p = activationProbe(win, 8);
    const mean = new Float64Array(8);
    for (const q of win) for (let j = 0; j < 8; j++) mean[j] += q[j] / 20;
    expect(p[2]).toBeGreaterThan(4 * mean[2]);
  });
  it('dynamic cut-off: a flat block-score distribution keeps more blocks, a peaked one drops to Kmin', () => {
    const sig = 2 / (1 + Math.exp(-10 * (Math.log(40) - Math.log(41))));
    expect(dynamicCutoff(new Float64Array(40), 20)).toBe(Math.round(6 + 14 * Math.exp(10 * (sig - 1))));
    expect(dynamicCutoff(new Float64Array(40), 20)).toBeGreaterThan(6);
    const peaked = Float64Array.from({ length: 40 }, (_, i) => (i === 3 ? 50 : 0));
    expect(dynamicCutoff(peaked, 20)).toBe(6);
    expect(dynamicCutoff(peaked, 4)).toBe(4);
  });
  it('retrieves the block an anchor query of the window points at, which the current query alone (InfLLM) misses', () => {
    const T = 256;
    const sc = buildScenario({ T, steps: 2, amp: 0.3, seed: 4 });
    for (const K of sc.keys) K[60 * 8] += 6;
    for (const Q of sc.queries) Q[(T - 3) * 8] += 8; // one anchor query in the probe window
    const act = driveLayer(actqkvPolicy({ budget: { ratio: 0.25 }, model }), sc);
    const inf = driveLayer(infllmPolicy({ budget: { ratio: 0.25 }, model, blockSize: 16 }), sc);
    for (const a of act.attendedPositions[0]) expect(Array.from(a)).toContain(60);
    expect(inf.attendedPositions[0].some((a) => !Array.from(a).includes(60))).toBe(true);
    for (const step of act.attendedPositions) for (const a of step) expect(a.length).toBeLessThanOrEqual(64 + 1);
  });
});
