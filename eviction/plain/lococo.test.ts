import { describe, expect, it } from 'vitest';
import { resolveBudget, type ModelShape } from '../policy.js';
import { calibrateLococoLayer, lococoLossGrad, prepareEvent, type LococoEvent } from './lococo-calibrate.js';
import { lococoFuse, lococoKernelsFor, lococoPolicy, type LococoKernel } from './lococo.js';
import { noise, driveLayer } from './testing/array-cache.js';
import { buildScenario } from './testing/scenarios.js';

const model: ModelShape = { nLayers: 2, nHeads: 4, nKvHeads: 2, headDim: 8 };

function kernelOf(seed: number, K = 5, d = 8): LococoKernel {
  return { kernel: K, w: Array.from(noise(2 * d * K, seed, 0.5)), u: Array.from(noise(K, seed + 1, 0.5)), logitLambda: 0.3 };
}

function eventOf(seed: number, n = 60, M = 12, d = 8): LococoEvent {
  return {
    d,
    n,
    M,
    keys: Float64Array.from(noise(n * d, seed, 1)),
    values: Float64Array.from(noise(n * d, seed + 1, 1)),
    acc: Float64Array.from(noise(n, seed + 2, 1), (v) => v + 2),
    queries: [0, 1, 2].map((i) => Float64Array.from(noise(d, seed + 10 + i, 1.5))),
  };
}

describe('LoCoCo', () => {
  it('squeezes the cache to the fixed size M at prefill and whenever it exceeds M + buffer; nothing else is read', () => {
    const T = 128;
    const steps = 12;
    const v = buildScenario({ T, steps, seed: 3, amp: 0.5 });
    const sc = { ...buildScenario({ T, steps, amp: 0.5 }), values: v.keys, stepValues: v.stepKeys };
    for (const ratio of [0.05, 0.1, 0.2, 0.5]) {
      const M = resolveBudget({ ratio }, T);
      for (const buffer of [0, 4]) {
        const r = driveLayer(lococoPolicy({ budget: { ratio }, model, kernels: [kernelOf(1), kernelOf(2)], buffer }), sc);
        // step s reads the memory plus the tokens since the last squeeze (the cycle M+1 .. M+buffer+1)
        r.attendedPositions.forEach((step, s) => {
          for (const a of step) expect(a.length).toBe(M + 1 + (s % (buffer + 1)));
        });
        for (let kv = 0; kv < 2; kv++) expect(r.cache.length(kv)).toBe(M + (steps % (buffer + 1)));
      }
      const p = driveLayer(lococoPolicy({ budget: { ratio }, model, kernels: [kernelOf(1), kernelOf(2)] }), { ...sc, steps: 0 });
      for (let kv = 0; kv < 2; kv++) expect(p.cache.length(kv)).toBe(M);
    }
  });
  it('a slot is a convex combination of the evicted entries around its anchor; lambda = 0 leaves the anchor itself', () => {
    const n = 40;
    const d = 8;
    const kE = Float64Array.from(noise(n * d, 5, 1));
    const vE = Float64Array.from(noise(n * d, 6, 1));
    const anchors = Int32Array.from([3, 10, 20, 39]);
    const k = kernelOf(7);
    const f = lococoFuse(kE, vE, n, d, anchors, k, 0.6);
    anchors.forEach((a, m) => {
      let s = 0;
      for (let t = 0; t < n; t++) {
        const w = f.W[m * n + t];
        expect(w).toBeGreaterThanOrEqual(0);
        if (Math.abs(t - a) > 2) expect(w).toBe(0);
        s += w;
      }
      expect(s).toBeCloseTo(1, 12);
    });
    const f0 = lococoFuse(kE, vE, n, d, anchors, k, 0);
    anchors.forEach((a, m) => {
      for (let i = 0; i < d; i++) expect(f0.K[m * d + i]).toBeCloseTo(kE[a * d + i], 12);
    });
  });
  it('the calibration gradient matches finite differences, and the calibration lowers the loss', () => {
    const ev = eventOf(11);
    const pe = prepareEvent(ev, 0.5);
    const k = kernelOf(13);
    const g = lococoLossGrad(pe, k);
    const eps = 1e-6;
    const at = (mod: (kk: { w: number[]; u: number[]; logitLambda: number }) => void) => {
      const kk = { kernel: k.kernel, w: [...k.w], u: [...k.u], logitLambda: k.logitLambda };
      mod(kk);
      return lococoLossGrad(pe, kk).loss;
    };
    for (const i of [0, 7, 33, 51, 79]) expect(g.w[i]).toBeCloseTo((at((kk) => (kk.w[i] += eps)) - at((kk) => (kk.w[i] -= eps))) / (2 * eps), 5);
    for (const i of [0, 2, 4]) expect(g.u[i]).toBeCloseTo((at((kk) => (kk.u[i] += eps)) - at((kk) => (kk.u[i] -= eps))) / (2 * eps), 5);
    expect(g.logitLambda).toBeCloseTo((at((kk) => (kk.logitLambda += eps)) - at((kk) => (kk.logitLambda -= eps))) / (2 * eps), 5);
    const r = calibrateLococoLayer([eventOf(21), eventOf(22), eventOf(23)], 8, { kernel: 5, steps: 40, lr: 0.05, hhKeepRate: 0.5 });
    expect(r.lossEnd).toBeLessThan(r.lossStart);
  });
  it('uses the committed calibration by model shape, and lambda = 0 (no fusion) for an uncalibrated one', () => {
    expect(lococoKernelsFor({ nLayers: 3, nHeads: 3, nKvHeads: 1, headDim: 2 })).toBeUndefined();
    expect(lococoPolicy({ budget: { ratio: 0.1 }, model: { nLayers: 3, nHeads: 3, nKvHeads: 1, headDim: 2 } }).params.calibrated).toBe(false);
  });
});
