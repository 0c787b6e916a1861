/**
 * Reading Hugging Face `config.json` files (transformers 4.x and 5.x layouts) into a
 * ModelConfig, and writing them back for the Llama and GPT-2 layouts.
 *
 * Supported `model_type`s: llama, mistral, qwen2, qwen3, phi3, gpt2 (README, "your own
 * checkpoint"). EVERY field of the file is accounted for: it is read (`use`), known not to
 * change the logits (`inert`: dropouts, initialisation, cache and output flags, token ids,
 * generation defaults, bookkeeping), or refused with MODEL_ERR_CONFIG naming it unless it has
 * its harmless value (`need`). An unknown field is refused too: it might change the function.
 * models/fixtures/config-fields.json lists every field of transformers' config classes
 * (Config().to_dict()); hf-config.test.ts checks that each is classified here.
 *
 * Missing fields take the class defaults of transformers (configuration_<type>.py), e.g.
 * Qwen3's head_dim 128, Mistral's sliding_window 4096.
 *
 * RoPE (Llama family): transformers 5 writes `rope_parameters: { rope_type, rope_theta, ... }`;
 * 4.x wrote `rope_theta` at the top level and the scaling as `rope_scaling: { rope_type | type,
 * factor, ... }`. As in transformers 5 (convert_rope_params_to_dict), a non-null `rope_scaling`
 * wins over `rope_parameters`, and `rope_theta` inside the dict wins over the top-level one.
 * rope_type default, linear and llama3 are implemented; dynamic, yarn, longrope (su) and any
 * other are refused, as is any key of the dict that the type does not define.
 */
import { type FfnKind, GPT2_BLOCK, LLAMA_BLOCK, type ModelConfig, type RopeScaling, isGated, validateConfig } from './config.js';
import { ModelFormatError } from './errors.js';

type Json = Record<string, unknown>;

/** The checkpoint layouts (tensor naming) the loader knows. */
export type HfArch = 'llama' | 'mistral' | 'qwen2' | 'qwen3' | 'phi3' | 'gpt2';
export const HF_ARCHS: readonly HfArch[] = ['llama', 'mistral', 'qwen2', 'qwen3', 'phi3', 'gpt2'];

/** The transformers class a checkpoint of each type is loaded with (the only accepted `architectures` entry). */
export const HF_CAUSAL_LM: Readonly<Record<HfArch, string>> = {
  llama: 'LlamaForCausalLM',
  mistral: 'MistralForCausalLM',
  qwen2: 'Qwen2ForCausalLM',
  qwen3: 'Qwen3ForCausalLM',
  phi3: 'Phi3ForCausalLM',
  gpt2: 'GPT2LMHeadModel',
};

/** How a config field is treated. */
export type FieldRule =
  | { readonly kind: 'use' }
  | { readonly kind: 'inert'; readonly why: string }
  | { readonly kind: 'need'; readonly ok: (v: unknown) => boolean; readonly want: string };

const USE: FieldRule = { kind: 'use' };
const inert = (why: string): FieldRule => ({ kind: 'inert', why });
const need = (want: string, ok: (v: unknown) => boolean): FieldRule => ({ kind: 'need', ok, want });
const nullish = (v: unknown): boolean => v === null || v === undefined;
const isFalse = need('false', (v) => nullish(v) || v === false);
const isTrue = need('true', (v) => nullish(v) || v === true);
const emptyish = (want: string): FieldRule => need(want, (v) => nullish(v) || (typeof v === 'object' && Object.keys(v as object).length === 0));

const DROPOUT = inert('dropout: training only');
const TOKEN_ID = inert('a token id: the tokenizer and the caller use it, the logits do not');
const GENERATION = inert('a generation default (sampling, lengths, beams): the logits do not depend on it');

