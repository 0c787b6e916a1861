/**
 * mpcache-paper reproduces the authors' selections on fixed vectors. Every expected value
 * below was derived by hand from their code's rules (mpcache-paper.ts header, P1-P11), not
 * by running the implementation.
 */
import { describe, expect, it } from 'vitest';
import type { PrefillContext, StepContext } from '../../models/attention-hooks.js';
import {
  mpcachePaperPolicy,
  paperGroupReps,
  paperKeepThreshold,
  paperKeepTopK,
  paperStaticScores,
  paperTwoLevelSelect,
  paperWindowSize,
  pyInt,
} from './mpcache-paper.js';
import { ArrayLayerCache } from './testing/array-cache.js';

/** n rows of d = 2 keys: first coordinate from `vals` (default 0), second 0. */
function keys2(n: number, vals: Record<number, number> = {}): Float32Array {
  const k = new Float32Array(n * 2);
  for (const [r, v] of Object.entries(vals)) k[Number(r) * 2] = v;
  return k;
}
const Q = [1, 0];
const asArr = (a: ArrayLike<number>) => Array.from(a);
const range = (lo: number, hi: number) => Array.from({ length: hi - lo }, (_, i) => lo + i);

describe('mpcache-paper: Python int() and the observation window (P1)', () => {
  it('int() truncates the float product (no + 1e-9)', () => {
    expect(100 * 0.29).toBeLessThan(29); // 28.999999999999996 in float64, as in Python
    expect(pyInt(100 * 0.29)).toBe(28);
    expect(Math.floor(100 * 0.29 + 1e-9)).toBe(29); // the project's former rule
    expect(pyInt(6 * 0.2)).toBe(1); // 1.2000000000000002
    expect(pyInt(15 * 0.2)).toBe(3); // 3.0000000000000004
  });
  it('window = int(0.2 T), int(0.1 T) above 24,000, all queries when int() gives 0', () => {
    expect(paperWindowSize(512)).toBe(102);
    expect(paperWindowSize(10)).toBe(2);
    expect(paperWindowSize(7)).toBe(1);
    expect(paperWindowSize(4)).toBe(4); // int(0.8) = 0 and q[-0:] is every query
    expect(paperWindowSize(30000)).toBe(3000);
  });
});

describe('mpcache-paper: static eviction (P2, P3)', () => {
  // T = 10, d = 2, two query heads on one KV head. Keys k_j = [ln c_j, 0] with c_3 = 4,
  // c_9 = 2, c_j = 1 otherwise. Window = int(0.2 * 10) = 2 queries (rows 8, 9).
  // head 0: row 8 = [2, 0] -> exp logits c_j^2 = 1.., 16 at 3, 4 at 9 (sum 28);
  //         row 9 = [1, 0] -> c_j (sum 14). head 1: rows 8, 9 = [0, 0] -> uniform 1/10.
  // No causal mask: row 8 scores key 9. Head mean, then max over rows 8 and 9:
  //   j = 3: max((16/28 + 0.1)/2, (4/14 + 0.1)/2) = (16/28 + 0.1)/2 = 0.3357142857
  //   j = 9: (4/28 + 0.1)/2 = (2/14 + 0.1)/2 = 0.1214285714 (a tie between the two rows)
  //   other: max((1/28 + 0.1)/2, (1/14 + 0.1)/2) = (1/14 + 0.1)/2 = 0.0857142857
  const T = 10;
  const K = new Float32Array(T * 2);
  K[3 * 2] = Math.log(4);
  K[9 * 2] = Math.log(2);
  const Q0 = new Float32Array(T * 2);
  Q0[8 * 2] = 2;
  Q0[9 * 2] = 1;
  const Q1 = new Float32Array(T * 2);
  const sc = paperStaticScores([Q0, Q1], [K], T, 2, paperWindowSize(T));
  it('scores: max over the window of the head-mean unscaled, unmasked softmax', () => {
    expect(sc[3]).toBeCloseTo((16 / 28 + 0.1) / 2, 6);
    expect(sc[9]).toBeCloseTo((2 / 14 + 0.1) / 2, 6);
    for (const j of [0, 1, 2, 4, 5, 6, 7, 8]) expect(sc[j]).toBeCloseTo((1 / 14 + 0.1) / 2, 6);
  });
  it('threshold: keeps what reaches tau, the observation window is not forced in', () => {
    expect(asArr(paperKeepThreshold(sc, 0.1))).toEqual([3, 9]); // rows 8 (window) evicted
    expect(asArr(paperKeepThreshold(sc, 0.3))).toEqual([3]);
  });
  it('public count: the best scores, ties to the lower index', () => {
    expect(asArr(paperKeepTopK(sc, 3))).toEqual([0, 3, 9]);
    expect(asArr(paperKeepTopK(sc, 4))).toEqual([0, 1, 3, 9]);
  });
});

