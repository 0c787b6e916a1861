/**
 * The safetensors container (https://github.com/huggingface/safetensors): reader and writer,
 * written in the project. Layout: u64 little-endian header length N, N bytes of UTF-8 JSON
 * { "__metadata__"?: {string: string}, name: { dtype, shape, data_offsets: [begin, end] } },
 * then the byte buffer the offsets index (relative to its start). Tensors are row-major.
 *
 * Reading validates the whole header up front (bounds, sizes, overlaps); tensor data is
 * decoded on request to Float32Array from F32, F16, BF16 or F64.
 */
import { f32Bytes, floatToBf16, floatToHalf, readBf16, readF16, readF32, readF64AsF32, u16Bytes } from './binary.js';
import { ModelFormatError } from './errors.js';

/** dtypes the reader converts to float32 */
export const READABLE_DTYPES = ['F32', 'F16', 'BF16', 'F64'] as const;
/** dtypes the writer produces */
export type WritableDtype = 'F32' | 'F16' | 'BF16';

const DTYPE_BYTES: Record<string, number> = {
  BOOL: 1, U8: 1, I8: 1, F8_E4M3: 1, F8_E5M2: 1,
  I16: 2, U16: 2, F16: 2, BF16: 2,
  I32: 4, U32: 4, F32: 4,
  I64: 8, U64: 8, F64: 8,
};

/** Refuse headers larger than this (the safetensors reference limit is 100 MB). */
const MAX_HEADER_BYTES = 100_000_000;

export interface TensorInfo {
  readonly name: string;
  readonly dtype: string;
  readonly shape: readonly number[];
  /** byte range in the data buffer (relative to its start) */
  readonly begin: number;
  readonly end: number;
}

export class SafetensorsFile {
  /** the `__metadata__` map (empty when absent) */
  readonly metadata: Readonly<Record<string, string>>;
  readonly tensors: ReadonlyMap<string, TensorInfo>;
  readonly file: string;
  private readonly bytes: Uint8Array;
  private readonly dataStart: number;

