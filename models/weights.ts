/**
 * The common in-memory weight structure every loader produces and every forward pass
 * (float reference, secure decoder) consumes.
 *
 * All matrices are Float32Array, row-major [out][in], so that y = W x:
 * y[o] = sum_i W[o * in + i] * x[i].
 *
 * RoPE convention (see rope.ts): the rows of wq and wk are in the llama2.c / Meta order,
 * where RoPE rotates ADJACENT pairs (2i, 2i+1) of each head. Hugging Face checkpoints
 * store q/k rows permuted for the rotate-half form; hf-llama.ts converts on load and save,
 * so a model gives the same outputs whichever format it came from.
 */
import { type ModelConfig, kvDim, qDim, validateConfig } from './config.js';
import { ModelFormatError } from './errors.js';

export interface LayerWeights {
  /** RMSNorm gain before attention, [dim] (HF input_layernorm) */
  readonly attnNorm: Float32Array;
  /** [nHeads*headDim][dim] (adjacent-pair RoPE order) */
  readonly wq: Float32Array;
  /** [nKvHeads*headDim][dim] (adjacent-pair RoPE order) */
  readonly wk: Float32Array;
  /** [nKvHeads*headDim][dim] */
  readonly wv: Float32Array;
  /** [dim][nHeads*headDim] */
  readonly wo: Float32Array;
  /** RMSNorm gain before the FFN, [dim] (HF post_attention_layernorm) */
  readonly ffnNorm: Float32Array;
  /** SwiGLU gate, [hiddenDim][dim] (HF gate_proj) */
  readonly w1: Float32Array;
  /** SwiGLU down projection, [dim][hiddenDim] (HF down_proj) */
  readonly w2: Float32Array;
  /** SwiGLU up projection, [hiddenDim][dim] (HF up_proj) */
  readonly w3: Float32Array;
}

export interface ModelWeights {
  readonly config: ModelConfig;
  /** [vocabSize][dim] */
  readonly tokenEmbedding: Float32Array;
  readonly layers: readonly LayerWeights[];
  /** final RMSNorm gain, [dim] */
  readonly finalNorm: Float32Array;
  /** output head [vocabSize][dim]; the same array object as tokenEmbedding when config.tiedEmbeddings */
  readonly output: Float32Array;
}

export type LayerTensorName = keyof LayerWeights;

export const LAYER_TENSOR_NAMES: readonly LayerTensorName[] = ['attnNorm', 'wq', 'wk', 'wv', 'wo', 'ffnNorm', 'w1', 'w2', 'w3'];

/** Shape [rows, cols] (or [len] for vectors) of each per-layer tensor under a config. */
export function layerShapes(c: ModelConfig): Record<LayerTensorName, readonly number[]> {
  return {
    attnNorm: [c.dim],
    wq: [qDim(c), c.dim],
    wk: [kvDim(c), c.dim],
    wv: [kvDim(c), c.dim],
    wo: [c.dim, qDim(c)],
    ffnNorm: [c.dim],
    w1: [c.hiddenDim, c.dim],
    w2: [c.dim, c.hiddenDim],
    w3: [c.hiddenDim, c.dim],
  };
}

export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Total number of parameters (the output head counted once when tied). */
export function parameterCount(c: ModelConfig): number {
  const perLayer = Object.values(layerShapes(c)).reduce((a, s) => a + numel(s), 0);
  return c.vocabSize * c.dim * (c.tiedEmbeddings ? 1 : 2) + c.nLayers * perLayer + c.dim;
}

/**
 * Checks every array's presence and length against the config; returns the weights.
 * Throws ModelFormatError(MODEL_ERR_SHAPE / MODEL_ERR_MISSING_TENSOR) naming the tensor.
 */
export function validateWeights(w: ModelWeights, file = '<weights>'): ModelWeights {
  const c = validateConfig(w.config, file);
  const check = (a: unknown, shape: readonly number[], tensor: string): void => {
    if (!(a instanceof Float32Array)) throw new ModelFormatError('MODEL_ERR_MISSING_TENSOR', 'tensor is missing', { file, tensor });
    if (a.length !== numel(shape)) {
      throw new ModelFormatError('MODEL_ERR_SHAPE', `expected ${numel(shape)} values [${shape.join(', ')}], got ${a.length}`, { file, tensor });
    }
  };
  check(w.tokenEmbedding, [c.vocabSize, c.dim], 'tokenEmbedding');
  check(w.finalNorm, [c.dim], 'finalNorm');
  check(w.output, [c.vocabSize, c.dim], 'output');
  if (c.tiedEmbeddings && w.output !== w.tokenEmbedding) {
    throw new ModelFormatError('MODEL_ERR_CONFIG', 'tiedEmbeddings is set but output is not the token embedding array', { file, tensor: 'output' });
  }
  if (!Array.isArray(w.layers) || w.layers.length !== c.nLayers) {
    throw new ModelFormatError('MODEL_ERR_MISSING_TENSOR', `expected ${c.nLayers} layers, got ${Array.isArray(w.layers) ? w.layers.length : 'none'}`, { file });
  }
  const shapes = layerShapes(c);
  w.layers.forEach((l, i) => {
    for (const n of LAYER_TENSOR_NAMES) check(l?.[n], shapes[n], `layers.${i}.${n}`);
  });
  return w;
}

/** Deep copy of weights with every array mapped through `f` (the tied head stays tied). */
export function mapWeights(w: ModelWeights, f: (a: Float32Array) => Float32Array): ModelWeights {
  const tokenEmbedding = f(w.tokenEmbedding);
  return {
    config: w.config,
    tokenEmbedding,
    layers: w.layers.map((l) => {
      const o = {} as Record<LayerTensorName, Float32Array>;
      for (const n of LAYER_TENSOR_NAMES) o[n] = f(l[n]);
      return o as LayerWeights;
    }),
    finalNorm: f(w.finalNorm),
    output: w.config.tiedEmbeddings ? tokenEmbedding : f(w.output),
  };
}
