/**
 * The architecture blocks of secure-layers.ts, each against float64 and its written cost:
 * LayerNorm as RMSNorm of the centred stream with the folded gain and a bias add (no extra
 * round), the per-head q/k RMSNorm inside projectQkv (Qwen3), biases (local), the GeLU MLP
 * (GPT-2), and learned positions (a local row slice: no round beyond the embedding matmul).
 */
import { describe, expect, it } from 'vitest';
import { gelu } from '../protocols/activations.js';
import type { Context } from '../protocols/context.js';
import { matmulFixed } from '../protocols/mul.js';
import { rsqrt } from '../protocols/rsqrt.js';
import { constant, inputMany, revealFloat } from '../protocols/sharing.js';
import { costOf, runTrio } from '../testing/trio.js';
import type { ArithShare } from '../protocols/types.js';
import { GPT2_BLOCK, makeConfig } from './config.js';
import { geluTanh, layernorm, rmsnorm } from './float-ops.js';
import { NonSecretTestRng } from './random-weights.js';
import { RopeTable } from './rope.js';
import { addBias, feedForward, projectQkv, rmsNormalize, ropeMultipliers } from './secure-layers.js';
import { type SecureLayerWeights, normRho } from './secure-weights.js';

function uniform(n: number, std: number, seed: number, mean = 0): Float64Array {
  const f = new NonSecretTestRng(seed).fillUniform(new Float32Array(n), std);
  return Float64Array.from(f, (v) => v + mean);
}

/** P0 shares these float64 tensors (one round). */
function ownerShares(ctx: Context, items: readonly { shape: number[]; v: Float64Array }[]): Promise<ArithShare[]> {
  return inputMany(ctx, 0, items.map((t) => ({ shape: t.shape, values: ctx.party === 0 ? t.v : undefined })));
}

