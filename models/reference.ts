/**
 * The plaintext float reference of the Llama-architecture decoder: prefill + decode with a
 * KV cache, greedy generation, teacher-forced scoring. Policies plug in through
 * PlainKvHooks (attention-hooks.ts) and see the cache as LayerCacheView (kv-cache.ts).
 *
 *   const model = new ReferenceModel(weights);
 *   const s = model.newSession({ hooks });      // one sequence, one KV cache
 *   let logits = s.prefill(promptTokens);       // logits after the last prompt token
 *   logits = s.step(nextToken);                 // one decode step
 *   model.generate(prompt, 20, hooks);          // greedy tokens
 *   model.nll(prompt, continuation, hooks);     // teacher-forced NLL of a continuation
 *
 * Layer math (per token, x the residual stream; the per-block functions below the classes):
 *   x = tokenEmbedding[t] (+ positionEmbedding[pos] for learned positions);
 *   h = norm(x, attnNorm[, attnNormBias]); q = wq h (+ bq); k = wk h (+ bk); v = wv h (+ bv);
 *   [qkNorm: per-head RMSNorm of q and k with qNorm / kNorm]; [rope: RoPE(q, k) on adjacent pairs];
 *   per query head i (KV head i / (nHeads/nKvHeads)): softmax(q k^T / sqrt(headDim)) v over the
 *   causal keys (within slidingWindow when set; at decode steps each entry's score also gets
 *   its log multiplicity, cache.logMass: 0 unless a merging policy wrote it);
 *   x += wo att (+ bo); h = norm(x, ffnNorm[, ffnNormBias]);
 *   x += w2 ffnAct(h) (+ b2), ffnAct = silu(w1 h + b1) * (w3 h + b3) (SwiGLU) or gelu(w1 h + b1);
 *   logits = output norm(x, finalNorm[, finalNormBias]).
 * norm = RMSNorm or LayerNorm (config.norm). The prompt's own attention is full causal attention
 * (within the window); policies act on what later steps see.
 */
import type { AttendedContext, KeyRotary, PlainKvHooks, PrefillContext, StepContext } from './attention-hooks.js';
import { type ModelConfig, kvDim, qDim } from './config.js';
import { argmax, geluErf, geluTanh, layernorm, logProb, matmulRows, matvec, rmsnorm, silu, softmaxInPlace } from './float-ops.js';
import { keyRotaryOf, NO_ROTATION } from './key-rotary.js';
import { KvCache } from './kv-cache.js';
import { RopeTable } from './rope.js';
import { aTokenId } from './tokenizer.js';
import { type LayerWeights, type ModelWeights, validateWeights } from './weights.js';

export interface SessionOptions {
  /** KV-cache policy hooks (default: none = full attention) */
  readonly hooks?: PlainKvHooks;
  /** keep the last call's attention probabilities in `session.attention` (default false) */
  readonly recordAttention?: boolean;
  /** position limit (default config.maxSeqLen; RoPE itself has no limit) */
  readonly maxSeqLen?: number;
}

/** Attention probabilities of one layer from the session's last prefill or step. */
export interface LayerAttention {
  readonly layer: number;
  /**
   * per query head. After prefill: T*T floats, row i = query i over keys 0..i (zeros above
   * the diagonal). After a step: one float per attended cache entry, in `attended` order.
   */
  readonly probs: readonly Float32Array[];
  /** after a step: per query head, the cache indices attended (into its KV head's list); absent after prefill */
  readonly attended?: readonly Int32Array[];
}

export interface NllResult {
  /** sum of -log p(continuation[i] | prompt, continuation[<i]) in nats */
  readonly total: number;
  /** total / continuation length */
  readonly mean: number;
  /** per continuation token */
  readonly perToken: Float64Array;
  /** the greedy (argmax) prediction at each continuation position */
  readonly predicted: Int32Array;
}

export interface GenerateOptions {
  /** stop after emitting one of these tokens (it is included in the result) */
  readonly stopTokens?: readonly number[];
}

