/**
 * Decoder configuration: the public description of the function a model computes. One
 * structure covers the supported families (README "your own checkpoint"):
 *   Llama / Mistral / Qwen2 / Qwen3 / Phi-3: RMSNorm, RoPE (adjacent pairs, see rope.ts, with
 *     optional linear / llama3 frequency scaling), grouped-query attention, SwiGLU FFN, optional
 *     q/k/v and output biases (Qwen2; Llama attention_bias), FFN biases (Llama mlp_bias),
 *     per-head q/k RMSNorm (Qwen3), sliding-window attention (Mistral, Phi-3);
 *   GPT-2: LayerNorm with bias, learned absolute positions, GeLU (tanh form) MLP, biases on
 *     every projection.
 * Reading Hugging Face `config.json` files is hf-config.ts's job; this file only holds the
 * structure, its invariants and the defaults of `makeConfig`.
 *
 * Every field is required and JSON-serialisable (the config travels between parties,
 * cli/jobs/generate.ts); `validateConfig` checks a config received from a peer.
 */
import { ModelFormatError } from './errors.js';

/** RoPE frequency scaling (transformers' rope_type 'linear' or 'llama3'); null = none. */
export type RopeScaling =
  | { readonly type: 'linear'; readonly factor: number }
  | {
      readonly type: 'llama3';
      readonly factor: number;
      readonly lowFreqFactor: number;
      readonly highFreqFactor: number;
      /** original_max_position_embeddings */
      readonly originalMaxPositions: number;
    };

/** 'rms': RMSNorm with a gain; 'layer': LayerNorm with a gain and a bias. */
export type NormKind = 'rms' | 'layer';
/** 'rope': rotary embeddings on q and k; 'learned': a position-embedding matrix added to the token embedding. */
export type PositionKind = 'rope' | 'learned';
/** 'swiglu': w2 (silu(w1 h) * (w3 h)); 'gelu-tanh' / 'gelu': w2 gelu(w1 h) with GeLU's tanh or exact (erf) form. */
export type FfnKind = 'swiglu' | 'gelu-tanh' | 'gelu';

export interface ModelConfig {
  /** model (residual stream) width */
  readonly dim: number;
  /** FFN inner width (HF intermediate_size / n_inner) */
  readonly hiddenDim: number;
  readonly nLayers: number;
  /** query heads */
  readonly nHeads: number;
  /** key/value heads (grouped-query attention: nHeads % nKvHeads === 0) */
  readonly nKvHeads: number;
  readonly vocabSize: number;
  /** maximum context length (positions 0 .. maxSeqLen-1); the size of the position table when positions = 'learned' */
  readonly maxSeqLen: number;
  /** normalisation epsilon */
  readonly normEps: number;
  /** RoPE base (unused when positions = 'learned') */
  readonly ropeTheta: number;
  /** output head shares the token embedding matrix */
  readonly tiedEmbeddings: boolean;
  /** per-head width (even for RoPE); usually dim / nHeads */
  readonly headDim: number;
  readonly norm: NormKind;
  readonly positions: PositionKind;
  readonly ffn: FfnKind;
  /** biases on the q, k and v projections */
  readonly qkvBias: boolean;
  /** bias on the attention output projection */
  readonly outBias: boolean;
  /** biases on the FFN projections */
  readonly ffnBias: boolean;
  /** per-head RMSNorm of q and k (gains [headDim], eps normEps) before RoPE (Qwen3) */
  readonly qkNorm: boolean;
  readonly ropeScaling: RopeScaling | null;
  /** a query at position p attends to keys at positions > p - slidingWindow; null = no window */
  readonly slidingWindow: number | null;
}

/** Width of the query projection output: nHeads * headDim. */
export function qDim(c: ModelConfig): number {
  return c.nHeads * c.headDim;
}

/** Width of the key/value projection outputs: nKvHeads * headDim. */
export function kvDim(c: ModelConfig): number {
  return c.nKvHeads * c.headDim;
}

/** Query heads per KV head. */
export function groupSize(c: ModelConfig): number {
  return c.nHeads / c.nKvHeads;
}

