/**
 * Hooks through which plaintext KV-cache policies (eviction/plain/) act on the float
 * reference model's KV cache (models/reference.ts). The reference calls them; it never
 * knows which policy is plugged in.
 *
 * Cache layout: per layer, per KV head, an ordered list of cached tokens. Each entry has
 * its original position (RoPE was applied at that position before caching), a key and a
 * value of headDim floats. Eviction removes entries from a KV head's list; query-aware
 * selection picks, for one decode step, a subset of entries that a query head may read
 * without removing anything.
 *
 * Grouped-query attention: query head h reads KV head floor(h / (nHeads / nKvHeads)).
 * Policies that score per query head and evict per KV head must say how they combine the
 * group (docs/BASELINES.md, SnapKV); the hook contexts give both granularities.
 */
export interface LayerCacheView {
  readonly layer: number;
  readonly nHeads: number;
  readonly nKvHeads: number;
  readonly headDim: number;
  /** number of cached tokens of a KV head */
  length(kvHead: number): number;
  /** original positions of the cached tokens of a KV head, in cache order (a copy) */
  positions(kvHead: number): Int32Array;
  /** live keys of a KV head, length(kvHead) * headDim floats, row per token (mutable: quantizers may rewrite) */
  keys(kvHead: number): Float32Array;
  /** live values of a KV head, same layout as keys */
  values(kvHead: number): Float32Array;
  /** keep only the entries at these cache indices (strictly increasing) of a KV head; evicts the rest */
  keep(kvHead: number, cacheIndices: Int32Array): void;
  /**
   * Per-entry attention multiplicity of a KV head as natural logs (live, length(kvHead) floats,
   * mutable; 0 for an ordinary entry). A decode step's attention adds logMass[j] to entry j's
   * score q.k/sqrt(d), so an entry with logMass ln m weighs as m identical entries: a merged
   * entry standing for m tokens (RazorAttention's compensation token). append sets 0; keep
   * carries the values with their entries. Optional so other views stay valid; the reference
   * model's cache (kv-cache.ts) has it.
   */
  logMass?(kvHead: number): Float32Array;
}

/**
 * The rotary embedding the model applied to the cached keys (and the queries), for policies
 * that work on pre-RoPE keys (KVQuant, ShadowKV, CSKV, A^2ATS). Acts on one head vector.
 */
export interface KeyRotary {
  /** rotates headDim floats of x from `offset`, in place, as the model does for position `pos` */
  rotate(x: Float32Array, offset: number, pos: number): void;
  /** the inverse of rotate at `pos`, in place */
  unrotate(x: Float32Array, offset: number, pos: number): void;
}

/** A layer's key and value projections, [nKvHeads*headDim][dim] row-major (models/weights.ts); read-only by contract. */
export interface KvProjection {
  readonly wk: Float32Array;
  readonly wv: Float32Array;
  /** the residual stream width (columns) */
  readonly dim: number;
}

export interface PrefillContext {
  readonly layer: number;
  /** prompt length T */
  readonly length: number;
  readonly cache: LayerCacheView;
  /** post-RoPE queries per query head, T * headDim floats each */
  readonly queries: readonly Float32Array[];
  /** full causal attention probabilities softmax(QK^T/sqrt(d)) per query head, T * T floats each (row = query) */
  readonly probs: readonly Float32Array[];
  /** pre-RoPE keys per KV head, T * headDim floats each (copies; row t is cache entry t) */
  readonly preRopeKeys?: readonly Float32Array[];
  /** the rotation that turned preRopeKeys into the cached keys */
  readonly rotary?: KeyRotary;
  /** the layer's key/value projection weights */
  readonly projection?: KvProjection;
  /** the layer's input residual stream (before its attention RMSNorm), T * dim floats (a copy) */
  readonly residual?: Float32Array;
}

export interface StepContext {
  readonly layer: number;
  /** 0-based decode step index (0 = first generated token after the prompt) */
  readonly step: number;
  /** position of the current token */
  readonly position: number;
  readonly cache: LayerCacheView;
  /** post-RoPE query of the current token per query head, headDim floats each */
  readonly query: readonly Float32Array[];
  /** pre-RoPE key of the current token per KV head, headDim floats each (copies) */
  readonly preRopeKey?: readonly Float32Array[];
  /** the rotation applied to the cached keys */
  readonly rotary?: KeyRotary;
}

export interface AttendedContext extends StepContext {
  /** per query head: the cache indices (into its KV head's list) it attended to */
  readonly attended: readonly Int32Array[];
  /** per query head: attention probabilities over `attended` */
  readonly probs: readonly Float32Array[];
}

export interface PlainKvHooks {
  /** After the prompt's K/V of a layer are cached (static policies evict here). */
  onPrefill?(ctx: PrefillContext): void;
  /**
   * At a decode step, after the current token's K/V were appended to the cache and before
   * attention: per query head, the cache indices it may read (must include the current
   * token's entry), or undefined for all entries. Query-aware policies select here; storage
   * policies that store a token as soon as it is written (KVQuant, RotateKV) rewrite the new
   * entry here and return undefined.
   */
  selectForStep?(ctx: StepContext): readonly (Int32Array | undefined)[] | undefined;
  /** After attention at a decode step (accumulating and evicting policies act here). */
  onAttention?(ctx: AttendedContext): void;
}
