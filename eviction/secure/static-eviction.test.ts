import { describe, expect, it } from 'vitest';
import { staticKeepThreshold, staticKeepTopK, staticWindowScores, staticWindowSize } from '../plain/mpcache-oracle.js';
import type { SecureLayerCache } from '../../models/secure-hooks.js';
import { revealFloat } from '../../protocols/sharing.js';
import { onGrid, randFloats, share } from '../../testing/protocol-helpers.js';
import { runTrio } from '../../testing/trio.js';
import { type SecureMpCacheOptions, resolveMpCacheParams, staticPlan } from './mpcache-params.js';
import { secureStaticEviction, sortOneHotRows } from './static-eviction.js';

const F = 18;

/**
 * A prompt whose window scores are well separated (so fixed-point noise cannot reorder them):
 * every query is along u; key j = c_j u + noise orthogonal to u, with the c_j a shuffled
 * grid of step 0.35; logits q.k_j = c_j |u|^2 / sqrt(d) are monotone in c_j for every query,
 * so the window-summed scores rank tokens by c_j.
 */
function separated(T: number, H: number, nKv: number, hd: number, seed: number): { q: Float64Array; k: Float64Array; v: Float64Array } {
  const c = Array.from({ length: T }, (_, j) => -3 + 0.35 * ((j * 7 + seed) % T) * (6 / (0.35 * T)));
  const q = new Float64Array(H * T * hd);
  const k = new Float64Array(nKv * T * hd);
  const noise = randFloats(nKv * T * hd, -0.3, 0.3, seed);
  for (let h = 0; h < H; h++) for (let t = 0; t < T; t++) q[(h * T + t) * hd] = 2 / Math.sqrt(hd); // prescaled like the decoder's
  for (let kv = 0; kv < nKv; kv++) {
    for (let t = 0; t < T; t++) {
      k[(kv * T + t) * hd] = c[t];
      for (let i = 1; i < hd; i++) k[(kv * T + t) * hd + i] = noise[(kv * T + t) * hd + i];
    }
  }
  return { q: onGrid(q, F), k: onGrid(k, F), v: onGrid(randFloats(nKv * T * hd, -1, 1, seed + 1), F) };
}

/** per head [T, hd] slices; the oracle wants unscaled queries when it scales itself */
function oracleScores(data: ReturnType<typeof separated>, T: number, H: number, nKv: number, hd: number, opts: { scaled: boolean; causal: boolean }, window: number) {
  const qs = Array.from({ length: H }, (_, h) => Float32Array.from(data.q.subarray(h * T * hd, (h + 1) * T * hd), (x) => x * Math.sqrt(hd)));
  const ks = Array.from({ length: nKv }, (_, kv) => Float32Array.from(data.k.subarray(kv * T * hd, (kv + 1) * T * hd)));
  return staticWindowScores(qs, ks, T, hd, window, opts);
}

async function evict(data: ReturnType<typeof separated>, T: number, H: number, nKv: number, hd: number, opts: SecureMpCacheOptions) {
  const p = resolveMpCacheParams(opts);
  const [r] = await runTrio(async (ctx) => {
    const k = await share(ctx, 0, [nKv, T, hd], data.k);
    const v = await share(ctx, 0, [nKv, T, hd], data.v);
    const queries = await share(ctx, 1, [H, T, hd], data.q);
    const cache: SecureLayerCache = { layer: 0, nHeads: H, nKvHeads: nKv, headDim: hd, length: T, k, v };
    const res = await secureStaticEviction(ctx, p, cache, queries);
    return { kept: res.kept, count: res.revealedCount, k: await revealFloat(ctx, res.cache.k), v: await revealFloat(ctx, res.cache.v) };
  });
  return r;
}