describe('secure architecture blocks', () => {
  it('LayerNorm = RMSNorm of the centred rows with the folded gain, then the bias (local): within rsqrt\'s 1e-3 of float64, no extra round', async () => {
    const T = 3;
    const d = 48;
    const c = makeConfig({ ...GPT2_BLOCK, dim: d, hiddenDim: 96, nLayers: 1, nHeads: 4, vocabSize: 8, maxSeqLen: 8 });
    const x = uniform(T * d, 2, 1, 0.7); // not centred: the owner's centring removes the mean
    const g = uniform(d, 0.2, 2, 1);
    const b = uniform(d, 0.3, 3);
    const xc = Float64Array.from(x);
    for (let t = 0; t < T; t++) {
      let m = 0;
      for (let i = 0; i < d; i++) m += x[t * d + i];
      for (let i = 0; i < d; i++) xc[t * d + i] -= m / d;
    }
    const res = await runTrio(async (ctx) => {
      const [xs, gs, bs] = await ownerShares(ctx, [{ shape: [T, d], v: xc }, { shape: [d], v: g.map((v) => v * Math.sqrt(normRho(d))) }, { shape: [d], v: b }]);
      const c0 = costOf(ctx);
      await rsqrt(ctx, constant(ctx, [T, 1], 1));
      const rsqrtCost = c0();
      const c1 = costOf(ctx);
      const n = await rmsNormalize(ctx, xs, c, gs);
      const normCost = c1();
      const c2 = costOf(ctx);
      const y = addBias(ctx, n, bs);
      const biasCost = c2();
      return { y: (await revealFloat(ctx, y))!, normCost, rsqrtCost, biasCost };
    });
    const want = new Float32Array(T * d);
    for (let t = 0; t < T; t++) layernorm(want, t * d, Float32Array.from(x), t * d, Float32Array.from(g), Float32Array.from(b), d, c.normEps);
    let worst = 0;
    for (let i = 0; i < T * d; i++) worst = Math.max(worst, Math.abs(res[0].y[i] - want[i]) - 1e-3 * Math.abs(want[i] - b[i % d]));
    expect(worst).toBeLessThanOrEqual(1e-4);
    for (const r of res) {
      // fused gain + truncation round, squares round, rsqrt, final product: as for RMSNorm
      expect(r.normCost.rounds).toBe(r.rsqrtCost.rounds + 3);
      expect(r.biasCost.rounds).toBe(0);
      expect(r.biasCost.bytesSent).toBe(0);
    }
  });

  it('projectQkv with q/k RMSNorm per head (Qwen3) and biases: within 3e-3 of float64; rounds 1 + norm + 1 (RoPE)', async () => {
    const T = 2;
    const c = makeConfig({ dim: 32, hiddenDim: 64, nLayers: 1, nHeads: 4, nKvHeads: 2, headDim: 12, vocabSize: 8, maxSeqLen: 16, qkNorm: true, qkvBias: true });
    const hd = c.headDim;
    const rows = (c.nHeads + 2 * c.nKvHeads) * hd;
    const h = uniform(T * c.dim, 1, 4);
    const W = uniform(rows * c.dim, 1 / Math.sqrt(c.dim), 5);
    const bias = uniform(rows, 0.1, 6);
    const qn = uniform(hd, 0.2, 7, 1);
    const kn = uniform(hd, 0.2, 8, 1);
    const gains = new Float64Array((c.nHeads + c.nKvHeads) * hd);
    const s = Math.sqrt(normRho(hd));
    for (let k = 0; k < c.nHeads + c.nKvHeads; k++) for (let e = 0; e < hd; e++) gains[k * hd + e] = (k < c.nHeads ? qn[e] : kn[e]) * s;
    const rope = new RopeTable(hd, c.ropeTheta);
    const positions = [3, 4];
    const res = await runTrio(async (ctx) => {
      const [hs, ws, bs, gs] = await ownerShares(ctx, [{ shape: [T, c.dim], v: h }, { shape: [rows, c.dim], v: W }, { shape: [rows], v: bias }, { shape: [gains.length], v: gains }]);
      const L = { wqkv: ws, bqkv: bs, qkNorm: gs } as unknown as SecureLayerWeights;
      // (the block first: a cost window that starts right after another protocol may see its last round)
      const c1 = costOf(ctx);
      const out = await projectQkv(ctx, c, hs, L, ropeMultipliers(ctx, c, rope, positions, 1 / Math.sqrt(hd)));
      const cost = c1();
      const c0 = costOf(ctx);
      await rsqrt(ctx, constant(ctx, [T * (c.nHeads + c.nKvHeads), 1], 1));
      const rsqrtCost = c0();
      return { out: (await revealFloat(ctx, out))!, cost, rsqrtCost };
    });
    // float64: projection + bias, per-head RMSNorm of q and k, RoPE, q / sqrt(hd)
    const want = new Float32Array(T * rows);
    for (let t = 0; t < T; t++) {
      for (let r = 0; r < rows; r++) {
        let a = bias[r];
        for (let i = 0; i < c.dim; i++) a += W[r * c.dim + i] * h[t * c.dim + i];
        want[t * rows + r] = a;
      }
      for (let k = 0; k < c.nHeads + c.nKvHeads; k++) rmsnorm(want, t * rows + k * hd, want, t * rows + k * hd, Float32Array.from(k < c.nHeads ? qn : kn), hd, c.normEps);
      rope.apply(want, t * rows, c.nHeads + c.nKvHeads, positions[t]);
      for (let j = 0; j < c.nHeads * hd; j++) want[t * rows + j] /= Math.sqrt(hd);
    }
    let worst = 0;
    for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(res[0].out[i] - want[i]));
    expect(worst).toBeLessThanOrEqual(3e-3);
    // matmulFixed 1, rowNormalize (fused gain round, squares, rsqrt, product) rsqrt + 3, RoPE truncation 1
    for (const r of res) expect(r.cost.rounds).toBe(1 + r.rsqrtCost.rounds + 3 + 1);
  });

  it('GeLU MLP (GPT-2) with biases: within 2e-2 of the float64 tanh-GeLU MLP; rounds 1 + gelu + 1', async () => {
    const T = 2;
    const c = makeConfig({ ...GPT2_BLOCK, dim: 32, hiddenDim: 128, nLayers: 1, nHeads: 4, vocabSize: 8, maxSeqLen: 8 });
    const h = uniform(T * c.dim, 1, 11);
    const w1 = uniform(c.hiddenDim * c.dim, 1 / Math.sqrt(c.dim), 12);
    const b1 = uniform(c.hiddenDim, 0.1, 13);
    const w2 = uniform(c.dim * c.hiddenDim, 1 / Math.sqrt(c.hiddenDim), 14);
    const b2 = uniform(c.dim, 0.1, 15);
    const res = await runTrio(async (ctx) => {
      const [hs, w1s, b1s, w2s, b2s] = await ownerShares(ctx, [
        { shape: [T, c.dim], v: h },
        { shape: [c.hiddenDim, c.dim], v: w1 },
        { shape: [c.hiddenDim], v: b1 },
        { shape: [c.dim, c.hiddenDim], v: w2 },
        { shape: [c.dim], v: b2 },
      ]);
      const L = { w13: w1s, b13: b1s, w2: w2s, b2: b2s } as unknown as SecureLayerWeights;
      const c1 = costOf(ctx);
      const out = await feedForward(ctx, c, hs, L);
      const cost = c1();
      const u = await matmulFixed(ctx, hs, w1s, { transB: true });
      const c0 = costOf(ctx);
      await gelu(ctx, u);
      const geluCost = c0();
      return { out: (await revealFloat(ctx, out))!, cost, geluCost };
    });
    let worst = 0;
    for (let t = 0; t < T; t++) {
      const a = new Float64Array(c.hiddenDim);
      for (let r = 0; r < c.hiddenDim; r++) {
        let s = b1[r];
        for (let i = 0; i < c.dim; i++) s += w1[r * c.dim + i] * h[t * c.dim + i];
        a[r] = geluTanh(s);
      }
      for (let o = 0; o < c.dim; o++) {
        let s = b2[o];
        for (let r = 0; r < c.hiddenDim; r++) s += w2[o * c.hiddenDim + r] * a[r];
        worst = Math.max(worst, Math.abs(res[0].out[t * c.dim + o] - s));
      }
    }
    // GeLU's 3.5e-3 from the tanh form, summed through w2 (|w2| ~ 1/sqrt(hidden)): ~3.5e-3 sqrt(hidden) / sqrt(hidden) * few
    expect(worst).toBeLessThanOrEqual(2e-2);
    for (const r of res) expect(r.cost.rounds).toBe(1 + r.geluCost.rounds + 1);
  });
});
