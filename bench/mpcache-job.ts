/**
 * Party-side job of the MPCache benchmark (bench/mpcache.ts): ONE decode step of ONE
 * attention layer on shares, three ways:
 *   full   the new token's query against all N cached tokens: q K^T, softmax, . V;
 *   own    MPCache on the statically kept cache (n = floor(0.3 N) tokens: the look-once
 *          eviction happened at prefill, not in this step): the new token's block
 *          representatives update, two-level selection (20%), attention over the selected
 *          blocks only. This is a layer that computes its own selection = MPCache without
 *          cross-layer sharing;
 *   reuse  the next layer under cross-layer index sharing: reuses the previous layer's
 *          selection (no representatives, no top-k), attention over the selected blocks.
 * The cache contents are PUBLIC test values (a fixed LCG) held as trivial sharings: every
 * protocol here sends the same messages whatever the values, so costs and latencies are
 * those of secret data; the values only serve the plaintext check at the end (the revealed
 * outputs against a float64 computation of the same selection rules).
 *
 * Launched by runLocalParties as `bench/mpcache-job.ts#mpcacheBench`.
 */
import { publicBlockReps } from '../eviction/secure/block-reps.js';
import { secureMpCachePolicy } from '../eviction/secure/mpcache.js';
import { fullDecodeAttention } from '../eviction/secure/sparse-attention.js';
import { twoLevelSelect } from '../eviction/plain/mpcache-oracle.js';
import type { SecureLayerCache } from '../models/secure-hooks.js';
import type { JobIO } from '../parties/job.js';
import type { StepStats } from '../protocols/channel.js';
import type { Context } from '../protocols/context.js';
import { slice } from '../protocols/linear.js';
import { constant, revealFloat } from '../protocols/sharing.js';
import { ArithShare } from '../protocols/types.js';
import { costOf } from '../protocols/measure.js';
import { type SecureMpCachePolicy } from '../eviction/secure/mpcache.js';
import { createSecurePolicy } from '../eviction/secure/registry.js';
import { type ModelConfig, validateConfig } from '../models/config.js';
import { NonSecretTestRng } from '../models/random-weights.js';
import { SecureDecoder } from '../models/secure-decoder.js';
import { type SecureModel, assembleSecureModel, securePlan } from '../models/secure-weights.js';

export type MpcacheVariant = 'full' | 'own' | 'reuse';

export interface MpcacheBenchArgs {
  readonly nHeads: number;
  readonly headDim: number;
  /** model depth (for the sharing schedule; >= 6 so that layers 2 and 3 are a compute/reuse pair) */
  readonly nLayers: number;
  /** context length */
  readonly N: number;
  readonly reps: number;
  readonly variants: readonly MpcacheVariant[];
  /** static keep ratio (default 0.3) */
  readonly staticRatio?: number;
  /** compare the revealed outputs with float64 (default true) */
  readonly check?: boolean;
}

export interface VariantResult {
  readonly variant: MpcacheVariant;
  /** cached tokens attended over before selection */
  readonly cacheLength: number;
  /** latency of each repetition, ms */
  readonly ms: number[];
  /** traffic of the first repetition on this party */
  readonly cost: StepStats;
  /** max |secure - float64| of the outputs (party 0; NaN when not checked) */
  readonly maxErr: number;
  /** tokens attended per head */
  readonly attended: number;
}

export interface MpcacheBenchResult {
  readonly results: VariantResult[];
}

function lcg(n: number, lo: number, hi: number, seed: number, f: number): Float64Array {
  let s = (seed * 2654435761) >>> 0;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = Math.round((lo + ((hi - lo) * s) / 2 ** 32) * 2 ** f) / 2 ** f;
  }
  return out;
}

export async function barrier(ctx: Context): Promise<void> {
  const peers = ([0, 1, 2] as const).filter((p) => p !== ctx.party);
  const one = new Uint8Array(1);
  await ctx.ch.exchange({ step: 'bench.barrier', send: { [peers[0]]: one, [peers[1]]: one }, recv: peers });
}

/** float64 attention of q (one head) over the given token rows of K/V ([n, hd] of head h). */
function plainAttention(q: Float64Array, K: Float64Array, V: Float64Array, hd: number, rows: ArrayLike<number>, out: Float64Array): void {
  const s = new Float64Array(rows.length);
  let mx = -Infinity;
  for (let r = 0; r < rows.length; r++) {
    let d = 0;
    for (let i = 0; i < hd; i++) d += q[i] * K[rows[r] * hd + i];
    s[r] = d;
    if (d > mx) mx = d;
  }
  let z = 0;
  for (let r = 0; r < rows.length; r++) z += (s[r] = Math.exp(s[r] - mx));
  out.fill(0);
  for (let r = 0; r < rows.length; r++) for (let i = 0; i < hd; i++) out[i] += (s[r] / z) * V[rows[r] * hd + i];
}

