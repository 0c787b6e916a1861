/**
 * Per-decode-step cost (rounds, bytes) of the secure baselines and MPCache-R against their
 * documented cost (the file headers), and their step values against float64 over the twins'
 * read sets. Components named in a header are measured on their own in the same session and
 * must add up exactly.
 */
import { describe, expect, it } from 'vitest';
import type { SecureLayerCache } from '../../models/secure-hooks.js';
import type { Context } from '../../protocols/context.js';
import { ltz } from '../../protocols/compare.js';
import { concat } from '../../protocols/linear.js';
import { argmax } from '../../protocols/max.js';
import { matmul, mul } from '../../protocols/mul.js';
import { revealFloat } from '../../protocols/sharing.js';
import { softmax } from '../../protocols/softmax.js';
import type { ArithShare } from '../../protocols/types.js';
import { onGrid, randFloats, refAttention, share } from '../../testing/protocol-helpers.js';
import { costOf, runTrio } from '../../testing/trio.js';
import { blockRepresentatives, blockTokens, twoLevelSelect } from '../plain/mpcache-oracle.js';
import { questPages } from '../plain/quest.js';
import { sinkPlusRecent } from '../plain/streaming-llm.js';
import { iota, unionSorted } from '../plain/select.js';
import { buildBlockReps, publicBlockReps } from './block-reps.js';
import { selectBlocks } from './clustered-select.js';
import { mpcacheRSplit, secureMpCacheRPolicy } from './mpcache-r.js';
import { questBounds, questPlan, secureQuestPolicy } from './quest.js';
import { selectedRecentAttention } from './recent-attention.js';
import { secureSnapKvPolicy } from './snapkv.js';
import { secureStreamingLlmPolicy } from './streaming-llm.js';
import { secureTovaPolicy } from './tova.js';

const F = 18;
const H = 4;
const NKV = 2;
const HD = 8;
const G = H / NKV;

interface Data {
  n: number;
  K: Float64Array;
  V: Float64Array;
  q: Float64Array;
}
function data(n: number, seed: number): Data {
  return { n, K: onGrid(randFloats(NKV * n * HD, -2, 2, seed), F), V: onGrid(randFloats(NKV * n * HD, -1, 1, seed + 1), F), q: onGrid(randFloats(H * HD, -0.7, 0.7, seed + 2), F) };
}
async function shared(ctx: Context, d: Data, layer: number): Promise<{ cache: SecureLayerCache; q: ArithShare }> {
  const k = await share(ctx, 0, [NKV, d.n, HD], d.K);
  const v = await share(ctx, 0, [NKV, d.n, HD], d.V);
  const q = await share(ctx, 1, [H, HD], d.q);
  return { cache: { layer, nHeads: H, nKvHeads: NKV, headDim: HD, length: d.n, k, v }, q };
}
const head = (x: Float64Array, kv: number, n: number): Float64Array => x.subarray(kv * n * HD, (kv + 1) * n * HD);

