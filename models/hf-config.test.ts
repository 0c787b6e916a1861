/**
 * hf-config.ts against transformers' own config classes: models/fixtures/config-fields.json holds
 * every field of LlamaConfig, MistralConfig, Qwen2Config, Qwen3Config, GPT2Config and Phi3Config
 * (Config().to_dict() of transformers 5.17, written by scripts/hf-fixtures.py) with its default.
 * Each must be classified (used, inert or refused-unless); the class defaults read as a valid
 * config; each refused field is refused, naming it, when set to a value that changes the function;
 * both RoPE layouts (5.x rope_parameters, 4.x rope_theta + rope_scaling) read the same.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ARCH_FIELDS, BASE_FIELDS, CLASS_DEFAULTS, HF_ARCHS, type HfArch, configFromHf, readHfConfig } from './hf-config.js';
import { REPO_ROOT, modelErrorCode } from './test-support.js';

interface FieldDump {
  readonly transformers_version: string;
  readonly base: Record<string, unknown>;
  readonly classes: Record<string, { readonly class: string; readonly defaults: Record<string, unknown> }>;
}
const dump = JSON.parse(readFileSync(join(REPO_ROOT, 'models', 'fixtures', 'config-fields.json'), 'utf8')) as FieldDump;

/** A value of each refused field that changes the model's function. */
const CHANGES: Readonly<Record<string, unknown>> = {
  add_cross_attention: true,
  is_encoder_decoder: true,
  pruned_heads: { 0: [1] },
  quantization_config: { quant_method: 'gptq', bits: 4 },
  use_sliding_window: true,
  layer_types: ['sliding_attention', 'full_attention'],
  scale_attn_weights: false,
  scale_attn_by_inverse_layer_idx: true,
};

/** small dimensions so that the defaults validate quickly */
function small(arch: HfArch): Record<string, unknown> {
  return arch === 'gpt2'
    ? { n_embd: 32, n_head: 4, n_layer: 2, n_positions: 64, vocab_size: 100 }
    : { hidden_size: 32, intermediate_size: 64, num_attention_heads: 4, num_key_value_heads: 2, num_hidden_layers: 2, vocab_size: 100, max_position_embeddings: 64, head_dim: 8 };
}

