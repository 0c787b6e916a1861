/**
 * The common in-memory weight structure every loader produces and every forward pass
 * (float reference, secure decoder) consumes.
 *
 * All matrices are Float32Array, row-major [out][in], so that y = W x:
 * y[o] = sum_i W[o * in + i] * x[i]. Which tensors exist depends on the config
 * (`layerShapes`): biases only with qkvBias / outBias / ffnBias, w3 only for the gated
 * (SwiGLU) FFN, qNorm/kNorm only with qkNorm, norm biases only for LayerNorm, the position
 * table only for learned positions.
 *
 * RoPE convention (see rope.ts): the rows of wq and wk (and the entries of bq, bk, qNorm,
 * kNorm) are in the llama2.c / Meta order, where RoPE rotates ADJACENT pairs (2i, 2i+1) of
 * each head. Hugging Face checkpoints store them permuted for the rotate-half form;
 * hf-checkpoint.ts converts on load and save, so a model gives the same outputs whichever
 * format it came from.
 */
import { type ModelConfig, isGated, kvDim, qDim, validateConfig } from './config.js';
import { ModelFormatError } from './errors.js';

export interface LayerWeights {
  /** norm gain before attention, [dim] (HF input_layernorm / ln_1) */
  readonly attnNorm: Float32Array;
  /** LayerNorm bias before attention, [dim] (norm = 'layer') */
  readonly attnNormBias?: Float32Array;
  /** [nHeads*headDim][dim] (adjacent-pair RoPE order) */
  readonly wq: Float32Array;
  /** [nKvHeads*headDim][dim] (adjacent-pair RoPE order) */
  readonly wk: Float32Array;
  /** [nKvHeads*headDim][dim] */
  readonly wv: Float32Array;
  /** q/k/v biases (qkvBias), [nHeads*headDim] / [nKvHeads*headDim] (q, k in adjacent-pair order) */
  readonly bq?: Float32Array;
  readonly bk?: Float32Array;
  readonly bv?: Float32Array;
  /** per-head RMSNorm gains of q and k (qkNorm), [headDim] each, adjacent-pair order */
  readonly qNorm?: Float32Array;
  readonly kNorm?: Float32Array;
  /** [dim][nHeads*headDim] */
  readonly wo: Float32Array;
  /** [dim] (outBias) */
  readonly bo?: Float32Array;
  /** norm gain before the FFN, [dim] (HF post_attention_layernorm / ln_2) */
  readonly ffnNorm: Float32Array;
  /** LayerNorm bias before the FFN, [dim] (norm = 'layer') */
  readonly ffnNormBias?: Float32Array;
  /** FFN input projection, [hiddenDim][dim]: the SwiGLU gate (HF gate_proj) or the MLP's c_fc */
  readonly w1: Float32Array;
  /** FFN output projection, [dim][hiddenDim] (HF down_proj / c_proj) */
  readonly w2: Float32Array;
  /** SwiGLU up projection, [hiddenDim][dim] (HF up_proj); gated FFN only */
  readonly w3?: Float32Array;
  /** FFN biases (ffnBias): [hiddenDim], [dim], [hiddenDim] */
  readonly b1?: Float32Array;
  readonly b2?: Float32Array;
  readonly b3?: Float32Array;
}

export interface ModelWeights {
  readonly config: ModelConfig;
  /** [vocabSize][dim] */
  readonly tokenEmbedding: Float32Array;
  /** learned absolute positions, [maxSeqLen][dim] (positions = 'learned') */
  readonly positionEmbedding?: Float32Array;
  readonly layers: readonly LayerWeights[];
  /** final norm gain, [dim] */
  readonly finalNorm: Float32Array;
  /** final LayerNorm bias, [dim] (norm = 'layer') */
  readonly finalNormBias?: Float32Array;
  /** output head [vocabSize][dim]; the same array object as tokenEmbedding when config.tiedEmbeddings */
  readonly output: Float32Array;
}

export type LayerTensorName = keyof LayerWeights;

/** Every per-layer tensor name, in a stable order (a given config uses a subset: layerShapes). */
export const LAYER_TENSOR_NAMES: readonly LayerTensorName[] = [
  'attnNorm', 'attnNormBias', 'wq', 'wk', 'wv', 'bq', 'bk', 'bv', 'qNorm', 'kNorm', 'wo', 'bo',
  'ffnNorm', 'ffnNormBias', 'w1', 'w2', 'w3', 'b1', 'b2', 'b3',
];

/** The tensors of a Llama-architecture layer (llama2.c files hold exactly these). */
export const LLAMA_LAYER_TENSORS: readonly LayerTensorName[] = ['attnNorm', 'wq', 'wk', 'wv', 'wo', 'ffnNorm', 'w1', 'w2', 'w3'];