/** A loaded model: immutable weights plus precomputed RoPE; creates sessions. */
export class ReferenceModel {
  readonly config: ModelConfig;
  readonly weights: ModelWeights;
  /** the RoPE table (null for learned positions) */
  readonly rope: RopeTable | null;
  /** the rotation of the cached keys as the hook contexts give it to policies (none for learned positions) */
  readonly rotary: KeyRotary;

  constructor(weights: ModelWeights) {
    this.weights = validateWeights(weights);
    this.config = weights.config;
    this.rope = this.config.positions === 'rope' ? RopeTable.forConfig(this.config) : null;
    this.rotary = this.rope ? keyRotaryOf(this.rope) : NO_ROTATION;
  }

  /** A fresh sequence with an empty KV cache. Accepts the hooks directly or full options. */
  newSession(opts: SessionOptions | PlainKvHooks = {}): ReferenceSession {
    const o: SessionOptions = isSessionOptions(opts) ? opts : { hooks: opts };
    return new ReferenceSession(this, o);
  }

  /** Logits at every position of `tokens` (teacher forcing, no hooks): T arrays of vocabSize. */
  logits(tokens: ArrayLike<number>): Float32Array[] {
    return this.newSession().prefillLogits(tokens);
  }

  /**
   * Teacher-forced negative log-likelihood of `continuation` after `prompt`: the prompt is
   * prefilled (hooks.onPrefill fires), then each continuation token but the last is fed
   * as a decode step (selectForStep / onAttention fire), exactly as in generation.
   */
  nll(prompt: ArrayLike<number>, continuation: ArrayLike<number>, hooks?: PlainKvHooks): NllResult {
    const n = continuation.length;
    if (n === 0) throw new RangeError('continuation must not be empty');
    const s = this.newSession(hooks === undefined ? {} : { hooks });
    let logits = s.prefill(prompt);
    const perToken = new Float64Array(n);
    const predicted = new Int32Array(n);
    let total = 0;
    for (let i = 0; i < n; i++) {
      const t = aTokenId(continuation[i], this.config.vocabSize, `continuation[${i}]`);
      perToken[i] = -logProb(logits, t);
      predicted[i] = argmax(logits);
      total += perToken[i];
      if (i + 1 < n) logits = s.step(t);
    }
    return { total, mean: total / n, perToken, predicted };
  }

  /** Greedy generation of up to `nNew` tokens after `prompt` (the prompt is not included). */
  generate(prompt: ArrayLike<number>, nNew: number, hooks?: PlainKvHooks, opts: GenerateOptions = {}): number[] {
    if (!Number.isSafeInteger(nNew) || nNew < 0) throw new RangeError(`nNew must be a non-negative integer, got ${nNew}`);
    const s = this.newSession(hooks === undefined ? {} : { hooks });
    const out: number[] = [];
    if (nNew === 0) return out;
    let logits = s.prefill(prompt);
    for (let i = 0; i < nNew; i++) {
      const t = argmax(logits);
      out.push(t);
      if (opts.stopTokens?.includes(t)) break;
      if (i + 1 < nNew) logits = s.step(t);
    }
    return out;
  }
}

/** Per head h, rows t of m (T rows of `width` floats) restricted to that head's hd columns: T * hd floats. */
function splitHeads(m: Float32Array, T: number, width: number, nHeads: number, hd: number): Float32Array[] {
  return Array.from({ length: nHeads }, (_, h) => {
    const out = new Float32Array(T * hd);
    for (let t = 0; t < T; t++) out.set(m.subarray(t * width + h * hd, t * width + (h + 1) * hd), t * hd);
    return out;
  });
}

function isSessionOptions(o: SessionOptions | PlainKvHooks): o is SessionOptions {
  return 'hooks' in o || 'recordAttention' in o || 'maxSeqLen' in o;
}

/** One sequence being processed: its KV cache, position and decode-step counter. */
export class ReferenceSession {
  /** the KV cache; `cache.layer(l)` is the LayerCacheView policies see */
  readonly cache: KvCache;
  /** attention of the last prefill/step when recordAttention was set */
  attention: readonly LayerAttention[] | undefined;
  private pos = 0;
  private steps = 0;
  private readonly hooks: PlainKvHooks | undefined;
  private readonly record: boolean;
  private readonly maxSeqLen: number;

