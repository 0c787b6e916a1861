/**
 * Hugging Face LlamaForCausalLM checkpoints: a directory with `config.json` and either
 * `model.safetensors` or a sharded `model.safetensors.index.json` (+ shards).
 *
 * Tensor names: model.embed_tokens.weight, model.layers.N.self_attn.{q,k,v,o}_proj.weight,
 * model.layers.N.mlp.{gate,up,down}_proj.weight,
 * model.layers.N.{input_layernorm,post_attention_layernorm}.weight, model.norm.weight,
 * lm_head.weight (absent or ignored when tie_word_embeddings).
 *
 * HF stores q_proj/k_proj rows permuted for rotate-half RoPE; they are converted to the
 * project's adjacent-pair order on load and back on save (rope.ts), so a model loaded from
 * llama2.c and from its HF export computes the same function.
 */
import { readFile, stat, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { type ModelConfig, configFromHf, configToHf } from './config.js';
import { ModelFormatError } from './errors.js';
import { adjacentRowsToHf, hfRowsToAdjacent } from './rope.js';
import { SafetensorsFile, type TensorToWrite, type WritableDtype, encodeSafetensors } from './safetensors.js';
import { type LayerTensorName, type LayerWeights, type ModelWeights, layerShapes, validateWeights } from './weights.js';

/** HF name of each per-layer tensor, relative to `model.layers.N.` */
export const HF_LAYER_NAMES: Readonly<Record<LayerTensorName, string>> = {
  attnNorm: 'input_layernorm.weight',
  wq: 'self_attn.q_proj.weight',
  wk: 'self_attn.k_proj.weight',
  wv: 'self_attn.v_proj.weight',
  wo: 'self_attn.o_proj.weight',
  ffnNorm: 'post_attention_layernorm.weight',
  w1: 'mlp.gate_proj.weight',
  w2: 'mlp.down_proj.weight',
  w3: 'mlp.up_proj.weight',
};

/** Something that can return a named tensor (one safetensors file, or a set of shards). */
export interface TensorSource {
  get(name: string, expectedShape?: readonly number[]): Float32Array;
  has(name: string): boolean;
}

/** Builds ModelWeights from HF-named tensors under a config (q/k rows converted to adjacent pairs). */
export function weightsFromHfTensors(config: ModelConfig, src: TensorSource, file = '<safetensors>'): ModelWeights {
  const c = config;
  const shapes = layerShapes(c);
  const tokenEmbedding = src.get('model.embed_tokens.weight', [c.vocabSize, c.dim]);
  const layers: LayerWeights[] = [];
  for (let l = 0; l < c.nLayers; l++) {
    const o = {} as Record<LayerTensorName, Float32Array>;
    for (const n of Object.keys(HF_LAYER_NAMES) as LayerTensorName[]) {
      o[n] = src.get(`model.layers.${l}.${HF_LAYER_NAMES[n]}`, shapes[n]);
    }
    o.wq = hfRowsToAdjacent(o.wq, c.nHeads, c.headDim, c.dim);
    o.wk = hfRowsToAdjacent(o.wk, c.nKvHeads, c.headDim, c.dim);
    layers.push(o as LayerWeights);
  }
  const finalNorm = src.get('model.norm.weight', [c.dim]);
  const output = c.tiedEmbeddings ? tokenEmbedding : src.get('lm_head.weight', [c.vocabSize, c.dim]);
  return validateWeights({ config: c, tokenEmbedding, layers, finalNorm, output }, file);
}

/** HF-named tensors of a model (q/k rows converted to rotate-half order), in a stable order. */
export function hfTensorsFromWeights(w: ModelWeights): Map<string, TensorToWrite> {
  const c = validateWeights(w).config;
  const shapes = layerShapes(c);
  const m = new Map<string, TensorToWrite>();
  m.set('model.embed_tokens.weight', { data: w.tokenEmbedding, shape: [c.vocabSize, c.dim] });
  w.layers.forEach((l, i) => {
    for (const n of Object.keys(HF_LAYER_NAMES) as LayerTensorName[]) {
      let data = l[n];
      if (n === 'wq') data = adjacentRowsToHf(data, c.nHeads, c.headDim, c.dim);
      if (n === 'wk') data = adjacentRowsToHf(data, c.nKvHeads, c.headDim, c.dim);
      m.set(`model.layers.${i}.${HF_LAYER_NAMES[n]}`, { data, shape: shapes[n] });
    }
  });
  m.set('model.norm.weight', { data: w.finalNorm, shape: [c.dim] });
  if (!c.tiedEmbeddings) m.set('lm_head.weight', { data: w.output, shape: [c.vocabSize, c.dim] });
  return m;
}

async function readBytes(path: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (e) {
    throw new ModelFormatError('MODEL_ERR_IO', `cannot read: ${(e as Error).message}`, { file: path, cause: e });
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

function parseJson(bytes: Uint8Array, file: string, code: 'MODEL_ERR_CONFIG' | 'MODEL_ERR_MALFORMED'): unknown {
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (e) {
    throw new ModelFormatError(code, `not valid JSON: ${(e as Error).message}`, { file, cause: e });
  }
}

/** Shards of a sharded checkpoint, looked up through the index's weight_map. */
class ShardedSource implements TensorSource {
  constructor(
    private readonly weightMap: ReadonlyMap<string, SafetensorsFile>,
    private readonly indexFile: string,
  ) {}
  has(name: string): boolean {
    return this.weightMap.get(name)?.has(name) ?? false;
  }
  get(name: string, expectedShape?: readonly number[]): Float32Array {
    const f = this.weightMap.get(name);
    if (f === undefined) throw new ModelFormatError('MODEL_ERR_MISSING_TENSOR', 'tensor is not in the weight_map', { file: this.indexFile, tensor: name });
    return f.get(name, expectedShape);
  }
}

/** Loads a HF Llama checkpoint directory (config.json + model.safetensors or a sharded index). */
export async function loadHfLlama(dir: string): Promise<ModelWeights> {
  const cfgPath = join(dir, 'config.json');
  const config = configFromHf(parseJson(await readBytes(cfgPath), cfgPath, 'MODEL_ERR_CONFIG'), cfgPath);
  const single = join(dir, 'model.safetensors');
  const indexPath = join(dir, 'model.safetensors.index.json');
  if (await exists(single)) {
    return weightsFromHfTensors(config, new SafetensorsFile(await readBytes(single), single), single);
  }
  if (!(await exists(indexPath))) {
    throw new ModelFormatError('MODEL_ERR_IO', 'neither model.safetensors nor model.safetensors.index.json exists', { file: dir });
  }
  const index = parseJson(await readBytes(indexPath), indexPath, 'MODEL_ERR_MALFORMED') as { weight_map?: unknown };
  const wm = index?.weight_map;
  if (typeof wm !== 'object' || wm === null || Array.isArray(wm) || !Object.values(wm).every((v) => typeof v === 'string' && !v.includes('/') && !v.includes('\\'))) {
    throw new ModelFormatError('MODEL_ERR_MALFORMED', 'weight_map must map tensor names to shard file names in the same directory', { file: indexPath });
  }
  const shards = new Map<string, SafetensorsFile>();
  for (const shard of new Set(Object.values(wm as Record<string, string>))) {
    const p = join(dir, shard);
    shards.set(shard, new SafetensorsFile(await readBytes(p), p));
  }
  const byTensor = new Map<string, SafetensorsFile>();
  for (const [t, shard] of Object.entries(wm as Record<string, string>)) byTensor.set(t, shards.get(shard) as SafetensorsFile);
  return weightsFromHfTensors(config, new ShardedSource(byTensor, indexPath), indexPath);
}

export interface SaveHfOptions {
  /** storage dtype (values rounded to nearest even); default F32 */
  readonly dtype?: WritableDtype;
}

const TORCH_DTYPE = { F32: 'float32', F16: 'float16', BF16: 'bfloat16' } as const;

/** The two files of a HF Llama checkpoint for a model: config.json text and model.safetensors bytes. */
export function encodeHfLlama(w: ModelWeights, opts: SaveHfOptions = {}): { configJson: string; safetensors: Uint8Array } {
  const dtype = opts.dtype ?? 'F32';
  const configJson = JSON.stringify(configToHf(w.config, TORCH_DTYPE[dtype]), null, 2) + '\n';
  const safetensors = encodeSafetensors(hfTensorsFromWeights(w), { dtype, metadata: { format: 'pt' } });
  return { configJson, safetensors };
}

/** Writes `dir/config.json` and `dir/model.safetensors` (creating dir). */
export async function saveHfLlama(dir: string, w: ModelWeights, opts: SaveHfOptions = {}): Promise<void> {
  const { configJson, safetensors } = encodeHfLlama(w, opts);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'config.json'), configJson);
  await writeFile(join(dir, 'model.safetensors'), safetensors);
}
