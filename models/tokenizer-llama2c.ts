/**
 * The llama2.c tokenizer (tokenizer.bin / tok512.bin): reader, writer, encode, decode.
 *
 * File: int32 max_token_length, then per token: float32 score, int32 byte length, bytes.
 * The vocabulary size is not stored (it comes from the model) unless the file is read to
 * its end. Ids 0 = <unk>, 1 = BOS, 2 = EOS, 3..258 = byte tokens "<0xNN>" by convention.
 *
 * Encoding (as llama2.c's run.c): if the text is not empty, prepend the piece " " (dummy
 * prefix); map each UTF-8 character to its piece, or to byte tokens (id = byte + 3) when
 * absent; then repeatedly merge the adjacent pair whose concatenation is a piece with the
 * highest score (leftmost on ties) until no pair merges. Implemented with a heap and a
 * linked list (O(n log n)); the result equals run.c's quadratic loop.
 * Decoding: byte tokens give their byte; after BOS a leading space is stripped.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { ModelFormatError } from './errors.js';
import { type EncodeOptions, type Tokenizer, aTokenId, decodeWithPieces } from './tokenizer.js';
import { mergePairs } from './bpe-merge.js';

const BYTE_TOKEN = /^<0x([0-9A-Fa-f]{2})>$/;
const latin1 = (b: Uint8Array): string => {
  let s = '';
  for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]);
  return s;
};

export interface Llama2cTokenizerOptions {
  /** BOS id, default 1 */
  readonly bos?: number;
  /** EOS id, default 2 */
  readonly eos?: number;
  /** first byte-fallback id (byte b -> id b + offset), default 3 */
  readonly byteOffset?: number;
  /** the file's max_token_length field (at least the longest piece); default the longest piece */
  readonly maxTokenLength?: number;
}

export class Llama2cTokenizer implements Tokenizer {
  readonly vocabSize: number;
  readonly bos: number;
  readonly eos: number;
  readonly byteOffset: number;
  /** the file's max_token_length field (>= the longest piece in bytes) */
  readonly maxTokenLength: number;
  private readonly pieces: readonly Uint8Array[];
  private readonly scores: Float32Array;
  private readonly lookup = new Map<string, number>();
  private readonly keys: readonly string[];
  /** decodePiece output per token, with and without the after-BOS space strip */
  private readonly printed: readonly Uint8Array[];

  /**
   * @param pieces the vocabulary, as UTF-8 strings or raw bytes, in id order
   * @param scores merge priority of each piece (higher merges first)
   */
  constructor(pieces: readonly (string | Uint8Array)[], scores: ArrayLike<number>, opts: Llama2cTokenizerOptions = {}) {
    if (!Array.isArray(pieces) || pieces.length === 0) throw new TypeError('pieces must be a non-empty array');
    if (scores.length !== pieces.length) throw new RangeError(`scores has ${scores.length} entries, pieces ${pieces.length}`);
    const enc = new TextEncoder();
    this.pieces = pieces.map((p) => (typeof p === 'string' ? enc.encode(p) : Uint8Array.from(p)));
    this.scores = Float32Array.from(scores);
    this.vocabSize = pieces.length;
    this.bos = aTokenId(opts.bos ?? 1, this.vocabSize, 'bos');
    this.eos = aTokenId(opts.eos ?? 2, this.vocabSize, 'eos');
    this.byteOffset = opts.byteOffset ?? 3;
    this.keys = this.pieces.map(latin1);
    this.keys.forEach((k, i) => {
      if (!this.lookup.has(k)) this.lookup.set(k, i);
    });
    const longest = this.pieces.reduce((a, p) => Math.max(a, p.length), 0);
    this.maxTokenLength = opts.maxTokenLength ?? longest;
    if (!Number.isSafeInteger(this.maxTokenLength) || this.maxTokenLength < longest) {
      throw new RangeError(`maxTokenLength ${this.maxTokenLength} is smaller than the longest piece (${longest})`);
    }
    this.printed = this.pieces.map((p, i) => {
      if (i === this.bos || i === this.eos) return new Uint8Array(0);
      const m = BYTE_TOKEN.exec(this.keys[i]);
      return m ? Uint8Array.of(parseInt(m[1], 16)) : p;
    });
  }