  constructor(
    readonly model: ReferenceModel,
    opts: SessionOptions = {},
  ) {
    const c = model.config;
    this.hooks = opts.hooks;
    this.record = opts.recordAttention ?? false;
    this.maxSeqLen = opts.maxSeqLen ?? c.maxSeqLen;
    if (!Number.isSafeInteger(this.maxSeqLen) || this.maxSeqLen <= 0) throw new RangeError(`maxSeqLen must be a positive integer, got ${this.maxSeqLen}`);
    if (c.positions === 'learned' && this.maxSeqLen > c.maxSeqLen) throw new RangeError(`maxSeqLen ${this.maxSeqLen} exceeds the ${c.maxSeqLen} learned positions`);
    this.cache = new KvCache(c.nLayers, c.nHeads, c.nKvHeads, c.headDim);
  }

  /** number of tokens processed so far (= position of the next token) */
  get position(): number {
    return this.pos;
  }

  /** number of decode steps done */
  get decodeSteps(): number {
    return this.steps;
  }

  /**
   * A copy of this session (KV cache contents, position, decode-step count) that continues
   * with other options/hooks; this session is unchanged. No hook fires during the copy.
   * Lets an evaluation prefill a prompt once and try many policies on it: the prompt's own
   * attention is full causal whatever the policy, so a fork plus replaying the recorded
   * PrefillContexts (with the fork's cache) equals a fresh prefill under that policy.
   */
  fork(opts: SessionOptions | PlainKvHooks = {}): ReferenceSession {
    const o: SessionOptions = isSessionOptions(opts) ? opts : { hooks: opts };
    const s = new ReferenceSession(this.model, { maxSeqLen: this.maxSeqLen, ...o });
    for (let l = 0; l < this.cache.layers.length; l++) {
      const src = this.cache.layer(l);
      const dst = s.cache.layer(l);
      for (let g = 0; g < src.nKvHeads; g++) {
        const pos = src.positions(g);
        const k = src.keys(g);
        const v = src.values(g);
        for (let j = 0; j < pos.length; j++) dst.append(g, pos[j], k, j * src.headDim, v, j * src.headDim);
        dst.logMass(g).set(src.logMass(g));
      }
    }
    s.pos = this.pos;
    s.steps = this.steps;
    return s;
  }

  /** Prefills the prompt (only on a fresh session); returns the logits after its last token. */
  prefill(tokens: ArrayLike<number>): Float32Array {
    return this.runPrefill(tokens, false)[0];
  }

  /** Prefills the prompt; returns the logits at every prompt position (T arrays). */
  prefillLogits(tokens: ArrayLike<number>): Float32Array[] {
    return this.runPrefill(tokens, true);
  }

