/**
 * The secure decoder: private prefill and greedy decoding of a decoder-only model (Llama /
 * Mistral / Qwen2 / Qwen3 / Phi-3 blocks, or GPT-2's; config.ts) on three-party replicated shares, with the KV cache held as shares and KV-cache policies
 * plugged in through SecureKvPolicy (secure-hooks.ts).
 *
 * Roles (docs/PROTOCOLS.md "Threat model and roles"): the model owner (P0) has shared the weights (secure-weights.ts
 * shareModel); the user (P1 by default) holds the prompt and receives the generated tokens;
 * P2 helps. Every party runs the same calls in the same order.
 *
 * ```ts
 * const model = await shareModel(ctx, config, ctx.party === 0 ? weights : undefined);
 * const dec = new SecureDecoder(ctx, model, { policy });          // policy: SecureKvPolicy (default: full cache)
 * const r = await dec.generate(ctx.party === 1 ? promptTokens : undefined, promptLength, 20);
 * r.tokens                                                       // on the user: the 20 tokens; elsewhere undefined
 * ```
 * Lower level: `prefill(tokens | undefined, T)` -> logits share [1, vocab] of the last prompt
 * position; `nextToken(logits)` -> { token (user only), oneHot share }; `step(oneHot)` ->
 * logits share of the next position; `inputToken(token | undefined)` -> the user's one-hot.
 *
 * Data flow of one token (all at ctx.f fixed point):
 *   embedding: oneHot [T, vocab] (scale 0) @ E [vocab, dim] (one matmul round, no truncation),
 *   plus the learned position rows (public positions: a local slice) for GPT-2;
 *   per layer: RMSNorm (LayerNorm: of the centred stream; gain and bias folded into the next
 *   matrix), fused q|k|v projection (+ bias), per-head q/k RMSNorm (Qwen3), RoPE with public
 *   cos/sin (1/sqrt(headDim) folded into q's multipliers, or into the q weights without RoPE),
 *   K/V appended to the cache (the last slidingWindow entries kept for a windowed model),
 *   policy hooks, attention (in prefill: causal-only, query rows in chunks sized from a memory
 *   budget, models/causal-attention.ts; progress events through onProgress), wo (+ bias),
 *   residual, norm, SwiGLU or GeLU MLP (+ biases), residual; final norm with its gain (and
 *   bias), output head;
 *   next token: secure argmax (protocols/max.ts) -> a shared one-hot; its index is revealed to the
 *   user only. The decoder keeps the SHARED one-hot from argmax as the next step's input
 *   instead of having the user input the token back: the two are the same secret (a sharing
 *   of the same one-hot vector), the user learns the same token either way, and it saves the
 *   user's input round per token. With `revealLogits` the logits are revealed to the user
 *   instead; the user picks the token (greedy by default, or its own `chooseToken`) and
 *   inputs it back as a one-hot secret (one input round).
 *
 * What is revealed: to the user, the generated token ids (or the logits with revealLogits);
 * to everyone, only the public facts of secure-hooks.ts (architecture, prompt length, number
 * of generated tokens, cache lengths) and what the policy's `leaks` says. No early stop on
 * EOS: stopping would tell P0 and P2 when the text ended; the number of tokens is fixed and
 * public. Every message is masked by the protocols it comes from.
 *
 * Error: faithful truncation (models/trunc-policy.ts: at most 1 ulp each, never garbage while
 * the value truncated is below 2^62, i.e. |value| < 2^26 for a product at scale 2f), plus the non-linear
 * approximations (rsqrt 4e-4 relative, softmax ~1e-4, SiLU 4e-3 / GeLU 3.5e-3 absolute). Measured on
 * stories260K: logits within 0.11 of float (range about [-20, 22]); greedy tokens equal.
 * The RMSNorm squares, the largest products, are taken at 12 fractional bits (secure-layers.ts).
 *
 * Decode steps (step / decodeNext) use the round-frugal blocks of decode-layer.ts (the norm
 * beside the projections, the softmax normalisation after e V, the activation's comparisons
 * beside the norm; decodeNext's head without the final rsqrt). Rounds per token (decodeNext:
 * forward step + argmax + reveal; scripts/decode-rounds.ts, in-process count per op family,
 * 3 Dec), with the FAITHFUL truncation this decoder installs / with truncMode 'prob': default
 * model at context 256: 756 / 592 (the sequential blocks before these, step + nextToken:
 * 926 / 730); GPT-2-small dims at 512: 1577 / 1252 (Llama blocks; before 1822 / 1435),
 * 1596 / 1305 (GPT-2; before 1750 / 1399).
 * Cost (bench/results/generation.md, older runs with probabilistic truncation, three
 * processes, sealed WebSockets, idle 16-core host):
 * stories260K ~940 rounds, ~2.1 MB sent per party and ~200 ms per token at context 256;
 * GPT-2-small dimensions ~2170 rounds, ~25 MB per party and ~1.2 s per token at context 512 (Llama
 * blocks; the real GPT-2 architecture now: 1226 rounds, 29.3 MB per party at 512, bench/generation.ts).
 */