  /** Parses the llama2.c tokenizer format; reads to the end of the file unless `vocabSize` is given. */
  static parse(bytes: Uint8Array, vocabSize?: number, file = '<bytes>', opts: Llama2cTokenizerOptions = {}): Llama2cTokenizer {
    if (!(bytes instanceof Uint8Array)) throw new TypeError('bytes must be a Uint8Array');
    if (vocabSize !== undefined && (!Number.isSafeInteger(vocabSize) || vocabSize <= 0)) throw new RangeError(`vocabSize must be a positive integer, got ${vocabSize}`);
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (bytes.length < 4) throw new ModelFormatError('MODEL_ERR_TRUNCATED', 'tokenizer file is shorter than its 4-byte header', { file });
    const maxLen = dv.getInt32(0, true);
    if (maxLen <= 0 || maxLen > 65536) throw new ModelFormatError('MODEL_ERR_MALFORMED', `max_token_length ${maxLen} is out of range`, { file });
    const pieces: Uint8Array[] = [];
    const scores: number[] = [];
    let off = 4;
    while (vocabSize === undefined ? off < bytes.length : pieces.length < vocabSize) {
      const id = pieces.length;
      if (off + 8 > bytes.length) throw new ModelFormatError('MODEL_ERR_TRUNCATED', `file ends inside the entry of token ${id}`, { file });
      const score = dv.getFloat32(off, true);
      const len = dv.getInt32(off + 4, true);
      off += 8;
      if (len < 0 || len > maxLen) throw new ModelFormatError('MODEL_ERR_MALFORMED', `token ${id} has length ${len}, outside [0, max_token_length=${maxLen}]`, { file });
      if (off + len > bytes.length) throw new ModelFormatError('MODEL_ERR_TRUNCATED', `file ends inside the bytes of token ${id}`, { file });
      if (!Number.isFinite(score)) throw new ModelFormatError('MODEL_ERR_MALFORMED', `token ${id} has a non-finite score`, { file });
      pieces.push(bytes.slice(off, off + len));
      scores.push(score);
      off += len;
    }
    if (off !== bytes.length) throw new ModelFormatError('MODEL_ERR_MALFORMED', `${bytes.length - off} trailing bytes after ${vocabSize} tokens`, { file });
    if (pieces.length < 3) throw new ModelFormatError('MODEL_ERR_TOKENIZER', `vocabulary has ${pieces.length} tokens; it needs at least <unk>, BOS and EOS`, { file });
    try {
      return new Llama2cTokenizer(pieces, scores, { maxTokenLength: maxLen, ...opts });
    } catch (e) {
      if (e instanceof RangeError) throw new ModelFormatError('MODEL_ERR_TOKENIZER', e.message, { file, cause: e });
      throw e;
    }
  }

  /** Reads a llama2.c tokenizer file. */
  static async load(path: string, vocabSize?: number, opts: Llama2cTokenizerOptions = {}): Promise<Llama2cTokenizer> {
    let bytes: Uint8Array;
    try {
      bytes = await readFile(path);
    } catch (e) {
      throw new ModelFormatError('MODEL_ERR_IO', `cannot read: ${(e as Error).message}`, { file: path, cause: e });
    }
    return Llama2cTokenizer.parse(bytes, vocabSize, path, opts);
  }

  /** The file bytes of this tokenizer (the writer). */
  toBytes(): Uint8Array {
    return encodeLlama2cTokenizer(this.pieces, this.scores, this.maxTokenLength);
  }

  /** Writes this tokenizer as a llama2.c tokenizer file. */
  async save(path: string): Promise<void> {
    await writeFile(path, this.toBytes());
  }

  piece(id: number): string {
    aTokenId(id, this.vocabSize, 'id');
    return new TextDecoder('utf-8').decode(this.pieces[id]);
  }

  /** raw bytes of a piece */
  pieceBytes(id: number): Uint8Array {
    aTokenId(id, this.vocabSize, 'id');
    return this.pieces[id].slice();
  }

