/**
 * Seeded random-weight models for tests and benchmarks (e.g. GPT-2-small dimensions).
 * The generator is mulberry32, a small NON-CRYPTOGRAPHIC PRNG: fine for public test
 * weights, never for anything secret (use the protocol PRG streams for that).
 */
import { type ModelConfig, validateConfig } from './config.js';
import { LAYER_TENSOR_NAMES, LLAMA_LAYER_TENSORS, type LayerTensorName, type LayerWeights, type ModelWeights, layerShapes, numel } from './weights.js';

/** mulberry32: deterministic 32-bit PRNG for public test data. Not for secrets. */
export class NonSecretTestRng {
  private state: number;

  constructor(seed: number) {
    if (!Number.isSafeInteger(seed)) throw new TypeError(`seed must be an integer, got ${seed}`);
    this.state = seed >>> 0;
  }

  /** next uint32 */
  nextU32(): number {
    this.state = (this.state + 0x6d2b79f5) | 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** uniform in [0, 1) */
  next(): number {
    return this.nextU32() / 4294967296;
  }

  /** fills `out` with uniform values of mean 0 and standard deviation `std` (same stream as next()) */
  fillUniform(out: Float32Array, std: number): Float32Array {
    const a = (2 * std * Math.sqrt(3)) / 4294967296;
    const c = std * Math.sqrt(3);
    let st = this.state;
    for (let i = 0; i < out.length; i++) {
      st = (st + 0x6d2b79f5) | 0;
      let t = Math.imul(st ^ (st >>> 15), st | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      out[i] = ((t ^ (t >>> 14)) >>> 0) * a - c;
    }
    this.state = st;
    return out;
  }
}

/** Per-layer tensor draw order: the Llama tensors first (so Llama models keep their seeded values), then the others. */
const DRAW_ORDER: readonly LayerTensorName[] = [...LLAMA_LAYER_TENSORS, ...LAYER_TENSOR_NAMES.filter((n) => !LLAMA_LAYER_TENSORS.includes(n))];

/**
 * A deterministic random-weight model: matrices uniform with std 1/sqrt(fan_in), the token
 * embedding with std 1/sqrt(dim) (so tied logits have std ~1), norm gains 1 + U(+-0.1), biases
 * (q/k/v, output, FFN, LayerNorm) U(+-0.1), learned positions std 0.5/sqrt(dim).
 * The same (config, seed) always gives the same weights.
 */
export function randomWeights(config: ModelConfig, seed: number): ModelWeights {
  const c = validateConfig(config);
  const rng = new NonSecretTestRng(seed);
  const shapes = layerShapes(c);
  const gain = (n: number): Float32Array => {
    const g = rng.fillUniform(new Float32Array(n), 0.1 / Math.sqrt(3));
    for (let i = 0; i < n; i++) g[i] += 1;
    return g;
  };
  const bias = (n: number): Float32Array => rng.fillUniform(new Float32Array(n), 0.1 / Math.sqrt(3));
  const isGain = (n: LayerTensorName): boolean => n === 'attnNorm' || n === 'ffnNorm' || n === 'qNorm' || n === 'kNorm';
  const tokenEmbedding = rng.fillUniform(new Float32Array(c.vocabSize * c.dim), 1 / Math.sqrt(c.dim));
  const layers: LayerWeights[] = [];
  for (let l = 0; l < c.nLayers; l++) {
    const o: Partial<Record<LayerTensorName, Float32Array>> = {};
    for (const n of DRAW_ORDER) {
      const s = shapes[n];
      if (s === undefined) continue;
      o[n] = s.length === 2 ? rng.fillUniform(new Float32Array(numel(s)), 1 / Math.sqrt(s[1])) : isGain(n) ? gain(s[0]) : bias(s[0]);
    }
    layers.push(o as LayerWeights);
  }
  const finalNorm = gain(c.dim);
  const output = c.tiedEmbeddings ? tokenEmbedding : rng.fillUniform(new Float32Array(c.vocabSize * c.dim), 1 / Math.sqrt(c.dim));
  const w: ModelWeights = { config: c, tokenEmbedding, layers, finalNorm, output };
  const extra: { positionEmbedding?: Float32Array; finalNormBias?: Float32Array } = {};
  if (c.positions === 'learned') extra.positionEmbedding = rng.fillUniform(new Float32Array(c.maxSeqLen * c.dim), 0.5 / Math.sqrt(c.dim));
  if (c.norm === 'layer') extra.finalNormBias = bias(c.dim);
  return { ...w, ...extra };
}
