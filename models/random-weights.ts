/**
 * Seeded random-weight models for tests and benchmarks (e.g. GPT-2-small dimensions).
 * The generator is mulberry32, a small NON-CRYPTOGRAPHIC PRNG: fine for public test
 * weights, never for anything secret (use the protocol PRG streams for that).
 */
import { type ModelConfig, validateConfig } from './config.js';
import { LAYER_TENSOR_NAMES, type LayerTensorName, type LayerWeights, type ModelWeights, layerShapes, numel } from './weights.js';

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

/**
 * A deterministic random-weight model: matrices uniform with std 1/sqrt(fan_in), the token
 * embedding with std 1/sqrt(dim) (so tied logits have std ~1), norm gains 1 + U(+-0.1).
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
  const tokenEmbedding = rng.fillUniform(new Float32Array(c.vocabSize * c.dim), 1 / Math.sqrt(c.dim));
  const layers: LayerWeights[] = [];
  for (let l = 0; l < c.nLayers; l++) {
    const o = {} as Record<LayerTensorName, Float32Array>;
    for (const n of LAYER_TENSOR_NAMES) {
      const s = shapes[n];
      o[n] = s.length === 1 ? gain(s[0]) : rng.fillUniform(new Float32Array(numel(s)), 1 / Math.sqrt(s[1]));
    }
    layers.push(o as LayerWeights);
  }
  const finalNorm = gain(c.dim);
  const output = c.tiedEmbeddings ? tokenEmbedding : rng.fillUniform(new Float32Array(c.vocabSize * c.dim), 1 / Math.sqrt(c.dim));
  return { config: c, tokenEmbedding, layers, finalNorm, output };
}
