import { mkdtemp, rm, writeFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { roundToBf16 } from './binary.js';
import { makeConfig } from './config.js';
import { encodeHfCheckpoint as encodeHfLlama, loadHfCheckpoint as loadHfLlama, saveHfCheckpoint as saveHfLlama } from './hf-checkpoint.js';
import { randomWeights } from './random-weights.js';
import { ReferenceModel } from './reference.js';
import { hfRowsToAdjacent } from './rope.js';
import { encodeSafetensors, SafetensorsFile } from './safetensors.js';
import { loadStories260k, stories260kPresent } from './test-support.js';
import { mapWeights } from './weights.js';

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mpcache-hf-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe.skipIf(!stories260kPresent())('stories260K: llama2.c vs HF safetensors', () => {
  it('an f32 safetensors copy gives identical logits, a bf16 copy equals the bf16-rounded model', async () => {
    const { weights, tokenizer } = await loadStories260k();
    const prompt = tokenizer.encode('Once upon a time', { bos: true });
    const ref = new ReferenceModel(weights).logits(prompt);
    await saveHfLlama(join(dir, 'f32'), weights);
    const f32 = await loadHfLlama(join(dir, 'f32'));
    expect(f32.config).toEqual({ ...weights.config });
    expect(f32.output).toBe(f32.tokenEmbedding);
    expect(new ReferenceModel(f32).logits(prompt)).toEqual(ref);
    // the stored q rows really are in HF (rotate-half) order
    const st = new SafetensorsFile(await readFile(join(dir, 'f32', 'model.safetensors')));
    expect(st.get('model.layers.0.self_attn.q_proj.weight')).not.toEqual(weights.layers[0].wq);
    expect(hfRowsToAdjacent(st.get('model.layers.0.self_attn.k_proj.weight'), 4, 8, 64)).toEqual(weights.layers[0].wk);

    await saveHfLlama(join(dir, 'bf16'), weights, { dtype: 'BF16' });
    const bf = await loadHfLlama(join(dir, 'bf16'));
    expect(JSON.parse(await readFile(join(dir, 'bf16', 'config.json'), 'utf8')).torch_dtype).toBe('bfloat16');
    const rounded = mapWeights(weights, roundToBf16);
    expect(new ReferenceModel(bf).logits(prompt)).toEqual(new ReferenceModel(rounded).logits(prompt));
    // and bf16 stays close to f32 on this model: same greedy continuation for a few tokens
    expect(new ReferenceModel(bf).generate(prompt, 8)).toEqual(new ReferenceModel(weights).generate(prompt, 8));
  });
});

describe('HF Llama checkpoints', () => {
  const cfg = makeConfig({ dim: 16, hiddenDim: 24, nLayers: 2, nHeads: 4, nKvHeads: 2, vocabSize: 20, maxSeqLen: 32, normEps: 1e-6, ropeTheta: 5e5 });
  const w = randomWeights(cfg, 11);

  it('untied model with lm_head round trips, eps and theta from config.json', async () => {
    await saveHfLlama(join(dir, 'untied'), w);
    const r = await loadHfLlama(join(dir, 'untied'));
    expect(r.config).toEqual(cfg);
    expect(new ReferenceModel(r).logits([1, 5, 7])).toEqual(new ReferenceModel(w).logits([1, 5, 7]));
  });

  it('rotate-half attention on HF rows equals adjacent-pair attention on converted rows', () => {
    // HF form: q = Wq_hf x; rotate pairs (i, i + d/2). Ours: q' = Wq_adj x; rotate pairs (2i, 2i+1).
    const hfRows = new SafetensorsFile(encodeHfLlama(w).safetensors);
    const hd = 4;
    const wqHf = hfRows.get('model.layers.1.self_attn.q_proj.weight');
    const wkHf = hfRows.get('model.layers.1.self_attn.k_proj.weight');
    const x = Float32Array.from({ length: 16 }, (_, i) => Math.sin(i + 1));
    const mv = (m: Float32Array, rows: number): number[] => Array.from({ length: rows }, (_, r) => x.reduce((a, xi, i) => a + m[r * 16 + i] * xi, 0));
    const rotHalf = (v: number[], pos: number): number[] => {
      const o = v.slice();
      for (let h = 0; h < v.length / hd; h++)
        for (let i = 0; i < hd / 2; i++) {
          const ang = pos * Math.pow(5e5, (-2 * i) / hd);
          const a = v[h * hd + i];
          const b = v[h * hd + i + hd / 2];
          o[h * hd + i] = a * Math.cos(ang) - b * Math.sin(ang);
          o[h * hd + i + hd / 2] = b * Math.cos(ang) + a * Math.sin(ang);
        }
      return o;
    };
    const qHf = rotHalf(mv(wqHf, 16), 5);
    const kHf = rotHalf(mv(wkHf, 8), 2);
    const model = new ReferenceModel(w);
    const qA = mv(w.layers[1].wq, 16);
    const kA = mv(w.layers[1].wk, 8);
    const q32 = Float32Array.from(qA);
    const k32 = Float32Array.from(kA);
    model.rope!.apply(q32, 0, 4, 5);
    model.rope!.apply(k32, 0, 2, 2);
    // head 3 (KV head 1): the score q.k is the same in both conventions
    const dot = (a: ArrayLike<number>, b: ArrayLike<number>, ao: number, bo: number): number => {
      let t = 0;
      for (let e = 0; e < hd; e++) t += a[ao + e] * b[bo + e];
      return t;
    };
    expect(dot(q32, k32, 12, 4)).toBeCloseTo(dot(qHf, kHf, 12, 4), 5);
    expect(dot(q32, k32, 0, 0)).toBeCloseTo(dot(qHf, kHf, 0, 0), 5);
  });

  it('sharded checkpoints load through model.safetensors.index.json', async () => {
    const { configJson, safetensors } = encodeHfLlama(w);
    const all = new SafetensorsFile(safetensors);
    const names = [...all.tensors.keys()];
    const half = Math.floor(names.length / 2);
    const shard = (ns: string[]) => encodeSafetensors(new Map(ns.map((n) => [n, { data: all.get(n), shape: all.tensors.get(n)!.shape }])));
    const d = join(dir, 'sharded');
    await saveHfLlama(d, w);
    await rm(join(d, 'model.safetensors'));
    await writeFile(join(d, 'config.json'), configJson);
    await writeFile(join(d, 'model-00001-of-00002.safetensors'), shard(names.slice(0, half)));
    await writeFile(join(d, 'model-00002-of-00002.safetensors'), shard(names.slice(half)));
    const weight_map = Object.fromEntries(names.map((n, i) => [n, i < half ? 'model-00001-of-00002.safetensors' : 'model-00002-of-00002.safetensors']));
    await writeFile(join(d, 'model.safetensors.index.json'), JSON.stringify({ weight_map }));
    const r = await loadHfLlama(d);
    expect(r.layers[1].wq).toEqual(w.layers[1].wq);
    expect(r.output).toEqual(w.output);
  });

  it('missing tensor, shape mismatch, bad dtype, bad config, missing files each give their code', async () => {
    const { configJson, safetensors } = encodeHfLlama(w);
    const all = new SafetensorsFile(safetensors);
    const write = async (name: string, cfgText: string, tensors: Map<string, { data: Float32Array; shape: readonly number[] }>, raw?: Uint8Array) => {
      const d = join(dir, name);
      await saveHfLlama(d, w);
      await writeFile(join(d, 'config.json'), cfgText);
      await writeFile(join(d, 'model.safetensors'), raw ?? encodeSafetensors(tensors));
      return d;
    };
    const base = () => new Map([...all.tensors.keys()].map((n) => [n, { data: all.get(n), shape: all.tensors.get(n)!.shape }]));
    const noHead = base();
    noHead.delete('lm_head.weight');
    await expect(loadHfLlama(await write('miss', configJson, noHead))).rejects.toMatchObject({ code: 'MODEL_ERR_MISSING_TENSOR', tensor: 'lm_head.weight' });
    const tiedCfg = JSON.stringify({ ...JSON.parse(configJson), tie_word_embeddings: true });
    const tiedModel = await loadHfLlama(await write('tied', tiedCfg, noHead));
    expect(tiedModel.output).toBe(tiedModel.tokenEmbedding);
    const badShape = base();
    badShape.set('model.layers.1.mlp.up_proj.weight', { data: new Float32Array(24 * 16), shape: [16, 24] });
    await expect(loadHfLlama(await write('shape', configJson, badShape))).rejects.toMatchObject({ code: 'MODEL_ERR_SHAPE', tensor: 'model.layers.1.mlp.up_proj.weight' });
    const wrongCfg = JSON.stringify({ ...JSON.parse(configJson), intermediate_size: 32 });
    await expect(loadHfLlama(await write('cfgshape', wrongCfg, base()))).rejects.toMatchObject({ code: 'MODEL_ERR_SHAPE' });
    const i8 = new TextEncoder().encode(JSON.stringify({ 'model.embed_tokens.weight': { dtype: 'I8', shape: [20, 16], data_offsets: [0, 320] } }).padEnd(96, ' '));
    const rawFile = new Uint8Array(8 + i8.length + 320);
    new DataView(rawFile.buffer).setBigUint64(0, BigInt(i8.length), true);
    rawFile.set(i8, 8);
    await expect(loadHfLlama(await write('dtype', configJson, base(), rawFile))).rejects.toMatchObject({ code: 'MODEL_ERR_DTYPE', tensor: 'model.embed_tokens.weight' });
    await expect(loadHfLlama(await write('badjson', '{"hidden_size": 16,', base()))).rejects.toMatchObject({ code: 'MODEL_ERR_CONFIG' });
    // a missing field takes the class default (LlamaConfig: 32 layers), so layer 2 is missing
    const noField = JSON.parse(configJson);
    delete noField.num_hidden_layers;
    await expect(loadHfLlama(await write('nofield', JSON.stringify(noField), base()))).rejects.toMatchObject({ code: 'MODEL_ERR_MISSING_TENSOR', tensor: 'model.layers.2.input_layernorm.weight' });
    const extra = base();
    extra.set('model.layers.0.self_attn.q_proj.bias', { data: new Float32Array(16), shape: [16] });
    await expect(loadHfLlama(await write('extra', configJson, extra))).rejects.toMatchObject({ code: 'MODEL_ERR_CONFIG', tensor: 'model.layers.0.self_attn.q_proj.bias' });
    await expect(loadHfLlama(join(dir, 'nothing-here'))).rejects.toMatchObject({ code: 'MODEL_ERR_IO' });
    const d = await write('truncated', configJson, base(), safetensors.subarray(0, safetensors.length - 100));
    await expect(loadHfLlama(d)).rejects.toMatchObject({ code: 'MODEL_ERR_TRUNCATED', file: join(d, 'model.safetensors') });
  });
});
