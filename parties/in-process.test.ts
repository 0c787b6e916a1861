import { describe, expect, it } from 'vitest';
import { mul } from '../protocols/mul.js';
import { input, revealFloat } from '../protocols/sharing.js';
import { freshSeeds, runInProcess } from './in-process.js';

describe('runInProcess', () => {
  it('runs a three-party computation with fresh, consistent seeds', async () => {
    const out = await runInProcess(async (ctx) => {
      const x = await input(ctx, 0, [3], ctx.party === 0 ? new Float64Array([1, -2, 3]) : undefined, 0);
      const y = await input(ctx, 1, [3], ctx.party === 1 ? new Float64Array([2, 4, -1]) : undefined, 0);
      return Array.from((await revealFloat(ctx, await mul(ctx, x, y)))!);
    }, { fracBits: 16 });
    for (const r of out) expect(r).toEqual([2, -8, -3]);
    const [a, b] = [freshSeeds(), freshSeeds()];
    for (let i = 0; i < 3; i++) expect(a[i].next).toEqual(a[(i + 1) % 3].prev);
    expect(a[0].common).toEqual(a[2].common);
    expect(a[0].next).not.toEqual(b[0].next);
    expect(a[0].own).not.toEqual(a[1].own);
  });

  it('rethrows the failing party\'s own error', async () => {
    await expect(runInProcess(async (ctx) => {
      if (ctx.party === 2) throw new RangeError('party 2 gives up');
      await ctx.ch.exchange({ step: 'x', recv: [2] });
    }, { recvTimeoutMs: 5000 })).rejects.toThrow('party 2 gives up');
    await expect(runInProcess(undefined as never)).rejects.toThrow(TypeError);
  });
});