  /** Parses and validates the header; throws ModelFormatError naming `file`. */
  constructor(bytes: Uint8Array, file = '<bytes>') {
    if (!(bytes instanceof Uint8Array)) throw new TypeError('bytes must be a Uint8Array');
    this.file = file;
    this.bytes = bytes;
    const fail = (code: 'MODEL_ERR_TRUNCATED' | 'MODEL_ERR_MALFORMED', msg: string, tensor?: string): never => {
      throw new ModelFormatError(code, msg, tensor === undefined ? { file } : { file, tensor });
    };
    if (bytes.length < 8) fail('MODEL_ERR_TRUNCATED', `file has ${bytes.length} bytes, shorter than the 8-byte header length`);
    const n64 = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
    if (n64 > BigInt(MAX_HEADER_BYTES)) fail('MODEL_ERR_MALFORMED', `header length ${n64} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
    const n = Number(n64);
    if (8 + n > bytes.length) fail('MODEL_ERR_TRUNCATED', `header length ${n} runs past the end of the ${bytes.length}-byte file`);
    let json: unknown;
    try {
      json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n)));
    } catch (e) {
      throw new ModelFormatError('MODEL_ERR_MALFORMED', `header is not valid UTF-8 JSON: ${(e as Error).message}`, { file, cause: e });
    }
    if (typeof json !== 'object' || json === null || Array.isArray(json)) fail('MODEL_ERR_MALFORMED', 'header JSON is not an object');
    this.dataStart = 8 + n;
    const dataLen = bytes.length - this.dataStart;
    const tensors = new Map<string, TensorInfo>();
    let metadata: Record<string, string> = {};
    for (const [name, v] of Object.entries(json as Record<string, unknown>)) {
      if (name === '__metadata__') {
        if (typeof v !== 'object' || v === null || Array.isArray(v) || !Object.values(v).every((x) => typeof x === 'string')) {
          fail('MODEL_ERR_MALFORMED', '__metadata__ must map strings to strings');
        }
        metadata = v as Record<string, string>;
        continue;
      }
      if (typeof v !== 'object' || v === null || Array.isArray(v)) fail('MODEL_ERR_MALFORMED', 'tensor entry is not an object', name);
      const e = v as Record<string, unknown>;
      const { dtype, shape, data_offsets: offs } = e;
      if (typeof dtype !== 'string') fail('MODEL_ERR_MALFORMED', 'dtype is not a string', name);
      if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) fail('MODEL_ERR_MALFORMED', 'shape is not a list of non-negative integers', name);
      if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((d) => Number.isSafeInteger(d) && d >= 0) || offs[0] > offs[1]) {
        fail('MODEL_ERR_MALFORMED', 'data_offsets is not [begin, end] with 0 <= begin <= end', name);
      }
      const [begin, end] = offs as number[];
      if (end > dataLen) fail('MODEL_ERR_TRUNCATED', `data_offsets end ${end} runs past the ${dataLen}-byte data buffer`, name);
      const size = DTYPE_BYTES[dtype as string];
      const count = (shape as number[]).reduce((a, b) => a * b, 1);
      if (size !== undefined && end - begin !== count * size) {
        fail('MODEL_ERR_MALFORMED', `data_offsets span ${end - begin} bytes, shape [${(shape as number[]).join(', ')}] of ${dtype} needs ${count * size}`, name);
      }
      tensors.set(name, { name, dtype: dtype as string, shape: shape as number[], begin, end });
    }
    const sorted = [...tensors.values()].filter((t) => t.end > t.begin).sort((a, b) => a.begin - b.begin);
    for (let i = 1; i < sorted.length; i++) {
      if (sorted[i].begin < sorted[i - 1].end) fail('MODEL_ERR_MALFORMED', `data overlaps tensor '${sorted[i - 1].name}'`, sorted[i].name);
    }
    this.tensors = tensors;
    this.metadata = metadata;
  }

  has(name: string): boolean {
    return this.tensors.has(name);
  }

  /** every tensor name in the header */
  names(): Iterable<string> {
    return this.tensors.keys();
  }

  /**
   * A tensor's values as float32 (row-major). Throws MODEL_ERR_MISSING_TENSOR when absent,
   * MODEL_ERR_SHAPE when `expectedShape` is given and differs, MODEL_ERR_DTYPE for
   * dtypes other than F32/F16/BF16/F64.
   */
  get(name: string, expectedShape?: readonly number[]): Float32Array {
    const t = this.tensors.get(name);
    if (t === undefined) throw new ModelFormatError('MODEL_ERR_MISSING_TENSOR', 'tensor is missing', { file: this.file, tensor: name });
    if (expectedShape !== undefined && (t.shape.length !== expectedShape.length || t.shape.some((d, i) => d !== expectedShape[i]))) {
      throw new ModelFormatError('MODEL_ERR_SHAPE', `shape [${t.shape.join(', ')}], expected [${expectedShape.join(', ')}]`, { file: this.file, tensor: name });
    }
    const count = t.shape.reduce((a, b) => a * b, 1);
    const off = this.dataStart + t.begin;
    switch (t.dtype) {
      case 'F32':
        return readF32(this.bytes, off, count);
      case 'F16':
        return readF16(this.bytes, off, count);
      case 'BF16':
        return readBf16(this.bytes, off, count);
      case 'F64':
        return readF64AsF32(this.bytes, off, count);
      default:
        throw new ModelFormatError('MODEL_ERR_DTYPE', `dtype ${t.dtype} is not supported (${READABLE_DTYPES.join(', ')})`, { file: this.file, tensor: name });
    }
  }
}

/** Parses a safetensors file held in memory (alias of `new SafetensorsFile`). */
export function parseSafetensors(bytes: Uint8Array, file = '<bytes>'): SafetensorsFile {
  return new SafetensorsFile(bytes, file);
}

export interface TensorToWrite {
  readonly data: Float32Array;
  readonly shape: readonly number[];
}

export interface EncodeSafetensorsOptions {
  /** storage dtype for every tensor (values are rounded to nearest even); default F32 */
  readonly dtype?: WritableDtype;
  /** string-to-string `__metadata__` */
  readonly metadata?: Readonly<Record<string, string>>;
}

/** Serializes named float tensors (in insertion order) as a safetensors file. */
export function encodeSafetensors(tensors: ReadonlyMap<string, TensorToWrite> | Readonly<Record<string, TensorToWrite>>, opts: EncodeSafetensorsOptions = {}): Uint8Array {
  const dtype = opts.dtype ?? 'F32';
  if (dtype !== 'F32' && dtype !== 'F16' && dtype !== 'BF16') throw new RangeError(`dtype must be F32, F16 or BF16, got ${String(dtype)}`);
  const entries = tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors);
  const header: Record<string, unknown> = {};
  if (opts.metadata !== undefined) header['__metadata__'] = { ...opts.metadata };
  const blobs: Uint8Array[] = [];
  let off = 0;
  for (const [name, t] of entries) {
    if (name === '__metadata__') throw new RangeError('a tensor cannot be named __metadata__');
    if (!(t.data instanceof Float32Array)) throw new TypeError(`tensor '${name}': data must be a Float32Array`);
    const count = t.shape.reduce((a: number, b: number) => a * b, 1);
    if (count !== t.data.length) throw new RangeError(`tensor '${name}': shape [${t.shape.join(', ')}] needs ${count} values, got ${t.data.length}`);
    const blob = dtype === 'F32' ? f32Bytes(t.data) : u16Bytes(t.data, dtype === 'F16' ? floatToHalf : floatToBf16);
    header[name] = { dtype, shape: [...t.shape], data_offsets: [off, off + blob.length] };
    blobs.push(blob);
    off += blob.length;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded !== json.length) {
    const p = new Uint8Array(padded).fill(0x20);
    p.set(json);
    json = p;
  }
  const out = new Uint8Array(8 + json.length + off);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let pos = 8 + json.length;
  for (const b of blobs) {
    out.set(b, pos);
    pos += b.length;
  }
  return out;
}