export async function mpcacheBench(ctx: Context, rawArgs: unknown, io: JobIO): Promise<MpcacheBenchResult> {
  const a = rawArgs as MpcacheBenchArgs;
  const { nHeads: H, headDim: hd, N, reps } = a;
  const check = a.check ?? true;
  const f = ctx.f;
  const nLayers = Math.max(6, a.nLayers);
  const shape = { nLayers, nHeads: H, nKvHeads: H, headDim: hd };
  const qv = lcg(H * hd, -1, 1, 11, f).map((v) => Math.round((v / Math.sqrt(hd)) * 2 ** f) / 2 ** f); // pre-scaled like the decoder's
  const q = constant(ctx, [H, hd], qv);
  const results: VariantResult[] = [];
  const qHead = (h: number): Float64Array => qv.subarray(h * hd, (h + 1) * hd);
  const headRows = (all: Float64Array, h: number, n: number): Float64Array => all.subarray(h * n * hd, (h + 1) * n * hd);
  const maxAbs = (got: Float64Array, want: Float64Array): number => got.reduce((m, v, i) => Math.max(m, Math.abs(v - want[i])), 0);

  if (a.variants.includes('full')) {
    const kv = lcg(H * N * hd, -1, 1, 21, f);
    const vv = lcg(H * N * hd, -1, 1, 22, f);
    const K = constant(ctx, [H, N, hd], kv);
    const V = constant(ctx, [H, N, hd], vv);
    const ms: number[] = [];
    let cost: StepStats | undefined;
    let out: ArithShare | undefined;
    for (let r = 0; r < reps; r++) {
      await barrier(ctx);
      const done = costOf(ctx);
      const t0 = performance.now();
      out = await fullDecodeAttention(ctx, q, K, V);
      ms.push(performance.now() - t0);
      cost ??= done();
      io.log(`full N=${N} rep ${r}: ${ms[r].toFixed(1)} ms`);
    }
    let maxErr = Number.NaN;
    if (check) {
      const got = (await revealFloat(ctx, out!))!;
      const want = new Float64Array(H * hd);
      const rows = Int32Array.from({ length: N }, (_, i) => i);
      for (let h = 0; h < H; h++) plainAttention(qHead(h), headRows(kv, h, N), headRows(vv, h, N), hd, rows, want.subarray(h * hd, (h + 1) * hd));
      maxErr = maxAbs(got, want);
    }
    results.push({ variant: 'full', cacheLength: N, ms, cost: cost!, maxErr, attended: N });
  }

  const wantOwn = a.variants.includes('own');
  const wantReuse = a.variants.includes('reuse');
  if (wantOwn || wantReuse) {
    const n = Math.max(2, Math.floor((a.staticRatio ?? 0.3) * N + 1e-9)); // kept at prefill, the new token included
    const kv = lcg(H * n * hd, -1, 1, 31, f);
    const vv = lcg(H * n * hd, -1, 1, 32, f);
    const K = constant(ctx, [H, n, hd], kv);
    const V = constant(ctx, [H, n, hd], vv);
    const kNew = slice(ctx, K, n - 1, n, 1);
    const vNew = slice(ctx, V, n - 1, n, 1);
    const before = (layer: number): SecureLayerCache => ({ layer, nHeads: H, nKvHeads: H, headDim: hd, length: n - 1, k: slice(ctx, K, 0, n - 1, 1), v: slice(ctx, V, 0, n - 1, 1) });
    const after = (layer: number): SecureLayerCache => ({ layer, nHeads: H, nKvHeads: H, headDim: hd, length: n, k: K, v: V });
    // representatives of the first n-1 tokens (public test data: computed in the clear)
    const prev = new Float64Array(H * (n - 1) * hd);
    for (let h = 0; h < H; h++) prev.set(kv.subarray(h * n * hd, h * n * hd + (n - 1) * hd), h * (n - 1) * hd);
    const policy = secureMpCachePolicy(shape, { share: true });
    const own: { ms: number[]; cost?: StepStats; out?: ArithShare } = { ms: [] };
    const reuse: { ms: number[]; cost?: StepStats; out?: ArithShare } = { ms: [] };
    for (let r = 0; r < reps; r++) {
      await policy.prepare(ctx, before(2), publicBlockReps(ctx, prev, H, n - 1, hd, 16));
      await barrier(ctx);
      let done = costOf(ctx);
      let t0 = performance.now();
      await policy.onAppend!(ctx, after(2), kNew, vNew, r);
      own.out = await policy.attend(ctx, after(2), q, r);
      own.ms.push(performance.now() - t0);
      own.cost ??= done();
      await barrier(ctx);
      done = costOf(ctx);
      t0 = performance.now();
      await policy.onAppend!(ctx, after(3), kNew, vNew, r);
      reuse.out = await policy.attend(ctx, after(3), q, r);
      reuse.ms.push(performance.now() - t0);
      reuse.cost ??= done();
      io.log(`mpcache N=${N} (n=${n}) rep ${r}: own ${own.ms[r].toFixed(1)} ms, reuse ${reuse.ms[r].toFixed(1)} ms`);
    }
    let errOwn = Number.NaN;
    let errReuse = Number.NaN;
    let attended = 0;
    if (check) {
      const gotOwn = (await revealFloat(ctx, own.out!))!;
      const gotReuse = (await revealFloat(ctx, reuse.out!))!;
      const want = new Float64Array(H * hd);
      for (let h = 0; h < H; h++) {
        const sel = twoLevelSelect(qHead(h), Float32Array.from(headRows(kv, h, n)), n, hd, { block2: 16, ratio1: policy.params.ratio1, ratio2: policy.params.ratio2, alpha: policy.params.alpha });
        attended = sel.tokens.length;
        plainAttention(qHead(h), headRows(kv, h, n), headRows(vv, h, n), hd, sel.tokens, want.subarray(h * hd, (h + 1) * hd));
      }
      errOwn = maxAbs(gotOwn, want);
      errReuse = maxAbs(gotReuse, want);
    }
    if (wantOwn) results.push({ variant: 'own', cacheLength: n, ms: own.ms, cost: own.cost!, maxErr: errOwn, attended });
    if (wantReuse) results.push({ variant: 'reuse', cacheLength: n, ms: reuse.ms, cost: reuse.cost!, maxErr: errReuse, attended });
  }
  return { results };
}

