import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { NonSecretTestRng } from './random-weights.js';
import { Llama2cTokenizer } from './tokenizer-llama2c.js';
import { HfBpeTokenizer, llama2cToHfTokenizerJson } from './tokenizer-hf.js';
import { STORIES260K_TOK, stories260kPresent, modelErrorCode as code } from './test-support.js';


describe.skipIf(!stories260kPresent())('HF tokenizer.json (sentencepiece style) converted from tok512', () => {
  const l2c = Llama2cTokenizer.parse(readFileSync(STORIES260K_TOK), 512);
  const json = llama2cToHfTokenizerJson(l2c);
  const hf = HfBpeTokenizer.parse(JSON.stringify(json));

  it('encodes exactly as the llama2.c tokenizer, including byte fallback', () => {
    expect(hf.mode).toBe('metaspace');
    expect([hf.bos, hf.eos, hf.vocabSize]).toEqual([1, 2, 512]);
    expect(hf.encode('Once upon a time', { bos: true })).toEqual([1, 403, 407, 261, 378]);
    const rng = new NonSecretTestRng(9);
    const alphabet = 'abcdefghijklmnopqrstuvwxyz     ,.!?\'"\nABCLTé日🙂';
    const chars = [...alphabet];
    for (let n = 0; n < 60; n++) {
      let s = '';
      const len = 1 + Math.floor(rng.next() * 60);
      for (let i = 0; i < len; i++) s += chars[Math.floor(rng.next() * chars.length)];
      expect(hf.encode(s)).toEqual(l2c.encode(s));
    }
  });

  it('decodes like HF: spaces from "▁", byte tokens as bytes, the leading space stripped', () => {
    for (const s of ['Once upon a time', 'Lily: "hi!"\nBye.', 'Ça fait 日本 🙂']) {
      const ids = hf.encode(s, { bos: true, eos: true });
      expect(hf.decode(ids)).toBe(s);
      expect(hf.decode(ids.slice(1, -1))).toBe(s);
    }
    expect(hf.encode('<s>Once')).toEqual([1, ...hf.encode('Once')]);
  });
});

/** a tiny GPT-2 style byte-level tokenizer.json */
function byteLevelJson(extra: Record<string, unknown> = {}): Record<string, unknown> {
  const chars: string[] = [];
  for (let b = 0x21; b <= 0x7e; b++) chars.push(String.fromCharCode(b));
  chars.push('Ġ', 'Ċ');
  const merges = [['h', 'e'], ['l', 'l'], ['he', 'll'], ['hell', 'o'], ['Ġ', 'w'], ['o', 'r'], ['Ġw', 'or'], ['Ġwor', 'l'], ['Ġworl', 'd']];
  const vocab: Record<string, number> = {};
  chars.forEach((c, i) => (vocab[c] = i));
  for (const [a, b] of merges) vocab[a + b] = Object.keys(vocab).length;
  vocab['<|endoftext|>'] = Object.keys(vocab).length;
  return {
    added_tokens: [{ id: vocab['<|endoftext|>'], content: '<|endoftext|>', special: true }],
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    decoder: { type: 'ByteLevel' },
    model: { type: 'BPE', vocab, merges: merges.map(([a, b]) => `${a} ${b}`), ...extra },
  };
}

describe('HF tokenizer.json (byte level)', () => {
  const t = HfBpeTokenizer.parse(JSON.stringify(byteLevelJson()));

  it('splits with the GPT-2 regex and merges by rank', () => {
    expect(t.mode).toBe('bytelevel');
    const ids = t.encode('hello world');
    expect(ids.map((i) => t.piece(i))).toEqual(['hello', 'Ġworld']);
    expect(t.encode('hello\nworld!').map((i) => t.piece(i))).toEqual(['hello', 'Ċ', 'w', 'or', 'l', 'd', '!']);
    expect(t.bos).toBe(t.eos);
    expect(t.decode([...t.encode('hello world', { eos: true })])).toBe('hello world');
    expect(t.decode(t.encode(' hello  world\n'))).toBe(' hello  world\n');
  });

  it('a Split regex with (?i:...) followed by ByteLevel(use_regex=false) works as in Llama 3', () => {
    const j = byteLevelJson();
    j['pre_tokenizer'] = {
      type: 'Sequence',
      pretokenizers: [
        { type: 'Split', pattern: { Regex: "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+" }, behavior: 'Isolated', invert: false },
        { type: 'ByteLevel', add_prefix_space: false, use_regex: false },
      ],
    };
    const l3 = HfBpeTokenizer.parse(JSON.stringify(j));
    expect(l3.encode("hello world'S 1234").map((i) => l3.piece(i))).toEqual(['hello', 'Ġworld', "'", 'S', 'Ġ', '1', '2', '3', '4']);
  });

  it('refuses unsupported or malformed tokenizer files', () => {
    expect(code(() => HfBpeTokenizer.parse('{"model": '))).toBe('MODEL_ERR_MALFORMED');
    expect(code(() => HfBpeTokenizer.parse(JSON.stringify({ model: { type: 'WordPiece', vocab: {} } })))).toBe('MODEL_ERR_TOKENIZER');
    expect(code(() => HfBpeTokenizer.parse(JSON.stringify({ ...byteLevelJson(), normalizer: { type: 'BertNormalizer' } })))).toBe('MODEL_ERR_TOKENIZER');
    expect(code(() => HfBpeTokenizer.parse(JSON.stringify({ ...byteLevelJson(), pre_tokenizer: { type: 'Whitespace' } })))).toBe('MODEL_ERR_TOKENIZER');
    expect(code(() => HfBpeTokenizer.parse(JSON.stringify(byteLevelJson({ merges: [42] }))))).toBe('MODEL_ERR_TOKENIZER');
    expect(code(() => HfBpeTokenizer.parse(JSON.stringify(byteLevelJson({ vocab: { a: -1 } }))))).toBe('MODEL_ERR_TOKENIZER');
    const noSpecial = byteLevelJson();
    noSpecial['added_tokens'] = [];
    const m = noSpecial['model'] as { vocab: Record<string, number> };
    delete m.vocab['<|endoftext|>'];
    expect(code(() => HfBpeTokenizer.parse(JSON.stringify(noSpecial)))).toBe('MODEL_ERR_TOKENIZER');
    expect(HfBpeTokenizer.parse(JSON.stringify(noSpecial), { bos: 0, eos: 1 }).bos).toBe(0);
  });
});
