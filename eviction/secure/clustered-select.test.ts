import { describe, expect, it } from 'vitest';
import { twoLevelSelect } from '../plain/mpcache-oracle.js';
import type { Context } from '../../protocols/context.js';
import { msbSliced } from '../../protocols/msb.js';
import { matmul } from '../../protocols/mul.js';
import { constant, reveal } from '../../protocols/sharing.js';
import { onGrid, randFloats, share } from '../../testing/protocol-helpers.js';
import { costOf, runTrio } from '../../testing/trio.js';
import type { ArithShare } from '../../protocols/types.js';
import { buildBlockReps } from './block-reps.js';
import { type BlockSelection, oneHotMask, selectBlocks } from './clustered-select.js';
import { type SecureMpCacheOptions, dynamicPlan, resolveMpCacheParams } from './mpcache-params.js';

const F = 18;

async function openMask(ctx: Context, m: ArithShare): Promise<Int32Array[]> {
  const v = (await reveal(ctx, m))!.data;
  const [rows, n] = m.shape;
  return Array.from({ length: rows }, (_, r) => Int32Array.from({ length: n }, (_, j) => Number(v[r * n + j])));
}

/** level-1 and level-2 block sets per query head, from the secure selection */
async function openSelection(ctx: Context, sel: BlockSelection): Promise<{ level1: (number[] | null)[]; level2: number[][] }> {
  const { plan, nHeads } = sel;
  const l1 = plan.level1;
  const l2 = plan.level2;
  const m1 = sel.mask1 === undefined ? undefined : await openMask(ctx, sel.mask1);
  const m2 = sel.oneHot2 === undefined ? undefined : await openMask(ctx, oneHotMask(ctx, sel.oneHot2));
  // level 1 is not computed when level 2 needs no top-k (then it cannot matter)
  const skipped1 = m1 === undefined && l1.free > 0 && l1.free < l1.hi - l1.lo;
  const level1: (number[] | null)[] = [];
  const level2: number[][] = [];
  for (let h = 0; h < nHeads; h++) {
    const a = [...l1.forced];
    for (let b = l1.lo; b < l1.hi; b++) if (m1 ? m1[h][b - l1.lo] === 1 : l1.free === l1.hi - l1.lo) a.push(b);
    const c = [...l2.forced];
    for (let b = l2.lo; b < l2.hi; b++) if (m2 ? m2[h][b - l2.lo] === 1 : l2.free === l2.hi - l2.lo) c.push(b);
    level1.push(skipped1 ? null : a.sort((x, y) => x - y));
    level2.push(c.sort((x, y) => x - y));
  }
  return { level1, level2 };
}

interface Inputs {
  H: number;
  nKv: number;
  hd: number;
  n: number;
  q: Float64Array;
  K: Float64Array;
}

function check(inp: Inputs, opts: SecureMpCacheOptions, got: { level1: (number[] | null)[]; level2: number[][] }): void {
  const p = resolveMpCacheParams(opts);
  for (let h = 0; h < inp.H; h++) {
    const kv = Math.floor(h / (inp.H / inp.nKv));
    const want = twoLevelSelect(inp.q.subarray(h * inp.hd, (h + 1) * inp.hd), Float32Array.from(inp.K.subarray(kv * inp.n * inp.hd, (kv + 1) * inp.n * inp.hd)), inp.n, inp.hd, {
      block2: p.block2,
      ratio1: p.ratio1,
      ratio2: p.ratio2,
      alpha: p.alpha,
      forceFirst: p.forceFirst,
      forceLast: p.forceLast,
    });
    if (got.level1[h] !== null) expect(got.level1[h], `head ${h} level 1`).toEqual(Array.from(want.level1));
    expect(got.level2[h], `head ${h} level 2`).toEqual(Array.from(want.level2));
  }
}

async function runSelect(inp: Inputs, opts: SecureMpCacheOptions): Promise<{ level1: (number[] | null)[]; level2: number[][] }> {
  const p = resolveMpCacheParams(opts);
  const [got] = await runTrio(async (ctx) => {
    const q = await share(ctx, 1, [inp.H, inp.hd], inp.q);
    const K = await share(ctx, 0, [inp.nKv, inp.n, inp.hd], inp.K);
    const reps = await buildBlockReps(ctx, K, p.block2, p.compareBits);
    return openSelection(ctx, await selectBlocks(ctx, p, q, reps));
  });
  return got;
}

