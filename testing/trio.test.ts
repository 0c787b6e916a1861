import { describe, expect, it } from 'vitest';
import { costOf, makeTrio, measured, runTrio } from './trio.js';
import { input } from '../protocols/sharing.js';
import { mul } from '../protocols/mul.js';

describe('runTrio', () => {
  it('returns the three results in party order', async () => {
    const r = await runTrio(async (ctx) => ctx.party * 10);
    expect(r).toEqual([0, 10, 20]);
  });

  it('a party that throws fails the run fast with its own error (not a timeout)', async () => {
    const err = await runTrio(
      async (ctx) => {
        const x = await input(ctx, 0, [4], ctx.party === 0 ? new Float64Array(4) : undefined);
        if (ctx.party === 1) throw new TypeError('party 1 gives up');
        return mul(ctx, x, x);
      },
      // a receive timeout far beyond the test's own (60 s): were the others left waiting for
      // it instead of being aborted, the test would time out, not pass
      { recvTimeoutMs: 600_000 },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TypeError);
    expect((err as Error).message).toBe('party 1 gives up');
  });

  it('the same seed gives the same shares; another seed different ones', async () => {
    const run = (seed: number) => runTrio(async (ctx) => (await input(ctx, 2, [3], ctx.party === 2 ? new Float64Array([1, 2, 3]) : undefined)).s0, { seed });
    const a = await run(5);
    const b = await run(5);
    const c = await run(6);
    expect(a).toEqual(b);
    expect(a[0]).not.toEqual(c[0]);
  });

  it('costOf and measured report per-party deltas', async () => {
    const r = await runTrio(async (ctx) => {
      const x = await input(ctx, 0, [8], ctx.party === 0 ? new Float64Array(8) : undefined);
      const done = costOf(ctx);
      const m = await measured(ctx, () => mul(ctx, x, x));
      return { outer: done(), inner: m.cost };
    });
    for (const p of r) {
      expect(p.inner).toEqual({ rounds: 1, bytesSent: 64, bytesReceived: 64, messagesSent: 1 });
      expect(p.outer).toEqual(p.inner);
    }
  });

  it('makeTrio gives consistent contexts', () => {
    const [a, b, c] = makeTrio({ fracBits: 12 });
    expect([a.party, b.party, c.party]).toEqual([0, 1, 2]);
    expect(a.f).toBe(12);
    // party 0's next stream is party 1's prev stream
    expect(a.prgNext.words(2)).toEqual(b.prgPrev.words(2));
    expect(c.prgNext.words(2)).toEqual(a.prgPrev.words(2));
  });
});
