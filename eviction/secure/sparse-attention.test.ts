import { describe, expect, it } from 'vitest';
import { twoLevelSelect } from '../plain/mpcache-oracle.js';
import { constant, revealFloat } from '../../protocols/sharing.js';
import { softmax } from '../../protocols/softmax.js';
import { onGrid, randFloats, refAttention, share } from '../../testing/protocol-helpers.js';
import { costOf, runTrio } from '../../testing/trio.js';
import type { BlockSelection } from './clustered-select.js';
import { dynamicPlan, resolveMpCacheParams } from './mpcache-params.js';
import { fullDecodeAttention, gatherSelectedKv, selectedAttention } from './sparse-attention.js';

const F = 18;
const P = resolveMpCacheParams();

interface Case {
  H: number;
  nKv: number;
  hd: number;
  n: number;
  q: Float64Array;
  K: Float64Array;
  V: Float64Array;
}

function makeCase(H: number, nKv: number, hd: number, n: number, seed: number): Case {
  return {
    H,
    nKv,
    hd,
    n,
    q: onGrid(randFloats(H * hd, -1.5, 1.5, seed), F),
    K: onGrid(randFloats(nKv * n * hd, -1.5, 1.5, seed + 1), F),
    V: onGrid(randFloats(nKv * n * hd, -1, 1, seed + 2), F),
  };
}

const headOf = (c: Case, h: number): number => Math.floor(h / (c.H / c.nKv));
const qh = (c: Case, h: number): Float64Array => c.q.subarray(h * c.hd, (h + 1) * c.hd);
const kh = (c: Case, kv: number, x: Float64Array): Float64Array => x.subarray(kv * c.n * c.hd, (kv + 1) * c.n * c.hd);

/** the oracle's level-2 choice per query head, and the one-hot rows of its free blocks */
function oracleSelection(c: Case): { level2: Int32Array[]; tokens: Int32Array[]; oneHot: Float64Array; free: number; M: number } {
  const plan = dynamicPlan(P, c.n);
  const { lo, hi, free } = plan.level2;
  const M = hi - lo;
  const oneHot = new Float64Array(c.H * free * M);
  const level2: Int32Array[] = [];
  const tokens: Int32Array[] = [];
  for (let h = 0; h < c.H; h++) {
    const sel = twoLevelSelect(qh(c, h), Float32Array.from(kh(c, headOf(c, h), c.K)), c.n, c.hd);
    level2.push(sel.level2);
    tokens.push(sel.tokens);
    const mid = Array.from(sel.level2).filter((b) => b >= lo && b < hi);
    expect(mid.length).toBe(free);
    mid.forEach((b, r) => (oneHot[(h * free + r) * M + b - lo] = 1));
  }
  return { level2, tokens, oneHot, free, M };
}

describe('decode attention on shares', () => {
  it('full attention equals float64 (GQA)', async () => {
    const c = makeCase(4, 2, 8, 40, 3);
    const [got] = await runTrio(async (ctx) => {
      const q = await share(ctx, 1, [c.H, c.hd], c.q);
      const K = await share(ctx, 0, [c.nKv, c.n, c.hd], c.K);
      const V = await share(ctx, 0, [c.nKv, c.n, c.hd], c.V);
      return revealFloat(ctx, await fullDecodeAttention(ctx, q, K, V));
    });
    const all = Int32Array.from({ length: c.n }, (_, i) => i);
    for (let h = 0; h < c.H; h++) {
      const want = refAttention(qh(c, h), kh(c, headOf(c, h), c.K), kh(c, headOf(c, h), c.V), c.hd, all);
      for (let i = 0; i < c.hd; i++) expect(Math.abs(got![h * c.hd + i] - want[i])).toBeLessThan(2e-3);
    }
  });

  for (const n of [160, 237]) {
    it(`attention over the selected blocks equals float64 over the oracle's tokens (n = ${n})`, async () => {
      const c = makeCase(4, 2, 8, n, n);
      const o = oracleSelection(c);
      const plan = dynamicPlan(P, n);
      const [res] = await runTrio(async (ctx) => {
        const q = await share(ctx, 1, [c.H, c.hd], c.q);
        const K = await share(ctx, 0, [c.nKv, c.n, c.hd], c.K);
        const V = await share(ctx, 0, [c.nKv, c.n, c.hd], c.V);
        const oh = await share(ctx, 2, [c.H, o.free, o.M], o.oneHot, 0);
        const sel: BlockSelection = { plan, nHeads: c.H, oneHot2: oh, mask1: undefined };
        const done = costOf(ctx);
        const out = await selectedAttention(ctx, q, K, V, sel);
        const cost = done();
        const sm = costOf(ctx);
        await softmax(ctx, constant(ctx, [c.H, plan.level2.total * 16], 0));
        const softmaxRounds = sm().rounds;
        const kv = await gatherSelectedKv(ctx, K, V, sel);
        return { out: await revealFloat(ctx, out), cost, softmaxRounds, k: await revealFloat(ctx, kv.k), v: await revealFloat(ctx, kv.v), shape: kv.k.shape };
      });
      const tokens = plan.tokens;
      expect(res.shape).toEqual([c.H, tokens, c.hd]);
      for (let h = 0; h < c.H; h++) {
        expect(o.tokens[h].length).toBe(tokens);
        const K = kh(c, headOf(c, h), c.K);
        const want = refAttention(qh(c, h), K, kh(c, headOf(c, h), c.V), c.hd, o.tokens[h]);
        for (let i = 0; i < c.hd; i++) expect(Math.abs(res.out![h * c.hd + i] - want[i])).toBeLessThan(2e-3);
        // gathered keys: the oracle's token rows (as a set; slot order: first block, top-k order, last block)
        const rowsGot = new Set<string>();
        for (let t = 0; t < tokens; t++) rowsGot.add(Array.from(res.k!.subarray((h * tokens + t) * c.hd, (h * tokens + t + 1) * c.hd)).join(','));
        const rowsWant = new Set(Array.from(o.tokens[h], (t) => Array.from(K.subarray(t * c.hd, (t + 1) * c.hd)).join(',')));
        expect(rowsGot).toEqual(rowsWant);
      }
      // rounds: scores (1) + gather with truncation (1, fused) + softmax over the gathered tokens + scatter (1) + values (1, fused)
      expect(res.cost.rounds).toBe(1 + 1 + res.softmaxRounds + 1 + 1);
    });
  }
});
