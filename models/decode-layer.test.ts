/**
 * The round-frugal decode blocks (decode-layer.ts) against the sequential blocks of
 * secure-layers.ts and float64: the same values up to fixed-point rounding, fewer rounds.
 */
import { describe, expect, it } from 'vitest';
import { makeConfig } from './config.js';
import { randomWeights } from './random-weights.js';
import { shareModel } from './secure-weights.js';
import { RopeTable } from './rope.js';
import { decodeAttention, feedForward, projectQkv, rmsNormalize, ropeMultipliers } from './secure-layers.js';
import { decodeAttentionDeferred, normFeedForward, normProjectQkv } from './decode-layer.js';
import { applyTruncPolicy } from './trunc-policy.js';
import { revealFloat } from '../protocols/sharing.js';
import { costOf, runTrio } from '../testing/trio.js';
import { randFloats, share } from '../testing/protocol-helpers.js';

const maxDiff = (a: Float64Array, b: Float64Array): number => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

describe('decode-layer blocks', () => {
  const c = makeConfig({ dim: 48, hiddenDim: 96, nLayers: 1, nHeads: 4, nKvHeads: 2, vocabSize: 16, maxSeqLen: 64 });
  const w = randomWeights(c, 5);

  // Rounds saved (ltz(45) = 7 for rsqrt's range bits; F faithful truncation = 2 rounds, prob 1):
  //  qkv: the projection and RoPE (2 F) and the product by r (F) leave the critical path:
  //       faithful 25 -> 19, prob 20 -> 17;
  //  FFN: sequential norm (3 F + ltz + 8) + w13 (F) + the activation's comparisons (7) + its
  //       polynomial + gate + w2, against [mean square (2 F) || w13] + [ltz || breakpointBits
  //       (F + 6 + 1 + 1)] + 8 + the same tail: faithful 42 -> 34, prob 32 -> 25.
  const saved = { faithful: { qkv: 6, ffn: 8 }, prob: { qkv: 3, ffn: 7 } } as const;

  it.each(['faithful', 'prob'] as const)('normProjectQkv and normFeedForward equal the sequential blocks, in fewer rounds (%s truncation)', async (mode) => {
    for (const seed of [1, 2, 3]) {
      const x0 = randFloats(c.dim, -4, 4, 10 + seed);
      const res = await runTrio(async (ctx) => {
        applyTruncPolicy(ctx, mode);
        const m = await shareModel(ctx, c, ctx.party === 0 ? w : undefined);
        const L = m.layers[0];
        const x = await share(ctx, 0, [1, c.dim], x0);
        const mult = ropeMultipliers(ctx, c, RopeTable.forConfig(c), [7], 1 / Math.sqrt(c.headDim));
        let t = costOf(ctx);
        const a = await projectQkv(ctx, c, await rmsNormalize(ctx, x, c), L, mult);
        const ra = t().rounds;
        t = costOf(ctx);
        const b = await normProjectQkv(ctx, c, x, L, mult);
        const rb = t().rounds;
        t = costOf(ctx);
        const fa = await feedForward(ctx, c, await rmsNormalize(ctx, x, c), L);
        const rfa = t().rounds;
        t = costOf(ctx);
        const fb = await normFeedForward(ctx, c, x, L);
        const rfb = t().rounds;
        return { a: (await revealFloat(ctx, a))!, b: (await revealFloat(ctx, b))!, fa: (await revealFloat(ctx, fa))!, fb: (await revealFloat(ctx, fb))!, ra, rb, rfa, rfb };
      }, { seed });
      const r = res[0];
      expect(maxDiff(r.a, r.b)).toBeLessThan(2e-3);
      expect(maxDiff(r.fa, r.fb)).toBeLessThan(5e-3);
      expect(r.rb).toBe(r.ra - saved[mode].qkv); // the projection leaves the critical path, the product by r rides in rsqrt
      expect(r.rfb).toBe(r.rfa - saved[mode].ffn); // and the activation's comparisons run beside the norm too
    }
  });

  it('decodeAttentionDeferred matches float64 softmax attention and decodeAttention, many trials (faithful and prob truncation)', async () => {
    const n = 57;
    const hd = c.headDim;
    let worst = 0;
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      const q0 = randFloats(c.nHeads * hd, -2, 2, seed);
      const k0 = randFloats(c.nKvHeads * n * hd, -2, 2, 100 + seed);
      const v0 = randFloats(c.nKvHeads * n * hd, -2, 2, 200 + seed);
      const res = await runTrio(async (ctx) => {
        applyTruncPolicy(ctx, seed <= 3 ? 'faithful' : 'prob'); // the decoder's mode, and the old one
        const q = await share(ctx, 1, [c.nHeads, hd], q0);
        const K = await share(ctx, 0, [c.nKvHeads, n, hd], k0);
        const V = await share(ctx, 0, [c.nKvHeads, n, hd], v0);
        let t = costOf(ctx);
        const a = await decodeAttention(ctx, c, q, K, V, false);
        const ra = t().rounds;
        t = costOf(ctx);
        const b = await decodeAttentionDeferred(ctx, c, q, K, V, false);
        const rb = t().rounds;
        return { a: (await revealFloat(ctx, a))!, b: (await revealFloat(ctx, b))!, ra, rb };
      }, { seed });
      // float64
      const G = c.nHeads / c.nKvHeads;
      const want = new Float64Array(c.nHeads * hd);
      for (let h = 0; h < c.nHeads; h++) {
        const kv = Math.floor(h / G);
        const s = new Float64Array(n);
        for (let j = 0; j < n; j++) for (let i = 0; i < hd; i++) s[j] += q0[h * hd + i] * k0[(kv * n + j) * hd + i];
        const mx = Math.max(...s);
        const e = s.map((v) => Math.exp(v - mx));
        const sum = e.reduce((p, v) => p + v, 0);
        for (let j = 0; j < n; j++) for (let i = 0; i < hd; i++) want[h * hd + i] += (e[j] / sum) * v0[(kv * n + j) * hd + i];
      }
      worst = Math.max(worst, maxDiff(res[0].b, want));
      expect(maxDiff(res[0].b, want)).toBeLessThan(3e-3);
      expect(maxDiff(res[0].a, want)).toBeLessThan(3e-3);
      expect(res[0].rb).toBeLessThan(res[0].ra);
    }
    console.log(`decodeAttentionDeferred: worst |error| vs float64 ${worst.toExponential(2)}`);
  });
});
