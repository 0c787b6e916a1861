import { describe, expect, it } from 'vitest';
import { GPT2_SMALL_DIMS, configFromHf, configToHf, makeConfig, validateConfig } from './config.js';
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
    expect(c).toEqual({ dim: 64, hiddenDim: 172, nLayers: 5, nHeads: 8, nKvHeads: 4, vocabSize: 512, maxSeqLen: 512, normEps: 1e-5, ropeTheta: 10000, tiedEmbeddings: true, headDim: 8 });
    expect(configFromHf(configToHf(c))).toEqual(c);
  });

  it('applies the transformers LlamaConfig defaults', () => {
    const { num_key_value_heads: _a, rms_norm_eps: _b, rope_theta: _c, tie_word_embeddings: _d, max_position_embeddings: _e, ...rest } = hf;
    expect(configFromHf(rest)).toMatchObject({ nKvHeads: 8, normEps: 1e-6, ropeTheta: 10000, tiedEmbeddings: false, maxSeqLen: 2048 });
  });

  it('refuses bad or unsupported configs with MODEL_ERR_CONFIG naming the file', () => {
    expect(code(() => configFromHf([]))).toBe('MODEL_ERR_CONFIG');
    expect(code(() => configFromHf({ ...hf, hidden_size: undefined }))).toBe('MODEL_ERR_CONFIG');
    expect(code(() => configFromHf({ ...hf, hidden_size: '64' }))).toBe('MODEL_ERR_CONFIG');
    expect(code(() => configFromHf({ ...hf, num_key_value_heads: 3 }))).toBe('MODEL_ERR_CONFIG');
    expect(code(() => configFromHf({ ...hf, rope_scaling: { type: 'llama3' } }))).toBe('MODEL_ERR_CONFIG');
    expect(code(() => configFromHf({ ...hf, hidden_act: 'gelu' }))).toBe('MODEL_ERR_CONFIG');
    expect(code(() => configFromHf({ ...hf, model_type: 'gpt2' }))).toBe('MODEL_ERR_CONFIG');
    expect(code(() => configFromHf({ ...hf, rms_norm_eps: -1 }))).toBe('MODEL_ERR_CONFIG');
    expect(code(() => configFromHf({ ...hf, head_dim: 7 }))).toBe('MODEL_ERR_CONFIG');
    expect(() => configFromHf({ ...hf, vocab_size: 0 }, 'dir/config.json')).toThrow(/vocabSize.*dir\/config\.json/);
  });

  it('makeConfig fills defaults; GPT-2-small dimensions', () => {
    expect(makeConfig({ dim: 32, hiddenDim: 64, nLayers: 1, nHeads: 4, vocabSize: 10, maxSeqLen: 16 })).toMatchObject({ nKvHeads: 4, headDim: 8, normEps: 1e-5, ropeTheta: 10000, tiedEmbeddings: false });
    expect(validateConfig(GPT2_SMALL_DIMS)).toBe(GPT2_SMALL_DIMS);
    // 12 * (4 * 768^2 + 3 * 768 * 3072 + 2 * 768) + 50257 * 768 + 768
    expect(parameterCount(GPT2_SMALL_DIMS)).toBe(12 * (4 * 768 * 768 + 3 * 768 * 3072 + 2 * 768) + 50257 * 768 + 768);
  });
});
