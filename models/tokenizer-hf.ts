/**
 * Hugging Face `tokenizer.json` BPE tokenizers, for the common Llama-style cases:
 *  - sentencepiece style (Llama 2, TinyLlama, Mistral): normalizer Prepend("▁") +
 *    Replace(" ", "▁") or a Metaspace pre-tokenizer; BPE with byte_fallback (`<0xNN>`);
 *    decoding maps "▁" to " ", byte tokens to bytes, and strips the leading space;
 *  - byte level (GPT-2, Llama 3): ByteLevel pre-tokenizer (GPT-2 regex) or a Split regex
 *    followed by ByteLevel; bytes mapped to printable characters before BPE.
 * Merges are applied lowest rank first (leftmost on ties) within each pre-token word.
 * Added tokens found in the text are matched literally (longest first) and never split.
 * Anything else (WordPiece/Unigram models, other normalizers or pre-tokenizers) is refused
 * with MODEL_ERR_TOKENIZER. BOS/EOS are not added automatically: use encode's options.
 */
import { readFile } from 'node:fs/promises';
import { ModelFormatError } from './errors.js';
import { type EncodeOptions, type Tokenizer, aTokenId, decodeWithPieces } from './tokenizer.js';
import type { Llama2cTokenizer } from './tokenizer-llama2c.js';
import { mergePairs } from './bpe-merge.js';

const SPIECE = '\u2581';
const BYTE_TOKEN = /^<0x([0-9A-Fa-f]{2})>$/;
const GPT2_REGEX = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

type Json = Record<string, unknown>;

/** GPT-2's reversible byte -> printable character map. */
function bytesToUnicode(): string[] {
  const bs: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) bs.push(b);
  for (let b = 0xa1; b <= 0xac; b++) bs.push(b);
  for (let b = 0xae; b <= 0xff; b++) bs.push(b);
  const map: string[] = new Array(256);
  for (const b of bs) map[b] = String.fromCodePoint(b);
  let n = 0;
  for (let b = 0; b < 256; b++) if (map[b] === undefined) map[b] = String.fromCodePoint(256 + n++);
  return map;
}

/** Rewrites `(?i:...)` groups (unsupported by Node 20 RegExp) by expanding ASCII letters to [xX]. */
function jsRegex(pattern: string): RegExp {
  let out = '';
  for (let i = 0; i < pattern.length; ) {
    if (pattern.startsWith('(?i:', i)) {
      out += '(?:';
      i += 4;
      let depth = 1;
      while (i < pattern.length && depth > 0) {
        const ch = pattern[i];
        if (ch === '\\') {
          out += pattern.slice(i, i + 2);
          i += 2;
          continue;
        }
        if (ch === '(') depth++;
        if (ch === ')') depth--;
        out += /[a-zA-Z]/.test(ch) && depth > 0 ? `[${ch.toLowerCase()}${ch.toUpperCase()}]` : ch;
        i++;
      }
    } else if (pattern[i] === '\\') {
      out += pattern.slice(i, i + 2);
      i += 2;
    } else {
      out += pattern[i++];
    }
  }
  return new RegExp(out, 'gu');
}

type Normalizer = (s: string) => string;
/** splits a (normalized) segment into words; `first` = the segment starts the text */
type PreTokenizer = (s: string, first: boolean) => string[];

export interface HfTokenizerOptions {
  /** BOS id; default the id of <s>, <|begin_of_text|> or <|endoftext|> */
  readonly bos?: number;
  /** EOS id; default the id of </s>, <|end_of_text|>, <|eot_id|> or <|endoftext|> */
  readonly eos?: number;
}

export class HfBpeTokenizer implements Tokenizer {
  readonly vocabSize: number;
  readonly bos: number;
  readonly eos: number;
  /** 'metaspace' (sentencepiece style), 'bytelevel' (GPT-2 style) or 'plain' */
  readonly mode: 'metaspace' | 'bytelevel' | 'plain';
  private readonly pieces: string[];
  private readonly vocab = new Map<string, number>();
  private readonly ranks = new Map<string, number>();
  private readonly special = new Set<number>();
  private readonly added: { content: string; id: number }[];
  private readonly normalize: Normalizer;
  private readonly preTokenize: PreTokenizer;
  private readonly byteFallback: boolean;
  private readonly unk: number;
  private readonly fuseUnk: boolean;
  private readonly ignoreMerges: boolean;
  private readonly stripLeadingSpace: boolean;
  private readonly byteDecoder = new Map<string, number>();
  private readonly byteEncoder: string[] = bytesToUnicode();
  private readonly byteIds: Int32Array = new Int32Array(256).fill(-1);
  private readonly wordCache = new Map<string, number[]>();

