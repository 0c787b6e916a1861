/**
 * Hugging Face checkpoints: a directory with `config.json` and either `model.safetensors` or
 * a sharded `model.safetensors.index.json` (+ shards), for the model types hf-config.ts reads.
 *
 * Tensor names per layout (N = layer):
 *   llama, mistral, qwen2, qwen3: model.embed_tokens.weight, model.layers.N.{input_layernorm,
 *     post_attention_layernorm}.weight, model.layers.N.self_attn.{q,k,v,o}_proj.{weight,bias},
 *     model.layers.N.self_attn.{q_norm,k_norm}.weight (qwen3), model.layers.N.mlp.{gate,up,
 *     down}_proj.{weight,bias}, model.norm.weight, lm_head.weight;
 *   phi3: as llama but self_attn.qkv_proj.weight (rows q | k | v) and mlp.gate_up_proj.weight
 *     (rows gate | up);
 *   gpt2: [transformer.]{wte,wpe}.weight, h.N.{ln_1,ln_2}.{weight,bias},
 *     h.N.attn.{c_attn,c_proj}.{weight,bias}, h.N.mlp.{c_fc,c_proj}.{weight,bias},
 *     ln_f.{weight,bias}, lm_head.weight; Conv1D weights are stored [in][out] (transposed here)
 *     and c_attn's columns are q | k | v.
 * Biases exist only where the config says (qkvBias, outBias, ffnBias). lm_head.weight is
 * absent or ignored when tie_word_embeddings (as in transformers). A tensor the configured
 * architecture does not use is refused (MODEL_ERR_CONFIG naming it): it means a feature the
 * config does not declare. Buffers that are not weights (rotary inv_freq, GPT-2's attn.bias /
 * attn.masked_bias causal masks) are skipped.
 *
 * HF stores q/k rows (and q/k biases, q/k norm gains) permuted for rotate-half RoPE; they are
 * converted to the project's adjacent-pair order on load and back on save (rope.ts), so a model
 * loaded from llama2.c and from its HF export computes the same function.
 */
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { joinArrays } from './binary.js';
import { type ModelConfig, kvDim, qDim } from './config.js';
import { ModelFormatError } from './errors.js';
import { type HfArch, configToHf, hfArchFor, readHfConfig } from './hf-config.js';
import { adjacentRowsToHf, hfRowsToAdjacent } from './rope.js';
import { SafetensorsFile, type TensorToWrite, type WritableDtype, encodeSafetensors } from './safetensors.js';
import { type LayerTensorName, type LayerWeights, type ModelWeights, validateWeights } from './weights.js';

/** Something that can return a named tensor (one safetensors file, or a set of shards). */
export interface TensorSource {
  get(name: string, expectedShape?: readonly number[]): Float32Array;
  has(name: string): boolean;
  /** every tensor name the source holds */
  names(): Iterable<string>;
}

/** Tensors that are buffers, not weights: skipped on load. */
const BUFFERS = [/\.rotary_emb\.inv_freq$/, /(^|\.)attn\.(bias|masked_bias)$/];