/** Shape [rows, cols] (or [len] for vectors) of each per-layer tensor a config has (absent names are not used). */
export function layerShapes(c: ModelConfig): Partial<Record<LayerTensorName, readonly number[]>> {
  const s: Partial<Record<LayerTensorName, readonly number[]>> = {
    attnNorm: [c.dim],
    wq: [qDim(c), c.dim],
    wk: [kvDim(c), c.dim],
    wv: [kvDim(c), c.dim],
    wo: [c.dim, qDim(c)],
    ffnNorm: [c.dim],
    w1: [c.hiddenDim, c.dim],
    w2: [c.dim, c.hiddenDim],
  };
  if (isGated(c)) s.w3 = [c.hiddenDim, c.dim];
  if (c.norm === 'layer') {
    s.attnNormBias = [c.dim];
    s.ffnNormBias = [c.dim];
  }
  if (c.qkvBias) {
    s.bq = [qDim(c)];
    s.bk = [kvDim(c)];
    s.bv = [kvDim(c)];
  }
  if (c.qkNorm) {
    s.qNorm = [c.headDim];
    s.kNorm = [c.headDim];
  }
  if (c.outBias) s.bo = [c.dim];
  if (c.ffnBias) {
    s.b1 = [c.hiddenDim];
    s.b2 = [c.dim];
    if (isGated(c)) s.b3 = [c.hiddenDim];
  }
  return s;
}

/** The per-layer tensor names a config uses, in LAYER_TENSOR_NAMES order. */
export function layerTensorNames(c: ModelConfig): LayerTensorName[] {
  const s = layerShapes(c);
  return LAYER_TENSOR_NAMES.filter((n) => s[n] !== undefined);
}

export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Total number of parameters (the output head counted once when tied). */
export function parameterCount(c: ModelConfig): number {
  const perLayer = Object.values(layerShapes(c)).reduce((a, s) => a + numel(s), 0);
  const norms = c.norm === 'layer' ? 2 * c.dim : c.dim;
  const positions = c.positions === 'learned' ? c.maxSeqLen * c.dim : 0;
  return c.vocabSize * c.dim * (c.tiedEmbeddings ? 1 : 2) + positions + c.nLayers * perLayer + norms;
}

/**
 * Checks every array's presence and length against the config; returns the weights.
 * Throws ModelFormatError(MODEL_ERR_SHAPE / MODEL_ERR_MISSING_TENSOR) naming the tensor,
 * MODEL_ERR_CONFIG for a tensor the config does not use.
 */
export function validateWeights(w: ModelWeights, file = '<weights>'): ModelWeights {
  const c = validateConfig(w.config, file);
  const check = (a: unknown, shape: readonly number[], tensor: string): void => {
    if (!(a instanceof Float32Array)) throw new ModelFormatError('MODEL_ERR_MISSING_TENSOR', 'tensor is missing', { file, tensor });
    if (a.length !== numel(shape)) {
      throw new ModelFormatError('MODEL_ERR_SHAPE', `expected ${numel(shape)} values [${shape.join(', ')}], got ${a.length}`, { file, tensor });
    }
  };
  const absent = (a: unknown, tensor: string): void => {
    if (a !== undefined) throw new ModelFormatError('MODEL_ERR_CONFIG', 'the config does not use this tensor', { file, tensor });
  };
  check(w.tokenEmbedding, [c.vocabSize, c.dim], 'tokenEmbedding');
  check(w.finalNorm, [c.dim], 'finalNorm');
  check(w.output, [c.vocabSize, c.dim], 'output');
  if (c.norm === 'layer') check(w.finalNormBias, [c.dim], 'finalNormBias');
  else absent(w.finalNormBias, 'finalNormBias');
  if (c.positions === 'learned') check(w.positionEmbedding, [c.maxSeqLen, c.dim], 'positionEmbedding');
  else absent(w.positionEmbedding, 'positionEmbedding');
  if (c.tiedEmbeddings && w.output !== w.tokenEmbedding) {
    throw new ModelFormatError('MODEL_ERR_CONFIG', 'tiedEmbeddings is set but output is not the token embedding array', { file, tensor: 'output' });
  }
  if (!Array.isArray(w.layers) || w.layers.length !== c.nLayers) {
    throw new ModelFormatError('MODEL_ERR_MISSING_TENSOR', `expected ${c.nLayers} layers, got ${Array.isArray(w.layers) ? w.layers.length : 'none'}`, { file });
  }
  const shapes = layerShapes(c);
  w.layers.forEach((l, i) => {
    for (const n of LAYER_TENSOR_NAMES) {
      const s = shapes[n];
      if (s === undefined) absent(l?.[n], `layers.${i}.${n}`);
      else check(l?.[n], s, `layers.${i}.${n}`);
    }
  });
  return w;
}

/** Deep copy of weights with every array mapped through `f` (the tied head stays tied). */
export function mapWeights(w: ModelWeights, f: (a: Float32Array) => Float32Array): ModelWeights {
  const tokenEmbedding = f(w.tokenEmbedding);
  const opt = (a: Float32Array | undefined): Float32Array | undefined => (a === undefined ? undefined : f(a));
  const out: ModelWeights = {
    config: w.config,
    tokenEmbedding,
    layers: w.layers.map((l) => {
      const o: Partial<Record<LayerTensorName, Float32Array>> = {};
      for (const n of LAYER_TENSOR_NAMES) if (l[n] !== undefined) o[n] = f(l[n] as Float32Array);
      return o as LayerWeights;
    }),
    finalNorm: f(w.finalNorm),
    output: w.config.tiedEmbeddings ? tokenEmbedding : f(w.output),
  };
  const pe = opt(w.positionEmbedding);
  const fb = opt(w.finalNormBias);
  return { ...out, ...(pe === undefined ? {} : { positionEmbedding: pe }), ...(fb === undefined ? {} : { finalNormBias: fb }) };
}