// ---------------------------------------------------------------- the paper's harness: a whole decode step

export interface ModelStepArgs {
  /** public model config (GPT-2-small dimensions in the benchmark) */
  readonly config: ModelConfig;
  /** prompt length before the measured step (512 in the paper) */
  readonly prompt: number;
  /** measured steps per policy (after one unmeasured warm-up step) */
  readonly reps: number;
  readonly policies: readonly ('full' | 'mpcache' | 'mpcache-noshare')[];
}

export interface ModelStepResult {
  readonly policy: string;
  /** cached tokens per layer before the step */
  readonly cacheLength: number;
  readonly ms: number[];
  /** traffic of the first measured step on this party */
  readonly cost: StepStats;
  /** the generated token (party 1 only) */
  readonly token: number | undefined;
}

/**
 * A trivial sharing (x0 = v, x1 = x2 = 0) of public uniform test values with standard
 * deviation `std` at scale ctx.f, generated in chunks (no communication; only parties 0 and 2,
 * which hold x0, compute the values).
 */
export function trivialUniform(ctx: Context, shape: readonly number[], seed: number, std: number, mean = 0): ArithShare {
  const n = shape.reduce((a, b) => a * b, 1);
  const v = new BigUint64Array(n);
  if (ctx.party !== 1) {
    const rng = new NonSecretTestRng(seed);
    const CH = 1 << 20;
    const f32 = new Float32Array(CH);
    const f64 = new Float64Array(CH);
    for (let off = 0; off < n; off += CH) {
      const m = Math.min(CH, n - off);
      rng.fillUniform(f32.subarray(0, m), std);
      for (let i = 0; i < m; i++) f64[i] = f32[i] + mean;
      ctx.k.encodeFixed(f64.subarray(0, m), ctx.f, v.subarray(off, off + m));
    }
  }
  const zero = new BigUint64Array(n);
  const [s0, s1] = ctx.party === 0 ? [v, zero] : ctx.party === 2 ? [zero, v] : [zero, new BigUint64Array(n)];
  return new ArithShare(shape, s0, s1, ctx.f);
}

