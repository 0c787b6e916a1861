/**
 * Llama-architecture decoder configuration: RMSNorm, RoPE (adjacent pairs, see rope.ts),
 * grouped-query attention, SwiGLU FFN, tied or separate output head.
 *
 * Field names follow llama2.c; `configFromHf` / `configToHf` map the Hugging Face
 * `config.json` names (hidden_size, intermediate_size, num_hidden_layers,
 * num_attention_heads, num_key_value_heads, vocab_size, max_position_embeddings,
 * rms_norm_eps, rope_theta, tie_word_embeddings, head_dim).
 */
import { ModelFormatError } from './errors.js';

export interface ModelConfig {
  /** model (residual stream) width */
  readonly dim: number;
  /** SwiGLU inner width (HF intermediate_size) */
  readonly hiddenDim: number;
  readonly nLayers: number;
  /** query heads */
  readonly nHeads: number;
  /** key/value heads (grouped-query attention: nHeads % nKvHeads === 0) */
  readonly nKvHeads: number;
  readonly vocabSize: number;
  /** maximum context length (positions 0 .. maxSeqLen-1) */
  readonly maxSeqLen: number;
  /** RMSNorm epsilon */
  readonly normEps: number;
  /** RoPE base */
  readonly ropeTheta: number;
  /** output head shares the token embedding matrix */
  readonly tiedEmbeddings: boolean;
  /** per-head width (even); usually dim / nHeads */
  readonly headDim: number;
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

/**
 * Checks a config's invariants; returns it. Throws ModelFormatError(MODEL_ERR_CONFIG)
 * naming `file` (the config's origin) when a value is out of range.
 */
export function validateConfig(c: ModelConfig, file = '<config>'): ModelConfig {
  const bad = (msg: string): never => {
    throw new ModelFormatError('MODEL_ERR_CONFIG', msg, { file });
  };
  const posInt = (v: unknown, name: string): void => {
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) bad(`${name} must be a positive integer, got ${String(v)}`);
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
  if (c.headDim % 2 !== 0) bad(`headDim (${c.headDim}) must be even for RoPE`);
  if (typeof c.normEps !== 'number' || !(c.normEps > 0) || !Number.isFinite(c.normEps)) bad(`normEps must be a positive number, got ${String(c.normEps)}`);
  if (typeof c.ropeTheta !== 'number' || !(c.ropeTheta > 0) || !Number.isFinite(c.ropeTheta)) bad(`ropeTheta must be a positive number, got ${String(c.ropeTheta)}`);
  if (typeof c.tiedEmbeddings !== 'boolean') bad(`tiedEmbeddings must be a boolean, got ${String(c.tiedEmbeddings)}`);
  return c;
}

/** Fills defaults (headDim = dim / nHeads, nKvHeads = nHeads, normEps 1e-5, ropeTheta 1e4, untied) and validates. */
export function makeConfig(
  c: Pick<ModelConfig, 'dim' | 'hiddenDim' | 'nLayers' | 'nHeads' | 'vocabSize' | 'maxSeqLen'> & Partial<ModelConfig>,
): ModelConfig {
  if (typeof c !== 'object' || c === null) throw new TypeError('config must be an object');
  const out: ModelConfig = {
    dim: c.dim,
    hiddenDim: c.hiddenDim,
    nLayers: c.nLayers,
    nHeads: c.nHeads,
    nKvHeads: c.nKvHeads ?? c.nHeads,
    vocabSize: c.vocabSize,
    maxSeqLen: c.maxSeqLen,
    normEps: c.normEps ?? 1e-5,
    ropeTheta: c.ropeTheta ?? 10000,
    tiedEmbeddings: c.tiedEmbeddings ?? false,
    headDim: c.headDim ?? c.dim / c.nHeads,
  };
  return validateConfig(out);
}

/** GPT-2-small dimensions (12 layers, d=768, 12 heads, 3072 hidden, vocab 50257, 1024 positions) for benchmarks. */
export const GPT2_SMALL_DIMS: ModelConfig = Object.freeze({
  dim: 768,
  hiddenDim: 3072,
  nLayers: 12,
  nHeads: 12,
  nKvHeads: 12,
  vocabSize: 50257,
  maxSeqLen: 1024,
  normEps: 1e-5,
  ropeTheta: 10000,
  tiedEmbeddings: true,
  headDim: 64,
});

type Json = Record<string, unknown>;

/**
 * Reads a Hugging Face LlamaForCausalLM `config.json` object. Defaults as in transformers'
 * LlamaConfig: num_key_value_heads = num_attention_heads, rms_norm_eps 1e-6, rope_theta
 * 10000, tie_word_embeddings false, max_position_embeddings 2048, head_dim = hidden/heads.
 * Unsupported features (rope_scaling, attention/mlp bias, non-silu activation) are refused.
 */
export function configFromHf(json: unknown, file = 'config.json'): ModelConfig {
  const bad = (msg: string): never => {
    throw new ModelFormatError('MODEL_ERR_CONFIG', msg, { file });
  };
  if (typeof json !== 'object' || json === null || Array.isArray(json)) bad('config must be a JSON object');
  const j = json as Json;
  const req = (name: string): number => {
    const v = j[name];
    if (v === undefined || v === null) bad(`missing field '${name}'`);
    if (typeof v !== 'number') bad(`field '${name}' must be a number, got ${JSON.stringify(v)}`);
    return v as number;
  };
  const opt = (name: string, dflt: number): number => {
    const v = j[name];
    if (v === undefined || v === null) return dflt;
    if (typeof v !== 'number') bad(`field '${name}' must be a number, got ${JSON.stringify(v)}`);
    return v as number;
  };
  const mt = j['model_type'];
  if (mt !== undefined && mt !== 'llama' && mt !== 'mistral') bad(`model_type '${String(mt)}' is not supported (llama)`);
  const act = j['hidden_act'];
  if (act !== undefined && act !== 'silu') bad(`hidden_act '${String(act)}' is not supported (silu)`);
  if (j['rope_scaling'] !== undefined && j['rope_scaling'] !== null) bad('rope_scaling is not supported');
  if (j['attention_bias'] === true) bad('attention_bias is not supported');
  if (j['mlp_bias'] === true) bad('mlp_bias is not supported');
  const tie = j['tie_word_embeddings'];
  if (tie !== undefined && typeof tie !== 'boolean') bad(`field 'tie_word_embeddings' must be a boolean`);
  const dim = req('hidden_size');
  const nHeads = req('num_attention_heads');
  const c: ModelConfig = {
    dim,
    hiddenDim: req('intermediate_size'),
    nLayers: req('num_hidden_layers'),
    nHeads,
    nKvHeads: opt('num_key_value_heads', nHeads),
    vocabSize: req('vocab_size'),
    maxSeqLen: opt('max_position_embeddings', 2048),
    normEps: opt('rms_norm_eps', 1e-6),
    ropeTheta: opt('rope_theta', 10000),
    tiedEmbeddings: (tie as boolean | undefined) ?? false,
    headDim: opt('head_dim', dim / nHeads),
  };
  return validateConfig(c, file);
}

/** The HF `config.json` object for a config (LlamaForCausalLM). */
export function configToHf(c: ModelConfig, torchDtype: 'float32' | 'float16' | 'bfloat16' = 'float32'): Json {
  validateConfig(c);
  return {
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    hidden_act: 'silu',
    hidden_size: c.dim,
    intermediate_size: c.hiddenDim,
    num_hidden_layers: c.nLayers,
    num_attention_heads: c.nHeads,
    num_key_value_heads: c.nKvHeads,
    head_dim: c.headDim,
    vocab_size: c.vocabSize,
    max_position_embeddings: c.maxSeqLen,
    rms_norm_eps: c.normEps,
    rope_theta: c.ropeTheta,
    rope_scaling: null,
    attention_bias: false,
    mlp_bias: false,
    tie_word_embeddings: c.tiedEmbeddings,
    torch_dtype: torchDtype,
    bos_token_id: 1,
    eos_token_id: 2,
  };
}
