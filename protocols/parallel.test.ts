import { describe, expect, it } from 'vitest';
import { costOf, runTrio } from '../testing/trio.js';
import { onGrid, randFloats, share } from '../testing/protocol-helpers.js';
import type { PartyId, StepStats } from './channel.js';
import { ltz } from './compare.js';
import type { Context } from './context.js';
import { isMpcError } from './errors.js';
import { add } from './linear.js';
import { mul, trunc } from './mul.js';
import { LANE_HEADER_BYTES, MAX_JOINED_STEP, MAX_LANES, parallel } from './parallel.js';
import { ROTATE_MIN } from './rotate.js';
import { reveal, revealFloat } from './sharing.js';
import { truncExact } from './trunc-exact.js';
import type { ArithShare } from './types.js';

const F = 18;
const n = 200;
const a = onGrid(randFloats(n, -4, 4, 1), F);
const b = onGrid(randFloats(n, -4, 4, 2), F);

/** Share a (party 0) and b (party 1). */
async function inputs(ctx: Context): Promise<[ArithShare, ArithShare]> {
  return [await share(ctx, 0, [n], a), await share(ctx, 1, [n], b)];
}

/** Cost of `fn` on each party of a fresh trio (fresh contexts: role rotation starts at 0, as in a fresh lane). */
function alone(fn: (ctx: Context, x: ArithShare, y: ArithShare) => Promise<unknown>): Promise<StepStats[]> {
  return runTrio(async (ctx) => {
    const [x, y] = await inputs(ctx);
    const c = costOf(ctx);
    await fn(ctx, x, y);
    return c();
  });
}

async function failure(p: Promise<unknown>): Promise<{ code: string; peer?: number; step?: string }> {
  try {
    await p;
  } catch (e) {
    if (isMpcError(e)) return { code: e.code, peer: e.peer, step: e.step };
    return { code: String(e) };
  }
  return { code: 'resolved' };
}