  private runPrefill(tokens: ArrayLike<number>, all: boolean): Float32Array[] {
    const T = tokens.length;
    if (T === 0) throw new RangeError('tokens must not be empty');
    if (this.pos !== 0) throw new RangeError('prefill is only allowed on a fresh session; use step() to continue');
    if (T > this.maxSeqLen) throw new RangeError(`prompt of ${T} tokens exceeds maxSeqLen ${this.maxSeqLen}`);
    const m = this.model;
    const c = m.config;
    const w = m.weights;
    const { d, qd, kd, hd, hid, G, scale } = passDims(c);
    const x = new Float32Array(T * d);
    for (let t = 0; t < T; t++) embedToken(x, t * d, w, aTokenId(tokens[t], c.vocabSize, `tokens[${t}]`), t);
    const xn = new Float32Array(T * d);
    const tmp = new Float32Array(T * d);
    const att = new Float32Array(T * qd);
    const h1 = new Float32Array(T * hid);
    const h3 = new Float32Array(T * hid);
    const recorded: LayerAttention[] = [];
    const hooked = this.hooks?.onPrefill !== undefined;
    for (let l = 0; l < c.nLayers; l++) {
      const L = w.layers[l];
      const lc = this.cache.layer(l);
      const residual = hooked ? x.slice() : undefined;
      for (let t = 0; t < T; t++) normRow(xn, x, t * d, L.attnNorm, L.attnNormBias, c);
      const q = new Float32Array(T * qd);
      const k = new Float32Array(T * kd);
      const v = new Float32Array(T * kd);
      projectQkv(q, k, v, xn, T, L, c);
      const preRopeKeys = hooked ? splitHeads(k, T, kd, c.nKvHeads, hd) : undefined;
      for (let t = 0; t < T; t++) {
        positionQk(m.rope, q, k, t, t, c);
        for (let g = 0; g < c.nKvHeads; g++) lc.append(g, t, k, t * kd + g * hd, v, t * kd + g * hd);
      }
      const first = (i: number): number => (c.slidingWindow === null ? 0 : Math.max(0, i - c.slidingWindow + 1));
      const probs: Float32Array[] = [];
      for (let h = 0; h < c.nHeads; h++) {
        const kvh = Math.floor(h / G);
        const P = new Float32Array(T * T);
        const row = new Float64Array(T);
        for (let i = 0; i < T; i++) {
          const qo = i * qd + h * hd;
          const j0 = first(i);
          for (let j = j0; j <= i; j++) {
            const ko = j * kd + kvh * hd;
            let s = 0;
            for (let e = 0; e < hd; e++) s += q[qo + e] * k[ko + e];
            row[j] = s * scale;
          }
          softmaxInPlace(row, j0, i + 1 - j0);
          for (let j = j0; j <= i; j++) P[i * T + j] = row[j];
          // attention output for query i of head h
          for (let e = 0; e < hd; e++) {
            let s = 0;
            for (let j = j0; j <= i; j++) s += row[j] * v[j * kd + kvh * hd + e];
            att[i * qd + h * hd + e] = s;
          }
        }
        probs.push(P);
      }
      if (this.hooks?.onPrefill) {
        const queries = splitHeads(q, T, qd, c.nHeads, hd);
        const projection = { wk: L.wk, wv: L.wv, dim: d };
        const ctx: PrefillContext = { layer: l, length: T, cache: lc, queries, probs, preRopeKeys, rotary: m.rotary, projection, residual };
        this.hooks.onPrefill(ctx);
      }
      if (this.record) recorded.push({ layer: l, probs });
      linear(tmp, L.wo, att, T, d, qd, L.bo);
      for (let i = 0; i < T * d; i++) x[i] += tmp[i];
      for (let t = 0; t < T; t++) normRow(xn, x, t * d, L.ffnNorm, L.ffnNormBias, c);
      feedForward(tmp, xn, T, L, c, h1, h3);
      for (let i = 0; i < T * d; i++) x[i] += tmp[i];
    }
    this.pos = T;
    this.attention = this.record ? recorded : undefined;
    const first = all ? 0 : T - 1;
    const n = T - first;
    for (let t = first; t < T; t++) normRow(xn, x, t * d, w.finalNorm, w.finalNormBias, c);
    const logits = new Float32Array(n * c.vocabSize);
    matmulRows(logits, w.output, xn.subarray(first * d), n, c.vocabSize, d);
    return Array.from({ length: n }, (_, i) => logits.subarray(i * c.vocabSize, (i + 1) * c.vocabSize));
  }