describe('secure policies: cost per decode step and step values', () => {
  it('streaming-llm: trimming back to B costs nothing and keeps sinks + recent; snapkv has no decode-time hooks', async () => {
    const d = data(41, 7);
    const [r] = await runTrio(async (ctx) => {
      const p = secureStreamingLlmPolicy({ budget: { tokens: 40 } });
      p.prepare(0, 400);
      const { cache } = await shared(ctx, d, 0);
      const done = costOf(ctx);
      const out = await p.afterAttention!(ctx, cache, 0);
      return { cost: done(), len: out.length, k: (await revealFloat(ctx, out.k))! };
    });
    expect(r.cost.rounds).toBe(0);
    expect(r.cost.bytesSent).toBe(0);
    expect(r.len).toBe(40);
    const keep = sinkPlusRecent(41, 40, 4);
    for (let kv = 0; kv < NKV; kv++) keep.forEach((t, i) => expect(Array.from(head(r.k, kv, 40).subarray(i * HD, (i + 1) * HD))).toEqual(Array.from(head(d.K, kv, 41).subarray(t * HD, (t + 1) * HD))));
    const s = secureSnapKvPolicy({ budget: { ratio: 0.1 } });
    expect([s.onAppend, s.attend, s.selectForStep, s.afterAttention]).toEqual([undefined, undefined, undefined, undefined]);
  });

  it("tova: dropping the lowest-attention entry costs one 32-bit argmax over n + one multiplication round, and keeps the twin's rows", async () => {
    const d = data(31, 11);
    const all = await runTrio(async (ctx) => {
      const p = secureTovaPolicy({ budget: { tokens: 30 } });
      p.prepare(0, 300);
      const { cache, q } = await shared(ctx, d, 0);
      await p.attend!(ctx, cache, q, 0);
      const done = costOf(ctx);
      const out = await p.afterAttention!(ctx, cache, 0);
      const cost = done();
      // the documented components on their own, same shapes
      const x = await share(ctx, 0, [1, d.n], onGrid(randFloats(d.n, 0, 4, 3), F));
      const a = await share(ctx, 0, [NKV, d.n - 1, 2 * HD], onGrid(randFloats(NKV * (d.n - 1) * 2 * HD, -1, 1, 4), F));
      const c1 = costOf(ctx);
      await argmax(ctx, x, { bitWidth: 32 });
      const am = c1();
      const c2 = costOf(ctx);
      await mul(ctx, a, a);
      const ml = c2();
      return { cost, am, ml, len: out.length, k: (await revealFloat(ctx, out.k))! };
    });
    const r = all[0];
    // bytes summed over the three parties (roles rotate from call to call)
    const tot = (f: (x: (typeof all)[0]) => number): number => all.reduce((a, x) => a + f(x), 0);
    expect(r.cost.rounds).toBe(r.am.rounds + 1);
    expect(tot((x) => x.cost.bytesSent)).toBe(tot((x) => x.am.bytesSent + x.ml.bytesSent));
    expect(r.len).toBe(30);
    // float: head-summed probabilities, the lowest goes (ties: the highest index)
    const sum = new Float64Array(d.n);
    for (let h = 0; h < H; h++) {
      const kv = Math.floor(h / G);
      const qh = d.q.subarray(h * HD, (h + 1) * HD);
      const s = Array.from({ length: d.n }, (_, t) => qh.reduce((acc, qi, i) => acc + qi * head(d.K, kv, d.n)[t * HD + i], 0));
      const mx = Math.max(...s);
      const z = s.reduce((acc, v) => acc + Math.exp(v - mx), 0);
      s.forEach((v, t) => (sum[t] += Math.exp(v - mx) / z));
    }
    let drop = 0;
    for (let t = 1; t < d.n; t++) if (sum[t] <= sum[drop]) drop = t;
    const keep = iota(d.n).filter((t) => t !== drop);
    for (let kv = 0; kv < NKV; kv++) keep.forEach((t, i) => expect(Array.from(head(r.k, kv, 30).subarray(i * HD, (i + 1) * HD))).toEqual(Array.from(head(d.K, kv, d.n).subarray(t * HD, (t + 1) * HD))));
  });

  it('quest: the exact page bound costs one 32-bit ltz + one mul + one matmul round; attention equals float64 over the twin\'s pages', async () => {
    const d = data(150, 21);
    const K = 4;
    const all = await runTrio(async (ctx) => {
      const { cache, q } = await shared(ctx, d, 2);
      const reps = await buildBlockReps(ctx, cache.k, 16);
      const G2 = Math.ceil(d.n / 16);
      const c0 = costOf(ctx);
      const S = await questBounds(ctx, q, reps, G2 - 1, 32);
      const cost = c0();
      const x = await share(ctx, 1, [H, HD], d.q);
      const a = await share(ctx, 1, [H, 2 * HD], onGrid(randFloats(H * 2 * HD, -1, 1, 5), F));
      const c1 = costOf(ctx);
      const b = await ltz(ctx, x, { bitWidth: 32 });
      const lz = c1();
      const c2 = costOf(ctx);
      await mul(ctx, b, x);
      const ml = c2();
      const c3 = costOf(ctx);
      await matmul(ctx, a.reshape([NKV, G, 2 * HD]), concat(ctx, [reps.min2, reps.max2], 2).reshape([NKV, G2, 2 * HD]), { transB: true });
      const mm = c3();
      const p = secureQuestPolicy({ budget: { tokens: 16 * K }, denseLayers: 2 });
      await p.prepare(ctx, cache, 16 * K * 10, reps);
      const out = await p.attend!(ctx, cache, q, 0);
      return { cost, lz, ml, mm, S: (await revealFloat(ctx, S))!, out: (await revealFloat(ctx, out))!, Sscale: S.scale };
    });
    const r = all[0];
    const tot = (f: (x: (typeof all)[0]) => number): number => all.reduce((a, x) => a + f(x), 0);
    expect(r.cost.rounds).toBe(r.lz.rounds + 2);
    // bytes over the three parties; the matmul above has G2 columns where the bound has G2 - 1: 8 bytes per output less per head and party
    expect(tot((x) => x.cost.bytesSent)).toBe(tot((x) => x.lz.bytesSent + x.ml.bytesSent + x.mm.bytesSent) - 3 * 8 * H);
    expect(questPlan(d.n, 16, K).level2).toMatchObject({ free: K - 1, total: K, forced: [9] });
    for (let h = 0; h < H; h++) {
      const kv = Math.floor(h / G);
      const qh = d.q.subarray(h * HD, (h + 1) * HD);
      const Kh = Float32Array.from(head(d.K, kv, d.n));
      const reps = blockRepresentatives(Kh, d.n, HD, 16);
      for (let b = 0; b < reps.nBlocks - 1; b++) {
        let want = 0;
        for (let i = 0; i < HD; i++) want += Math.max(qh[i] * reps.rmax[b * HD + i], qh[i] * reps.rmin[b * HD + i]);
        expect(r.S[h * (reps.nBlocks - 1) + b]).toBeCloseTo(want, 9);
      }
      const pages = questPages(qh, Kh, d.n, HD, K, 16);
      const want = refAttention(qh, head(d.K, kv, d.n), head(d.V, kv, d.n), HD, blockTokens(pages, 16, d.n));
      for (let i = 0; i < HD; i++) expect(Math.abs(r.out[h * HD + i] - want[i])).toBeLessThan(3e-3);
    }
  });

  it('mpcache (R): attention over the selected blocks and the 16 newest rows costs 4 rounds + the softmax over (total2 + 1) blocks, and equals float64 over the twin\'s read set', async () => {
    const d = data(300, 31);
    const budget = { tokens: 76 }; // T = 300: Bs = min(300, 380) = 300, ratio2' = 60 / 300
    const { ratio2: r2 } = mpcacheRSplit(76, 300, 0.2, 16);
    const [r] = await runTrio(async (ctx) => {
      const { cache, q } = await shared(ctx, d, 0);
      const p = secureMpCacheRPolicy({ budget, ratio2: 0.2 });
      await p.prepare(ctx, cache, 300, publicBlockReps(ctx, d.K, NKV, d.n, HD, 16));
      const params = p.layerParams.get(0)!;
      const sel = await selectBlocks(ctx, params, q, publicBlockReps(ctx, d.K, NKV, d.n, HD, 16));
      const total = sel.plan.level2.total;
      const c0 = costOf(ctx);
      await selectedRecentAttention(ctx, q, cache.k, cache.v, sel, 16);
      const cost = c0();
      const x = await share(ctx, 0, [H, (total + 1) * 16], onGrid(randFloats(H * (total + 1) * 16, -3, 3, 6), F));
      const c1 = costOf(ctx);
      await softmax(ctx, x);
      const sm = c1();
      const out = await p.attend!(ctx, cache, q, 0);
      return { cost, sm, plan: sel.plan, out: (await revealFloat(ctx, out))! };
    });
    expect(r.plan.level2.free).toBeGreaterThan(0);
    expect(r.plan.level1.free).toBeGreaterThan(0);
    expect(r.cost.rounds).toBe(r.sm.rounds + 4);
    for (let h = 0; h < H; h++) {
      const kv = Math.floor(h / G);
      const qh = d.q.subarray(h * HD, (h + 1) * HD);
      const Kh = Float32Array.from(head(d.K, kv, d.n));
      const sel = twoLevelSelect(qh, Kh, d.n, HD, { ratio1: Math.max(0.5, r2), ratio2: r2 });
      const rows = unionSorted(sel.tokens, iota(16, d.n - 16));
      const want = refAttention(qh, head(d.K, kv, d.n), head(d.V, kv, d.n), HD, rows);
      for (let i = 0; i < HD; i++) expect(Math.abs(r.out[h * HD + i] - want[i]), `head ${h}`).toBeLessThan(3e-3);
    }
  });
});