  /** Builds a tokenizer from a parsed tokenizer.json object; `file` names it in errors. */
  constructor(json: unknown, opts: HfTokenizerOptions = {}, file = '<tokenizer.json>') {
    const bad = (msg: string): never => {
      throw new ModelFormatError('MODEL_ERR_TOKENIZER', msg, { file });
    };
    if (typeof json !== 'object' || json === null || Array.isArray(json)) bad('tokenizer.json must be a JSON object');
    const j = json as Json;
    const model = j['model'] as Json | undefined;
    if (typeof model !== 'object' || model === null) bad('missing "model"');
    const m = model as Json;
    if (m['type'] !== undefined && m['type'] !== 'BPE') bad(`model type ${String(m['type'])} is not supported (BPE)`);
    if (m['continuing_subword_prefix'] || m['end_of_word_suffix']) bad('continuing_subword_prefix / end_of_word_suffix are not supported');
    const vocab = m['vocab'];
    if (typeof vocab !== 'object' || vocab === null || Array.isArray(vocab)) bad('model.vocab must map pieces to ids');
    let maxId = -1;
    for (const [p, id] of Object.entries(vocab as Json)) {
      if (!Number.isSafeInteger(id) || (id as number) < 0) bad(`vocab id of ${JSON.stringify(p)} is not a non-negative integer`);
      this.vocab.set(p, id as number);
      maxId = Math.max(maxId, id as number);
    }
    const addedRaw = j['added_tokens'] ?? [];
    if (!Array.isArray(addedRaw)) bad('added_tokens must be a list');
    this.added = [];
    for (const a of addedRaw as Json[]) {
      if (typeof a?.['content'] !== 'string' || !Number.isSafeInteger(a['id'])) bad('added token without content/id');
      const id = a['id'] as number;
      this.added.push({ content: a['content'] as string, id });
      if (!this.vocab.has(a['content'] as string)) this.vocab.set(a['content'] as string, id);
      if (a['special'] === true) this.special.add(id);
      maxId = Math.max(maxId, id);
    }
    this.added.sort((x, y) => y.content.length - x.content.length);
    this.vocabSize = maxId + 1;
    this.pieces = new Array(this.vocabSize).fill('');
    for (const [p, id] of this.vocab) if (this.pieces[id] === '') this.pieces[id] = p;
    const merges = m['merges'] ?? [];
    if (!Array.isArray(merges)) bad('model.merges must be a list');
    (merges as unknown[]).forEach((mg, rank) => {
      let a: string;
      let b: string;
      if (typeof mg === 'string') {
        const sp = mg.indexOf(' ', 1);
        if (sp < 0) bad(`merge ${JSON.stringify(mg)} is not "a b"`);
        a = mg.slice(0, sp);
        b = mg.slice(sp + 1);
      } else if (Array.isArray(mg) && mg.length === 2 && typeof mg[0] === 'string' && typeof mg[1] === 'string') {
        [a, b] = mg as [string, string];
      } else {
        return bad(`merge ${rank} is neither "a b" nor [a, b]`);
      }
      const key = a + '\u0000' + b;
      if (!this.ranks.has(key)) this.ranks.set(key, rank);
    });
    this.byteFallback = m['byte_fallback'] === true;
    this.fuseUnk = m['fuse_unk'] === true;
    this.ignoreMerges = m['ignore_merges'] === true;
    const unkTok = m['unk_token'];
    this.unk = typeof unkTok === 'string' ? (this.vocab.get(unkTok) ?? -1) : -1;
    for (let b = 0; b < 256; b++) {
      this.byteDecoder.set(this.byteEncoder[b], b);
      const id = this.vocab.get(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);
      if (id !== undefined) this.byteIds[b] = id;
    }

    // normalizer
    const norms: Normalizer[] = [];
    let prepends = false;
    const addNorm = (n: Json | null | undefined): void => {
      if (n === null || n === undefined) return;
      switch (n['type']) {
        case 'Sequence':
          for (const s of (n['normalizers'] as Json[]) ?? []) addNorm(s);
          return;
        case 'Prepend': {
          const p = String(n['prepend']);
          if (p === SPIECE) prepends = true;
          norms.push((s) => (s.length > 0 ? p + s : s));
          return;
        }
        case 'Replace': {
          const pat = n['pattern'] as Json;
          const content = String(n['content']);
          if (typeof pat?.['String'] === 'string') {
            const from = pat['String'] as string;
            norms.push((s) => s.split(from).join(content));
          } else if (typeof pat?.['Regex'] === 'string') {
            const re = this.regex(pat['Regex'] as string, bad);
            norms.push((s) => s.replace(re, content));
          } else bad('Replace normalizer without a String or Regex pattern');
          return;
        }
        case 'NFC':
        case 'NFD':
        case 'NFKC':
        case 'NFKD': {
          const form = n['type'] as string;
          norms.push((s) => s.normalize(form));
          return;
        }
        case 'Lowercase':
          norms.push((s) => s.toLowerCase());
          return;
        default:
          bad(`normalizer ${String(n['type'])} is not supported`);
      }
    };
    addNorm(j['normalizer'] as Json | null);
    this.normalize = (s) => norms.reduce((acc, f) => f(acc), s);

    // pre-tokenizer
    let mode: 'metaspace' | 'bytelevel' | 'plain' = prepends || this.vocab.has(SPIECE) ? 'metaspace' : 'plain';
    let metaspacePrepends = false;
    const steps: ((words: string[], first: boolean) => string[])[] = [];
    const addPre = (p: Json | null | undefined): void => {
      if (p === null || p === undefined) return;
      switch (p['type']) {
        case 'Sequence':
          for (const s of (p['pretokenizers'] as Json[]) ?? []) addPre(s);
          return;
        case 'Metaspace': {
          mode = 'metaspace';
          const rep = typeof p['replacement'] === 'string' ? (p['replacement'] as string) : SPIECE;
          const scheme = typeof p['prepend_scheme'] === 'string' ? (p['prepend_scheme'] as string) : p['add_prefix_space'] === false ? 'never' : 'always';
          const split = p['split'] !== false;
          metaspacePrepends = scheme !== 'never';
          steps.push((words, first) =>
            words.flatMap((w) => {
              let s = w.split(' ').join(rep);
              if ((scheme === 'always' || (scheme === 'first' && first)) && !s.startsWith(rep)) s = rep + s;
              if (!split) return [s];
              const out: string[] = [];
              let cur = '';
              for (const ch of s) {
                if (ch === rep && cur.length > 0) {
                  out.push(cur);
                  cur = '';
                }
                cur += ch;
              }
              if (cur.length > 0) out.push(cur);
              return out;
            }),
          );
          return;
        }
        case 'Split': {
          const pat = p['pattern'] as Json;
          const behavior = p['behavior'] ?? 'Isolated';
          if (p['invert'] === true) bad('Split with invert is not supported');
          if (behavior !== 'Isolated' && behavior !== 'Removed') bad(`Split behavior ${String(behavior)} is not supported`);
          const re =
            typeof pat?.['Regex'] === 'string'
              ? this.regex(pat['Regex'] as string, bad)
              : typeof pat?.['String'] === 'string'
                ? new RegExp((pat['String'] as string).replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'gu')
                : bad('Split without a String or Regex pattern');
          steps.push((words) => words.flatMap((w) => splitIsolated(w, re, behavior === 'Removed')));
          return;
        }
        case 'ByteLevel': {
          mode = 'bytelevel';
          const prefix = p['add_prefix_space'] === true;
          const useRegex = p['use_regex'] !== false;
          const re = jsRegex(GPT2_REGEX);
          steps.push((words, first) =>
            words.flatMap((w, i) => {
              const s = prefix && first && i === 0 && !w.startsWith(' ') ? ' ' + w : w;
              const parts = useRegex ? splitIsolated(s, re, false) : [s];
              return parts.map((x) => this.toByteChars(x));
            }),
          );
          return;
        }
        default:
          bad(`pre_tokenizer ${String(p['type'])} is not supported`);
      }
    };
    addPre(j['pre_tokenizer'] as Json | null);
    this.preTokenize = (s, first) => steps.reduce((words, f) => f(words, first), [s]);
    this.mode = mode;
    this.stripLeadingSpace = mode === 'metaspace' && (prepends || metaspacePrepends);

    const find = (...names: string[]): number => {
      for (const n of names) {
        const id = this.vocab.get(n);
        if (id !== undefined) return id;
      }
      return -1;
    };
    const bos = opts.bos ?? find('<s>', '<|begin_of_text|>', '<|endoftext|>');
    const eos = opts.eos ?? find('</s>', '<|end_of_text|>', '<|eot_id|>', '<|endoftext|>');
    if (bos < 0 || eos < 0) bad('cannot find BOS/EOS tokens; pass them as options');
    this.bos = aTokenId(bos, this.vocabSize, 'bos');
    this.eos = aTokenId(eos, this.vocabSize, 'eos');
  }

