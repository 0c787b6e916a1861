/**
 * reveal / revealFloat / revealBool are typed by recipient: to all (the default) the result
 * is the value on every party; to one party it may be undefined (it is, on the other two).
 * The type assertions are checked by `npm run typecheck`, the values here.
 */
import { describe, expect, expectTypeOf, it } from 'vitest';
import { runTrio } from '../testing/trio.js';
import type { PartyId } from './channel.js';
import { input, reveal, revealBool, revealFloat } from './sharing.js';
import { BoolShare, type PublicTensor } from './types.js';

describe('reveal overloads', () => {
  it('to all: a value on every party, typed without undefined; to one party: undefined elsewhere', async () => {
    const res = await runTrio(async (ctx) => {
      const x = await input(ctx, 0, [3], ctx.party === 0 ? new Float64Array([1.5, -2, 0]) : undefined);
      const all = await reveal(ctx, x);
      const allExplicit = await reveal(ctx, x, 'all');
      const f = await revealFloat(ctx, x);
      const to1 = await reveal(ctx, x, 1);
      const who = (ctx.f > 0 ? 2 : 'all') as PartyId | 'all'; // the same on every party, typed as the union
      const dyn = await revealFloat(ctx, x, who);
      const b = await revealBool(ctx, new BoolShare([1], x.s0.subarray(0, 1), x.s1.subarray(0, 1)));
      expectTypeOf(all).toEqualTypeOf<PublicTensor>();
      expectTypeOf(allExplicit).toEqualTypeOf<PublicTensor>();
      expectTypeOf(f).toEqualTypeOf<Float64Array>();
      expectTypeOf(b).toEqualTypeOf<BigUint64Array>();
      expectTypeOf(to1).toEqualTypeOf<PublicTensor | undefined>();
      expectTypeOf(dyn).toEqualTypeOf<Float64Array | undefined>();
      return { all: [...f], explicit: allExplicit.data.length, to1: to1 === undefined ? undefined : to1.data.length, dyn: dyn === undefined ? undefined : [...dyn], b: b.length };
    });
    for (const r of res) {
      expect(r.all).toEqual([1.5, -2, 0]);
      expect(r.explicit).toBe(3);
      expect(r.b).toBe(1);
    }
    expect(res.map((r) => r.to1)).toEqual([undefined, 3, undefined]);
    expect(res.map((r) => r.dyn)).toEqual([undefined, undefined, [1.5, -2, 0]]);
  });
});