describe('two-level clustered selection on shares = the plaintext oracle', () => {
  for (const n of [90, 160, 237, 330]) {
    it(`random keys, GQA 4:2, n = ${n}`, async () => {
      const inp: Inputs = { H: 4, nKv: 2, hd: 8, n, q: onGrid(randFloats(32, -2, 2, n), F), K: onGrid(randFloats(2 * n * 8, -2, 2, n + 1), F) };
      check(inp, {}, await runSelect(inp, {}));
    });
  }

  it('other ratios, alpha and forcing options', async () => {
    const n = 300;
    const inp: Inputs = { H: 2, nKv: 1, hd: 8, n, q: onGrid(randFloats(16, -2, 2, 5), F), K: onGrid(randFloats(n * 8, -2, 2, 6), F) };
    for (const opts of [{ ratio1: 0.3, ratio2: 0.1, alpha: 0.75 }, { forceFirst: false }, { ratio2: 0.4, alpha: 0.5 }] as SecureMpCacheOptions[]) {
      check(inp, opts, await runSelect(inp, opts));
    }
  });

  it('ties go to the lower block index (repeated blocks)', async () => {
    // every block of 16 keys is one of three patterns, so similarities tie exactly
    const n = 256;
    const hd = 8;
    const pats = [0, 1, 2].map((s) => onGrid(randFloats(16 * hd, -1, 1, 40 + s), F));
    const K = new Float64Array(n * hd);
    for (let b = 0; b < n / 16; b++) K.set(pats[[0, 1, 2, 1, 1, 2, 0, 1][b % 8]], b * 16 * hd);
    const inp: Inputs = { H: 2, nKv: 1, hd, n, q: onGrid(randFloats(2 * hd, -1, 1, 9), F), K };
    check(inp, {}, await runSelect(inp, {}));
  });

  it('cost: rounds = 1 (similarity matmul) + per top-k (3 + (msb + 1) iterations + 2); bytes = matmul + two top-k', async () => {
    const n = 330;
    const H = 4;
    const nKv = 2;
    const hd = 8;
    const p = resolveMpCacheParams();
    const plan = dynamicPlan(p, n);
    const M1 = plan.level1.hi - plan.level1.lo;
    const M2 = plan.level2.hi - plan.level2.lo;
    const res = await runTrio(async (ctx) => {
      const q = await share(ctx, 1, [H, hd], onGrid(randFloats(H * hd, -2, 2, 1), F));
      const K = await share(ctx, 0, [nKv, n, hd], onGrid(randFloats(nKv * n * hd, -2, 2, 2), F));
      const reps = await buildBlockReps(ctx, K, 16);
      const done = costOf(ctx);
      const sel = await selectBlocks(ctx, p, q, reps);
      const cost = done();
      const mm = costOf(ctx);
      await matmul(ctx, constant(ctx, [nKv, H / nKv, hd], 0), constant(ctx, [nKv, hd, M1 + M2], 0));
      const matmulCost = mm();
      const mc = costOf(ctx);
      await msbSliced(ctx, constant(ctx, [64], 0, 0)); // rounds of one comparison batch (top-k's keys are full width)
      return { cost, iters: sel.topkIterations!, matmul: matmulCost, msbRounds: mc().rounds };
    });
    const [it1, it2] = res[0].iters;
    expect(it1).toBeGreaterThan(0);
    expect(it2).toBeGreaterThan(0);
    for (const r of res) {
      // per top-k: range clamp (msb + 1) + shuffle 3 + per iteration (msb + 1 opening) + 2 (unshuffle of the mask / the one-hot rows)
      const perTopk = (it: number) => r.msbRounds + 1 + 3 + (r.msbRounds + 1) * it + 2;
      expect(r.cost.rounds).toBe(1 + perTopk(it1) + perTopk(it2));
      expect(r.matmul.bytesSent).toBe(8 * H * (M1 + M2));
      // top-k per element: shuffle 32 + one-hot <= 16 per one-hot element + comparisons (<= n^2 / 2 per row, <= 48 bytes each)
      const topkBound = (m: number, k: number) => H * (32 * m + 16 * k * m + 48 * (m * (m - 1)) / 2);
      expect(r.cost.bytesSent - r.matmul.bytesSent).toBeLessThanOrEqual(topkBound(M1, plan.level1.free) + topkBound(M2, plan.level2.free));
    }
  });
});
