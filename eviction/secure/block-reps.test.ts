import { describe, expect, it } from 'vitest';
import { blockRepresentatives, mergeRepresentatives } from '../plain/mpcache-oracle.js';
import { revealFloat } from '../../protocols/sharing.js';
import { onGrid, randFloats, share } from '../../testing/protocol-helpers.js';
import { costOf, runTrio } from '../../testing/trio.js';
import { slice } from '../../protocols/linear.js';
import { ltz } from '../../protocols/compare.js';
import { mul } from '../../protocols/mul.js';
import { appendBlockReps, buildBlockReps, type BlockReps } from './block-reps.js';

const F = 18;

/** keys of nKv heads, n rows of hd, head-major [nKv, n, hd], on the fixed-point grid */
function keysOf(nKv: number, n: number, hd: number, seed: number): Float64Array {
  return onGrid(randFloats(nKv * n * hd, -2, 2, seed), F);
}

function headKeys(all: Float64Array, h: number, n: number, hd: number, upto = n): Float32Array {
  return Float32Array.from(all.subarray(h * n * hd, h * n * hd + upto * hd));
}

async function openReps(ctx: Parameters<typeof revealFloat>[0], r: BlockReps): Promise<Float64Array[]> {
  return [(await revealFloat(ctx, r.max2))!, (await revealFloat(ctx, r.min2))!, (await revealFloat(ctx, r.max1))!, (await revealFloat(ctx, r.min1))!];
}

function expectRepsMatch(opened: Float64Array[], keys: Float64Array, nKv: number, nAll: number, n: number, hd: number, skipLast1: boolean): void {
  const [mx2, mn2, mx1, mn1] = opened;
  for (let h = 0; h < nKv; h++) {
    const o2 = blockRepresentatives(headKeys(keys, h, nAll, hd, n), n, hd, 16);
    const o1 = mergeRepresentatives(o2);
    const G2 = o2.nBlocks;
    const G1 = o1.nBlocks;
    expect(Array.from(mx2.subarray(h * G2 * hd, (h + 1) * G2 * hd))).toEqual(Array.from(o2.rmax));
    expect(Array.from(mn2.subarray(h * G2 * hd, (h + 1) * G2 * hd))).toEqual(Array.from(o2.rmin));
    const upto = skipLast1 ? (G1 - 1) * hd : G1 * hd;
    expect(Array.from(mx1.subarray(h * G1 * hd, h * G1 * hd + upto))).toEqual(Array.from(o1.rmax.subarray(0, upto)));
    expect(Array.from(mn1.subarray(h * G1 * hd, h * G1 * hd + upto))).toEqual(Array.from(o1.rmin.subarray(0, upto)));
  }
}

describe('block representatives on shares', () => {
  it('build equals the oracle (partial last blocks, odd level-2 count)', async () => {
    const nKv = 2;
    const hd = 4;
    for (const n of [1, 16, 37, 70]) {
      const keys = keysOf(nKv, n, hd, n);
      const [opened] = await runTrio(async (ctx) => {
        const k = await share(ctx, 0, [nKv, n, hd], keys);
        return openReps(ctx, await buildBlockReps(ctx, k, 16));
      });
      expectRepsMatch(opened, keys, nKv, n, n, hd, false);
    }
  });

  it('incremental appends equal a rebuild; one batched 32-bit comparison + one multiplication round per step', async () => {
    const nKv = 2;
    const hd = 4;
    const n0 = 29;
    const nAll = 70; // crosses level-2 and level-1 boundaries (32, 48, 64)
    const keys = keysOf(nKv, nAll, hd, 7);
    for (const eager of [false, true]) {
      const [{ checks: res, stepRounds }] = await runTrio(async (ctx) => {
        const all = await share(ctx, 0, [nKv, nAll, hd], keys);
        let r = await buildBlockReps(ctx, slice(ctx, all, 0, n0, 1), 16);
        const checks: { n: number; opened: Float64Array[]; rounds: number; bytes: number; stale: boolean }[] = [];
        for (let t = n0; t < nAll; t++) {
          const done = costOf(ctx);
          r = await appendBlockReps(ctx, r, slice(ctx, all, t, t + 1, 1), eager);
          const c = done();
          const opened = t % 10 === 0 || t === nAll - 1 || t % 32 === 0 || t % 32 === 1 ? await openReps(ctx, r) : [];
          checks.push({ n: r.n, opened, rounds: c.rounds, bytes: c.bytesSent, stale: r.staleLast1 });
        }
        const ref = costOf(ctx);
        const x = await share(ctx, 0, [2 * nKv * hd], onGrid(randFloats(2 * nKv * hd, -1, 1, 4), F));
        const afterShare = costOf(ctx);
        void ref;
        await mul(ctx, await ltz(ctx, x, { bitWidth: 32 }), x);
        return { checks, stepRounds: afterShare().rounds };
      });
      for (const c of res) {
        if (c.opened.length > 0) expectRepsMatch(c.opened, keys, nKv, nAll, c.n, hd, c.stale);
        const t = c.n - 1;
        // steps that open a level-2 block and neither close a stale level-1 block nor update eagerly: no comparison
        const compares = t % 16 !== 0 || (!eager && t % 32 === 0) || (eager && t % 32 !== 0);
        expect(c.rounds).toBe(compares ? stepRounds : 0);
        if (!eager) expect(c.stale).toBe(t % 32 !== 0);
      }
    }
  });

  it('append cost = one 32-bit ltz and one mul over 2 x nKv x hd elements (rounds per party and bytes over the parties, exact)', async () => {
    const nKv = 3;
    const hd = 8;
    const n = 21; // the new token (index 20) lands inside level-2 block 1: one max and one min per dimension
    const keys = keysOf(nKv, n, hd, 3);
    const res = await runTrio(async (ctx) => {
      const all = await share(ctx, 0, [nKv, n, hd], keys);
      const r = await buildBlockReps(ctx, slice(ctx, all, 0, n - 1, 1), 16);
      const done = costOf(ctx);
      await appendBlockReps(ctx, r, slice(ctx, all, n - 1, n, 1), false);
      const app = done();
      const ref = costOf(ctx);
      const x = await share(ctx, 0, [2 * nKv * hd], onGrid(randFloats(2 * nKv * hd, -1, 1, 4), F));
      const mid = costOf(ctx);
      void ref;
      await mul(ctx, await ltz(ctx, x, { bitWidth: 32 }), x);
      return { app, parts: mid() };
    });
    for (const r of res) expect(r.app.rounds).toBe(r.parts.rounds);
    // bytes over the three parties (small calls rotate their roles from call to call, so a
    // party's share depends on the call's position; the total does not)
    const sum = (f: (r: (typeof res)[number]) => number) => res.reduce((a, r) => a + f(r), 0);
    expect(sum((r) => r.app.bytesSent)).toBe(sum((r) => r.parts.bytesSent));
  });
});
