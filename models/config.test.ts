import { describe, expect, it } from 'vitest';
import { GPT2_SMALL, LLAMA_BLOCK, LLAMA_BLOCKS_GPT2_DIMS, makeConfig, sameConfig, validateConfig } from './config.js';
import { configFromHf, configToHf } from './hf-config.js';
import { modelErrorCode as code } from './test-support.js';
import { parameterCount } from './weights.js';

const hf = {
  architectures: ['LlamaForCausalLM'],
  model_type: 'llama',
  hidden_size: 64,
  intermediate_size: 172,
  num_hidden_layers: 5,
  num_attention_heads: 8,
  num_key_value_heads: 4,
  vocab_size: 512,
  max_position_embeddings: 512,
  rms_norm_eps: 1e-5,
  rope_theta: 10000,
  tie_word_embeddings: true,
};

describe('model config', () => {
  it('reads HF field names and round trips through configToHf', () => {
    const c = configFromHf(hf);
    expect(c).toEqual({ ...LLAMA_BLOCK, dim: 64, hiddenDim: 172, nLayers: 5, nHeads: 8, nKvHeads: 4, vocabSize: 512, maxSeqLen: 512, normEps: 1e-5, ropeTheta: 10000, tiedEmbeddings: true, headDim: 8 });
    expect(configFromHf(configToHf(c))).toEqual(c);
    const scaled = { ...c, ropeScaling: { type: 'llama3' as const, factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 8192 }, qkvBias: true, outBias: true, ffnBias: true };
    expect(configFromHf(configToHf(scaled))).toEqual(scaled);
    expect(configFromHf(configToHf(GPT2_SMALL))).toEqual(GPT2_SMALL);
  });

  it('applies the transformers LlamaConfig defaults', () => {
    const { num_key_value_heads: _a, rms_norm_eps: _b, rope_theta: _c, tie_word_embeddings: _d, max_position_embeddings: _e, ...rest } = hf;
    expect(configFromHf(rest)).toMatchObject({ nKvHeads: 8, normEps: 1e-6, ropeTheta: 10000, tiedEmbeddings: false, maxSeqLen: 2048 });
  });

  it('refuses bad or unsupported configs with MODEL_ERR_CONFIG naming the file and the field', () => {
    expect(code(() => configFromHf([]))).toBe('MODEL_ERR_CONFIG');
    expect(code(() => configFromHf({ ...hf, hidden_size: '64' }))).toBe('MODEL_ERR_CONFIG');
    expect(code(() => configFromHf({ ...hf, num_key_value_heads: 3 }))).toBe('MODEL_ERR_CONFIG');
    expect(() => configFromHf({ ...hf, rope_scaling: { type: 'dynamic', factor: 2 } })).toThrow(/rope_scaling\.rope_type/);
    expect(() => configFromHf({ ...hf, hidden_act: 'gelu' })).toThrow(/hidden_act/);
    expect(() => configFromHf({ ...hf, model_type: 'gptj' })).toThrow(/model_type/);
    expect(() => configFromHf({ ...hf, some_new_feature: 1 })).toThrow(/some_new_feature/);
    expect(code(() => configFromHf({ ...hf, rms_norm_eps: -1 }))).toBe('MODEL_ERR_CONFIG');
    expect(code(() => configFromHf({ ...hf, head_dim: 7 }))).toBe('MODEL_ERR_CONFIG');
    expect(() => configFromHf({ ...hf, vocab_size: 0 }, 'dir/config.json')).toThrow(/vocabSize.*dir\/config\.json/);
  });

  it('validateConfig refuses a peer config with unknown or missing fields', () => {
    const c = makeConfig({ dim: 32, hiddenDim: 64, nLayers: 1, nHeads: 4, vocabSize: 10, maxSeqLen: 16 });
    expect(code(() => validateConfig({ ...c, extra: 1 } as never))).toBe('MODEL_ERR_CONFIG');
    const { qkNorm: _q, ...missing } = c;
    expect(code(() => validateConfig(missing as never))).toBe('MODEL_ERR_CONFIG');
    expect(code(() => validateConfig({ ...c, norm: 'batch' } as never))).toBe('MODEL_ERR_CONFIG');
    expect(code(() => validateConfig({ ...c, slidingWindow: 0 }))).toBe('MODEL_ERR_CONFIG');
    expect(code(() => validateConfig({ ...c, ropeScaling: { type: 'llama3', factor: 8, lowFreqFactor: 4, highFreqFactor: 1, originalMaxPositions: 8 } }))).toBe('MODEL_ERR_CONFIG');
    expect(sameConfig(c, JSON.parse(JSON.stringify(c)) as typeof c)).toBe(true);
  });

  it('makeConfig fills defaults; GPT-2 small and the Llama blocks at its dimensions', () => {
    expect(makeConfig({ dim: 32, hiddenDim: 64, nLayers: 1, nHeads: 4, vocabSize: 10, maxSeqLen: 16 })).toMatchObject({ nKvHeads: 4, headDim: 8, normEps: 1e-5, ropeTheta: 10000, tiedEmbeddings: false, ...LLAMA_BLOCK });
    expect(validateConfig(GPT2_SMALL)).toBe(GPT2_SMALL);
    // GPT-2 small has 124,439,808 parameters: 12 * (4 * 768^2 + 2 * 768 * 3072 + 9 * 768 + 3072) + 50257 * 768 + 1024 * 768 + 2 * 768
    expect(parameterCount(GPT2_SMALL)).toBe(124_439_808);
    // 12 * (4 * 768^2 + 3 * 768 * 3072 + 2 * 768) + 50257 * 768 + 768
    expect(parameterCount(LLAMA_BLOCKS_GPT2_DIMS)).toBe(12 * (4 * 768 * 768 + 3 * 768 * 3072 + 2 * 768) + 50257 * 768 + 768);
  });
});