/** The FFN is gated (SwiGLU: w1, w3 and w2) rather than a two-matrix MLP (w1, w2). */
export function isGated(c: ModelConfig): boolean {
  return c.ffn === 'swiglu';
}

const NORMS: readonly NormKind[] = ['rms', 'layer'];
const POSITIONS: readonly PositionKind[] = ['rope', 'learned'];
const FFNS: readonly FfnKind[] = ['swiglu', 'gelu-tanh', 'gelu'];
const KEYS: readonly (keyof ModelConfig)[] = [
  'dim', 'hiddenDim', 'nLayers', 'nHeads', 'nKvHeads', 'vocabSize', 'maxSeqLen', 'normEps', 'ropeTheta', 'tiedEmbeddings', 'headDim',
  'norm', 'positions', 'ffn', 'qkvBias', 'outBias', 'ffnBias', 'qkNorm', 'ropeScaling', 'slidingWindow',
];

/**
 * Checks a config's invariants (also of one received from a peer: every field present, of
 * its type and in range, nothing else); returns it. Throws ModelFormatError(MODEL_ERR_CONFIG)
 * naming `file` (the config's origin) and the field.
 */
export function validateConfig(c: ModelConfig, file = '<config>'): ModelConfig {
  const bad = (msg: string): never => {
    throw new ModelFormatError('MODEL_ERR_CONFIG', msg, { file });
  };
  if (typeof c !== 'object' || c === null || Array.isArray(c)) bad('config must be an object');
  for (const k of Object.keys(c)) if (!KEYS.includes(k as keyof ModelConfig)) bad(`unknown config field '${k}'`);
  const posInt = (v: unknown, name: string): void => {
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) bad(`${name} must be a positive integer, got ${String(v)}`);
  };
  const posNum = (v: unknown, name: string): void => {
    if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v)) bad(`${name} must be a positive number, got ${String(v)}`);
  };
  const bool = (v: unknown, name: string): void => {
    if (typeof v !== 'boolean') bad(`${name} must be a boolean, got ${String(v)}`);
  };
  const oneOf = <T>(v: unknown, name: string, allowed: readonly T[]): void => {
    if (!allowed.includes(v as T)) bad(`${name} must be one of ${allowed.join(', ')}, got ${String(v)}`);
  };
  posInt(c.dim, 'dim');
  posInt(c.hiddenDim, 'hiddenDim');
  posInt(c.nLayers, 'nLayers');
  posInt(c.nHeads, 'nHeads');
  posInt(c.nKvHeads, 'nKvHeads');
  posInt(c.vocabSize, 'vocabSize');
  posInt(c.maxSeqLen, 'maxSeqLen');
  posInt(c.headDim, 'headDim');
  if (c.nHeads % c.nKvHeads !== 0) bad(`nHeads (${c.nHeads}) must be a multiple of nKvHeads (${c.nKvHeads})`);
  posNum(c.normEps, 'normEps');
  posNum(c.ropeTheta, 'ropeTheta');
  bool(c.tiedEmbeddings, 'tiedEmbeddings');
  oneOf(c.norm, 'norm', NORMS);
  oneOf(c.positions, 'positions', POSITIONS);
  oneOf(c.ffn, 'ffn', FFNS);
  bool(c.qkvBias, 'qkvBias');
  bool(c.outBias, 'outBias');
  bool(c.ffnBias, 'ffnBias');
  bool(c.qkNorm, 'qkNorm');
  if (c.positions === 'rope' && c.headDim % 2 !== 0) bad(`headDim (${c.headDim}) must be even for RoPE`);
  if (c.slidingWindow !== null) posInt(c.slidingWindow, 'slidingWindow');
  const rs = c.ropeScaling;
  if (rs !== null) {
    if (typeof rs !== 'object' || Array.isArray(rs)) bad('ropeScaling must be an object or null');
    if (c.positions !== 'rope') bad('ropeScaling needs positions = rope');
    const allowed = rs.type === 'linear' ? ['type', 'factor'] : rs.type === 'llama3' ? ['type', 'factor', 'lowFreqFactor', 'highFreqFactor', 'originalMaxPositions'] : bad(`ropeScaling.type must be linear or llama3, got ${String((rs as { type: unknown }).type)}`);
    for (const k of Object.keys(rs)) if (!allowed.includes(k)) bad(`unknown ropeScaling field '${k}'`);
    posNum(rs.factor, 'ropeScaling.factor');
    if (rs.type === 'llama3') {
      posNum(rs.lowFreqFactor, 'ropeScaling.lowFreqFactor');
      posNum(rs.highFreqFactor, 'ropeScaling.highFreqFactor');
      posNum(rs.originalMaxPositions, 'ropeScaling.originalMaxPositions');
      if (!(rs.highFreqFactor > rs.lowFreqFactor)) bad(`ropeScaling.highFreqFactor (${rs.highFreqFactor}) must exceed lowFreqFactor (${rs.lowFreqFactor})`);
    }
  }
  return c;
}