  /**
   * Feeds one token at the current position (a decode step) and returns the logits that
   * predict the next one. Hooks: selectForStep after this token's K/V are cached, before
   * attention; onAttention after attention.
   */
  step(token: number): Float32Array {
    const m = this.model;
    const c = m.config;
    const w = m.weights;
    const id = aTokenId(token, c.vocabSize);
    const pos = this.pos;
    if (pos >= this.maxSeqLen) throw new RangeError(`position ${pos} reaches maxSeqLen ${this.maxSeqLen}`);
    const { d, qd, kd, hd, hid, G, scale } = passDims(c);
    const x = new Float32Array(d);
    embedToken(x, 0, w, id, pos);
    const xn = new Float32Array(d);
    const tmp = new Float32Array(d);
    const att = new Float32Array(qd);
    const h1 = new Float32Array(hid);
    const h3 = new Float32Array(hid);
    const k = new Float32Array(kd);
    const v = new Float32Array(kd);
    const recorded: LayerAttention[] = [];
    const hooks = this.hooks;
    for (let l = 0; l < c.nLayers; l++) {
      const L = w.layers[l];
      const lc = this.cache.layer(l);
      normRow(xn, x, 0, L.attnNorm, L.attnNormBias, c);
      const q = new Float32Array(qd);
      projectQkv(q, k, v, xn, 1, L, c);
      const preRopeKey = hooks ? Array.from({ length: c.nKvHeads }, (_, g) => k.slice(g * hd, (g + 1) * hd)) : undefined;
      positionQk(m.rope, q, k, 0, pos, c);
      for (let g = 0; g < c.nKvHeads; g++) lc.append(g, pos, k, g * hd, v, g * hd);
      const query = Array.from({ length: c.nHeads }, (_, h) => q.subarray(h * hd, (h + 1) * hd));
      const ctx: StepContext = { layer: l, step: this.steps, position: pos, cache: lc, query, preRopeKey, rotary: m.rotary };
      const sel = hooks?.selectForStep?.(ctx);
      if (sel !== undefined && sel.length !== c.nHeads) throw new RangeError(`selectForStep returned ${sel.length} entries, expected one per query head (${c.nHeads})`);
      const attended: Int32Array[] = [];
      const probs: Float32Array[] = [];
      for (let h = 0; h < c.nHeads; h++) {
        const kvh = Math.floor(h / G);
        const len = lc.length(kvh);
        let idx = sel?.[h];
        if (idx === undefined) {
          idx = new Int32Array(len);
          for (let j = 0; j < len; j++) idx[j] = j;
        } else {
          let hasCurrent = false;
          for (let j = 0; j < idx.length; j++) {
            if (!Number.isInteger(idx[j]) || idx[j] < 0 || idx[j] >= len) throw new RangeError(`selectForStep: head ${h} index ${idx[j]} outside [0, ${len})`);
            if (idx[j] === len - 1) hasCurrent = true;
          }
          if (!hasCurrent) throw new RangeError(`selectForStep: head ${h} selection must include the current token's entry (${len - 1})`);
        }
        if (c.slidingWindow !== null) idx = inWindow(idx, lc.positions(kvh), pos, c.slidingWindow);
        const keys = lc.keys(kvh);
        const vals = lc.values(kvh);
        const lm = lc.logMass(kvh);
        const n = idx.length;
        const p = new Float64Array(n);
        const qo = h * hd;
        for (let j = 0; j < n; j++) {
          const ko = idx[j] * hd;
          let s = 0;
          for (let e = 0; e < hd; e++) s += q[qo + e] * keys[ko + e];
          p[j] = s * scale + lm[idx[j]];
        }
        softmaxInPlace(p, 0, n);
        for (let e = 0; e < hd; e++) att[qo + e] = 0;
        for (let j = 0; j < n; j++) {
          const vo = idx[j] * hd;
          const pj = p[j];
          for (let e = 0; e < hd; e++) att[qo + e] += pj * vals[vo + e];
        }
        attended.push(idx);
        probs.push(Float32Array.from(p));
      }
      if (hooks?.onAttention) {
        const actx: AttendedContext = { ...ctx, attended, probs };
        hooks.onAttention(actx);
      }
      if (this.record) recorded.push({ layer: l, probs, attended });
      linear(tmp, L.wo, att, 1, d, qd, L.bo);
      for (let i = 0; i < d; i++) x[i] += tmp[i];
      normRow(xn, x, 0, L.ffnNorm, L.ffnNormBias, c);
      feedForward(tmp, xn, 1, L, c, h1, h3);
      for (let i = 0; i < d; i++) x[i] += tmp[i];
    }
    this.pos = pos + 1;
    this.steps++;
    this.attention = this.record ? recorded : undefined;
    normRow(xn, x, 0, w.finalNorm, w.finalNormBias, c);
    const logits = new Float32Array(c.vocabSize);
    matvec(logits, 0, w.output, xn, 0, c.vocabSize, d);
    return logits;
  }
}

// ---------------------------------------------------------------- per-block functions (the architecture differences)

/** The sizes a forward pass works with: width, query and KV widths, head size, hidden size, query heads per KV head, attention scale. */
function passDims(c: ModelConfig): { d: number; qd: number; kd: number; hd: number; hid: number; G: number; scale: number } {
  return { d: c.dim, qd: qDim(c), kd: kvDim(c), hd: c.headDim, hid: c.hiddenDim, G: c.nHeads / c.nKvHeads, scale: 1 / Math.sqrt(c.headDim) };
}

