/**
 * One interface for every plaintext KV-cache policy (eviction/plain/): static policies
 * (act once after prefill), evicting policies (act while decoding), query-aware selection
 * (pick what attention reads at each decode step, cache untouched), storage policies
 * (quantization) and merging policies (rewrite kept entries as combinations of several). A policy IS a set of PlainKvHooks (models/attention-hooks.ts) plus a
 * description of what it does, so the float reference model runs it without knowing it.
 *
 * Budgets: a ratio of the prompt length T, or a token count, resolved per prompt by
 * `resolveBudget`. What "B tokens" bounds differs by kind and each policy documents it:
 * - evicting: the cache holds B entries per KV head between decode steps (attention at a
 *   step reads those B plus the current token);
 * - static: B prompt entries survive prefill; generated tokens are appended and kept;
 * - query-aware: each query head reads at most B entries per step (block policies round
 *   down to whole blocks, with a documented minimum);
 * - quantization: no budget (reported as its memory ratio instead);
 * - merging: like static or evicting (each merging policy says which), but the entries that
 *   stay may hold merged K/V (weighted combinations written through the cache view, with a
 *   log multiplicity where the method counts one) and, for cross-layer or cross-head merging,
 *   B bounds the stored vectors averaged over layers / KV heads (the policy documents how).
 *
 * Policies keep per-sequence state keyed by layer; `onPrefill` of a layer starts a new
 * sequence for that layer, so one policy object serves prompt after prompt (one at a time).
 */
import type { PlainKvHooks } from '../models/attention-hooks.js';

/** A KV budget: a fraction of the prompt length, or an absolute number of tokens. */
export type Budget = { readonly ratio: number } | { readonly tokens: number };

/** When a policy acts. */
export type PolicyKind =
  | 'reference' // Full: keeps everything
  | 'static' // evicts once after prefill
  | 'evicting' // evicts while decoding (and trims the prompt)
  | 'query-aware' // selects per decode step, evicts nothing
  | 'static+query-aware' // MPCache: static eviction then per-step selection
  | 'static-per-head' // DuoAttention-style: per-head choice of full vs streaming
  | 'quantization' // rewrites K/V in place
  | 'low-rank' // rewrites K/V in place by a projection onto fewer channels (CSKV, MatryoshkaKV)
  | 'low-rank+query-aware' // low-rank keys plus per-step selection (ShadowKV)
  | 'merging'; // folds tokens, layers or heads into kept entries (rewrites their K/V; LoCoCo)

/**
 * How scores of query heads become decisions on KV heads under grouped-query attention.
 * - 'per-query-head': each query head decides for itself (selection policies);
 * - 'group-mean': scores averaged over the query heads sharing a KV head, one decision per KV head;
 * - 'layer-mean': scores averaged over all query heads of the layer, one decision per layer;
 * - 'group-max': the maximum over the query heads of the group, one decision per KV head (ShadowKV);
 * - 'group-union': each query head picks its own top entries, the KV head reads their union (A^2ATS);
 * - 'none': no attention scores are used.
 */
export type GqaRule = 'per-query-head' | 'group-mean' | 'layer-mean' | 'group-max' | 'group-union' | 'none';

/** The model dimensions a policy needs (a subset of models/config.ts ModelConfig). */
export interface ModelShape {
  readonly nLayers: number;
  readonly nHeads: number;
  readonly nKvHeads: number;
  readonly headDim: number;
}

/** A plaintext KV policy: hooks plus what it is. */
export interface KvPolicy extends PlainKvHooks {
  /** registry name, e.g. 'h2o' */
  readonly name: string;
  readonly kind: PolicyKind;
  readonly gqa: GqaRule;
  /** the parameters in effect (for reports), flat */
  readonly params: Readonly<Record<string, string | number | boolean>>;
  /**
   * Storage policies: K/V memory relative to a 16-bit cache of a prompt of n tokens and head
   * width headDim, everything stored counted (scales, zero points, outlier indices, factors),
   * as kiviMemoryRatio counts it.
   */
  memoryRatio?(n: number, headDim: number): number;
}

/** Options every policy factory takes. */
export interface PolicyOptions {
  readonly budget: Budget;
  readonly model: ModelShape;
  /** seed for policies with randomness (Keyformer); default 1 */
  readonly seed?: number;
}

/** Checks a Budget; returns it. */
export function aBudget(b: unknown, label = 'budget'): Budget {
  if (typeof b !== 'object' || b === null) throw new TypeError(`${label} must be { ratio } or { tokens }`);
  const o = b as Record<string, unknown>;
  if ('ratio' in o) {
    const r = o.ratio;
    if (typeof r !== 'number' || !(r > 0) || !(r <= 1)) throw new RangeError(`${label}.ratio must be in (0, 1], got ${String(r)}`);
    return { ratio: r };
  }
  if ('tokens' in o) {
    const t = o.tokens;
    if (typeof t !== 'number' || !Number.isSafeInteger(t) || t < 1) throw new RangeError(`${label}.tokens must be a positive integer, got ${String(t)}`);
    return { tokens: t };
  }
  throw new TypeError(`${label} must be { ratio } or { tokens }`);
}

/**
 * The budget in tokens for a prompt of `length` tokens: floor(ratio * length) (at least 1),
 * or the token count; never more than `length`.
 */
export function resolveBudget(budget: Budget, length: number): number {
  if (!Number.isSafeInteger(length) || length < 0) throw new RangeError(`length must be a non-negative integer, got ${length}`);
  if (length === 0) return 0;
  const b = 'ratio' in budget ? Math.max(1, Math.floor(budget.ratio * length + 1e-9)) : budget.tokens;
  return Math.min(b, length);
}

/**
 * Budgets fixed layer by layer: `budgetOf` the record, `prepare(layer, T)` fixes (and returns)
 * a layer's budget for a T-token prompt (also for a layer that never saw its prefill).
 */
export function layerBudgets(budget: Budget): { readonly budgetOf: ReadonlyMap<number, number>; prepare(layer: number, T: number): number } {
  const budgetOf = new Map<number, number>();
  return {
    budgetOf,
    prepare(layer, T) {
      const B = resolveBudget(budget, T);
      budgetOf.set(layer, B);
      return B;
    },
  };
}

/** Checks a ModelShape; returns it. */
export function aModelShape(m: unknown, label = 'model'): ModelShape {
  if (typeof m !== 'object' || m === null) throw new TypeError(`${label} must be an object`);
  const o = m as Record<string, unknown>;
  for (const k of ['nLayers', 'nHeads', 'nKvHeads', 'headDim']) {
    const v = o[k];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) throw new RangeError(`${label}.${k} must be a positive integer, got ${String(v)}`);
  }
  const s = m as ModelShape;
  if (s.nHeads % s.nKvHeads !== 0) throw new RangeError(`${label}.nHeads must be a multiple of nKvHeads`);
  return s;
}

/** KV head read by query head h. */
export function kvHeadOf(h: number, nHeads: number, nKvHeads: number): number {
  return Math.floor(h / (nHeads / nKvHeads));
}