/** Fields of transformers' PreTrainedConfig (4.x and 5.x) common to every model type. */
export const BASE_FIELDS: Readonly<Record<string, FieldRule>> = {
  model_type: USE,
  architectures: USE,
  tie_word_embeddings: USE,
  transformers_version: inert('bookkeeping'),
  _name_or_path: inert('bookkeeping'),
  _commit_hash: inert('bookkeeping'),
  auto_map: inert('remote-code class names; the model_type decides the architecture here'),
  torch_dtype: inert('compute dtype in torch; the stored tensors carry their own dtype'),
  dtype: inert('compute dtype in torch; the stored tensors carry their own dtype'),
  use_bfloat16: inert('compute dtype in torch'),
  return_dict: inert('output format'),
  output_hidden_states: inert('output format'),
  output_attentions: inert('output format'),
  torchscript: inert('export flag'),
  tf_legacy_loss: inert('training loss'),
  chunk_size_feed_forward: inert('evaluation order of the FFN (same values)'),
  is_decoder: inert('decoder-only models are decoders'),
  tie_encoder_decoder: inert('encoder-decoder models only'),
  cross_attention_hidden_size: inert('used only with add_cross_attention'),
  add_cross_attention: isFalse,
  is_encoder_decoder: isFalse,
  pruned_heads: emptyish('{} (no pruned heads)'),
  quantization_config: need('absent (quantised checkpoints are not supported)', nullish),
  finetuning_task: inert('training metadata'),
  id2label: inert('classification heads only'),
  label2id: inert('classification heads only'),
  num_labels: inert('classification heads only'),
  problem_type: inert('classification heads only'),
  tokenizer_class: inert('tokenizer metadata'),
  prefix: inert('tokenizer metadata'),
  bos_token_id: TOKEN_ID,
  eos_token_id: TOKEN_ID,
  pad_token_id: TOKEN_ID,
  sep_token_id: TOKEN_ID,
  decoder_start_token_id: TOKEN_ID,
  forced_bos_token_id: GENERATION,
  forced_eos_token_id: GENERATION,
  task_specific_params: GENERATION,
  max_length: GENERATION,
  min_length: GENERATION,
  do_sample: GENERATION,
  early_stopping: GENERATION,
  num_beams: GENERATION,
  num_beam_groups: GENERATION,
  diversity_penalty: GENERATION,
  temperature: GENERATION,
  top_k: GENERATION,
  top_p: GENERATION,
  typical_p: GENERATION,
  repetition_penalty: GENERATION,
  length_penalty: GENERATION,
  no_repeat_ngram_size: GENERATION,
  encoder_no_repeat_ngram_size: GENERATION,
  bad_words_ids: GENERATION,
  num_return_sequences: GENERATION,
  output_scores: GENERATION,
  return_dict_in_generate: GENERATION,
  remove_invalid_values: GENERATION,
  exponential_decay_length_penalty: GENERATION,
  suppress_tokens: GENERATION,
  begin_suppress_tokens: GENERATION,
  use_cache: inert('a KV cache gives the same logits'),
  initializer_range: inert('initialisation only'),
  _attn_implementation: inert('attention kernel (eager / sdpa / flash): the same function'),
  _attn_implementation_autoset: inert('attention kernel choice'),
  attn_implementation: inert('attention kernel (eager / sdpa / flash): the same function'),
};

const ROPE_FIELDS: Readonly<Record<string, FieldRule>> = { rope_parameters: USE, rope_scaling: USE, rope_theta: USE };
const LLAMA_COMMON: Readonly<Record<string, FieldRule>> = {
  ...ROPE_FIELDS,
  vocab_size: USE,
  hidden_size: USE,
  intermediate_size: USE,
  num_hidden_layers: USE,
  num_attention_heads: USE,
  num_key_value_heads: USE,
  head_dim: USE,
  hidden_act: USE,
  max_position_embeddings: USE,
  rms_norm_eps: USE,
  attention_dropout: DROPOUT,
};
const QWEN_WINDOW: Readonly<Record<string, FieldRule>> = {
  use_sliding_window: isFalse,
  sliding_window: inert('read only with use_sliding_window'),
  max_window_layers: inert('read only with use_sliding_window'),
  layer_types: need('every entry "full_attention"', (v) => nullish(v) || (Array.isArray(v) && v.every((t) => t === 'full_attention'))),
};

