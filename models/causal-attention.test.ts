/**
 * Causal chunked prefill attention (models/causal-attention.ts): values against float64
 * attention (one chunk, many chunks, sliding window), the ragged max (exact, odd lengths,
 * ties, length-1 rows), the cost equal to the documented composition on the VISIBLE entries
 * only (so no masked entry is sent anywhere), the chunk plan from a memory budget, the last
 * rows' probabilities, and the decoder's tokens with a small budget (many chunks) against the
 * plaintext reference on stories260K.
 */
import { describe, expect, it } from 'vitest';
import { costOf, runTrio } from '../testing/trio.js';
import { onGrid, randFloats, share } from '../testing/protocol-helpers.js';
import { exp } from '../protocols/exp.js';
import { matmulFixed, mulFixed, truncTerms } from '../protocols/mul.js';
import { reciprocal } from '../protocols/reciprocal.js';
import { revealFloat } from '../protocols/sharing.js';
import { defaultMaxAbsLogit, softmaxBitWidth } from '../protocols/softmax.js';
import { ArithShare } from '../protocols/types.js';
import { CHUNK_BYTES_PER_ENTRY, causalAttention, causalEntryRatio, chunkPlan, entriesForBudget, raggedMax, rowStart, visibleEntries } from './causal-attention.js';
import { ReferenceModel } from './reference.js';
import { SecureDecoder } from './secure-decoder.js';
import { shareModel } from './secure-weights.js';
import { loadStories260k, stories260kPresent } from './test-support.js';
import type { PrefillProgress } from './prefill-progress.js';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadWeights } from './load.js';
import { loadTokenizerOrBytes, repoRoot } from './model-source.js';

const F = 18;

/** float64 causal attention: Q [H, T, d], K, V [nKv, T, d] -> out [H, T, d] and probs [H, T, T] */
function refAttention(Q: Float64Array, K: Float64Array, V: Float64Array, H: number, nKv: number, T: number, d: number, window: number | null) {
  const G = H / nKv;
  const out = new Float64Array(H * T * d);
  const probs = new Float64Array(H * T * T);
  for (let h = 0; h < H; h++) {
    const kv = Math.floor(h / G);
    for (let t = 0; t < T; t++) {
      const lo = rowStart(t, window);
      const s = new Float64Array(T);
      let m = -Infinity;
      for (let j = lo; j <= t; j++) {
        let dot = 0;
        for (let i = 0; i < d; i++) dot += Q[(h * T + t) * d + i] * K[(kv * T + j) * d + i];
        s[j] = dot;
        m = Math.max(m, dot);
      }
      let z = 0;
      for (let j = lo; j <= t; j++) z += Math.exp(s[j] - m);
      for (let j = lo; j <= t; j++) {
        const p = Math.exp(s[j] - m) / z;
        probs[(h * T + t) * T + j] = p;
        for (let i = 0; i < d; i++) out[(h * T + t) * d + i] += p * V[(kv * T + j) * d + i];
      }
    }
  }
  return { out, probs };
}

async function runCase(H: number, nKv: number, T: number, d: number, window: number | null, maxEntries: number, keepLast = 0) {
  const Q = onGrid(randFloats(H * T * d, -1.5, 1.5, 3), F);
  const K = onGrid(randFloats(nKv * T * d, -1.5, 1.5, 4), F);
  const V = onGrid(randFloats(nKv * T * d, -1, 1, 5), F);
  const res = await runTrio(async (ctx) => {
    const q = await share(ctx, 1, [H, T, d], Q);
    const k = await share(ctx, 0, [nKv, T, d], K);
    const v = await share(ctx, 0, [nKv, T, d], V);
    let chunks = 0;
    const r = await causalAttention(ctx, q, k, v, { maxEntries, window, keepLast, onChunk: () => chunks++ });
    return { out: (await revealFloat(ctx, r.out))!, last: r.lastProbs === undefined ? undefined : (await revealFloat(ctx, r.lastProbs))!, chunks };
  });
  return { res, ref: refAttention(Q, K, V, H, nKv, T, d, window) };
}

const maxAbs = (a: Float64Array, b: Float64Array): number => a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0);