import type { PartyId } from '../protocols/channel.js';
import { argmax } from '../protocols/max.js';
import type { Context, TruncMode } from '../protocols/context.js';
import { applyTruncPolicy } from './trunc-policy.js';
import { add, concat, mulPublic, slice, sumAxis } from '../protocols/linear.js';
import { matmul, matmulFixed } from '../protocols/mul.js';
import { input, reveal, revealFloat } from '../protocols/sharing.js';
import { ArithShare, PublicTensor } from '../protocols/types.js';
import { type ModelConfig, kvDim, qDim } from './config.js';
import { RopeTable } from './rope.js';
import {
  addBias,
  attentionOutput,
  feedForward,
  projectQkv,
  rmsNormalize,
  ropeMultipliers,
  splitQkv,
} from './secure-layers.js';
import type { SecureKvPolicy, SecureLayerCache } from './secure-hooks.js';
import { type PrefillProfile, track } from './causal-attention.js';
import { type PrefillProgress, prefillLayerAttention } from './prefill-progress.js';
import { decodeAttentionDeferred, normFeedForward, normProjectQkv, scaledLogits } from './decode-layer.js';
import { type SecureModel, embeddingHasMeanColumn } from './secure-weights.js';

export interface SecureDecoderOptions {
  /** KV-cache policy (default: none, i.e. the full cache; eviction/secure/full.ts is the same as a named policy) */
  readonly policy?: SecureKvPolicy;
  /** the party that owns the prompt and receives the tokens (default 1) */
  readonly user?: PartyId;
  /** reveal the logits to the user at each step instead of running secure argmax (default false) */
  readonly revealLogits?: boolean;
  /**
   * With revealLogits: how the user picks a token from the revealed logits (default: the
   * greedy argmax, lowest index on ties). Called on the user only.
   */
  readonly chooseToken?: (logits: Float64Array, step: number) => number;
  /** position limit (default config.maxSeqLen) */
  readonly maxSeqLen?: number;
  /**
   * Prefill attention: 'causal' (default: only the visible entries, query rows in chunks,
   * models/causal-attention.ts) or 'square' (the full T x T scores with a public mask, the
   * method before issue #14; kept for comparison).
   */
  readonly prefillAttention?: 'causal' | 'square';
  /** working-memory budget of one causal attention chunk, MB per party (default 256): sets the chunk size */
  readonly prefillMemMb?: number;
  /** prefill progress, on every party (models/prefill-progress.ts) */
  readonly onProgress?: (e: PrefillProgress) => void;
  /** accumulate time/bytes/rounds of the prefill per op family on this party */
  readonly prefillProfile?: PrefillProfile;
  /** truncation mode installed on ctx (default 'faithful', models/trunc-policy.ts; 'prob' only to measure the old cost) */
  readonly truncMode?: TruncMode;
}

