/**
 * Hooks through which KV-cache policies act on the SECURE decoder's cache (shares).
 * The secure decoder (models/secure-decoder.ts) calls them; secure policies live in
 * eviction/secure/ and their plaintext twins in eviction/plain/ are their test oracles.
 *
 * Everything a policy learns or changes here is secret-shared, except what is public by
 * design: the model architecture, the prompt length, the number of cached tokens per layer
 * (policies use PUBLIC budgets, so the cache length after eviction is public), the step
 * index and the policy's parameters. A policy must not reveal anything else; if an option
 * does (e.g. MPCache's threshold rule reveals the kept count), it says so in its docs and
 * in `leaks`.
 *
 * Cache layout per layer: K and V as ArithShare of shape [nKvHeads, length, headDim], fixed
 * point at ctx.f, RoPE already applied to K at each token's original position. The order of
 * tokens in the cache is the order of their original positions, but which original positions
 * remain after a secure eviction is secret (the decoder does not need them: RoPE is applied
 * before caching).
 */
import type { Context } from '../protocols/context.js';
import type { ArithShare } from '../protocols/types.js';

export interface SecureLayerCache {
  readonly layer: number;
  readonly nHeads: number;
  readonly nKvHeads: number;
  readonly headDim: number;
  /** public number of cached tokens */
  readonly length: number;
  /** [nKvHeads, length, headDim] */
  readonly k: ArithShare;
  /** [nKvHeads, length, headDim] */
  readonly v: ArithShare;
}

/** What a policy hands back for one decode step of one layer: the keys/values each query head attends to. */
export interface SecureSelection {
  /**
   * Keys and values to attend to, per KV head: [nKvHeads, n, headDim] (n public). A policy that
   * selects per query head returns [nHeads, n, headDim] and sets `perQueryHead`.
   */
  readonly k: ArithShare;
  readonly v: ArithShare;
  readonly perQueryHead: boolean;
}

export interface SecureKvPolicy {
  /** short name used in the CLI and reports, e.g. 'full', 'mpcache' */
  readonly name: string;
  /** human-readable description of what this policy reveals beyond the public facts above ('' if nothing) */
  readonly leaks: string;
  /**
   * After the prompt's K/V of a layer are cached (prefill). `queries` are the prompt's
   * post-RoPE queries [nHeads, T, headDim], PRE-MULTIPLIED by 1/sqrt(headDim) by the secure
   * decoder (it folds the attention scale into RoPE), so q . k is the attention logit and
   * softmax(queries K^T) is the scaled attention; multiply by sqrt(headDim) for the unscaled form.
   * Query head h belongs to KV head floor(h / (nHeads / nKvHeads)). Returns the (possibly compacted) cache the decoder
   * keeps for this layer; returning `cache` unchanged keeps everything.
   */
  afterPrefill?(ctx: Context, cache: SecureLayerCache, queries: ArithShare): Promise<SecureLayerCache>;
  /**
   * At decode step `step` (0-based), after the current token's K/V were appended (the cache
   * passed here includes it as its last entry) and before attention. `query` is the current
   * token's post-RoPE query [nHeads, headDim] (pre-multiplied by 1/sqrt(headDim), as in afterPrefill). Return the K/V to attend to, or undefined for
   * the whole cache. Called for layers in increasing order at each step, so a policy may
   * share selections across layers within a step.
   */
  selectForStep?(ctx: Context, cache: SecureLayerCache, query: ArithShare, step: number): Promise<SecureSelection | undefined>;
  /**
   * After the current token's K/V were appended to a layer's cache at a decode step, before
   * selectForStep (policies that keep incremental state, e.g. block representatives, update it here).
   * `k`/`v` are the new token's entries [nKvHeads, 1, headDim].
   */
  onAppend?(ctx: Context, cache: SecureLayerCache, k: ArithShare, v: ArithShare, step: number): Promise<void>;
  /**
   * Optional: compute the step's attention output itself, [1, nHeads * headDim] at ctx.f, for
   * the query [nHeads, headDim] (post-RoPE, already times 1/sqrt(headDim)). When present the
   * decoder calls it after onAppend INSTEAD of selectForStep + its own attention. A policy that
   * selects blocks can then gather attention SCORES instead of keys and values (far less
   * traffic: eviction/secure/sparse-attention.ts).
   */
  attend?(ctx: Context, cache: SecureLayerCache, query: ArithShare, step: number): Promise<ArithShare>;
  /**
   * Optional, for evicting policies (StreamingLLM, TOVA): after the step's attention of a layer,
   * the cache the decoder keeps for the next step (e.g. trimmed back to the budget). The
   * returned length must be public (a function of public facts). Undefined keeps `cache`.
   */
  afterAttention?(ctx: Context, cache: SecureLayerCache, step: number): Promise<SecureLayerCache>;
}
