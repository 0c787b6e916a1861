/**
 * The tokenizer interface shared by the llama2.c tokenizer (tokenizer-llama2c.ts) and the
 * Hugging Face tokenizer.json BPE tokenizer (tokenizer-hf.ts).
 *
 * Text is UTF-8. Tokens may stand for partial UTF-8 sequences (byte fallback), so the
 * byte-level `decodePiece` is what a streaming printer uses, with a
 * `new TextDecoder()` and `{ stream: true }` to assemble characters; `decode` does that
 * for a whole sequence.
 */
export interface EncodeOptions {
  /** prepend the BOS token (default false) */
  readonly bos?: boolean;
  /** append the EOS token (default false) */
  readonly eos?: boolean;
}

export interface Tokenizer {
  readonly vocabSize: number;
  /** beginning-of-sequence id */
  readonly bos: number;
  /** end-of-sequence id */
  readonly eos: number;
  /** token ids of `text` */
  encode(text: string, opts?: EncodeOptions): number[];
  /**
   * The bytes token `token` prints when it follows `prev` (pass -1 for none): special tokens
   * (BOS, EOS) print nothing, byte tokens print their byte, and the leading space of the
   * first piece after BOS is stripped (the sentencepiece / llama2.c convention).
   */
  decodePiece(prev: number, token: number): Uint8Array;
  /** text of a token sequence: the concatenated decodePiece bytes as UTF-8 (invalid bytes -> U+FFFD) */
  decode(tokens: ArrayLike<number>): string;
  /** the raw vocabulary entry of a token, for display and debugging */
  piece(id: number): string;
}

/**
 * Helper for implementations: decode() in terms of decodePiece(). With `silent` (tokens that
 * print nothing, e.g. special tokens), `prev` is the last token that printed (-1 before any), so
 * that a leading space is stripped from the first printed piece only, as tokenizers' decoders do.
 */
export function decodeWithPieces(t: Pick<Tokenizer, 'decodePiece'>, tokens: ArrayLike<number>, silent?: (token: number) => boolean): string {
  const parts: Uint8Array[] = [];
  let total = 0;
  let printed = -1;
  for (let i = 0; i < tokens.length; i++) {
    const prev = silent === undefined ? (i === 0 ? -1 : tokens[i - 1]) : printed;
    const p = t.decodePiece(prev, tokens[i]);
    if (silent !== undefined && !silent(tokens[i])) printed = tokens[i];
    parts.push(p);
    total += p.length;
  }
  const all = new Uint8Array(total);
  let off = 0;
  for (const p of parts) {
    all.set(p, off);
    off += p.length;
  }
  return new TextDecoder('utf-8').decode(all);
}

/** Checks a token id argument. */
export function aTokenId(id: number, vocabSize: number, label = 'token'): number {
  if (!Number.isSafeInteger(id) || id < 0 || id >= vocabSize) throw new RangeError(`${label} must be an integer in [0, ${vocabSize}), got ${id}`);
  return id;
}