/** What the user learns about one token. */
export interface TokenChoice {
  /** the token id (on the user; undefined elsewhere) */
  readonly token: number | undefined;
  /** the revealed logits (on the user with revealLogits; undefined otherwise) */
  readonly logits: Float64Array | undefined;
  /** the one-hot of the token as a secret [1, vocab] (scale 0), the next step's input */
  readonly oneHot: ArithShare;
}

export interface SecureGenerateOptions {
  /** called after each token on every party (token defined on the user only) */
  readonly onToken?: (index: number, choice: TokenChoice) => void | Promise<void>;
}

export interface SecureGenerateResult {
  /** the generated tokens on the user; undefined on the other parties */
  readonly tokens: number[] | undefined;
  /** with revealLogits, the logits of every generated position, on the user */
  readonly logits: Float64Array[] | undefined;
  /** wall time of the prefill (including the first token's choice), ms */
  readonly prefillMs: number;
  /** wall time of each decode step (one per generated token after the first), ms */
  readonly stepMs: number[];
}

function checkPartyId(p: unknown, label: string): PartyId {
  if (p !== 0 && p !== 1 && p !== 2) throw new RangeError(`${label} must be 0, 1 or 2, got ${String(p)}`);
  return p;
}

/** One sequence decoded on shares; holds the secret KV cache. */
export class SecureDecoder {
  readonly config: ModelConfig;
  readonly user: PartyId;
  private readonly rope: RopeTable | null;
  private readonly policy: SecureKvPolicy | undefined;
  private readonly revealLogits: boolean;
  private readonly chooseToken: (logits: Float64Array, step: number) => number;
  private readonly maxSeqLen: number;
  private readonly iota: PublicTensor;
  private readonly prefillOpts: SecureDecoderOptions;
  private cache: SecureLayerCache[] = [];
  private pos = 0;
  private steps = 0;

  constructor(
    readonly ctx: Context,
    readonly model: SecureModel,
    opts: SecureDecoderOptions = {},
  ) {
    if (typeof model !== 'object' || model === null || typeof model.config !== 'object' || !Array.isArray(model.layers)) {
      throw new TypeError('model must be a SecureModel (from shareModel)');
    }
    const c = model.config;
    if (model.layers.length !== c.nLayers) throw new RangeError(`model has ${model.layers.length} layers, its config says ${c.nLayers}`);
    this.config = c;
    this.user = checkPartyId(opts.user ?? 1, 'user');
    if (opts.policy !== undefined && (typeof opts.policy !== 'object' || typeof opts.policy.name !== 'string')) throw new TypeError('policy must be a SecureKvPolicy');
    this.policy = opts.policy;
    if (opts.revealLogits !== undefined && typeof opts.revealLogits !== 'boolean') throw new TypeError('revealLogits must be a boolean');
    this.revealLogits = opts.revealLogits ?? false;
    if (opts.chooseToken !== undefined && typeof opts.chooseToken !== 'function') throw new TypeError('chooseToken must be a function');
    this.chooseToken = opts.chooseToken ?? greedy;
    this.maxSeqLen = opts.maxSeqLen ?? c.maxSeqLen;
    if (!Number.isSafeInteger(this.maxSeqLen) || this.maxSeqLen <= 0) throw new RangeError(`maxSeqLen must be a positive integer, got ${this.maxSeqLen}`);
    if (c.positions === 'learned' && this.maxSeqLen > c.maxSeqLen) throw new RangeError(`maxSeqLen ${this.maxSeqLen} exceeds the model's ${c.maxSeqLen} learned positions`);
    if (c.slidingWindow !== null && this.policy !== undefined && this.maxSeqLen > c.slidingWindow) {
      throw new RangeError(`a sliding-window model (window ${c.slidingWindow}) with a KV-cache policy is not supported beyond ${c.slidingWindow} positions (maxSeqLen ${this.maxSeqLen})`);
    }
    if (opts.prefillAttention !== undefined && opts.prefillAttention !== 'causal' && opts.prefillAttention !== 'square') throw new RangeError(`prefillAttention must be 'causal' or 'square', got ${String(opts.prefillAttention)}`);
    if (opts.prefillMemMb !== undefined && !(typeof opts.prefillMemMb === 'number' && opts.prefillMemMb > 0)) throw new RangeError(`prefillMemMb must be a positive number, got ${String(opts.prefillMemMb)}`);
    if (opts.onProgress !== undefined && typeof opts.onProgress !== 'function') throw new TypeError('onProgress must be a function');
    this.prefillOpts = opts;
    this.rope = c.positions === 'rope' ? RopeTable.forConfig(c) : null;
    applyTruncPolicy(ctx, opts.truncMode);
    const ids = new BigUint64Array(c.vocabSize);
    for (let i = 0; i < ids.length; i++) ids[i] = BigInt(i);
    this.iota = new PublicTensor([c.vocabSize], ids, 0);
  }

