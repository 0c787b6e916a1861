/**
 * Parameters of the secure MPCache (docs/MPCACHE.md) with the paper's defaults, and
 * the PUBLIC plan they imply for a given cache length: block counts, top-k sizes, forced
 * blocks. Everything here is a function of public facts (lengths and parameters), so every
 * party computes the same plan without talking; the plan is also what the cost formulas and
 * the tests use.
 *
 * The rules mirror the plaintext oracle (eviction/plain/mpcache-oracle.ts) exactly:
 * - static: window w = staticWindowSize(T); public budget Bs = floor(staticRatio * T) (or
 *   `staticTokens`); the last wk = min(w, max(1, floor(Bs / 2))) prompt tokens are kept as
 *   the window and the top (Bs - wk) window-summed scores among the earlier tokens;
 * - dynamic: G2 = ceil(n / block2), G1 = ceil(n / (2 block2)); k1 = int(G1 ratio1),
 *   k2 = min(|candidates|, max(int(G2 ratio2), |forced2|)); forced = first and last blocks.
 */
import { aPosInt, aRatio } from '../plain/select.js';
import { type TwoLevelOptions, forcedBlocks, staticWindowSize } from '../plain/mpcache-oracle.js';

/** The dynamic selection's options are the oracle's (block2, ratio1, ratio2, alpha, forceFirst, forceLast); level-1 blocks are always 2 * block2. */
export interface SecureMpCacheOptions extends Omit<TwoLevelOptions, 'block1'> {
  /** look-once static eviction at prefill (default true) */
  readonly static?: boolean;
  /** two-level clustered selection at every decode step (default true) */
  readonly dynamic?: boolean;
  /** cross-layer index sharing (default true) */
  readonly share?: boolean;
  /** static keep rule: a PUBLIC budget by secure top-k (default), or the authors' threshold (reveals the kept count) */
  readonly keepRule?: 'topk' | 'threshold';
  /**
   * how the top-k rule aggregates a token's head-summed window probabilities over the window
   * queries: 'sum' (default; linear, free) or 'max' (what the authors' threshold rule tests;
   * costs a max tree over the window) — as the plain twin's `aggregate`
   */
  readonly aggregate?: 'sum' | 'max';
  /** static budget as a fraction of the prompt length (default 0.3) */
  readonly staticRatio?: number;
  /** static budget as a token count (overrides staticRatio) */
  readonly staticTokens?: number;
  /** threshold of keepRule 'threshold' on the head-mean window probability (default 1e-3) */
  readonly tau?: number;
  /** divide window logits by sqrt(d) (default true; the authors' code does not) */
  readonly scaled?: boolean;
  /** causal mask inside the observation window (default true; the authors' code has none) */
  readonly causal?: boolean;
  /** observation window as a fraction of the prompt (default 0.2; 0.1 above 24,000 tokens) */
  readonly windowRatio?: number;
  /** bit width of key comparisons (block representatives): |key differences| < 2^(bits-1-f) (default 32: < 8192 at f = 18) */
  readonly compareBits?: number;
}

export interface SecureMpCacheParams {
  readonly static: boolean;
  readonly dynamic: boolean;
  readonly share: boolean;
  readonly keepRule: 'topk' | 'threshold';
  readonly aggregate: 'sum' | 'max';
  readonly staticRatio: number;
  readonly staticTokens: number | undefined;
  readonly tau: number;
  readonly scaled: boolean;
  readonly causal: boolean;
  readonly windowRatio: number;
  readonly block2: number;
  readonly block1: number;
  readonly ratio1: number;
  readonly ratio2: number;
  readonly alpha: number;
  /** alpha = alphaNum / alphaDen (exact for the default 0.6 = 3/5): similarities are computed
   * as alphaDen times the oracle's value, with integer weights and no truncation */
  readonly alphaNum: number;
  readonly alphaDen: number;
  readonly forceFirst: boolean;
  readonly forceLast: boolean;
  readonly compareBits: number;
}

function aBool(v: unknown, dflt: boolean, label: string): boolean {
  if (v === undefined) return dflt;
  if (typeof v !== 'boolean') throw new TypeError(`${label} must be a boolean, got ${String(v)}`);
  return v;
}

/**
 * alpha as a fraction a/b with the smallest b <= 1024 that is within 1e-12 of it; otherwise
 * round(alpha * 2^12) / 2^12 (then the similarity differs from the oracle's by that rounding).
 */
export function alphaFraction(alpha: number): { num: number; den: number } {
  for (let den = 1; den <= 1024; den++) {
    const num = Math.round(alpha * den);
    if (Math.abs(num / den - alpha) < 1e-12) return { num, den };
  }
  return { num: Math.round(alpha * 4096), den: 4096 };
}

function aAggregate(v: unknown): 'sum' | 'max' {
  if (v === undefined) return 'sum';
  if (v !== 'sum' && v !== 'max') throw new RangeError(`aggregate must be 'sum' or 'max', got ${String(v)}`);
  return v;
}