describe('causal chunked attention', () => {
  it('equals float64 causal attention within 2e-3, as one chunk and as many chunks (GQA)', async () => {
    const one = await runCase(4, 2, 37, 8, null, Number.MAX_SAFE_INTEGER);
    expect(one.res[0].chunks).toBe(1);
    expect(maxAbs(one.res[0].out, one.ref.out)).toBeLessThan(2e-3);
    const many = await runCase(4, 2, 37, 8, null, 4 * 40);
    expect(many.res[0].chunks).toBe(chunkPlan(37, 4, 160).length);
    expect(many.res[0].chunks).toBeGreaterThan(4);
    expect(maxAbs(many.res[0].out, many.ref.out)).toBeLessThan(2e-3);
  });

  it('sliding window: rows see only their last W keys', async () => {
    const w = await runCase(2, 1, 30, 8, 7, 2 * 50);
    expect(maxAbs(w.res[0].out, w.ref.out)).toBeLessThan(2e-3);
  });

  it('returns the probabilities of the last rows (0 at masked keys), as the float softmax rows', async () => {
    const H = 2;
    const T = 25;
    const keep = 6;
    const r = await runCase(H, 1, T, 8, null, H * 30, keep);
    const last = r.res[0].last!;
    expect(last.length).toBe(H * keep * T);
    let worst = 0;
    for (let h = 0; h < H; h++) {
      for (let i = 0; i < keep; i++) {
        const t = T - keep + i;
        for (let j = 0; j < T; j++) {
          const got = last[(h * keep + i) * T + j];
          if (j > t) expect(got).toBe(0);
          worst = Math.max(worst, Math.abs(got - r.ref.probs[(h * T + t) * T + j]));
        }
      }
    }
    expect(worst).toBeLessThan(2e-3);
  });

  it('ragged max: exact per row, masked entries never enter (odd lengths, ties, rows of one)', async () => {
    const len = Int32Array.from([1, 2, 3, 7, 8, 9, 1, 16, 5]);
    const N = len.reduce((a, b) => a + b, 0);
    const v = onGrid(randFloats(N, -20, 20, 9), F);
    v[3] = v[4] = v[5] = 7.5; // a row of ties
    const res = await runTrio(async (ctx) => {
      const x = await share(ctx, 2, [N], v);
      return (await revealFloat(ctx, await raggedMax(ctx, x, len, softmaxBitWidth(defaultMaxAbsLogit(F), F))))!;
    });
    let off = 0;
    const want = Array.from(len, (n) => {
      const m = Math.max(...v.subarray(off, off + n));
      off += n;
      return m;
    });
    expect(Array.from(res[0])).toEqual(want);
  });

  it('costs exactly the documented composition on the visible entries (rounds and bytes), about half the square entries', async () => {
    const H = 4;
    const nKv = 2;
    const T = 40;
    const d = 8;
    const W = null;
    const G = H / nKv;
    const res = await runTrio(async (ctx) => {
      const q = await share(ctx, 1, [H, T, d], onGrid(randFloats(H * T * d, -1, 1, 1), F));
      const k = await share(ctx, 0, [nKv, T, d], onGrid(randFloats(nKv * T * d, -1, 1, 2), F));
      const v = await share(ctx, 0, [nKv, T, d], onGrid(randFloats(nKv * T * d, -1, 1, 3), F));
      const c = costOf(ctx);
      await causalAttention(ctx, q, k, v, { window: W });
      const cost = c();
      // the same calls on fresh tensors of the visible sizes
      const N = H * visibleEntries(0, T, W);
      const len = new Int32Array(H * T);
      for (let h = 0; h < H; h++) for (let t = 0; t < T; t++) len[h * T + t] = t + 1;
      const z = new ArithShare([N], new BigUint64Array(N), new BigUint64Array(N), 0);
      const p = costOf(ctx);
      const s = await truncTerms(ctx, z.s0, [N], F, F);
      await raggedMax(ctx, s, len, softmaxBitWidth(defaultMaxAbsLogit(F), F));
      const e = await exp(ctx, s, { bitWidth: softmaxBitWidth(defaultMaxAbsLogit(F), F) });
      const r = await reciprocal(ctx, new ArithShare([H * T], new BigUint64Array(H * T), new BigUint64Array(H * T), F), { maxLog2: Math.ceil(Math.log2(T + 1)) });
      await mulFixed(ctx, e, e);
      await matmulFixed(ctx, new ArithShare([nKv, G * T, T], new BigUint64Array(H * T * T), new BigUint64Array(H * T * T), F), v);
      void r;
      return { cost, parts: p(), N };
    });
    const sum = (f: (x: (typeof res)[number]) => number): number => res.reduce((a, x) => a + f(x), 0);
    expect(res[0].cost.rounds).toBe(res[0].parts.rounds);
    expect(sum((x) => x.cost.bytesSent)).toBe(sum((x) => x.parts.bytesSent));
    expect(res[0].N / (H * T * T)).toBeCloseTo(causalEntryRatio(T), 12);
    expect(causalEntryRatio(T)).toBeCloseTo((T + 1) / (2 * T), 12);
  });

  it('chunk plan: covers the rows in order, each chunk within the entry bound; the bound follows the memory budget', () => {
    for (const [T, H, max, W] of [[100, 6, 600, null], [2048, 6, 1e6, null], [50, 2, 40, 5], [10, 3, 1, null]] as const) {
      const plan = chunkPlan(T, H, max, W);
      expect(plan[0][0]).toBe(0);
      expect(plan[plan.length - 1][1]).toBe(T);
      for (let i = 0; i < plan.length; i++) {
        const [a, b] = plan[i];
        expect(b).toBeGreaterThan(a);
        if (i > 0) expect(a).toBe(plan[i - 1][1]);
        if (b - a > 1) expect(H * visibleEntries(a, b, W)).toBeLessThanOrEqual(max);
        // greedy: one more row would not fit
        if (b < T) expect(H * visibleEntries(a, b + 1, W)).toBeGreaterThan(max);
      }
    }
    expect(entriesForBudget(256, 6, 2048)).toBe(Math.floor((256 * 2 ** 20) / CHUNK_BYTES_PER_ENTRY));
    expect(entriesForBudget(0.001, 6, 2048)).toBe(6 * 2048); // at least one full row
    expect(() => entriesForBudget(0, 6, 10)).toThrow(RangeError);
    expect(chunkPlan(2048, 6, entriesForBudget(256, 6, 2048)).length).toBeGreaterThan(chunkPlan(2048, 6, entriesForBudget(1024, 6, 2048)).length);
  });
});