  private regex(p: string, bad: (m: string) => never): RegExp {
    try {
      return jsRegex(p);
    } catch (e) {
      return bad(`regex ${JSON.stringify(p)} is not supported: ${(e as Error).message}`);
    }
  }

  private toByteChars(s: string): string {
    let out = '';
    for (const b of new TextEncoder().encode(s)) out += this.byteEncoder[b];
    return out;
  }

  /** Parses tokenizer.json text or bytes. */
  static parse(text: string | Uint8Array, opts: HfTokenizerOptions = {}, file = '<tokenizer.json>'): HfBpeTokenizer {
    let json: unknown;
    try {
      json = JSON.parse(typeof text === 'string' ? text : new TextDecoder('utf-8', { fatal: true }).decode(text));
    } catch (e) {
      throw new ModelFormatError('MODEL_ERR_MALFORMED', `not valid JSON: ${(e as Error).message}`, { file, cause: e });
    }
    return new HfBpeTokenizer(json, opts, file);
  }

  static async load(path: string, opts: HfTokenizerOptions = {}): Promise<HfBpeTokenizer> {
    let bytes: Uint8Array;
    try {
      bytes = await readFile(path);
    } catch (e) {
      throw new ModelFormatError('MODEL_ERR_IO', `cannot read: ${(e as Error).message}`, { file: path, cause: e });
    }
    return HfBpeTokenizer.parse(bytes, opts, path);
  }