/** The Llama defaults of the architecture fields: RMSNorm, RoPE, SwiGLU, no biases, no q/k norm, no scaling, no window. */
export const LLAMA_BLOCK: Pick<ModelConfig, 'norm' | 'positions' | 'ffn' | 'qkvBias' | 'outBias' | 'ffnBias' | 'qkNorm' | 'ropeScaling' | 'slidingWindow'> = Object.freeze({
  norm: 'rms',
  positions: 'rope',
  ffn: 'swiglu',
  qkvBias: false,
  outBias: false,
  ffnBias: false,
  qkNorm: false,
  ropeScaling: null,
  slidingWindow: null,
});

/** The GPT-2 architecture fields: LayerNorm, learned positions, GeLU (tanh) MLP, biases everywhere. */
export const GPT2_BLOCK: typeof LLAMA_BLOCK = Object.freeze({
  norm: 'layer',
  positions: 'learned',
  ffn: 'gelu-tanh',
  qkvBias: true,
  outBias: true,
  ffnBias: true,
  qkNorm: false,
  ropeScaling: null,
  slidingWindow: null,
});

/**
 * Fills defaults (the Llama block, headDim = dim / nHeads, nKvHeads = nHeads, normEps 1e-5,
 * ropeTheta 1e4, untied) and validates.
 */
export function makeConfig(
  c: Pick<ModelConfig, 'dim' | 'hiddenDim' | 'nLayers' | 'nHeads' | 'vocabSize' | 'maxSeqLen'> & Partial<ModelConfig>,
): ModelConfig {
  if (typeof c !== 'object' || c === null) throw new TypeError('config must be an object');
  const out: ModelConfig = {
    ...LLAMA_BLOCK,
    ...c,
    nKvHeads: c.nKvHeads ?? c.nHeads,
    normEps: c.normEps ?? 1e-5,
    ropeTheta: c.ropeTheta ?? 10000,
    tiedEmbeddings: c.tiedEmbeddings ?? false,
    headDim: c.headDim ?? c.dim / c.nHeads,
  };
  return validateConfig(out);
}

/** Field-by-field equality of two configs. */
export function sameConfig(a: ModelConfig, b: ModelConfig): boolean {
  return JSON.stringify(KEYS.map((k) => a[k])) === JSON.stringify(KEYS.map((k) => b[k]));
}

/** GPT-2 small (124M, the real architecture): 12 layers, d=768, 12 heads, 3072 hidden, vocabulary 50257, 1024 positions, tied head. */
export const GPT2_SMALL: ModelConfig = Object.freeze(
  makeConfig({ ...GPT2_BLOCK, dim: 768, hiddenDim: 3072, nLayers: 12, nHeads: 12, vocabSize: 50257, maxSeqLen: 1024, tiedEmbeddings: true }),
);

/**
 * Llama blocks (RMSNorm, RoPE, SwiGLU) at GPT-2-small dimensions: NOT GPT-2 (the project's
 * benchmarks before the real architecture existed); kept to compare the two block families.
 */
export const LLAMA_BLOCKS_GPT2_DIMS: ModelConfig = Object.freeze(
  makeConfig({ dim: 768, hiddenDim: 3072, nLayers: 12, nHeads: 12, vocabSize: 50257, maxSeqLen: 1024, tiedEmbeddings: true }),
);