/** Options with defaults filled in and checked. */
export function resolveMpCacheParams(o: SecureMpCacheOptions = {}): SecureMpCacheParams {
  if (typeof o !== 'object' || o === null) throw new TypeError('options must be an object');
  const keepRule = o.keepRule ?? 'topk';
  if (keepRule !== 'topk' && keepRule !== 'threshold') throw new RangeError(`keepRule must be 'topk' or 'threshold', got ${String(keepRule)}`);
  const tau = o.tau ?? 1e-3;
  if (typeof tau !== 'number' || !(tau > 0) || !(tau <= 1)) throw new RangeError(`tau must be a number in (0, 1], got ${String(tau)}`);
  const block2 = aPosInt(o.block2 ?? 16, 'block2');
  const alpha = aRatio(o.alpha ?? 0.6, 'alpha');
  const { num, den } = alphaFraction(alpha);
  return {
    static: aBool(o.static, true, 'static'),
    dynamic: aBool(o.dynamic, true, 'dynamic'),
    share: aBool(o.share, true, 'share'),
    keepRule,
    aggregate: aAggregate(o.aggregate),
    staticRatio: aRatio(o.staticRatio ?? 0.3, 'staticRatio', 1e-9, 1),
    staticTokens: o.staticTokens === undefined ? undefined : aPosInt(o.staticTokens, 'staticTokens'),
    tau,
    scaled: aBool(o.scaled, true, 'scaled'),
    causal: aBool(o.causal, true, 'causal'),
    windowRatio: aRatio(o.windowRatio ?? 0.2, 'windowRatio', 1e-9, 1),
    block2,
    block1: 2 * block2,
    ratio1: aRatio(o.ratio1 ?? 0.5, 'ratio1'),
    ratio2: aRatio(o.ratio2 ?? 0.2, 'ratio2'),
    alpha,
    alphaNum: num,
    alphaDen: den,
    forceFirst: aBool(o.forceFirst, true, 'forceFirst'),
    forceLast: aBool(o.forceLast, true, 'forceLast'),
    compareBits: aPosInt(o.compareBits ?? 32, 'compareBits', 2),
  };
}

// ------------------------------------------------------------------ static plan

export interface StaticPlan {
  /** prompt length */
  readonly T: number;
  /** observation window (queries that score) */
  readonly window: number;
  /** kept prompt tokens (public budget) */
  readonly budget: number;
  /** the last `forcedWindow` tokens are kept unconditionally */
  readonly forcedWindow: number;
  /** tokens chosen by top-k among the first T - forcedWindow */
  readonly chosen: number;
}

/** The public static plan for a prompt of T tokens (keep rule 'topk'). */
export function staticPlan(p: SecureMpCacheParams, T: number): StaticPlan {
  aPosInt(T, 'T');
  const window = staticWindowSize(T, p.windowRatio);
  const budget = Math.min(T, p.staticTokens ?? Math.max(1, Math.floor(p.staticRatio * T + 1e-9)));
  if (budget >= T) return { T, window, budget: T, forcedWindow: T, chosen: 0 };
  const forcedWindow = Math.min(window, Math.max(1, Math.floor(budget / 2)));
  return { T, window, budget, forcedWindow, chosen: budget - forcedWindow };
}

// ------------------------------------------------------------------ dynamic plan

export interface LevelPlan {
  /** number of blocks */
  readonly G: number;
  /** block indices always selected (ascending) */
  readonly forced: readonly number[];
  /** the other blocks form the contiguous range [lo, hi) */
  readonly lo: number;
  readonly hi: number;
  /** blocks picked by top-k among [lo, hi) */
  readonly free: number;
  /** total selected = forced.length + free */
  readonly total: number;
}

export interface DynamicPlan {
  /** cache length */
  readonly n: number;
  readonly block2: number;
  readonly level1: LevelPlan;
  readonly level2: LevelPlan;
  /** tokens attended per query head (the last block may be partial) */
  readonly tokens: number;
}

function level(G: number, first: boolean, last: boolean, k: number): LevelPlan {
  const forced = forcedBlocks(G, first, last);
  const lo = first ? Math.min(1, G) : 0;
  const hi = Math.max(lo, last ? G - 1 : G);
  const free = Math.min(hi - lo, Math.max(0, k - forced.length));
  return { G, forced, lo, hi, free, total: forced.length + free };
}

/**
 * The public plan of one decode step over a cache of n tokens (oracle: twoLevelSelect).
 * Candidate count at level 2 = children (< G2) of the level-1 choices: public when the last
 * level-1 block is forced (the default). With forceLast = false and an odd G2 it depends on
 * whether the secret level-1 choice includes the last block; the plan then assumes it does
 * (one child fewer), which only matters when k2 would exceed the candidates.
 */
export function dynamicPlan(p: SecureMpCacheParams, n: number): DynamicPlan {
  aPosInt(n, 'n');
  const G2 = Math.ceil(n / p.block2);
  const G1 = Math.ceil(n / p.block1);
  const l1 = level(G1, p.forceFirst, p.forceLast, Math.floor(G1 * p.ratio1 + 1e-9));
  const cand = 2 * l1.total - (G2 % 2); // the last level-1 block has one child when G2 is odd
  const forced2 = forcedBlocks(G2, p.forceFirst, p.forceLast);
  const k2 = Math.min(cand, Math.max(Math.floor(G2 * p.ratio2 + 1e-9), forced2.length));
  const l2 = level(G2, p.forceFirst, p.forceLast, k2);
  let tokens = 0;
  const blockLen = (b: number): number => Math.min(n, (b + 1) * p.block2) - b * p.block2;
  for (const b of l2.forced) tokens += blockLen(b);
  tokens += l2.free * p.block2; // free blocks are complete unless forceLast is off (then at most the bound)
  return { n, block2: p.block2, level1: l1, level2: l2, tokens };
}

/**
 * Cross-layer index sharing (oracle: selectionSourceLayer): layers 0, 1 and the last two
 * compute their own selection; in between, each even layer computes and the next odd one reuses it.
 */
export function computesOwnSelection(layer: number, nLayers: number): boolean {
  if (layer < 2 || layer >= nLayers - 2) return true;
  return layer % 2 === 0;
}

/** How many of nLayers layers compute their own selection under index sharing. */
export function computingLayers(nLayers: number): number {
  let c = 0;
  for (let l = 0; l < nLayers; l++) if (computesOwnSelection(l, nLayers)) c++;
  return c;
}