  piece(id: number): string {
    aTokenId(id, this.vocabSize, 'id');
    return this.pieces[id];
  }

  /** id of a vocabulary piece, or -1 */
  pieceId(piece: string): number {
    return this.vocab.get(piece) ?? -1;
  }

  encode(text: string, opts: EncodeOptions = {}): number[] {
    if (typeof text !== 'string') throw new TypeError('text must be a string');
    const out: number[] = [];
    if (opts.bos) out.push(this.bos);
    // split on added tokens (longest match first)
    let seg = '';
    let first = true;
    const flush = (): void => {
      if (seg.length === 0) return;
      const norm = this.normalize(seg);
      for (const w of this.preTokenize(norm, first)) for (const id of this.bpeWord(w)) out.push(id);
      seg = '';
      first = false;
    };
    for (let i = 0; i < text.length; ) {
      const hit = this.added.find((a) => a.content.length > 0 && text.startsWith(a.content, i));
      if (hit) {
        flush();
        out.push(hit.id);
        first = false;
        i += hit.content.length;
      } else {
        seg += text[i++];
      }
    }
    flush();
    if (opts.eos) out.push(this.eos);
    return out;
  }

  private bpeWord(word: string): number[] {
    const cached = this.wordCache.get(word);
    if (cached) return cached;
    let res: number[];
    const whole = this.vocab.get(word);
    if (this.ignoreMerges && whole !== undefined) res = [whole];
    else res = this.merge(word);
    if (this.wordCache.size < 100_000) this.wordCache.set(word, res);
    return res;
  }

  private merge(word: string): number[] {
    // initial symbols: characters (byte-fallback / unk for unknown characters)
    const sym: string[] = [];
    const fixed: number[] = []; // id for symbols that cannot merge (byte fallback / unk), else -1
    for (const ch of word) {
      if (this.vocab.has(ch)) {
        sym.push(ch);
        fixed.push(-1);
      } else if (this.byteFallback && [...new TextEncoder().encode(ch)].every((b) => this.byteIds[b] >= 0)) {
        for (const b of new TextEncoder().encode(ch)) {
          sym.push('');
          fixed.push(this.byteIds[b]);
        }
      } else {
        if (this.unk < 0) throw new ModelFormatError('MODEL_ERR_TOKENIZER', `character ${JSON.stringify(ch)} is not in the vocabulary and there is no unk token`);
        if (this.fuseUnk && fixed.length > 0 && fixed[fixed.length - 1] === this.unk && sym[sym.length - 1] === '') continue;
        sym.push('');
        fixed.push(this.unk);
      }
    }
    const kept = mergePairs(
      sym.length,
      (a, b) => {
        if (fixed[a] >= 0 || fixed[b] >= 0) return undefined;
        const r = this.ranks.get(sym[a] + '\u0000' + sym[b]);
        return r !== undefined && this.vocab.has(sym[a] + sym[b]) ? { priority: r, value: 0 } : undefined;
      },
      (a, b) => {
        sym[a] = sym[a] + sym[b];
      },
    );
    const out = kept.map((i) => (fixed[i] >= 0 ? fixed[i] : (this.vocab.get(sym[i]) as number)));
    return out;
  }