  score(id: number): number {
    aTokenId(id, this.vocabSize, 'id');
    return this.scores[id];
  }

  /** id of a piece given as a string (exact match), or -1 */
  pieceId(piece: string): number {
    return this.lookup.get(latin1(new TextEncoder().encode(piece))) ?? -1;
  }

  private byteToken(b: number): number {
    const id = b + this.byteOffset;
    if (id >= this.vocabSize) {
      throw new ModelFormatError('MODEL_ERR_TOKENIZER', `byte 0x${b.toString(16)} has no piece and the byte-fallback id ${id} is outside the vocabulary`);
    }
    return id;
  }

  encode(text: string, opts: EncodeOptions = {}): number[] {
    if (typeof text !== 'string') throw new TypeError('text must be a string');
    const out: number[] = [];
    if (opts.bos) out.push(this.bos);
    if (text.length > 0) {
      const bytes = new TextEncoder().encode(text);
      const toks: number[] = [];
      const space = this.lookup.get(' ');
      toks.push(space ?? this.byteToken(0x20));
      // group UTF-8 bytes into characters (at most 4 bytes), as run.c does
      let start = 0;
      for (let i = 0; i < bytes.length; i++) {
        const nextIsCont = i + 1 < bytes.length && (bytes[i + 1] & 0xc0) === 0x80;
        if (nextIsCont && i + 1 - start < 4) continue;
        const ch = bytes.subarray(start, i + 1);
        const id = this.lookup.get(latin1(ch));
        if (id !== undefined) toks.push(id);
        else for (const b of ch) toks.push(this.byteToken(b));
        start = i + 1;
      }
      for (const t of this.mergeAll(toks)) out.push(t);
    }
    if (opts.eos) out.push(this.eos);
    return out;
  }

  /** Score-ordered BPE merges over a token list (heap + linked list). */
  private mergeAll(toks: number[]): number[] {
    const tok = Int32Array.from(toks);
    const kept = mergePairs(
      tok.length,
      (a, b) => {
        const id = this.lookup.get(this.keys[tok[a]] + this.keys[tok[b]]);
        return id === undefined ? undefined : { priority: -this.scores[id], value: id }; // highest score first
      },
      (a, _b, id) => {
        tok[a] = id;
      },
    );
    const out = kept.map((i) => tok[i]);
    return out;
  }

  decodePiece(prev: number, token: number): Uint8Array {
    aTokenId(token, this.vocabSize);
    const p = this.printed[token];
    if (prev === this.bos && p.length > 0 && p[0] === 0x20 && !BYTE_TOKEN.test(this.keys[token])) return p.slice(1);
    return p.slice();
  }

  decode(tokens: ArrayLike<number>): string {
    return decodeWithPieces(this, tokens);
  }
}

/**
 * The llama2.c tokenizer file for a vocabulary (the writer). max_token_length is the
 * longest piece unless a larger one is given.
 */
export function encodeLlama2cTokenizer(pieces: readonly (string | Uint8Array)[], scores: ArrayLike<number>, maxTokenLength?: number): Uint8Array {
  if (scores.length !== pieces.length) throw new RangeError(`scores has ${scores.length} entries, pieces ${pieces.length}`);
  const enc = new TextEncoder();
  const bs = pieces.map((p) => (typeof p === 'string' ? enc.encode(p) : p));
  const longest = bs.reduce((a, p) => Math.max(a, p.length), 0);
  const maxLen = maxTokenLength ?? longest;
  if (maxLen < longest || maxLen <= 0) throw new RangeError(`maxTokenLength ${maxLen} is smaller than the longest piece (${longest}) or not positive`);
  const out = new Uint8Array(4 + bs.reduce((a, p) => a + 8 + p.length, 0));
  const dv = new DataView(out.buffer);
  dv.setInt32(0, maxLen, true);
  let off = 4;
  bs.forEach((p, i) => {
    dv.setFloat32(off, scores[i], true);
    dv.setInt32(off + 4, p.length, true);
    out.set(p, off + 8);
    off += 8 + p.length;
  });
  return out;
}