/** x[off..off+dim) = token embedding of `id` (+ the learned position embedding of `pos`). */
function embedToken(x: Float32Array, off: number, w: ModelWeights, id: number, pos: number): void {
  const d = w.config.dim;
  x.set(w.tokenEmbedding.subarray(id * d, (id + 1) * d), off);
  const pe = w.positionEmbedding;
  if (pe !== undefined) for (let i = 0; i < d; i++) x[off + i] += pe[pos * d + i];
}

/** The config's norm (RMSNorm, or LayerNorm with its bias) of one row of x at `off` into out at `off`. */
function normRow(out: Float32Array, x: Float32Array, off: number, g: Float32Array, b: Float32Array | undefined, c: ModelConfig): void {
  if (c.norm === 'layer') layernorm(out, off, x, off, g, b as Float32Array, c.dim, c.normEps);
  else rmsnorm(out, off, x, off, g, c.dim, c.normEps);
}

/** y = x W^T (+ b) for T rows (matvec for one row: the decode step's summation order). */
function linear(y: Float32Array, wt: Float32Array, x: Float32Array, T: number, rows: number, cols: number, b: Float32Array | undefined): void {
  if (T === 1) matvec(y, 0, wt, x, 0, rows, cols);
  else matmulRows(y, wt, x, T, rows, cols);
  if (b !== undefined) for (let t = 0; t < T; t++) for (let r = 0; r < rows; r++) y[t * rows + r] += b[r];
}

/** q, k, v projections of T rows (with their biases), then the per-head q/k RMSNorm when configured. */
function projectQkv(q: Float32Array, k: Float32Array, v: Float32Array, xn: Float32Array, T: number, L: LayerWeights, c: ModelConfig): void {
  const d = c.dim;
  linear(q, L.wq, xn, T, qDim(c), d, L.bq);
  linear(k, L.wk, xn, T, kvDim(c), d, L.bk);
  linear(v, L.wv, xn, T, kvDim(c), d, L.bv);
  if (c.qkNorm) {
    const hd = c.headDim;
    for (let r = 0; r < T * c.nHeads; r++) rmsnorm(q, r * hd, q, r * hd, L.qNorm as Float32Array, hd, c.normEps);
    for (let r = 0; r < T * c.nKvHeads; r++) rmsnorm(k, r * hd, k, r * hd, L.kNorm as Float32Array, hd, c.normEps);
  }
}

/** RoPE of row t of q and k at position `pos` (nothing for learned positions: they were added to the embedding). */
function positionQk(rope: RopeTable | null, q: Float32Array, k: Float32Array, t: number, pos: number, c: ModelConfig): void {
  if (rope === null) return;
  rope.apply(q, t * qDim(c), c.nHeads, pos);
  rope.apply(k, t * kvDim(c), c.nKvHeads, pos);
}

/** The entries of `idx` whose cached position is within the sliding window of a query at `pos`. */
function inWindow(idx: Int32Array, positions: Int32Array, pos: number, window: number): Int32Array {
  return idx.filter((j) => positions[j] > pos - window);
}

/** out = the FFN of T normalised rows xn (SwiGLU or GeLU MLP, with biases); h1, h3 are [T, hiddenDim] scratch. */
function feedForward(out: Float32Array, xn: Float32Array, T: number, L: LayerWeights, c: ModelConfig, h1: Float32Array, h3: Float32Array): void {
  const d = c.dim;
  const hid = c.hiddenDim;
  linear(h1, L.w1, xn, T, hid, d, L.b1);
  if (c.ffn === 'swiglu') {
    linear(h3, L.w3 as Float32Array, xn, T, hid, d, L.b3);
    for (let i = 0; i < T * hid; i++) h1[i] = silu(h1[i]) * h3[i];
  } else {
    const act = c.ffn === 'gelu-tanh' ? geluTanh : geluErf;
    for (let i = 0; i < T * hid; i++) h1[i] = act(h1[i]);
  }
  linear(out, L.w2, h1, T, d, hid, L.b2);
}