describe(`HF config fields (transformers ${dump.transformers_version})`, () => {
  it('lists every supported model type', () => {
    expect(Object.keys(dump.classes).sort()).toEqual([...HF_ARCHS].sort());
  });

  for (const arch of HF_ARCHS) {
    const cls = dump.classes[arch];
    it(`${arch} (${cls.class}): every field is classified, the defaults read, every refused field is refused by name`, () => {
      const rules = { ...BASE_FIELDS, ...ARCH_FIELDS[arch] };
      const unclassified = Object.keys(cls.defaults).filter((k) => rules[k] === undefined);
      expect(unclassified).toEqual([]);
      // the class defaults are a valid config (layer_types sized to the layer count)
      const defaults: Record<string, unknown> = { ...cls.defaults, model_type: arch, ...small(arch) };
      if (Array.isArray(defaults.layer_types)) defaults.layer_types = ['full_attention', 'full_attention'];
      const c = configFromHf(defaults);
      expect(c.nLayers).toBe(2);
      for (const [k, v] of Object.entries(CHANGES)) {
        const r = rules[k];
        if (r === undefined) continue;
        expect(r.kind).toBe('need');
        expect(() => configFromHf({ ...defaults, [k]: v })).toThrow(new RegExp(`'${k}'`));
      }
      for (const [k, r] of Object.entries(rules)) if (r.kind === 'need') expect(Object.keys(CHANGES)).toContain(k);
    });

    it(`${arch}: missing fields take the class defaults`, () => {
      const d = cls.defaults;
      const c = readHfConfig({ model_type: arch }).config;
      if (arch === 'gpt2') {
        expect(c).toMatchObject({ dim: d.n_embd, nLayers: d.n_layer, nHeads: d.n_head, maxSeqLen: d.n_positions, vocabSize: d.vocab_size, normEps: d.layer_norm_epsilon, tiedEmbeddings: d.tie_word_embeddings, hiddenDim: 4 * (d.n_embd as number) });
        return;
      }
      const rp = d.rope_parameters as { rope_theta: number };
      expect(c).toMatchObject({
        dim: d.hidden_size,
        hiddenDim: d.intermediate_size,
        nLayers: d.num_hidden_layers,
        nHeads: d.num_attention_heads,
        nKvHeads: d.num_key_value_heads,
        vocabSize: d.vocab_size,
        maxSeqLen: d.max_position_embeddings,
        normEps: d.rms_norm_eps,
        tiedEmbeddings: d.tie_word_embeddings,
        headDim: d.head_dim ?? (d.hidden_size as number) / (d.num_attention_heads as number),
        ropeTheta: rp.rope_theta,
        slidingWindow: arch === 'mistral' || arch === 'phi3' ? d.sliding_window : null,
      });
      for (const [k, v] of Object.entries(CLASS_DEFAULTS[arch])) if (v !== null && k in d) expect([k, d[k]]).toEqual([k, v]);
    });
  }

  it('RoPE: 5.x rope_parameters and 4.x rope_theta + rope_scaling (type or rope_type) read the same; rope_scaling wins', () => {
    const base = { model_type: 'llama', ...small('llama') };
    const l3 = { factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 8192 };
    const v5 = configFromHf({ ...base, rope_parameters: { rope_type: 'llama3', rope_theta: 500000, ...l3 } });
    expect(v5.ropeTheta).toBe(500000);
    expect(v5.ropeScaling).toEqual({ type: 'llama3', factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 8192 });
    expect(configFromHf({ ...base, rope_theta: 500000, rope_scaling: { rope_type: 'llama3', ...l3 } })).toEqual(v5);
    expect(configFromHf({ ...base, rope_theta: 500000, rope_scaling: { type: 'llama3', ...l3 } })).toEqual(v5);
    // the silent bug: theta only inside rope_parameters
    expect(configFromHf({ ...base, rope_parameters: { rope_type: 'default', rope_theta: 500000 } }).ropeTheta).toBe(500000);
    expect(configFromHf({ ...base, rope_scaling: { type: 'linear', factor: 2 }, rope_parameters: { rope_type: 'default', rope_theta: 1 } }).ropeScaling).toEqual({ type: 'linear', factor: 2 });
    for (const t of ['dynamic', 'yarn', 'longrope', 'su']) expect(() => configFromHf({ ...base, rope_parameters: { rope_type: t, factor: 2, rope_theta: 1e4 } })).toThrow(/rope_parameters\.rope_type/);
    expect(() => configFromHf({ ...base, rope_parameters: { rope_type: 'linear', factor: 2, attention_factor: 1.2 } })).toThrow(/rope_parameters\.attention_factor/);
    expect(() => configFromHf({ ...base, rope_parameters: { rope_type: 'default', partial_rotary_factor: 0.5 } })).toThrow(/partial_rotary_factor/);
    expect(() => configFromHf({ ...base, rope_parameters: { full_attention: { rope_type: 'default' }, sliding_attention: { rope_type: 'default' } } })).toThrow(/per-layer/);
    expect(() => configFromHf({ ...base, model_type: 'phi3', rope_parameters: { rope_type: 'llama3', ...l3 } })).toThrow(/phi3/);
  });

  it('architecture-specific fields map to the block features; other heads and unknown fields are refused', () => {
    const q2 = configFromHf({ model_type: 'qwen2', ...small('qwen2') });
    expect(q2).toMatchObject({ qkvBias: true, outBias: false, qkNorm: false, slidingWindow: null });
    expect(configFromHf({ model_type: 'qwen3', ...small('qwen3'), attention_bias: true })).toMatchObject({ qkvBias: true, outBias: true, qkNorm: true });
    expect(configFromHf({ model_type: 'llama', ...small('llama'), attention_bias: true, mlp_bias: true })).toMatchObject({ qkvBias: true, outBias: true, ffnBias: true });
    expect(configFromHf({ model_type: 'mistral', ...small('mistral') }).slidingWindow).toBe(4096);
    expect(configFromHf({ model_type: 'mistral', ...small('mistral'), sliding_window: null }).slidingWindow).toBe(null);
    expect(configFromHf({ model_type: 'gpt2', ...small('gpt2'), activation_function: 'gelu' }).ffn).toBe('gelu');
    expect(() => configFromHf({ model_type: 'gpt2', ...small('gpt2'), activation_function: 'relu' })).toThrow(/activation_function/);
    expect(configFromHf({ model_type: 'gpt2', ...small('gpt2'), n_inner: 96 }).hiddenDim).toBe(96);
    expect(() => configFromHf({ model_type: 'gpt2', ...small('gpt2'), hidden_size: 64 })).toThrow(/n_embd/);
    expect(() => configFromHf({ model_type: 'llama', ...small('llama'), architectures: ['LlamaForSequenceClassification'] })).toThrow(/architectures/);
    expect(() => configFromHf({ model_type: 'qwen2', ...small('qwen2'), attention_bias: false })).toThrow(/'attention_bias' is not known/);
    expect(modelErrorCode(() => configFromHf({ model_type: 'mixtral', ...small('llama') }))).toBe('MODEL_ERR_CONFIG');
    expect(readHfConfig({ architectures: ['GPT2LMHeadModel'], ...small('gpt2') }).arch).toBe('gpt2');
  });
});