describe('mpcache-paper: two-level selection (P6-P10)', () => {
  it('the last group stands for the last 32 / 16 rows (padding copies the rows before it)', () => {
    // n = 70: level-1 groups [0,32) [32,64) and the last 32 rows [38,70); a key of 10 on row 40
    const r = paperGroupReps(keys2(70, { 40: 10 }), 70, 2, 32);
    expect(r.G).toBe(3);
    expect([r.rmax[0], r.rmax[2], r.rmax[4]]).toEqual([0, 10, 10]);
  });
  it('n = 80 (n % 32 != 0): first and last groups are ADDED to the top k at both levels', () => {
    // G1 = 3, k1 = int(1.5) = 1; sims (q = [1, 0], alpha 0.6): g1 = 0.6*10 = 6, g0 = g2 = 0 -> top {1}, + {0, 2}.
    // G2 = 5, candidates {0..4} (child 5 clamped to 4), k2 = int(1.0) = 1 -> b2 (6), + {0, 4}.
    const s = paperTwoLevelSelect(Q, keys2(80, { 40: 10 }), 80, 2);
    expect(asArr(s.level1)).toEqual([0, 1, 2]);
    expect(asArr(s.level2)).toEqual([0, 2, 4]);
    expect(asArr(s.tokens)).toEqual([...range(0, 16), ...range(32, 48), ...range(64, 80)]);
  });
  it('n = 96 (n % 32 == 0): the last group is not forced, the newest token is left out', () => {
    // G1 = 3, k1 = 1 -> {1} + {0}; G2 = 6, candidates {0,1,2,3}, k2 = int(1.2000000000000002) = 1 -> b2, + {0}
    const s = paperTwoLevelSelect(Q, keys2(96, { 40: 10 }), 96, 2);
    expect(asArr(s.level1)).toEqual([0, 1]);
    expect(asArr(s.level2)).toEqual([0, 2]);
    expect(asArr(s.tokens)).toEqual([...range(0, 16), ...range(32, 48)]);
  });
  it('n = 80 with n % 16 == 0 but n % 32 != 0 still forces the last level-2 group (the 32 test at both levels)', () => {
    const s = paperTwoLevelSelect(Q, keys2(80), 80, 2);
    expect(asArr(s.level2)).toContain(4);
  });
  it('partial last groups overlap their predecessor: n = 70, needle on row 40', () => {
    // level 1: g1 = [32,64) and g2 = [38,70) both hold row 40 (sim 6): tie -> g1; + {0, 2} (70 % 32 = 6)
    // level 2: b2 = [32,48) sim 6, b4 = [54,70); candidates {0,1,2,3,4}; k2 = int(5 * 0.2) = 1 -> b2; + {0, 4}
    const s = paperTwoLevelSelect(Q, keys2(70, { 40: 10 }), 70, 2);
    expect(asArr(s.level1)).toEqual([0, 1, 2]);
    expect(asArr(s.level2)).toEqual([0, 2, 4]);
    expect(asArr(s.tokens)).toEqual([...range(0, 16), ...range(32, 48), ...range(54, 70)]);
  });
  it('ties everywhere go to the lower index', () => {
    // all keys 0: level 1 top-1 = g0 (tie), + {0, 2} -> {0, 2}; candidates {0, 1, 4}; top-1 = b0, + {0, 4}
    const s = paperTwoLevelSelect(Q, keys2(80), 80, 2);
    expect(asArr(s.level1)).toEqual([0, 2]);
    expect(asArr(s.level2)).toEqual([0, 4]);
  });
  it('the similarity mixes max and min: 0.6 r_max + 0.4 r_min', () => {
    // n = 64: b1 rows [16,32) has +10 and -10 -> 0.6*10 - 0.4*10 = 2; b3 rows [48,64) has +3 -> 1.8.
    // G1 = 2, k1 = int(1.0) = 1: g0 (max 10, min -10 -> 2) vs g1 (max 3, min 0 -> 1.8) -> {0}; 64 % 32 = 0: no last.
    // candidates {0, 1}; G2 = 4, k2 = int(0.8) = 0 -> {} + {0}: the first group only.
    const k = keys2(64, { 20: 10, 21: -10, 50: 3 });
    const s = paperTwoLevelSelect(Q, k, 64, 2);
    expect(asArr(s.level1)).toEqual([0]);
    expect(asArr(s.level2)).toEqual([0]);
    const s2 = paperTwoLevelSelect(Q, k, 64, 2, { ratio2: 0.5 }); // k2 = 2 -> b1 (2) and b0 (0) -> {0, 1}
    expect(asArr(s2.level2)).toEqual([0, 1]);
  });
});