  /** number of tokens processed (= position of the next token) */
  get position(): number {
    return this.pos;
  }

  /** decode steps done */
  get decodeSteps(): number {
    return this.steps;
  }

  /** the secret KV cache, one entry per layer (empty before prefill) */
  get caches(): readonly SecureLayerCache[] {
    return this.cache;
  }

  /**
   * Continue from an existing secret KV cache (one SecureLayerCache per layer, e.g. kept from
   * another decoder or built by a benchmark) with the next token at `position`, instead of a
   * prefill. Only on a fresh decoder. The caches are used as they are (not copied).
   */
  resume(caches: readonly SecureLayerCache[], position: number): void {
    const c = this.config;
    if (this.pos !== 0) throw new RangeError('resume is only allowed on a fresh decoder');
    if (!Array.isArray(caches) || caches.length !== c.nLayers) throw new RangeError(`caches must hold one SecureLayerCache per layer (${c.nLayers})`);
    if (!Number.isSafeInteger(position) || position <= 0 || position >= this.maxSeqLen) throw new RangeError(`position must be an integer in [1, ${this.maxSeqLen}), got ${position}`);
    const geometry = { layer: 0, nHeads: c.nHeads, nKvHeads: c.nKvHeads, headDim: c.headDim, length: 1, k: caches[0]?.k, v: caches[0]?.v } as SecureLayerCache;
    this.cache = caches.map((lc, l) => checkCache(lc, { ...geometry, layer: l }, `resume: caches[${l}]`));
    this.pos = position;
  }

  /**
   * The user shares tokens as one-hot rows [T, vocab] (scale 0); one input round. The user
   * passes the ids, the others `undefined`; everyone passes the public count T.
   */
  async inputTokens(tokens: ArrayLike<number> | undefined, count: number): Promise<ArithShare> {
    const V = this.config.vocabSize;
    if (!Number.isSafeInteger(count) || count <= 0) throw new RangeError(`count must be a positive integer, got ${count}`);
    let values: BigUint64Array | undefined;
    if (this.ctx.party === this.user) {
      if (tokens === undefined || typeof tokens !== 'object' || typeof tokens.length !== 'number') throw new TypeError(`tokens: the user (party ${this.user}) must pass the token ids`);
      if (tokens.length !== count) throw new RangeError(`tokens has ${tokens.length} ids, count says ${count}`);
      values = new BigUint64Array(count * V);
      for (let t = 0; t < count; t++) {
        const id = tokens[t];
        if (!Number.isSafeInteger(id) || id < 0 || id >= V) throw new RangeError(`tokens[${t}] must be an integer in [0, ${V}), got ${id}`);
        values[t * V + id] = 1n;
      }
    } else if (tokens !== undefined) {
      throw new TypeError(`tokens: only the user (party ${this.user}) passes token ids`);
    }
    return input(this.ctx, this.user, [count, V], values, 0);
  }