/** [rows][cols] -> [cols][rows] */
function transpose(a: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(a.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = a[r * cols + c];
  return out;
}

/** Rows [from, to) of a [rows][cols] matrix (or entries of a vector with cols = 1), copied. */
function rows(a: Float32Array, cols: number, from: number, to: number): Float32Array {
  return a.slice(from * cols, to * cols);
}

function concat(parts: readonly Float32Array[]): Float32Array {
  return joinArrays(parts, (n) => new Float32Array(n));
}

/** Builds ModelWeights from HF-named tensors under a config and layout (q/k converted to adjacent pairs). */
export function weightsFromHfTensors(config: ModelConfig, src: TensorSource, file = '<safetensors>', arch: HfArch = 'llama'): ModelWeights {
  const c = config;
  const d = c.dim;
  const hd = c.headDim;
  const qd = qDim(c);
  const kd = kvDim(c);
  const hid = c.hiddenDim;
  const used = new Set<string>();
  const take = (name: string, shape: readonly number[]): Float32Array => {
    used.add(name);
    return src.get(name, shape);
  };
  const toAdj = (a: Float32Array, heads: number, cols: number): Float32Array => hfRowsToAdjacent(a, heads, hd, cols);
  const layers: LayerWeights[] = [];
  let w: ModelWeights;
  if (arch === 'gpt2') {
    const p = src.has('transformer.wte.weight') ? 'transformer.' : '';
    const tokenEmbedding = take(`${p}wte.weight`, [c.vocabSize, d]);
    const positionEmbedding = take(`${p}wpe.weight`, [c.maxSeqLen, d]);
    for (let l = 0; l < c.nLayers; l++) {
      const L = `${p}h.${l}.`;
      const qkvT = transpose(take(`${L}attn.c_attn.weight`, [d, qd + 2 * kd]), d, qd + 2 * kd);
      const bqkv = take(`${L}attn.c_attn.bias`, [qd + 2 * kd]);
      layers.push({
        attnNorm: take(`${L}ln_1.weight`, [d]),
        attnNormBias: take(`${L}ln_1.bias`, [d]),
        wq: rows(qkvT, d, 0, qd),
        wk: rows(qkvT, d, qd, qd + kd),
        wv: rows(qkvT, d, qd + kd, qd + 2 * kd),
        bq: rows(bqkv, 1, 0, qd),
        bk: rows(bqkv, 1, qd, qd + kd),
        bv: rows(bqkv, 1, qd + kd, qd + 2 * kd),
        wo: transpose(take(`${L}attn.c_proj.weight`, [qd, d]), qd, d),
        bo: take(`${L}attn.c_proj.bias`, [d]),
        ffnNorm: take(`${L}ln_2.weight`, [d]),
        ffnNormBias: take(`${L}ln_2.bias`, [d]),
        w1: transpose(take(`${L}mlp.c_fc.weight`, [d, hid]), d, hid),
        b1: take(`${L}mlp.c_fc.bias`, [hid]),
        w2: transpose(take(`${L}mlp.c_proj.weight`, [hid, d]), hid, d),
        b2: take(`${L}mlp.c_proj.bias`, [d]),
      });
    }
    const finalNorm = take(`${p}ln_f.weight`, [d]);
    const finalNormBias = take(`${p}ln_f.bias`, [d]);
    const output = c.tiedEmbeddings ? tokenEmbedding : take('lm_head.weight', [c.vocabSize, d]);
    w = { config: c, tokenEmbedding, positionEmbedding, layers, finalNorm, finalNormBias, output };
  } else {
    const tokenEmbedding = take('model.embed_tokens.weight', [c.vocabSize, d]);
    for (let l = 0; l < c.nLayers; l++) {
      const L = `model.layers.${l}.`;
      const o: Partial<Record<LayerTensorName, Float32Array>> = {
        attnNorm: take(`${L}input_layernorm.weight`, [d]),
        ffnNorm: take(`${L}post_attention_layernorm.weight`, [d]),
        wo: take(`${L}self_attn.o_proj.weight`, [d, qd]),
        w2: take(`${L}mlp.down_proj.weight`, [d, hid]),
      };
      if (arch === 'phi3') {
        const qkv = take(`${L}self_attn.qkv_proj.weight`, [qd + 2 * kd, d]);
        o.wq = rows(qkv, d, 0, qd);
        o.wk = rows(qkv, d, qd, qd + kd);
        o.wv = rows(qkv, d, qd + kd, qd + 2 * kd);
        const gu = take(`${L}mlp.gate_up_proj.weight`, [2 * hid, d]);
        o.w1 = rows(gu, d, 0, hid);
        o.w3 = rows(gu, d, hid, 2 * hid);
      } else {
        o.wq = take(`${L}self_attn.q_proj.weight`, [qd, d]);
        o.wk = take(`${L}self_attn.k_proj.weight`, [kd, d]);
        o.wv = take(`${L}self_attn.v_proj.weight`, [kd, d]);
        o.w1 = take(`${L}mlp.gate_proj.weight`, [hid, d]);
        o.w3 = take(`${L}mlp.up_proj.weight`, [hid, d]);
      }
      o.wq = toAdj(o.wq, c.nHeads, d);
      o.wk = toAdj(o.wk, c.nKvHeads, d);
      if (c.qkvBias) {
        o.bq = toAdj(take(`${L}self_attn.q_proj.bias`, [qd]), c.nHeads, 1);
        o.bk = toAdj(take(`${L}self_attn.k_proj.bias`, [kd]), c.nKvHeads, 1);
        o.bv = take(`${L}self_attn.v_proj.bias`, [kd]);
      }
      if (c.outBias) o.bo = take(`${L}self_attn.o_proj.bias`, [d]);
      if (c.qkNorm) {
        o.qNorm = toAdj(take(`${L}self_attn.q_norm.weight`, [hd]), 1, 1);
        o.kNorm = toAdj(take(`${L}self_attn.k_norm.weight`, [hd]), 1, 1);
      }
      if (c.ffnBias) {
        o.b1 = take(`${L}mlp.gate_proj.bias`, [hid]);
        o.b3 = take(`${L}mlp.up_proj.bias`, [hid]);
        o.b2 = take(`${L}mlp.down_proj.bias`, [d]);
      }
      layers.push(o as LayerWeights);
    }
    const finalNorm = take('model.norm.weight', [d]);
    const output = c.tiedEmbeddings ? tokenEmbedding : take('lm_head.weight', [c.vocabSize, d]);
    w = { config: c, tokenEmbedding, layers, finalNorm, output };
  }
  for (const n of src.names()) {
    if (used.has(n) || BUFFERS.some((re) => re.test(n)) || (c.tiedEmbeddings && n === 'lm_head.weight')) continue;
    throw new ModelFormatError('MODEL_ERR_CONFIG', `tensor is not part of the ${arch} architecture as configured (a feature config.json does not declare?)`, { file, tensor: n });
  }
  return validateWeights(w, file);
}

/** HF-named tensors of a model in its layout (hfArchFor: Llama or GPT-2), q/k rows converted to rotate-half, in a stable order. */
export function hfTensorsFromWeights(w: ModelWeights): Map<string, TensorToWrite> {
  const c = validateWeights(w).config;
  const arch = hfArchFor(c);
  const d = c.dim;
  const hd = c.headDim;
  const qd = qDim(c);
  const kd = kvDim(c);
  const hid = c.hiddenDim;
  const m = new Map<string, TensorToWrite>();
  const put = (name: string, data: Float32Array | undefined, shape: readonly number[]): void => {
    if (data === undefined) throw new Error(`internal: ${name} missing after validateWeights`);
    m.set(name, { data, shape });
  };
  if (arch === 'gpt2') {
    put('transformer.wte.weight', w.tokenEmbedding, [c.vocabSize, d]);
    put('transformer.wpe.weight', w.positionEmbedding, [c.maxSeqLen, d]);
    w.layers.forEach((l, i) => {
      const L = `transformer.h.${i}.`;
      put(`${L}ln_1.weight`, l.attnNorm, [d]);
      put(`${L}ln_1.bias`, l.attnNormBias, [d]);
      put(`${L}attn.c_attn.weight`, transpose(concat([l.wq, l.wk, l.wv]), qd + 2 * kd, d), [d, qd + 2 * kd]);
      put(`${L}attn.c_attn.bias`, concat([l.bq!, l.bk!, l.bv!]), [qd + 2 * kd]);
      put(`${L}attn.c_proj.weight`, transpose(l.wo, d, qd), [qd, d]);
      put(`${L}attn.c_proj.bias`, l.bo, [d]);
      put(`${L}ln_2.weight`, l.ffnNorm, [d]);
      put(`${L}ln_2.bias`, l.ffnNormBias, [d]);
      put(`${L}mlp.c_fc.weight`, transpose(l.w1, hid, d), [d, hid]);
      put(`${L}mlp.c_fc.bias`, l.b1, [hid]);
      put(`${L}mlp.c_proj.weight`, transpose(l.w2, d, hid), [hid, d]);
      put(`${L}mlp.c_proj.bias`, l.b2, [d]);
    });
    put('transformer.ln_f.weight', w.finalNorm, [d]);
    put('transformer.ln_f.bias', w.finalNormBias, [d]);
  } else {
    put('model.embed_tokens.weight', w.tokenEmbedding, [c.vocabSize, d]);
    w.layers.forEach((l, i) => {
      const L = `model.layers.${i}.`;
      put(`${L}input_layernorm.weight`, l.attnNorm, [d]);
      put(`${L}self_attn.q_proj.weight`, adjacentRowsToHf(l.wq, c.nHeads, hd, d), [qd, d]);
      put(`${L}self_attn.k_proj.weight`, adjacentRowsToHf(l.wk, c.nKvHeads, hd, d), [kd, d]);
      put(`${L}self_attn.v_proj.weight`, l.wv, [kd, d]);
      put(`${L}self_attn.o_proj.weight`, l.wo, [d, qd]);
      if (c.qkvBias) {
        put(`${L}self_attn.q_proj.bias`, adjacentRowsToHf(l.bq!, c.nHeads, hd, 1), [qd]);
        put(`${L}self_attn.k_proj.bias`, adjacentRowsToHf(l.bk!, c.nKvHeads, hd, 1), [kd]);
        put(`${L}self_attn.v_proj.bias`, l.bv, [kd]);
        put(`${L}self_attn.o_proj.bias`, l.bo, [d]);
      }
      put(`${L}post_attention_layernorm.weight`, l.ffnNorm, [d]);
      put(`${L}mlp.gate_proj.weight`, l.w1, [hid, d]);
      put(`${L}mlp.down_proj.weight`, l.w2, [d, hid]);
      put(`${L}mlp.up_proj.weight`, l.w3, [hid, d]);
      if (c.ffnBias) {
        put(`${L}mlp.gate_proj.bias`, l.b1, [hid]);
        put(`${L}mlp.down_proj.bias`, l.b2, [d]);
        put(`${L}mlp.up_proj.bias`, l.b3, [hid]);
      }
    });
    put('model.norm.weight', w.finalNorm, [d]);
  }
  if (!c.tiedEmbeddings) put('lm_head.weight', w.output, [c.vocabSize, d]);
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
  names(): Iterable<string> {
    return this.weightMap.keys();
  }
  get(name: string, expectedShape?: readonly number[]): Float32Array {
    const f = this.weightMap.get(name);
    if (f === undefined) throw new ModelFormatError('MODEL_ERR_MISSING_TENSOR', 'tensor is not in the weight_map', { file: this.indexFile, tensor: name });
    return f.get(name, expectedShape);
  }
}

/** Loads a HF checkpoint directory (config.json + model.safetensors or a sharded index) of a supported model type. */
export async function loadHfCheckpoint(dir: string): Promise<ModelWeights> {
  const cfgPath = join(dir, 'config.json');
  const { config, arch } = readHfConfig(parseJson(await readBytes(cfgPath), cfgPath, 'MODEL_ERR_CONFIG'), cfgPath);
  const single = join(dir, 'model.safetensors');
  const indexPath = join(dir, 'model.safetensors.index.json');
  if (await exists(single)) {
    return weightsFromHfTensors(config, new SafetensorsFile(await readBytes(single), single), single, arch);
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
  return weightsFromHfTensors(config, new ShardedSource(byTensor, indexPath), indexPath, arch);
}

export interface SaveHfOptions {
  /** storage dtype (values rounded to nearest even); default F32 */
  readonly dtype?: WritableDtype;
}

const TORCH_DTYPE = { F32: 'float32', F16: 'float16', BF16: 'bfloat16' } as const;

/** The two files of a HF checkpoint for a model (Llama or GPT-2 layout, hfArchFor): config.json text and model.safetensors bytes. */
export function encodeHfCheckpoint(w: ModelWeights, opts: SaveHfOptions = {}): { configJson: string; safetensors: Uint8Array } {
  const dtype = opts.dtype ?? 'F32';
  const configJson = JSON.stringify(configToHf(w.config, TORCH_DTYPE[dtype]), null, 2) + '\n';
  const safetensors = encodeSafetensors(hfTensorsFromWeights(w), { dtype, metadata: { format: 'pt' } });
  return { configJson, safetensors };
}

/** Writes `dir/config.json` and `dir/model.safetensors` (creating dir). */
export async function saveHfCheckpoint(dir: string, w: ModelWeights, opts: SaveHfOptions = {}): Promise<void> {
  const { configJson, safetensors } = encodeHfCheckpoint(w, opts);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'config.json'), configJson);
  await writeFile(join(dir, 'model.safetensors'), safetensors);
}