/** The fields of each model type's config class beyond BASE_FIELDS. */
export const ARCH_FIELDS: Readonly<Record<HfArch, Readonly<Record<string, FieldRule>>>> = {
  llama: { ...LLAMA_COMMON, attention_bias: USE, mlp_bias: USE, pretraining_tp: inert('tensor-parallel slicing of the same matmuls') },
  mistral: { ...LLAMA_COMMON, sliding_window: USE },
  qwen2: { ...LLAMA_COMMON, ...QWEN_WINDOW },
  qwen3: { ...LLAMA_COMMON, ...QWEN_WINDOW, attention_bias: USE },
  phi3: {
    ...LLAMA_COMMON,
    sliding_window: USE,
    partial_rotary_factor: USE,
    original_max_position_embeddings: inert('read only by longrope scaling (refused)'),
    resid_pdrop: DROPOUT,
    embd_pdrop: DROPOUT,
  },
  gpt2: {
    vocab_size: USE,
    n_positions: USE,
    n_embd: USE,
    n_layer: USE,
    n_head: USE,
    n_inner: USE,
    activation_function: USE,
    layer_norm_epsilon: USE,
    n_ctx: inert('legacy size of the causal-mask buffer'),
    resid_pdrop: DROPOUT,
    embd_pdrop: DROPOUT,
    attn_pdrop: DROPOUT,
    summary_type: inert('GPT2DoubleHeadsModel only'),
    summary_use_proj: inert('GPT2DoubleHeadsModel only'),
    summary_activation: inert('GPT2DoubleHeadsModel only'),
    summary_proj_to_labels: inert('GPT2DoubleHeadsModel only'),
    summary_first_dropout: inert('GPT2DoubleHeadsModel only'),
    scale_attn_weights: isTrue,
    scale_attn_by_inverse_layer_idx: isFalse,
    reorder_and_upcast_attn: inert('evaluation order and precision of the same scores'),
    // attribute_map aliases of GPT2Config
    hidden_size: USE,
    max_position_embeddings: USE,
    num_attention_heads: USE,
    num_hidden_layers: USE,
  },
};

/** transformers' class defaults of the fields the reader uses (configuration_<type>.py). */
export const CLASS_DEFAULTS: Readonly<Record<HfArch, Readonly<Record<string, unknown>>>> = {
  llama: { vocab_size: 32000, hidden_size: 4096, intermediate_size: 11008, num_hidden_layers: 32, num_attention_heads: 32, num_key_value_heads: null, head_dim: null, hidden_act: 'silu', max_position_embeddings: 2048, rms_norm_eps: 1e-6, tie_word_embeddings: false, attention_bias: false, mlp_bias: false },
  mistral: { vocab_size: 32000, hidden_size: 4096, intermediate_size: 14336, num_hidden_layers: 32, num_attention_heads: 32, num_key_value_heads: 8, head_dim: null, hidden_act: 'silu', max_position_embeddings: 131072, rms_norm_eps: 1e-6, tie_word_embeddings: false, sliding_window: 4096 },
  qwen2: { vocab_size: 151936, hidden_size: 4096, intermediate_size: 22016, num_hidden_layers: 32, num_attention_heads: 32, num_key_value_heads: 32, head_dim: null, hidden_act: 'silu', max_position_embeddings: 32768, rms_norm_eps: 1e-6, tie_word_embeddings: false },
  qwen3: { vocab_size: 151936, hidden_size: 4096, intermediate_size: 22016, num_hidden_layers: 32, num_attention_heads: 32, num_key_value_heads: 32, head_dim: 128, hidden_act: 'silu', max_position_embeddings: 32768, rms_norm_eps: 1e-6, tie_word_embeddings: false, attention_bias: false },
  phi3: { vocab_size: 32064, hidden_size: 3072, intermediate_size: 8192, num_hidden_layers: 32, num_attention_heads: 32, num_key_value_heads: null, head_dim: null, hidden_act: 'silu', max_position_embeddings: 4096, rms_norm_eps: 1e-5, tie_word_embeddings: false, sliding_window: null, partial_rotary_factor: 1 },
  gpt2: { vocab_size: 50257, n_positions: 1024, n_embd: 768, n_layer: 12, n_head: 12, n_inner: null, activation_function: 'gelu_new', layer_norm_epsilon: 1e-5, tie_word_embeddings: true },
};

/** RoPE base when neither rope_parameters nor the top level gives one (transformers' default_theta). */
const DEFAULT_THETA = 10000;