  /** The user inputs one token as a one-hot secret [1, vocab] (one round). */
  async inputToken(token: number | undefined): Promise<ArithShare> {
    return this.inputTokens(token === undefined ? undefined : [token], 1);
  }

  /**
   * oneHot [T, vocab] (scale 0) @ embedding -> [T, dim] at ctx.f (one round), plus the learned
   * position rows of the public `positions` (a local slice of the shared table).
   */
  private async embed(oneHot: ArithShare, positions: readonly number[]): Promise<ArithShare> {
    const ctx = this.ctx;
    const c = this.config;
    let x = await matmul(ctx, oneHot, this.model.embedding);
    if (embeddingHasMeanColumn(c)) x = slice(ctx, x, 0, c.dim);
    const pe = this.model.positionEmbedding;
    if (pe !== undefined) {
      const p0 = positions[0];
      if (positions.some((p, i) => p !== p0 + i)) throw new Error('internal: positions must be consecutive');
      x = add(ctx, x, slice(ctx, pe, p0, p0 + positions.length, 0));
    }
    return x;
  }

  /** The public RoPE multipliers of `positions` (1/sqrt(headDim) folded into q's), or null for learned positions. */
  private positionMultipliers(positions: readonly number[]): readonly [PublicTensor, PublicTensor] | null {
    return this.rope === null ? null : ropeMultipliers(this.ctx, this.config, this.rope, positions, 1 / Math.sqrt(this.config.headDim));
  }

  /**
   * Prefill the prompt (only on a fresh decoder): the user passes its token ids, the others
   * undefined; all pass the public length T. Returns the logits share [1, vocab] after the
   * last prompt token. Calls policy.afterPrefill for every layer.
   */
  async prefill(tokens: ArrayLike<number> | undefined, length: number): Promise<ArithShare> {
    if (this.pos !== 0) throw new RangeError('prefill is only allowed on a fresh decoder; use step() to continue');
    if (!Number.isSafeInteger(length) || length <= 0) throw new RangeError(`length must be a positive integer, got ${length}`);
    if (length > this.maxSeqLen) throw new RangeError(`prompt of ${length} tokens exceeds maxSeqLen ${this.maxSeqLen}`);
    const oneHot = await this.inputTokens(tokens, length);
    return this.prefillOneHot(oneHot);
  }

  /** Prefill from the prompt's one-hot rows [T, vocab] (scale 0) already shared. */
  async prefillOneHot(oneHot: ArithShare): Promise<ArithShare> {
    const ctx = this.ctx;
    const c = this.config;
    if (this.pos !== 0) throw new RangeError('prefill is only allowed on a fresh decoder; use step() to continue');
    if (oneHot.shape.length !== 2 || oneHot.shape[1] !== c.vocabSize || oneHot.scale !== 0) throw new RangeError(`oneHot must be [T, ${c.vocabSize}] at scale 0`);
    const T = oneHot.shape[0];
    if (T <= 0 || T > this.maxSeqLen) throw new RangeError(`prompt of ${T} tokens must be in [1, maxSeqLen ${this.maxSeqLen}]`);
    const positions = Array.from({ length: T }, (_, t) => t);
    const o = this.prefillOpts;
    const prof = o.prefillProfile;
    const t0 = performance.now();
    let x = await track(ctx, prof, 'embedding', () => this.embed(oneHot, positions));
    const mult = this.positionMultipliers(positions);
    const caches: SecureLayerCache[] = [];
    // the policy's look-once window rows come out of this pass (causal method, no sliding window cutting them)
    const wantRows = (o.prefillAttention ?? 'causal') === 'causal' && (c.slidingWindow === null || T <= c.slidingWindow) ? (this.policy?.prefillWindow?.(T) ?? 0) : 0;
    if (!Number.isSafeInteger(wantRows) || wantRows < 0) throw new RangeError(`policy.prefillWindow must give a non-negative integer, got ${wantRows}`);
    const keepLast = Math.min(T, wantRows);
    for (let l = 0; l < c.nLayers; l++) {
      const L = this.model.layers[l];
      const h = await track(ctx, prof, 'norms', () => rmsNormalize(ctx, x, c));
      const qkv = await track(ctx, prof, 'qkv', () => projectQkv(ctx, c, h, L, mult));
      const [q, k, v] = splitQkv(ctx, c, qkv);
      const att = await prefillLayerAttention(ctx, c, q, k, v, { layer: l, t0, method: o.prefillAttention ?? 'causal', memMb: o.prefillMemMb ?? 256, onProgress: o.onProgress, profile: prof, keepLast });
      let lc: SecureLayerCache = { layer: l, nHeads: c.nHeads, nKvHeads: c.nKvHeads, headDim: c.headDim, length: T, k: att.k, v: att.v };
      if (this.policy?.afterPrefill) {
        const pol = this.policy;
        lc = checkCache(await track(ctx, prof, 'policy', () => pol.afterPrefill!(ctx, lc, att.queries, att.lastProbs)), lc, 'policy.afterPrefill');
      }
      caches.push(this.windowed(lc));
      x = add(ctx, x, await track(ctx, prof, 'attention.wo', () => attentionOutput(ctx, att.out, L)));
      const h2 = await track(ctx, prof, 'norms', () => rmsNormalize(ctx, x, c));
      x = add(ctx, x, await track(ctx, prof, 'ffn', () => feedForward(ctx, c, h2, L)));
    }
    this.cache = caches;
    this.pos = T;
    return track(ctx, prof, 'head', () => this.head(slice(ctx, x, T - 1, T, 0)));
  }