/** the kept rows must be the original rows at `keep`, in order, for K and V of every KV head */
function expectRows(got: { k: Float64Array | undefined; v: Float64Array | undefined }, data: ReturnType<typeof separated>, keep: Int32Array, T: number, nKv: number, hd: number): void {
  const n = keep.length;
  for (let kv = 0; kv < nKv; kv++) {
    for (let s = 0; s < n; s++) {
      const src = (kv * T + keep[s]) * hd;
      const dst = (kv * n + s) * hd;
      expect(Array.from(got.k!.subarray(dst, dst + hd)), `kv ${kv} slot ${s} (token ${keep[s]})`).toEqual(Array.from(data.k.subarray(src, src + hd)));
      expect(Array.from(got.v!.subarray(dst, dst + hd))).toEqual(Array.from(data.v.subarray(src, src + hd)));
    }
  }
}

/** Top-k static eviction of separated(T, H, nKv, hd, seed) under opts keeps the budget, and the rows of the oracle's top-k by its `by` window scores. */
async function expectTopK(T: number, H: number, nKv: number, hd: number, seed: number, opts: SecureMpCacheOptions, by: 'sum' | 'max'): Promise<void> {
  const data = separated(T, H, nKv, hd, seed);
  const plan = staticPlan(resolveMpCacheParams(opts), T);
  const sc = oracleScores(data, T, H, nKv, hd, { scaled: opts.scaled ?? true, causal: opts.causal ?? true }, plan.window);
  const keep = staticKeepTopK(sc[by], T, plan.budget, plan.window);
  const got = await evict(data, T, H, nKv, hd, opts);
  expect(got.kept).toBe(plan.budget);
  expect(keep.length).toBe(plan.budget);
  expectRows(got, data, keep, T, nKv, hd);
}

describe('secure look-once static eviction = the plaintext oracle', () => {
  it('sorts one-hot rows by their index', async () => {
    const rows = [5, 1, 7, 0, 3];
    const n = 8;
    const v = new Float64Array(rows.length * n);
    rows.forEach((j, i) => (v[i * n + j] = 1));
    const [got] = await runTrio(async (ctx) => revealFloat(ctx, await sortOneHotRows(ctx, await share(ctx, 0, [rows.length, n], v, 0))));
    const sorted = [...rows].sort((a, b) => a - b);
    sorted.forEach((j, i) => expect(Array.from(got!.subarray(i * n, (i + 1) * n)).indexOf(1)).toBe(j));
  });

  for (const [scaled, causal] of [[true, true], [false, false]] as const) {
    it(`public budget by top-k (scaled ${scaled}, causal ${causal}), GQA 4:2`, async () => {
      await expectTopK(48, 4, 2, 8, 3, { scaled, causal }, 'sum');
    });
  }

  it("aggregate 'max': top-k of the max over window queries", async () => {
    await expectTopK(48, 2, 1, 8, 7, { aggregate: 'max' }, 'max');
  });

  it('threshold rule: reveals the count, keeps the tokens >= tau plus the window', async () => {
    const T = 40;
    const H = 2;
    const nKv = 1;
    const hd = 8;
    const data = separated(T, H, nKv, hd, 5);
    const w = staticWindowSize(T);
    const sc = oracleScores(data, T, H, nKv, hd, { scaled: true, causal: true }, w);
    // tau halfway between two neighbouring max scores, away from every score
    const sorted = Array.from(sc.max.subarray(0, T - w)).sort((a, b) => b - a);
    const tau = (sorted[9] + sorted[10]) / 2;
    const keep = staticKeepThreshold(sc.max, T, tau, w);
    const got = await evict(data, T, H, nKv, hd, { keepRule: 'threshold', tau });
    expect(got.count).toBe(10);
    expect(got.kept).toBe(keep.length);
    expectRows(got, data, keep, T, nKv, hd);
  });

  it('keeps everything when the budget covers the prompt', async () => {
    const T = 20;
    const data = separated(T, 2, 1, 4, 1);
    const got = await evict(data, T, 2, 1, 4, { staticRatio: 1 });
    expect(got.kept).toBe(T);
    expectRows(got, data, Int32Array.from({ length: T }, (_, i) => i), T, 1, 4);
  });
});