/** GPT-2 activation names and the FFN they mean (transformers' ACT2FN). */
const GPT2_ACTS: Readonly<Record<string, FfnKind>> = { gelu_new: 'gelu-tanh', gelu_pytorch_tanh: 'gelu-tanh', gelu_fast: 'gelu-tanh', gelu: 'gelu' };

/** Keys a rope_parameters / rope_scaling dict may hold per rope_type. */
const ROPE_KEYS: Readonly<Record<string, readonly string[]>> = {
  default: [],
  linear: ['factor'],
  llama3: ['factor', 'low_freq_factor', 'high_freq_factor', 'original_max_position_embeddings'],
};
const ROPE_COMMON_KEYS = ['rope_type', 'type', 'rope_theta', 'partial_rotary_factor'];

export interface HfConfig {
  readonly config: ModelConfig;
  /** the checkpoint's tensor layout */
  readonly arch: HfArch;
}

/** Reads a config.json object: the ModelConfig and the model type. Throws MODEL_ERR_CONFIG naming the field. */
export function readHfConfig(json: unknown, file = 'config.json'): HfConfig {
  const bad = (msg: string): never => {
    throw new ModelFormatError('MODEL_ERR_CONFIG', msg, { file });
  };
  if (typeof json !== 'object' || json === null || Array.isArray(json)) bad('config must be a JSON object');
  const j = json as Json;
  const arch = archOf(j, bad);
  const rules = ARCH_FIELDS[arch];
  for (const [k, v] of Object.entries(j)) {
    const rule = rules[k] ?? BASE_FIELDS[k];
    if (rule === undefined) bad(`field '${k}' is not known for model_type '${arch}' and might change the model's function; it is refused`);
    if (rule.kind === 'need' && !rule.ok(v)) bad(`field '${k}' = ${JSON.stringify(v)} is not supported (supported: ${rule.want})`);
  }
  const dflt = CLASS_DEFAULTS[arch];
  const get = (name: string): unknown => (j[name] === undefined ? dflt[name] : j[name]);
  const num = (name: string, v: unknown = get(name)): number => {
    if (typeof v !== 'number' || !Number.isFinite(v)) bad(`field '${name}' must be a number, got ${JSON.stringify(v)}`);
    return v as number;
  };
  const optNum = (name: string, fallback: number): number => (nullish(get(name)) ? fallback : num(name));
  const bool = (name: string): boolean => {
    const v = get(name);
    if (typeof v !== 'boolean') bad(`field '${name}' must be a boolean, got ${JSON.stringify(v)}`);
    return v as boolean;
  };
  const archName = j['architectures'];
  if (archName !== undefined && archName !== null && !(Array.isArray(archName) && archName.length === 1 && archName[0] === HF_CAUSAL_LM[arch])) {
    bad(`field 'architectures' = ${JSON.stringify(archName)}: only ${HF_CAUSAL_LM[arch]} is supported for model_type '${arch}' (other heads compute other functions)`);
  }
  const tied = bool('tie_word_embeddings');
  if (arch === 'gpt2') {
    const alias = (name: string, hfAlias: string): number => {
      if (j[hfAlias] !== undefined && j[name] !== undefined && j[hfAlias] !== j[name]) bad(`fields '${name}' and its alias '${hfAlias}' disagree`);
      return num(name, j[name] ?? j[hfAlias] ?? dflt[name]);
    };
    const dim = alias('n_embd', 'hidden_size');
    const nHeads = alias('n_head', 'num_attention_heads');
    const act = get('activation_function');
    const ffn = typeof act === 'string' && Object.hasOwn(GPT2_ACTS, act) ? GPT2_ACTS[act] : bad(`field 'activation_function' = ${JSON.stringify(act)} is not supported (${Object.keys(GPT2_ACTS).join(', ')})`);
    if (dim % nHeads !== 0) bad(`field 'n_embd' (${dim}) must be a multiple of 'n_head' (${nHeads})`);
    const c: ModelConfig = {
      ...GPT2_BLOCK,
      ffn,
      dim,
      hiddenDim: optNum('n_inner', 4 * dim),
      nLayers: alias('n_layer', 'num_hidden_layers'),
      nHeads,
      nKvHeads: nHeads,
      vocabSize: num('vocab_size'),
      maxSeqLen: alias('n_positions', 'max_position_embeddings'),
      normEps: num('layer_norm_epsilon'),
      ropeTheta: DEFAULT_THETA,
      tiedEmbeddings: tied,
      headDim: dim / nHeads,
    };
    return { config: validateConfig(c, file), arch };
  }
  const act = get('hidden_act');
  if (act !== 'silu') bad(`field 'hidden_act' = ${JSON.stringify(act)} is not supported (silu)`);
  const dim = num('hidden_size');
  const nHeads = num('num_attention_heads');
  const rope = readRope(j, arch, bad);
  let slidingWindow: number | null = null;
  if (arch === 'mistral' || arch === 'phi3') {
    const w = get('sliding_window');
    slidingWindow = nullish(w) ? null : num('sliding_window', w);
  }
  const attnBias = arch === 'llama' || arch === 'qwen3' ? bool('attention_bias') : false;
  const c: ModelConfig = {
    ...LLAMA_BLOCK,
    dim,
    hiddenDim: num('intermediate_size'),
    nLayers: num('num_hidden_layers'),
    nHeads,
    nKvHeads: optNum('num_key_value_heads', nHeads),
    vocabSize: num('vocab_size'),
    maxSeqLen: num('max_position_embeddings'),
    normEps: num('rms_norm_eps'),
    ropeTheta: rope.theta,
    ropeScaling: rope.scaling,
    tiedEmbeddings: tied,
    headDim: optNum('head_dim', dim / nHeads),
    qkvBias: arch === 'qwen2' || attnBias,
    outBias: attnBias,
    ffnBias: arch === 'llama' ? bool('mlp_bias') : false,
    qkNorm: arch === 'qwen3',
    slidingWindow,
  };
  return { config: validateConfig(c, file), arch };
}