  /**
   * Final norm (with its gain, and its bias for LayerNorm) and the output head on [1, dim] ->
   * logits [1, vocab]. A tied LayerNorm head holds the centred embedding and the row means
   * (secure-weights.ts): [h, sum(h)] against it gives E h (the sum is local).
   */
  private async head(x: ArithShare): Promise<ArithShare> {
    const ctx = this.ctx;
    let h = addBias(ctx, await rmsNormalize(ctx, x, this.config, this.model.finalNorm), this.model.finalNormBias);
    if (embeddingHasMeanColumn(this.config)) h = concat(ctx, [h, sumAxis(ctx, h)], 1);
    return matmulFixed(ctx, h, this.model.output, { transB: true });
  }

  /** Without a policy, a sliding-window model keeps only the last `slidingWindow` cache entries (the only ones it attends to). */
  private windowed(lc: SecureLayerCache): SecureLayerCache {
    const W = this.config.slidingWindow;
    if (W === null || this.policy !== undefined || lc.length <= W) return lc;
    const ctx = this.ctx;
    return { ...lc, length: W, k: slice(ctx, lc.k, lc.length - W, lc.length, 1), v: slice(ctx, lc.v, lc.length - W, lc.length, 1) };
  }

  /**
   * One decode step: feeds the token given as a one-hot secret [1, vocab] (scale 0) at the
   * current position; returns the logits share [1, vocab] predicting the next token.
   * Hooks per layer: onAppend (after the new K/V are appended), then attend if the policy has it,
   * else selectForStep; afterAttention (evicting policies) gives the cache kept for the next step.
   */
  async step(oneHot: ArithShare): Promise<ArithShare> {
    return this.forward(oneHot, false);
  }

  /**
   * One decode step and the choice of the next token (nextToken), in fewer rounds than step +
   * nextToken: with secure argmax and no final-norm bias the head's rsqrt is skipped (argmax
   * is unchanged by the positive norm factor, decode-layer.ts scaledLogits).
   */
  async decodeNext(oneHot: ArithShare): Promise<TokenChoice> {
    return this.nextToken(await this.forward(oneHot, !this.revealLogits));
  }