describe('parallel', () => {
  it('two lanes (mul: 1 round, ltz: 7 rounds): right values, rounds = max, bytes = sum + headers', async () => {
    const res = await runTrio(async (ctx) => {
      const [x, y] = await inputs(ctx);
      const c = costOf(ctx);
      const [p, s] = await parallel(ctx, [(v) => mul(v, x, y), (v) => ltz(v, x)]);
      const cost = c();
      return { cost, p: (await revealFloat(ctx, p))!, s: (await reveal(ctx, s))!.data };
    });
    for (const r of res) {
      for (let i = 0; i < n; i++) {
        expect(r.p[i]).toBe(a[i] * b[i]);
        expect(r.s[i]).toBe(a[i] < 0 ? 1n : 0n);
      }
    }
    const costMul = await alone((ctx, x, y) => mul(ctx, x, y));
    const costLtz = await alone((ctx, x) => ltz(ctx, x));
    // Only round 1 carries both lanes (after it the ltz lane passes through alone): a 2-word
    // header on each physical message of round 1. mul sends to prev; ltz's first round:
    // P0 -> P1 and P2, P1 -> P2, P2 -> P1. Distinct peers: P0 {2, 1}, P1 {0, 2}, P2 {1}.
    const round1Messages = [2, 2, 1];
    const merged = [1, 0, 1]; // messages to a peer both lanes send to
    res.forEach((r, p) => {
      expect(r.cost.rounds).toBe(7);
      expect(r.cost.rounds).toBe(Math.max(costMul[p].rounds, costLtz[p].rounds));
      expect(r.cost.bytesSent).toBe(costMul[p].bytesSent + costLtz[p].bytesSent + 2 * LANE_HEADER_BYTES * round1Messages[p]);
      expect(r.cost.messagesSent).toBe(costMul[p].messagesSent + costLtz[p].messagesSent - merged[p]);
    });
  });

  it('three lanes (truncExact: 9 rounds, ltz: 7, a local add: 0): values right, rounds = 9 = max, not the sum', async () => {
    const res = await runTrio(async (ctx) => {
      const [x, y] = await inputs(ctx);
      const c = costOf(ctx);
      const [t, s, z] = await parallel(ctx, [(v) => truncExact(v, x, 4, { scale: F - 4 }), (v) => ltz(v, y), async (v) => add(v, x, y)]);
      const cost = c();
      return { cost, t: (await reveal(ctx, t))!.data, s: (await reveal(ctx, s))!.data, z: (await revealFloat(ctx, z))! };
    });
    const costT = await alone((ctx, x) => truncExact(ctx, x, 4, { scale: F - 4 }));
    const costL = await alone((ctx, _x, y) => ltz(ctx, y));
    res.forEach((r, p) => {
      expect(r.cost.rounds).toBe(9);
      expect(r.cost.rounds).toBe(Math.max(costT[p].rounds, costL[p].rounds));
      // payload bytes are the lanes' own; headers come on top (rounds 1..7 carry two live lanes)
      expect(r.cost.bytesSent).toBeGreaterThan(costT[p].bytesSent + costL[p].bytesSent);
      expect(r.cost.bytesSent).toBeLessThanOrEqual(costT[p].bytesSent + costL[p].bytesSent + 7 * 2 * (3 * LANE_HEADER_BYTES));
      for (let i = 0; i < n; i++) {
        expect(r.t[i]).toBe(BigInt.asUintN(64, BigInt(Math.round(a[i] * 2 ** F)) >> 4n));
        expect(r.s[i]).toBe(b[i] < 0 ? 1n : 0n);
        expect(r.z[i]).toBe(a[i] + b[i]);
      }
    });
  });

  it('nests: a lane that runs parallel lanes itself, beside a lane that rotates its roles over three chunks', async () => {
    const big = 3 * 64 * Math.ceil(ROTATE_MIN / (3 * 64));
    const g = onGrid(randFloats(big, -100, 100, 7), F);
    const res = await runTrio(async (ctx) => {
      const [x, y] = await inputs(ctx);
      const w = await share(ctx, 2, [big], g);
      const c = costOf(ctx);
      const [[p, s], t] = await parallel(ctx, [(v) => parallel(v, [(u) => mul(u, x, y), (u) => ltz(u, y)]), (v) => trunc(v, w, 4, { scale: F - 4 })]);
      const cost = c();
      return { cost, p: (await revealFloat(ctx, p))!, s: (await reveal(ctx, s))!.data, t: (await reveal(ctx, t))!.data };
    });
    for (const r of res) {
      expect(r.cost.rounds).toBe(7);
      for (let i = 0; i < n; i++) {
        expect(r.p[i]).toBe(a[i] * b[i]);
        expect(r.s[i]).toBe(b[i] < 0 ? 1n : 0n);
      }
      for (let i = 0; i < big; i++) {
        const d = BigInt.asIntN(64, r.t[i]) - (BigInt(Math.round(g[i] * 2 ** F)) >> 4n);
        expect(d === 0n || d === 1n).toBe(true);
      }
    }
  });

  it('lanes get their own streams: two identical lanes give different sharings of the same value, and the parent streams stay in step', async () => {
    const res = await runTrio(async (ctx) => {
      const [x, y] = await inputs(ctx);
      const [p, q] = await parallel(ctx, [(v) => mul(v, x, y), (v) => mul(v, x, y)]);
      const after = await mul(ctx, x, y);
      return { differ: p.s0.some((w, i) => w !== q.s0[i]), p: (await revealFloat(ctx, p))!, q: (await revealFloat(ctx, q))!, after: (await revealFloat(ctx, after))! };
    });
    for (const r of res) {
      expect(r.differ).toBe(true);
      for (let i = 0; i < n; i++) {
        expect(r.p[i]).toBe(a[i] * b[i]);
        expect(r.q[i]).toBe(a[i] * b[i]);
        expect(r.after[i]).toBe(a[i] * b[i]);
      }
    }
  });

  it('the order in which lanes submit does not matter: lanes delayed differently on each party still agree', async () => {
    const res = await runTrio(async (ctx) => {
      const [x, y] = await inputs(ctx);
      const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
      // party p delays lane (p mod 2) before it starts: the lanes submit in a different order per party
      const [p, s] = await parallel(ctx, [
        async (v) => {
          if (ctx.party % 2 === 0) await pause(20);
          return mul(v, x, y);
        },
        async (v) => {
          if (ctx.party % 2 === 1) await pause(20);
          return ltz(v, x);
        },
      ]);
      return { p: (await revealFloat(ctx, p))!, s: (await reveal(ctx, s))!.data };
    });
    for (const r of res) {
      for (let i = 0; i < n; i++) {
        expect(r.p[i]).toBe(a[i] * b[i]);
        expect(r.s[i]).toBe(a[i] < 0 ? 1n : 0n);
      }
    }
  });

  it('carries byte payloads and empty lanes; a lane sees its own party id and counts its own traffic', async () => {
    const res = await runTrio(async (ctx) => {
      const peers = ([0, 1, 2] as PartyId[]).filter((p) => p !== ctx.party);
      const bytesLane = async (v: Context) => {
        const msg = new Uint8Array(5).fill(10 + v.party);
        const got = await v.ch.exchange({ step: 'bytes', send: { [peers[0]]: msg, [peers[1]]: msg }, recv: peers });
        return { self: v.party, got: peers.map((p) => Array.from(got.get(p) as Uint8Array)), stats: { ...v.ch.stats } };
      };
      const wordsLane = async (v: Context) => {
        const got = await v.ch.exchange({ step: 'words', send: { [v.next]: new BigUint64Array([BigInt(v.party)]) }, recv: [v.prev] });
        return Array.from(got.get(v.prev) as BigUint64Array);
      };
      const c = costOf(ctx);
      const [x, w, none] = await parallel(ctx, [bytesLane, wordsLane, async () => 'local']);
      return { x, w, none, cost: c() };
    });
    res.forEach((r, p) => {
      const peers = [0, 1, 2].filter((q) => q !== p);
      expect(r.x.self).toBe(p);
      expect(r.x.got).toEqual(peers.map((q) => new Array(5).fill(10 + q)));
      expect(r.x.stats.rounds).toBe(1);
      expect(r.x.stats.bytesSent).toBe(10);
      expect(r.w).toEqual([BigInt((p + 2) % 3)]);
      expect(r.none).toBe('local');
      // one round; to each peer one message: 2-word header + 1 word (5 bytes padded) (+ 1 word to next)
      expect(r.cost.rounds).toBe(1);
      expect(r.cost.messagesSent).toBe(2);
      expect(r.cost.bytesSent).toBe(2 * (2 * 8 + 8) + 8);
    });
  });

  it('resolves at once with no lanes; a lane that throws rejects parallel with its error and nothing hangs', async () => {
    await runTrio(async (ctx) => {
      expect(await parallel(ctx, [])).toEqual([]);
      await expect(parallel(ctx, new Array(MAX_LANES + 1).fill(async () => 0))).rejects.toThrow(RangeError);
    });
    const e = await failure(
      runTrio(
        async (ctx) => {
          const [x, y] = await inputs(ctx);
          return parallel(ctx, [(v) => ltz(v, x), async () => {
            throw new RangeError('lane 1 refuses');
          }, (v) => mul(v, x, y)]);
        },
        { recvTimeoutMs: 20_000 },
      ),
    );
    expect(e.code).toBe('RangeError: lane 1 refuses');
  });

  it('mismatched programs across parties fail with MPC_ERR_PROTOCOL, not a timeout', async () => {
    // lanes in another order on party 0
    const e1 = await failure(
      runTrio(
        async (ctx) => {
          const [x, y] = await inputs(ctx);
          const lanes = [(v: Context) => mul(v, x, y), (v: Context) => ltz(v, x)];
          return parallel(ctx, ctx.party === 0 ? [lanes[1], lanes[0]] : lanes);
        },
        { recvTimeoutMs: 20_000 },
      ),
    );
    expect(e1.code).toBe('MPC_ERR_PROTOCOL');
    // one lane more on party 2 (same step tags: only the header can tell)
    const e2 = await failure(
      runTrio(
        async (ctx) => {
          const [x, y] = await inputs(ctx);
          const lane = (v: Context) => mul(v, x, y);
          return parallel(ctx, ctx.party === 2 ? [lane, lane, lane] : [lane, lane]);
        },
        { recvTimeoutMs: 20_000 },
      ),
    );
    expect(e2.code).toBe('MPC_ERR_PROTOCOL');
  });

  it('a forged header (a length beyond the message, trailing words, bytes) is MPC_ERR_PROTOCOL naming the peer and the step', async () => {
    const forged: [string, BigUint64Array | Uint8Array][] = [
      ['too long', BigUint64Array.from([1n + 2n * 1000n, 1n + 2n * 1n, 7n])],
      ['huge', BigUint64Array.from([(1n << 64n) - 1n, 0n, 7n])],
      ['trailing', BigUint64Array.from([1n + 2n * 1n, 0n, 7n, 8n])],
      ['short', BigUint64Array.from([1n])],
      ['bytes', new Uint8Array(24)],
    ];
    for (const [, payload] of forged) {
      const e = await failure(
        runTrio(
          async (ctx) => {
            if (ctx.party === 1) {
              // party 1 does not multiplex: it sends its own message where the lanes' belongs
              await ctx.ch.exchange({ step: 'mul', send: { 0: payload }, recv: [2] });
              return [];
            }
            const z = new BigUint64Array(4);
            const lane = async (v: Context) => v.ch.exchange({ step: 'mul', send: { [v.prev]: z }, recv: [v.next] });
            return parallel(ctx, [lane, lane]);
          },
          { recvTimeoutMs: 20_000 },
        ),
      );
      expect(e).toEqual({ code: 'MPC_ERR_PROTOCOL', peer: 1, step: 'mul' });
    }
  });

  it('physical step tags: a lane step mismatch is caught by the channel; long joined tags stay bounded', async () => {
    const e = await failure(
      runTrio(
        async (ctx) => {
          const z = new BigUint64Array(1);
          const lane = (step: string) => async (v: Context) => v.ch.exchange({ step, send: { [v.prev]: z }, recv: [v.next] });
          return parallel(ctx, [lane('a'), lane(ctx.party === 1 ? 'c' : 'b')]);
        },
        { recvTimeoutMs: 20_000 },
      ),
    );
    expect(e.code).toBe('MPC_ERR_PROTOCOL');
    const res = await runTrio(async (ctx) => {
      const z = new BigUint64Array(1);
      const lanes = Array.from({ length: 40 }, (_, i) => async (v: Context) => v.ch.exchange({ step: `a.long.step.tag.${i}`, send: { [v.prev]: z }, recv: [v.next] }));
      await parallel(ctx, lanes);
      return [...ctx.ch.stats.byStep.keys()];
    });
    for (const steps of res) {
      expect(steps).toHaveLength(1);
      expect(steps[0].length).toBeLessThanOrEqual(MAX_JOINED_STEP);
      expect(steps[0]).toMatch(/^a\.long\.step\.tag\.0\|a\.long/);
    }
  });
});