describe('mpcache-paper policy: layer sharing reuses the kept set and the selection (P11)', () => {
  const model = { nLayers: 6, nHeads: 2, nKvHeads: 1, headDim: 2 };
  const T = 200;
  function layer(l: number, seed: number): { cache: ArrayLayerCache; ctx: PrefillContext } {
    const cache = new ArrayLayerCache(l, 2, 1, 2);
    const q: Float32Array[] = [new Float32Array(T * 2), new Float32Array(T * 2)];
    for (let t = 0; t < T; t++) {
      const key = [Math.sin(t * seed), Math.cos(t * 1.7 + seed)];
      cache.append(0, t, key, key);
      q[0].set([Math.cos(t + seed), Math.sin(t * 0.3)], t * 2);
      q[1].set([Math.sin(t * 0.7 + seed), 1], t * 2);
    }
    return { cache, ctx: { layer: l, length: T, cache, queries: q, probs: [] } };
  }
  it('layer 3 keeps layer 2 positions and reads the same rows; layer 2 and layer 4 decide for themselves', () => {
    const p = mpcachePaperPolicy({ budget: { ratio: 0.1 }, model });
    const layers = [0, 1, 2, 3, 4, 5].map((l) => layer(l, 1 + l * 0.37));
    for (const { ctx } of layers) p.onPrefill?.(ctx);
    const pos = layers.map(({ cache }) => asArr(cache.positions(0)));
    expect(pos[2].length).toBe(pyInt(20 / 0.2)); // Bs = int(B / ratio2) = 100
    expect(pos[3]).toEqual(pos[2]);
    expect(pos[5]).not.toEqual(pos[4]); // the last two layers compute their own
    const sel: (readonly (Int32Array | undefined)[] | undefined)[] = [];
    for (const { cache } of layers) {
      cache.append(0, T, [0.5, -0.5], [0, 0]);
      const ctx: StepContext = { layer: cache.layer, step: 0, position: T, cache, query: [Float32Array.from([1, 0.2]), Float32Array.from([-0.3, 1])] };
      sel.push(p.selectForStep?.(ctx));
    }
    expect(sel[3]!.map((s) => asArr(s!))).toEqual(sel[2]!.map((s) => asArr(s!)));
    for (const s of sel) for (const rows of s!) expect(rows![rows!.length - 1]).toBe(100); // the current token is read
  });
});
