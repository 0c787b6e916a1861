/**
 * llama2.c "legacy" (version 0) checkpoints: reader and writer.
 *
 * Layout: seven little-endian int32 (dim, hidden_dim, n_layers, n_heads, n_kv_heads,
 * vocab_size, seq_len; vocab_size > 0 means the classifier shares the token embedding),
 * then float32 arrays: token_embedding[vocab][dim], rms_att[L][dim], wq[L][dim][dim],
 * wk[L][kv_dim][dim], wv[L][kv_dim][dim], wo[L][dim][dim], rms_ffn[L][dim],
 * w1[L][hidden][dim], w2[L][dim][hidden], w3[L][hidden][dim], rms_final[dim], legacy RoPE
 * tables (seq_len * head_size floats, skipped), then wcls[vocab][dim] if vocab_size < 0.
 * The header carries no eps or theta: llama2.c uses 1e-5 and 10000 (overridable here).
 * The q/k rows are already in the adjacent-pair RoPE order the project uses.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { f32Bytes, joinArrays, readF32 } from './binary.js';
import { LLAMA_BLOCK, sameConfig, validateConfig } from './config.js';
import { ModelFormatError } from './errors.js';
import { LLAMA_LAYER_TENSORS, type LayerTensorName, type LayerWeights, type ModelWeights, layerShapes, numel, validateWeights } from './weights.js';

const HEADER_BYTES = 28;
/** "ak42" as a little-endian uint32: the magic of llama2.c version >= 1 files */
const LLAMA2C_MAGIC = 0x616b3432;

/** The legacy file order of per-layer tensors. */
const FILE_ORDER: readonly LayerTensorName[] = LLAMA_LAYER_TENSORS;

export interface Llama2cOptions {
  /** RMSNorm epsilon (not stored in the file); default 1e-5 as in llama2.c */
  readonly normEps?: number;
  /** RoPE base (not stored in the file); default 10000 as in llama2.c */
  readonly ropeTheta?: number;
}

/** Parses a llama2.c legacy checkpoint held in memory. `file` names it in errors. */
export function parseLlama2c(bytes: Uint8Array, file = '<bytes>', opts: Llama2cOptions = {}): ModelWeights {
  if (!(bytes instanceof Uint8Array)) throw new TypeError('bytes must be a Uint8Array');
  if (bytes.length < HEADER_BYTES) {
    throw new ModelFormatError('MODEL_ERR_TRUNCATED', `file has ${bytes.length} bytes, shorter than the ${HEADER_BYTES}-byte header`, { file });
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, HEADER_BYTES);
  const h = Array.from({ length: 7 }, (_, i) => dv.getInt32(4 * i, true));
  if (dv.getUint32(0, true) === LLAMA2C_MAGIC) {
    throw new ModelFormatError('MODEL_ERR_CONFIG', `llama2.c version-${h[1]} checkpoint (magic "ak42"); only the legacy (version 0) format is supported: export with --version 0`, { file });
  }
  const [dim, hiddenDim, nLayers, nHeads, nKvHeads, vocabRaw, seqLen] = h;
  const shared = vocabRaw > 0;
  const vocabSize = Math.abs(vocabRaw);
  if (dim <= 0 || nHeads <= 0 || dim % nHeads !== 0) {
    throw new ModelFormatError('MODEL_ERR_CONFIG', `bad header: dim=${dim} must be a positive multiple of n_heads=${nHeads}`, { file });
  }
  const config = validateConfig(
    {
      ...LLAMA_BLOCK,
      dim,
      hiddenDim,
      nLayers,
      nHeads,
      nKvHeads,
      vocabSize,
      maxSeqLen: seqLen,
      normEps: opts.normEps ?? 1e-5,
      ropeTheta: opts.ropeTheta ?? 10000,
      tiedEmbeddings: shared,
      headDim: dim / nHeads,
    },
    file,
  );
  const shapes = layerShapes(config);
  const ropeFloats = seqLen * config.headDim;
  const floats =
    vocabSize * dim +
    nLayers * FILE_ORDER.reduce((a, n) => a + numel(shapes[n] as readonly number[]), 0) +
    dim +
    ropeFloats +
    (shared ? 0 : vocabSize * dim);
  const expected = HEADER_BYTES + 4 * floats;
  if (bytes.length < expected) {
    throw new ModelFormatError('MODEL_ERR_TRUNCATED', `file has ${bytes.length} bytes, the header implies ${expected}`, { file });
  }
  if (bytes.length > expected) {
    throw new ModelFormatError('MODEL_ERR_MALFORMED', `file has ${bytes.length - expected} trailing bytes after the ${expected} the header implies`, { file });
  }
  let off = HEADER_BYTES;
  const take = (n: number): Float32Array => {
    const a = readF32(bytes, off, n);
    off += 4 * n;
    return a;
  };
  const tokenEmbedding = take(vocabSize * dim);
  const per = {} as Record<LayerTensorName, Float32Array[]>;
  for (const n of FILE_ORDER) {
    per[n] = [];
    for (let l = 0; l < nLayers; l++) per[n].push(take(numel(shapes[n] as readonly number[])));
  }
  const finalNorm = take(dim);
  off += 4 * ropeFloats;
  const output = shared ? tokenEmbedding : take(vocabSize * dim);
  const layers: LayerWeights[] = [];
  for (let l = 0; l < nLayers; l++) {
    const o = {} as Record<LayerTensorName, Float32Array>;
    for (const n of FILE_ORDER) o[n] = per[n][l];
    layers.push(o as LayerWeights);
  }
  return validateWeights({ config, tokenEmbedding, layers, finalNorm, output }, file);
}

