import { describe, expect, it } from 'vitest';
import { selectionSourceLayer, twoLevelSelect } from '../plain/mpcache-oracle.js';
import type { SecureLayerCache } from '../../models/secure-hooks.js';
import type { Context } from '../../protocols/context.js';
import { concat, slice } from '../../protocols/linear.js';
import { revealFloat } from '../../protocols/sharing.js';
import { onGrid, randFloats, refAttention, share } from '../../testing/protocol-helpers.js';
import { costOf, runTrio } from '../../testing/trio.js';
import type { ArithShare } from '../../protocols/types.js';
import { type SecureMpCacheOptions, computingLayers } from './mpcache-params.js';
import { secureMpCachePolicy } from './mpcache.js';

const F = 18;
const SHAPE = { nLayers: 6, nHeads: 4, nKvHeads: 2, headDim: 8 };
const { nLayers: L, nHeads: H, nKvHeads: NKV, headDim: HD } = SHAPE;

interface StepRecord {
  layer: number;
  n: number;
  q: Float64Array;
  /** revealed cache after the append */
  k: Float64Array;
  v: Float64Array;
  out: Float64Array;
  appendRounds: number;
  kvK?: Float64Array;
  kvTokens?: number;
}

/**
 * Prefill every layer (afterPrefill on random prompts of T tokens), then `steps` decode steps:
 * per layer onAppend + attend (and selectForStep on the last step). Reveals what the checks need.
 */
async function runPolicy(opts: SecureMpCacheOptions, T: number, steps: number, withSelectForStep: boolean): Promise<{ kept: number[]; prompts: Float64Array[]; keptK: Float64Array[]; records: StepRecord[] }> {
  const prompts = Array.from({ length: L }, (_, l) => onGrid(randFloats(NKV * T * HD, -2, 2, 100 + l), F));
  const values = Array.from({ length: L }, (_, l) => onGrid(randFloats(NKV * T * HD, -1, 1, 200 + l), F));
  const queries = Array.from({ length: L }, (_, l) => onGrid(randFloats(H * T * HD, -0.7, 0.7, 300 + l), F));
  const [r] = await runTrio(async (ctx: Context) => {
    const policy = secureMpCachePolicy(SHAPE, opts);
    const caches: SecureLayerCache[] = [];
    const keptK: Float64Array[] = [];
    for (let l = 0; l < L; l++) {
      const k = await share(ctx, 0, [NKV, T, HD], prompts[l]);
      const v = await share(ctx, 0, [NKV, T, HD], values[l]);
      const q = await share(ctx, 1, [H, T, HD], queries[l]);
      const c = await policy.afterPrefill!(ctx, { layer: l, nHeads: H, nKvHeads: NKV, headDim: HD, length: T, k, v }, q);
      caches.push(c);
      keptK.push((await revealFloat(ctx, c.k))!);
    }
    const records: StepRecord[] = [];
    for (let s = 0; s < steps; s++) {
      for (let l = 0; l < L; l++) {
        const qv = onGrid(randFloats(H * HD, -0.7, 0.7, 1000 * s + l), F);
        const kv = onGrid(randFloats(NKV * HD, -2, 2, 2000 * s + l), F);
        const vv = onGrid(randFloats(NKV * HD, -1, 1, 3000 * s + l), F);
        const q: ArithShare = await share(ctx, 1, [H, HD], qv);
        const kNew = await share(ctx, 1, [NKV, 1, HD], kv);
        const vNew = await share(ctx, 1, [NKV, 1, HD], vv);
        const old = caches[l];
        const c: SecureLayerCache = { ...old, length: old.length + 1, k: concat(ctx, [old.k, kNew], 1), v: concat(ctx, [old.v, vNew], 1) };
        caches[l] = c;
        const done = costOf(ctx);
        await policy.onAppend!(ctx, c, kNew, vNew, s);
        const appendRounds = done().rounds;
        const out = (await revealFloat(ctx, await policy.attend(ctx, c, q, s)))!;
        const rec: StepRecord = { layer: l, n: c.length, q: qv, k: (await revealFloat(ctx, c.k))!, v: (await revealFloat(ctx, c.v))!, out, appendRounds };
        if (withSelectForStep && s === steps - 1) {
          const sel = await policy.selectForStep!(ctx, c, q, s);
          if (sel !== undefined) {
            expect(sel.perQueryHead).toBe(true);
            rec.kvK = (await revealFloat(ctx, sel.k))!;
            rec.kvTokens = sel.k.shape[1];
          }
        }
        records.push(rec);
      }
    }
    void slice;
    return { kept: caches.map((c) => c.length - steps), prompts, keptK, records };
  });
  return r;
}