  /** step(); with `forArgmax`, logits up to a positive factor when the head allows it. */
  private async forward(oneHot: ArithShare, forArgmax: boolean): Promise<ArithShare> {
    const ctx = this.ctx;
    const c = this.config;
    if (this.pos === 0) throw new RangeError('step: prefill first');
    if (this.pos >= this.maxSeqLen) throw new RangeError(`step: position ${this.pos} reaches maxSeqLen ${this.maxSeqLen}`);
    if (oneHot.shape.length !== 2 || oneHot.shape[0] !== 1 || oneHot.shape[1] !== c.vocabSize || oneHot.scale !== 0) {
      throw new RangeError(`step: oneHot must be [1, ${c.vocabSize}] at scale 0`);
    }
    const hd = c.headDim;
    const qd = qDim(c);
    const kd = kvDim(c);
    const mult = this.positionMultipliers([this.pos]);
    let x = await this.embed(oneHot, [this.pos]);
    for (let l = 0; l < c.nLayers; l++) {
      const L = this.model.layers[l];
      const qkv = await normProjectQkv(ctx, c, x, L, mult);
      const q = slice(ctx, qkv, 0, qd).reshape([c.nHeads, hd]);
      const kNew = slice(ctx, qkv, qd, qd + kd).reshape([c.nKvHeads, 1, hd]);
      const vNew = slice(ctx, qkv, qd + kd, qd + 2 * kd).reshape([c.nKvHeads, 1, hd]);
      const old = this.cache[l];
      const lc: SecureLayerCache = this.windowed({
        ...old,
        length: old.length + 1,
        k: concat(ctx, [old.k, kNew], 1),
        v: concat(ctx, [old.v, vNew], 1),
      });
      this.cache[l] = lc;
      if (this.policy?.onAppend) await this.policy.onAppend(ctx, lc, kNew, vNew, this.steps);
      let att: ArithShare;
      if (this.policy?.attend) {
        att = await this.policy.attend(ctx, lc, q, this.steps);
        if (att.shape.length !== 2 || att.shape[0] !== 1 || att.shape[1] !== qd || att.scale !== ctx.f) throw new RangeError(`policy.attend must return [1, ${qd}] at scale ${ctx.f}, got [${att.shape.join(', ')}] at ${att.scale}`);
      } else {
        const sel = this.policy?.selectForStep ? await this.policy.selectForStep(ctx, lc, q, this.steps) : undefined;
        if (sel !== undefined) checkSelection(sel, c);
        att = sel === undefined ? await decodeAttentionDeferred(ctx, c, q, lc.k, lc.v, false) : await decodeAttentionDeferred(ctx, c, q, sel.k, sel.v, sel.perQueryHead);
      }
      if (this.policy?.afterAttention) this.cache[l] = checkCache(await this.policy.afterAttention(ctx, lc, this.steps), lc, 'policy.afterAttention');
      x = add(ctx, x, await attentionOutput(ctx, att, L));
      x = add(ctx, x, await normFeedForward(ctx, c, x, L));
    }
    this.pos++;
    this.steps++;
    return (forArgmax ? await scaledLogits(ctx, c, this.model, x) : undefined) ?? this.head(x);
  }

  /**
   * Pick the next token from a logits share [1, vocab]. Default: secure argmax (lowest index on
   * ties); the index is revealed to the user only (one round) and the shared one-hot is kept.
   * With revealLogits: the logits are revealed to the user (one round), the user chooses and
   * inputs the one-hot (one round).
   */
  async nextToken(logits: ArithShare): Promise<TokenChoice> {
    const ctx = this.ctx;
    const V = this.config.vocabSize;
    if (logits.shape.length !== 2 || logits.shape[0] !== 1 || logits.shape[1] !== V) throw new RangeError(`logits must be [1, ${V}]`);
    if (this.revealLogits) {
      const lg = await revealFloat(ctx, logits, this.user);
      let token: number | undefined;
      if (lg !== undefined) {
        token = this.chooseToken(lg, this.steps);
        if (!Number.isSafeInteger(token) || token < 0 || token >= V) throw new RangeError(`chooseToken returned ${token}, not a token id in [0, ${V})`);
      }
      const oneHot = await this.inputToken(token);
      return { token, logits: lg, oneHot };
    }
    const { oneHot } = await argmax(ctx, logits);
    const index = sumAxis(ctx, mulPublic(ctx, oneHot, this.iota)); // [1, 1], local
    const opened = await reveal(ctx, index, this.user);
    const token = opened === undefined ? undefined : Number(BigInt.asIntN(64, opened.data[0]));
    return { token, logits: undefined, oneHot };
  }