/** Reads a Hugging Face `config.json` object (any supported model_type) into a ModelConfig. */
export function configFromHf(json: unknown, file = 'config.json'): ModelConfig {
  return readHfConfig(json, file).config;
}

function archOf(j: Json, bad: (m: string) => never): HfArch {
  const mt = j['model_type'];
  if (mt === undefined || mt === null) {
    // very old files: infer from architectures
    const a = j['architectures'];
    const hit = Array.isArray(a) && a.length === 1 ? HF_ARCHS.find((k) => HF_CAUSAL_LM[k] === a[0]) : undefined;
    return hit ?? bad(`field 'model_type' is missing (supported: ${HF_ARCHS.join(', ')})`);
  }
  if (typeof mt !== 'string' || !(HF_ARCHS as readonly string[]).includes(mt)) bad(`field 'model_type' = ${JSON.stringify(mt)} is not supported (${HF_ARCHS.join(', ')})`);
  return mt as HfArch;
}

function readRope(j: Json, arch: HfArch, bad: (m: string) => never): { theta: number; scaling: RopeScaling | null } {
  const dict = (name: string): Json | undefined => {
    const v = j[name];
    if (nullish(v)) return undefined;
    if (typeof v !== 'object' || Array.isArray(v)) bad(`field '${name}' must be an object or null, got ${JSON.stringify(v)}`);
    return v as Json;
  };
  const fromScaling = dict('rope_scaling');
  const where = fromScaling !== undefined ? 'rope_scaling' : 'rope_parameters';
  const rp = fromScaling ?? dict('rope_parameters') ?? {};
  const layerTypes = ['full_attention', 'sliding_attention'];
  if (Object.keys(rp).some((k) => layerTypes.includes(k))) bad(`field '${where}' holds per-layer-type parameters; only one RoPE for all layers is supported`);
  const type = rp['rope_type'] ?? rp['type'] ?? 'default';
  if (typeof type !== 'string' || !Object.hasOwn(ROPE_KEYS, type)) bad(`field '${where}.rope_type' = ${JSON.stringify(type)} is not supported (${Object.keys(ROPE_KEYS).join(', ')})`);
  if (arch === 'phi3' && type !== 'default') bad(`field '${where}.rope_type' = ${JSON.stringify(type)} is not supported for phi3 (default)`);
  for (const k of Object.keys(rp)) {
    if (!ROPE_COMMON_KEYS.includes(k) && !ROPE_KEYS[type as string].includes(k)) bad(`field '${where}.${k}' is not supported for rope_type '${String(type)}'`);
  }
  if (rp['rope_type'] !== undefined && rp['type'] !== undefined && rp['rope_type'] !== rp['type']) bad(`fields '${where}.rope_type' and '${where}.type' disagree`);
  const number = (name: string, v: unknown): number => {
    if (typeof v !== 'number' || !Number.isFinite(v)) bad(`field '${name}' must be a number, got ${JSON.stringify(v)}`);
    return v as number;
  };
  for (const [name, v] of [[`${where}.partial_rotary_factor`, rp['partial_rotary_factor']], ['partial_rotary_factor', j['partial_rotary_factor']]] as const) {
    if (!nullish(v) && number(name, v) !== 1) bad(`field '${name}' = ${JSON.stringify(v)} is not supported (1: RoPE on the whole head)`);
  }
  const th = rp['rope_theta'] ?? j['rope_theta'];
  const theta = nullish(th) ? DEFAULT_THETA : number(rp['rope_theta'] !== undefined ? `${where}.rope_theta` : 'rope_theta', th);
  const f = (k: string): number => number(`${where}.${k}`, rp[k]);
  let scaling: RopeScaling | null = null;
  if (type === 'linear') scaling = { type: 'linear', factor: f('factor') };
  if (type === 'llama3') {
    scaling = { type: 'llama3', factor: f('factor'), lowFreqFactor: f('low_freq_factor'), highFreqFactor: f('high_freq_factor'), originalMaxPositions: f('original_max_position_embeddings') };
  }
  return { theta, scaling };
}