/** Per-layer caches of n tokens as trivial sharings of public uniform keys and values (std 0.5). */
export function trivialCaches(ctx: Context, c: ModelConfig, n: number): SecureLayerCache[] {
  return Array.from({ length: c.nLayers }, (_, l) => ({
    layer: l,
    nHeads: c.nHeads,
    nKvHeads: c.nKvHeads,
    headDim: c.headDim,
    length: n,
    k: trivialUniform(ctx, [c.nKvHeads, n, c.headDim], 1000 + l, 0.5),
    v: trivialUniform(ctx, [c.nKvHeads, n, c.headDim], 2000 + l, 0.5),
  }));
}

/**
 * A random-weight model as trivial sharings (public test weights; the costs are those of
 * secret ones), tensor by tensor as shareModel lays them out (securePlan): matrices with std
 * 1/sqrt(fan_in), gains 1 +- 0.05, biases std 0.02.
 */
export function trivialModel(ctx: Context, c: ModelConfig, seed: number): SecureModel {
  const gains = new Set(['finalNorm', 'qkNorm']);
  const shares = securePlan(c).map((t, i) => {
    const s = seed + 10 * i;
    if (t.shape.length === 2) return trivialUniform(ctx, t.shape, s, 1 / Math.sqrt(t.shape[1]));
    return gains.has(t.name) ? trivialUniform(ctx, t.shape, s, 0.05, 1) : trivialUniform(ctx, t.shape, s, 0.02);
  });
  return assembleSecureModel(c, shares);
}

/**
 * One whole decode step (all layers + output head + secure argmax revealed to P1) of a model
 * after a `prompt`-token prompt, per policy: 'full' attends over the prompt's cache; the
 * MPCache policies start from the statically kept 30% (the eviction ran at prefill) with
 * their block representatives prepared, and select per layer (with or without sharing).
 * The caches are trivial sharings of public random values (decode cost depends on lengths only).
 */
export async function mpcacheModelStep(ctx: Context, rawArgs: unknown, io: JobIO): Promise<ModelStepResult[]> {
  const a = rawArgs as ModelStepArgs;
  const c = validateConfig(a.config);
  const t0 = performance.now();
  const model = trivialModel(ctx, c, 17);
  io.log(`model ready in ${(performance.now() - t0).toFixed(0)} ms`);
  const out: ModelStepResult[] = [];
  for (const name of a.policies) {
    const n = name === 'full' ? a.prompt : Math.max(1, Math.floor(0.3 * a.prompt + 1e-9));
    const caches = trivialCaches(ctx, c, n);
    const ms: number[] = [];
    let cost: StepStats | undefined;
    let token: number | undefined;
    for (let r = 0; r <= a.reps; r++) {
      // 'mpcache' here is the paper-parametrised v1 (static 30%, 20% per step, sharing): registry 'mpcache-v1'
      const policy = name === 'full' ? undefined : createSecurePolicy(name === 'mpcache' ? 'mpcache-v1' : name, c);
      if (policy !== undefined) {
        const mp = policy as SecureMpCachePolicy;
        for (const lc of caches) {
          // representatives of the public test keys (computed in the clear, trivially shared)
          const keys = new Float64Array(lc.k.size);
          if (ctx.party !== 1) ctx.k.decodeFixed(ctx.party === 0 ? lc.k.s0 : lc.k.s1, ctx.f, keys);
          await mp.prepare(ctx, lc, publicBlockReps(ctx, keys, c.nKvHeads, n, c.headDim, mp.params.block2));
        }
      }
      const dec = new SecureDecoder(ctx, model, policy === undefined ? { maxSeqLen: a.prompt + 2 } : { policy, maxSeqLen: a.prompt + 2 });
      dec.resume(caches, a.prompt);
      const hot = constant(ctx, [1, c.vocabSize], Float64Array.from({ length: c.vocabSize }, (_, i) => (i === 7 ? 1 : 0)), 0);
      await barrier(ctx);
      const done = costOf(ctx);
      const t = performance.now();
      const choice = await dec.nextToken(await dec.step(hot));
      const dt = performance.now() - t;
      if (r === 0) {
        io.log(`${name}: warm-up step ${dt.toFixed(0)} ms`);
        continue;
      }
      ms.push(dt);
      cost ??= done();
      token = choice.token;
      io.log(`${name}: step ${dt.toFixed(0)} ms`);
    }
    out.push({ policy: name, cacheLength: n, ms, cost: cost!, token });
  }
  return out;
}