/** Reads a llama2.c legacy checkpoint file. */
export async function loadLlama2c(path: string, opts: Llama2cOptions = {}): Promise<ModelWeights> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new ModelFormatError('MODEL_ERR_IO', `cannot read: ${(e as Error).message}`, { file: path, cause: e });
  }
  return parseLlama2c(bytes, path, opts);
}

/**
 * Serializes weights as a llama2.c legacy checkpoint (with the legacy RoPE tables, so the
 * file runs in llama2.c's run.c). Requires headDim === dim / nHeads. The format stores no
 * eps/theta: a model with normEps != 1e-5 or ropeTheta != 10000 needs them passed on load.
 */
export function encodeLlama2c(w: ModelWeights): Uint8Array {
  const c = validateWeights(w).config;
  if (!sameConfig({ ...c, ...LLAMA_BLOCK }, c)) throw new RangeError('llama2.c format holds the Llama block only (RMSNorm, RoPE without scaling, SwiGLU, no biases)');
  if (c.headDim * c.nHeads !== c.dim) throw new RangeError(`llama2.c format needs headDim * nHeads === dim (got ${c.headDim} * ${c.nHeads} vs ${c.dim})`);
  const parts: Uint8Array[] = [];
  const header = new Uint8Array(HEADER_BYTES);
  const hv = new DataView(header.buffer);
  [c.dim, c.hiddenDim, c.nLayers, c.nHeads, c.nKvHeads, c.tiedEmbeddings ? c.vocabSize : -c.vocabSize, c.maxSeqLen].forEach((v, i) => hv.setInt32(4 * i, v, true));
  parts.push(header);
  parts.push(f32Bytes(w.tokenEmbedding));
  for (const n of FILE_ORDER) for (const l of w.layers) parts.push(f32Bytes(l[n] as Float32Array));
  parts.push(f32Bytes(w.finalNorm));
  const half = c.headDim / 2;
  const cosT = new Float32Array(c.maxSeqLen * half);
  const sinT = new Float32Array(c.maxSeqLen * half);
  for (let p = 0; p < c.maxSeqLen; p++) {
    for (let i = 0; i < half; i++) {
      const v = p / Math.pow(c.ropeTheta, (2 * i) / c.headDim);
      cosT[p * half + i] = Math.cos(v);
      sinT[p * half + i] = Math.sin(v);
    }
  }
  parts.push(f32Bytes(cosT), f32Bytes(sinT));
  if (!c.tiedEmbeddings) parts.push(f32Bytes(w.output));
  return joinArrays(parts, (n) => new Uint8Array(n));
}

/** Writes weights as a llama2.c legacy checkpoint file. */
export async function saveLlama2c(path: string, w: ModelWeights): Promise<void> {
  await writeFile(path, encodeLlama2c(w));
}