/** The HF layout a config is written in: GPT-2 for its block, Llama for the Llama block. */
export function hfArchFor(c: ModelConfig): HfArch {
  if (c.norm === 'layer' && c.positions === 'learned' && c.ffn !== 'swiglu' && c.qkvBias && c.outBias && c.ffnBias && !c.qkNorm && c.slidingWindow === null && c.nKvHeads === c.nHeads && c.headDim * c.nHeads === c.dim) return 'gpt2';
  if (c.norm === 'rms' && c.positions === 'rope' && isGated(c) && !c.qkNorm && c.qkvBias === c.outBias && c.slidingWindow === null) return 'llama';
  throw new RangeError('configToHf: this combination of features has no writer (Llama and GPT-2 layouts only)');
}

/** The HF `config.json` object for a config (LlamaForCausalLM or GPT2LMHeadModel layout, hfArchFor). */
export function configToHf(c: ModelConfig, torchDtype: 'float32' | 'float16' | 'bfloat16' = 'float32'): Json {
  validateConfig(c);
  const arch = hfArchFor(c);
  if (arch === 'gpt2') {
    return {
      architectures: [HF_CAUSAL_LM.gpt2],
      model_type: 'gpt2',
      activation_function: c.ffn === 'gelu' ? 'gelu' : 'gelu_new',
      n_embd: c.dim,
      n_inner: c.hiddenDim,
      n_layer: c.nLayers,
      n_head: c.nHeads,
      n_positions: c.maxSeqLen,
      vocab_size: c.vocabSize,
      layer_norm_epsilon: c.normEps,
      tie_word_embeddings: c.tiedEmbeddings,
      torch_dtype: torchDtype,
    };
  }
  const rs = c.ropeScaling;
  const scaling =
    rs === null
      ? null
      : rs.type === 'linear'
        ? { rope_type: 'linear', factor: rs.factor }
        : { rope_type: 'llama3', factor: rs.factor, low_freq_factor: rs.lowFreqFactor, high_freq_factor: rs.highFreqFactor, original_max_position_embeddings: rs.originalMaxPositions };
  return {
    architectures: [HF_CAUSAL_LM.llama],
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
    // both layouts, consistent: transformers 4.x reads rope_theta + rope_scaling, 5.x rope_parameters (rope_scaling first when non-null)
    rope_theta: c.ropeTheta,
    rope_scaling: scaling,
    rope_parameters: { rope_theta: c.ropeTheta, ...(scaling ?? { rope_type: 'default' }) },
    attention_bias: c.qkvBias,
    mlp_bias: c.ffnBias,
    tie_word_embeddings: c.tiedEmbeddings,
    torch_dtype: torchDtype,
    bos_token_id: 1,
    eos_token_id: 2,
  };
}
