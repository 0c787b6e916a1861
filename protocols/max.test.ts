import { describe, expect, it } from 'vitest';
import { costOf, runTrio } from '../testing/trio.js';
import { argmax, max } from './max.js';
import { tournamentPlan } from './tournament-plan.js';
import { constant, reveal, revealFloat } from './sharing.js';
import { msbCost, onGrid, randFloats, share } from '../testing/protocol-helpers.js';

const F = 18;
const ulp = 2 ** -F;

/** Rounds of a tournament with the given group sizes per level (msb + AND tree + select per level). */
function roundsOf(n: number, plan: readonly number[], msbRounds = msbCost(64).rounds): number {
  let cnt = n;
  let rounds = 0;
  for (const g of plan) {
    const q = Math.floor(cnt / g);
    const rem = cnt - g * q;
    const biggest = q > 0 ? g : rem >= 2 ? rem : 1;
    rounds += msbRounds + (biggest > 2 ? Math.ceil(Math.log2(biggest - 1)) : 0) + 1;
    cnt = Math.ceil(cnt / g);
  }
  expect(cnt).toBe(1);
  return rounds;
}

describe('max / argmax', () => {
  for (const arity of [4, 'binary', 16, 3, 'auto'] as const) {
    it(`arity ${arity}: max and argmax with ties (lowest index wins), odd widths`, async () => {
      const rows = 7;
      const n = 13;
      const v = onGrid(randFloats(rows * n, -50, 50, 6), F);
      // row 1: all equal; row 2: two maxima (index 3 and 9); row 3: max at the last position; row 4: negative only;
      // row 5: ties inside one group of four (indices 5 and 6) and an equal value in the tail
      for (let j = 0; j < n; j++) v[n + j] = 2.5;
      v[2 * n + 3] = 100;
      v[2 * n + 9] = 100;
      v[3 * n + n - 1] = 60;
      for (let j = 0; j < n; j++) v[4 * n + j] = -1 - j * ulp;
      v[5 * n + 6] = 70;
      v[5 * n + 5] = 70;
      v[5 * n + 12] = 70;
      const res = await runTrio(async (ctx) => {
        const x = await share(ctx, 1, [rows, n], v);
        const c = costOf(ctx);
        const m = await max(ctx, x, { arity });
        const maxCost = c();
        const c2 = costOf(ctx);
        const am = await argmax(ctx, x, { arity });
        const amCost = c2();
        return {
          maxCost,
          amCost,
          shape: m.shape,
          m: (await revealFloat(ctx, m))!,
          am: (await revealFloat(ctx, am.max))!,
          oh: (await reveal(ctx, am.oneHot))!,
        };
      });
      const plan = (keep: boolean) => tournamentPlan(rows, n, 64, arity === 'binary' ? 2 : arity, keep);
      const levels = arity === 'binary' ? Math.ceil(Math.log2(n)) : plan(true).length;
      const maxRounds = arity === 'binary' ? levels * (msbCost(64).rounds + 1) : roundsOf(n, plan(false));
      const amRounds = arity === 'binary' ? maxRounds : roundsOf(n, plan(true));
      if (arity === 'auto') expect(plan(false)).toEqual([16]); // 13 columns: one level
      for (const r of res) {
        expect(r.shape).toEqual([rows, 1]);
        expect(r.maxCost.rounds).toBe(maxRounds);
        // the one-hot: binary: one round per level; g-ary: a product tree over the levels
        expect(r.amCost.rounds).toBe(amRounds + (arity === 'binary' ? levels : Math.ceil(Math.log2(levels))));
        expect(r.oh.shape).toEqual([rows, n]);
        for (let i = 0; i < rows; i++) {
          let best = 0;
          for (let j = 1; j < n; j++) if (v[i * n + j] > v[i * n + best]) best = j;
          expect(r.m[i]).toBe(v[i * n + best]);
          expect(r.am[i]).toBe(v[i * n + best]);
          for (let j = 0; j < n; j++) expect(r.oh.data[i * n + j]).toBe(j === best ? 1n : 0n);
        }
      }
    });
  }

  it('every width from 1 to 21 (all group/tail/carry patterns), random ties, automatic and fixed group sizes', async () => {
    for (let n = 1; n <= 21; n++) for (const arity of ['auto', 4, 5] as const) {
      const rows = 5;
      // few distinct values so ties are frequent
      const v = randFloats(rows * n, 0, 4, 100 + n).map(Math.floor);
      const res = await runTrio(async (ctx) => {
        const x = await share(ctx, (n % 3) as 0 | 1 | 2, [rows, n], v);
        const am = await argmax(ctx, x, { arity });
        return { m: (await revealFloat(ctx, am.max))!, oh: (await reveal(ctx, am.oneHot))!.data };
      });
      for (let i = 0; i < rows; i++) {
        let best = 0;
        for (let j = 1; j < n; j++) if (v[i * n + j] > v[i * n + best]) best = j;
        expect(res[0].m[i]).toBe(v[i * n + best]);
        for (let j = 0; j < n; j++) expect(res[0].oh[i * n + j]).toBe(j === best ? 1n : 0n);
      }
    }
  });

  it('tournament plans: 4-ary over 1000 is 5 levels, 45 rounds; automatic plans trade rounds for bytes', () => {
    expect(tournamentPlan(1, 1000, 64, 4)).toEqual([4, 4, 4, 4, 4]);
    expect(roundsOf(1000, tournamentPlan(1, 1000, 64, 4))).toBe(45);
    // small inputs: wide groups (few rounds); large inputs: narrow first levels (few comparisons)
    expect(tournamentPlan(6, 256, 31)).toEqual([16, 16]);
    // 257 columns (a decode step at context 256): two levels, not three of 16
    expect(tournamentPlan(6, 257, 31).length).toBe(2);
    const big = tournamentPlan(1, 50257, 64);
    expect(big[0]).toBe(2);
    expect(big[big.length - 1]).toBeGreaterThanOrEqual(8);
    expect(() => tournamentPlan(1, 10, 64, 1)).toThrow(RangeError);
  });

  it('rejects a bad arity', async () => {
    await expect(runTrio(async (ctx) => max(ctx, constant(ctx, [2, 3], 1), { arity: 34 }))).rejects.toThrow(/arity/);
  });
});