describe.runIf(stories260kPresent())('secure decoder with causal chunked prefill (stories260K)', () => {
  it('greedy tokens equal the plaintext reference with a tiny chunk budget (many chunks); progress events per chunk, monotone', async () => {
    const { weights, tokenizer } = await loadStories260k();
    const prompt = tokenizer.encode('Once upon a time, there was a little girl named Lily. She loved to play', { bos: true });
    const want = new ReferenceModel(weights).generate(prompt, 6);
    const out = await runTrio(async (ctx) => {
      const model = await shareModel(ctx, weights.config, ctx.party === 0 ? weights : undefined);
      const events: PrefillProgress[] = [];
      const dec = new SecureDecoder(ctx, model, { prefillMemMb: 0.05, onProgress: (e) => events.push(e) });
      const r = await dec.generate(ctx.party === 1 ? prompt : undefined, prompt.length, 6);
      return { tokens: r.tokens, events };
    });
    expect(out[1].tokens).toEqual(want);
    const ev = out[1].events;
    const perLayer = chunkPlan(prompt.length, weights.config.nHeads, entriesForBudget(0.05, weights.config.nHeads, prompt.length)).length;
    expect(perLayer).toBeGreaterThan(1);
    expect(ev.length).toBe(weights.config.nLayers * perLayer);
    for (let i = 1; i < ev.length; i++) expect(ev[i].fraction).toBeGreaterThan(ev[i - 1].fraction);
    expect(ev[ev.length - 1].fraction).toBe(1);
    expect(ev[ev.length - 1].tokensDone).toBe(prompt.length);
  });
});

const DEFAULT_DIR = join(repoRoot(), 'models', 'default');

describe.runIf(existsSync(join(DEFAULT_DIR, 'model.safetensors')))('secure decoder with causal chunked prefill (default model)', () => {
  it('a 96-token prompt in several chunks: greedy tokens equal the plaintext reference', async () => {
    const weights = await loadWeights(DEFAULT_DIR);
    const tok = await loadTokenizerOrBytes(DEFAULT_DIR, weights.config.vocabSize);
    const prompt = tok.encode(readFileSync(join(DEFAULT_DIR, 'heldout-sample.txt'), 'utf8'), { bos: true }).slice(0, 96);
    const want = new ReferenceModel(weights).generate(prompt, 2);
    const memMb = 0.5; // 1310 entries per chunk: several chunks per layer
    expect(chunkPlan(96, weights.config.nHeads, entriesForBudget(memMb, weights.config.nHeads, 96)).length).toBeGreaterThan(3);
    const out = await runTrio(async (ctx) => {
      const model = await shareModel(ctx, weights.config, ctx.party === 0 ? weights : undefined);
      const dec = new SecureDecoder(ctx, model, { prefillMemMb: memMb });
      return (await dec.generate(ctx.party === 1 ? prompt : undefined, prompt.length, 2)).tokens;
    });
    expect(out[1]).toEqual(want);
  }, 300_000);
});