  decodePiece(prev: number, token: number): Uint8Array {
    aTokenId(token, this.vocabSize);
    if (this.special.has(token)) return new Uint8Array(0);
    const p = this.pieces[token];
    if (this.mode === 'bytelevel') {
      const bytes: number[] = [];
      for (const ch of p) {
        const b = this.byteDecoder.get(ch);
        if (b !== undefined) bytes.push(b);
        else for (const x of new TextEncoder().encode(ch)) bytes.push(x);
      }
      return Uint8Array.from(bytes);
    }
    const m = BYTE_TOKEN.exec(p);
    if (m && this.byteFallback) return Uint8Array.of(parseInt(m[1], 16));
    let s = this.mode === 'metaspace' ? p.split(SPIECE).join(' ') : p;
    if (this.stripLeadingSpace && (prev < 0 || this.special.has(prev)) && s.startsWith(' ')) s = s.slice(1);
    return new TextEncoder().encode(s);
  }

  /**
   * Text of a token sequence. Special tokens print nothing; in sentencepiece style the
   * leading space of the first printed piece (after any special tokens such as BOS) is dropped.
   */
  decode(tokens: ArrayLike<number>): string {
    return decodeWithPieces(this, tokens, (t) => this.special.has(t));
  }
}

/** Splits `s` around the matches of `re`, keeping matches as words (Isolated) or dropping them (Removed). */
function splitIsolated(s: string, re: RegExp, removed: boolean): string[] {
  const out: string[] = [];
  let last = 0;
  re.lastIndex = 0;
  for (const m of s.matchAll(re)) {
    const i = m.index ?? 0;
    if (m[0].length === 0) continue;
    if (i > last) out.push(s.slice(last, i));
    if (!removed) out.push(m[0]);
    last = i + m[0].length;
  }
  if (last < s.length) out.push(s.slice(last));
  return out;
}

/**
 * A sentencepiece-style tokenizer.json equivalent to a llama2.c tokenizer: "▁" for spaces,
 * byte-fallback tokens, merges ranked by the merged piece's score (as llama2.c merges),
 * <unk>/<s>/</s> as special added tokens. Useful to ship a llama2.c vocabulary to HF tools.
 */
export function llama2cToHfTokenizerJson(t: Llama2cTokenizer): Json {
  const vocab: Record<string, number> = {};
  const pieceOf = (i: number): string => {
    const p = t.piece(i);
    return BYTE_TOKEN.test(p) ? p : p.split(' ').join(SPIECE);
  };
  const names = ['<unk>', '<s>', '</s>'];
  const specialIds = [0, t.bos, t.eos];
  const pieces: string[] = [];
  for (let i = 0; i < t.vocabSize; i++) {
    const k = specialIds.indexOf(i);
    pieces.push(k >= 0 ? names[k] : pieceOf(i));
    if (!(pieces[i] in vocab)) vocab[pieces[i]] = i;
  }
  const merges: { a: string; b: string; score: number; id: number }[] = [];
  for (let i = 0; i < t.vocabSize; i++) {
    if (specialIds.includes(i) || BYTE_TOKEN.test(pieces[i])) continue;
    const chars = [...pieces[i]];
    for (let k = 1; k < chars.length; k++) {
      const a = chars.slice(0, k).join('');
      const b = chars.slice(k).join('');
      if (a in vocab && b in vocab) merges.push({ a, b, score: t.score(i), id: i });
    }
  }
  merges.sort((x, y) => y.score - x.score || x.id - y.id);
  return {
    version: '1.0',
    added_tokens: names.map((content, k) => ({ id: specialIds[k], content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
    normalizer: { type: 'Sequence', normalizers: [{ type: 'Prepend', prepend: SPIECE }, { type: 'Replace', pattern: { String: ' ' }, content: SPIECE }] },
    pre_tokenizer: null,
    decoder: {
      type: 'Sequence',
      decoders: [{ type: 'Replace', pattern: { String: SPIECE }, content: ' ' }, { type: 'ByteFallback' }, { type: 'Fuse' }, { type: 'Strip', content: ' ', start: 1, stop: 0 }],
    },
    model: { type: 'BPE', dropout: null, unk_token: '<unk>', byte_fallback: true, fuse_unk: true, vocab, merges: merges.map((m) => [m.a, m.b]) },
  };
}
