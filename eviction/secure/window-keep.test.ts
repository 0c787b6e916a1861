/**
 * window-keep.ts windowMassOf: the window mass from the prefill's own probabilities (causal
 * attention's last rows, issue #14) equals windowMass's second pass up to fixed-point noise,
 * and costs nothing (local).
 */
import { describe, expect, it } from 'vitest';
import { causalAttention } from '../../models/causal-attention.js';
import { revealFloat } from '../../protocols/sharing.js';
import { onGrid, randFloats, share } from '../../testing/protocol-helpers.js';
import { costOf, runTrio } from '../../testing/trio.js';
import { windowMass, windowMassOf } from './window-keep.js';

const F = 18;

describe('windowMassOf', () => {
  it('from the prefill pass: equals the second pass (windowMass) within 2e-3, 0 bytes and 0 rounds', async () => {
    const H = 4;
    const nKv = 2;
    const T = 24;
    const d = 8;
    const w = 5;
    const res = await runTrio(async (ctx) => {
      const q = await share(ctx, 1, [H, T, d], onGrid(randFloats(H * T * d, -1, 1, 11), F));
      const k = await share(ctx, 0, [nKv, T, d], onGrid(randFloats(nKv * T * d, -1, 1, 12), F));
      const v = await share(ctx, 0, [nKv, T, d], onGrid(randFloats(nKv * T * d, -1, 1, 13), F));
      const cache = { layer: 0, nHeads: H, nKvHeads: nKv, headDim: d, length: T, k, v };
      const att = await causalAttention(ctx, q, k, v, { keepLast: w + 2 });
      const c = costOf(ctx);
      const given = await windowMassOf(ctx, cache, q, w, att.lastProbs);
      const cost = c();
      const second = await windowMass(ctx, cache, q, w);
      const fallback = await windowMassOf(ctx, cache, q, w, undefined);
      return { cost, given: (await revealFloat(ctx, given))!, second: (await revealFloat(ctx, second))!, fallback: (await revealFloat(ctx, fallback))! };
    });
    const r = res[0];
    expect(r.cost.bytesSent).toBe(0);
    expect(r.cost.rounds).toBe(0);
    expect(r.given.length).toBe(nKv * T);
    let worst = 0;
    for (let i = 0; i < r.given.length; i++) worst = Math.max(worst, Math.abs(r.given[i] - r.second[i]), Math.abs(r.fallback[i] - r.second[i]));
    expect(worst).toBeLessThan(2e-3);
    // each KV head: G * w probability rows, each summing to 1
    for (let kv = 0; kv < nKv; kv++) expect(r.given.subarray(kv * T, (kv + 1) * T).reduce((a, b) => a + b, 0)).toBeCloseTo((H / nKv) * w, 2);
  });
});