  /**
   * Prefill then greedy generation of `nNew` tokens (a public count). The user passes its
   * prompt ids, the others undefined; all pass the public prompt length.
   */
  async generate(prompt: ArrayLike<number> | undefined, promptLength: number, nNew: number, opts: SecureGenerateOptions = {}): Promise<SecureGenerateResult> {
    if (!Number.isSafeInteger(nNew) || nNew < 1) throw new RangeError(`nNew must be a positive integer, got ${nNew}`);
    if (!Number.isSafeInteger(promptLength) || promptLength + nNew - 1 > this.maxSeqLen) {
      throw new RangeError(`promptLength ${promptLength} + nNew ${nNew} - 1 exceeds maxSeqLen ${this.maxSeqLen}`);
    }
    const isUser = this.ctx.party === this.user;
    const tokens: number[] = [];
    const logits: Float64Array[] = [];
    const stepMs: number[] = [];
    const t0 = performance.now();
    let choice = await this.nextToken(await this.prefill(prompt, promptLength));
    const prefillMs = performance.now() - t0;
    for (let i = 0; ; i++) {
      if (choice.token !== undefined) tokens.push(choice.token);
      if (choice.logits !== undefined) logits.push(choice.logits);
      await opts.onToken?.(i, choice);
      if (i + 1 >= nNew) break;
      const t1 = performance.now();
      choice = await this.decodeNext(choice.oneHot);
      stepMs.push(performance.now() - t1);
    }
    return {
      tokens: isUser ? tokens : undefined,
      logits: isUser && this.revealLogits ? logits : undefined,
      prefillMs,
      stepMs,
    };
  }
}

function greedy(logits: Float64Array): number {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
  return best;
}

function checkCache(out: SecureLayerCache, before: SecureLayerCache, label: string): SecureLayerCache {
  if (typeof out !== 'object' || out === null) throw new TypeError(`${label} must give a SecureLayerCache`);
  const n = out.length;
  if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`${label}: cache length must be a positive integer, got ${n}`);
  const shape = [before.nKvHeads, n, before.headDim];
  for (const [name, t] of [['k', out.k], ['v', out.v]] as const) {
    if (!(t instanceof ArithShare)) throw new TypeError(`${label}: cache ${name} must be an ArithShare`);
    if (t.shape.length !== 3 || t.shape.some((d, i) => d !== shape[i])) {
      throw new RangeError(`${label}: cache ${name} must be [${shape.join(', ')}], got [${t.shape.join(', ')}]`);
    }
  }
  if (out.layer !== before.layer || out.nHeads !== before.nHeads || out.nKvHeads !== before.nKvHeads || out.headDim !== before.headDim) {
    throw new RangeError(`${label}: a cache of another layer or geometry`);
  }
  return out;
}

function checkSelection(sel: { k: ArithShare; v: ArithShare; perQueryHead: boolean }, c: ModelConfig): void {
  const heads = sel.perQueryHead ? c.nHeads : c.nKvHeads;
  const n = sel.k.shape[1];
  for (const [name, t] of [['k', sel.k], ['v', sel.v]] as const) {
    if (t.shape.length !== 3 || t.shape[0] !== heads || t.shape[1] !== n || t.shape[2] !== c.headDim || n < 1) {
      throw new RangeError(`selectForStep: ${name} must be [${heads}, n, ${c.headDim}] with n >= 1, got [${t.shape.join(', ')}]`);
    }
  }
}