/** the oracle's level-2 blocks per query head for one layer's step (computed or shared as in the plain policy) */
function expectAttendMatchesOracle(records: StepRecord[], opts: SecureMpCacheOptions, share: boolean): void {
  const o = { block2: 16, ratio1: opts.ratio1 ?? 0.5, ratio2: opts.ratio2 ?? 0.2, alpha: opts.alpha ?? 0.6 };
  const chosen = new Map<string, Int32Array[]>();
  for (const r of records) {
    const step = Math.floor(records.indexOf(r) / L);
    const src = share ? selectionSourceLayer(r.layer, L) : r.layer;
    const reuse = src !== r.layer ? chosen.get(`${step}/${src}`) : undefined;
    const mine: Int32Array[] = [];
    for (let h = 0; h < H; h++) {
      const kv = Math.floor(h / (H / NKV));
      const K = r.k.subarray(kv * r.n * HD, (kv + 1) * r.n * HD);
      const V = r.v.subarray(kv * r.n * HD, (kv + 1) * r.n * HD);
      const qh = r.q.subarray(h * HD, (h + 1) * HD);
      const level2 = reuse ? reuse[h] : twoLevelSelect(qh, Float32Array.from(K), r.n, HD, o).level2;
      mine.push(level2);
      const tokens: number[] = [];
      for (const b of level2) for (let t = b * 16; t < Math.min(r.n, b * 16 + 16); t++) tokens.push(t);
      const want = refAttention(qh, K, V, HD, tokens);
      for (let i = 0; i < HD; i++) expect(Math.abs(r.out[h * HD + i] - want[i]), `layer ${r.layer} step ${step} head ${h}`).toBeLessThan(3e-3);
      if (r.kvK !== undefined) {
        expect(r.kvTokens).toBe(tokens.length);
        const got = new Set<string>();
        for (let t = 0; t < tokens.length; t++) got.add(Array.from(r.kvK.subarray((h * tokens.length + t) * HD, (h * tokens.length + t + 1) * HD)).join(','));
        expect(got).toEqual(new Set(tokens.map((t) => Array.from(K.subarray(t * HD, (t + 1) * HD)).join(','))));
      }
    }
    if (!reuse) chosen.set(`${step}/${r.layer}`, mine);
  }
}

describe('secure MPCache policy', () => {
  it('dynamic only, default ratios, cross-layer sharing: attention = float64 over the oracle blocks', async () => {
    const opts: SecureMpCacheOptions = { static: false };
    const T = 330;
    const { records } = await runPolicy(opts, T, 2, true);
    expectAttendMatchesOracle(records, opts, true);
    // reusing layers keep no representatives: their onAppend sends nothing
    expect(computingLayers(L)).toBe(5);
    for (const r of records) expect(r.appendRounds === 0).toBe(r.layer === 3 || (r.n - 1) % 16 === 0);
  });

  it('static eviction then dynamic selection, without sharing', async () => {
    const opts: SecureMpCacheOptions = { staticRatio: 0.75, ratio1: 0.6, ratio2: 0.4, share: false };
    const T = 200;
    const { kept, prompts, keptK, records } = await runPolicy(opts, T, 1, false);
    for (let l = 0; l < L; l++) {
      expect(kept[l]).toBe(150);
      // the kept keys are original rows in their original order, the last 40 (the window) included
      for (let kv = 0; kv < NKV; kv++) {
        const rows = (x: Float64Array, n: number) => Array.from({ length: n }, (_, t) => Array.from(x.subarray((kv * n + t) * HD, (kv * n + t + 1) * HD)).join(','));
        const orig = rows(prompts[l], T);
        const got = rows(keptK[l], 150);
        let j = 0;
        for (const g of got) {
          while (j < T && orig[j] !== g) j++;
          expect(j, `layer ${l}: kept row not found in order`).toBeLessThan(T);
          j++;
        }
        expect(got.slice(-40)).toEqual(orig.slice(-40));
      }
    }
    expectAttendMatchesOracle(records, opts, false);
  });
});
