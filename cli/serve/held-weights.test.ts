import { describe, expect, it } from 'vitest';
import { runInProcess } from '../../parties/in-process.js';
import { randomModelWeights } from '../../models/model-source.js';
import { shareModel, sharedParameterCount } from '../../models/secure-weights.js';
import { ArithShare } from '../../protocols/types.js';
import { snapshotStats } from '../../protocols/channel.js';
import { forgetHeldWeights, heldShareModel } from './held-weights.js';

/** every ArithShare of a SecureModel, in a fixed order */
function sharesOf(m: unknown, out: ArithShare[] = []): ArithShare[] {
  if (m instanceof ArithShare) out.push(m);
  else if (Array.isArray(m)) for (const x of m) sharesOf(x, out);
  else if (typeof m === 'object' && m !== null && !ArrayBuffer.isView(m)) for (const k of Object.keys(m).sort()) sharesOf((m as Record<string, unknown>)[k], out);
  return out;
}

function open(per: ArithShare[][]): BigUint64Array[] {
  return per[0].map((s, i) => {
    const o = new BigUint64Array(s.s0.length);
    for (let j = 0; j < o.length; j++) o[j] = BigInt.asUintN(64, per[0][i].s0[j] + per[1][i].s0[j] + per[2][i].s0[j]);
    return o;
  });
}

describe('weights held between sessions', () => {
  const w = randomModelWeights();
  const session = (held: boolean) =>
    runInProcess(async (ctx) => {
      const before = snapshotStats(ctx.ch.stats);
      const m = held ? await heldShareModel(ctx, w.config, ctx.party === 0 ? w : undefined) : await shareModel(ctx, w.config, ctx.party === 0 ? w : undefined);
      const after = snapshotStats(ctx.ch.stats);
      const sh = sharesOf(m);
      // replicated: party i's s1 is party i+1's s0
      return { sh, bytes: after.bytesSent - before.bytesSent };
    });

  it('opens to the same encoded weights as shareModel; P0 sends x0 to P2 once, later sessions send only seeds and a tag', async () => {
    forgetHeldWeights(0);
    forgetHeldWeights(2);
    const ref = await session(false);
    const first = await session(true);
    const second = await session(true);
    const want = open(ref.map((r) => r.sh));
    for (const s of [first, second]) {
      expect(open(s.map((r) => r.sh))).toEqual(want);
      for (let p = 0; p < 3; p++) for (let i = 0; i < s[p].sh.length; i++) expect(s[p].sh[i].s1).toEqual(s[(p + 1) % 3].sh[i].s0);
    }
    const words = sharedParameterCount(w.config);
    expect(first[0].bytes).toBeGreaterThanOrEqual(8 * words); // x0, once
    expect(second[0].bytes).toBeLessThan(100); // s1 to P1 and the tag to P2
    expect(second[2].bytes).toBeLessThan(100); // s2 (and its tag) to P0 and P1
    expect(second[1].bytes).toBe(0);
    // a restarted P2 (new s2): P0 sends x0 again, and the shares still open right
    forgetHeldWeights(2);
    const third = await session(true);
    expect(third[0].bytes).toBeGreaterThanOrEqual(8 * words);
    expect(open(third.map((r) => r.sh))).toEqual(want);
  });

  it('sessions that start together after a start: x0 travels in one of them only, all open right', async () => {
    forgetHeldWeights(0);
    forgetHeldWeights(2);
    const ref = open((await session(false)).map((r) => r.sh));
    const runs = await Promise.all([session(true), session(true), session(true)]);
    const words = sharedParameterCount(w.config);
    expect(runs.filter((r) => r[0].bytes >= 8 * words)).toHaveLength(1);
    expect(runs.filter((r) => r[0].bytes < 100)).toHaveLength(2);
    for (const r of runs) expect(open(r.map((x) => x.sh))).toEqual(ref);
  });
});
