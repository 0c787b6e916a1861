import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { NonSecretTestRng } from './random-weights.js';
import { Llama2cTokenizer, encodeLlama2cTokenizer } from './tokenizer-llama2c.js';
import { STORIES260K_TOK, stories260kPresent, modelErrorCode as code } from './test-support.js';


/** run.c's quadratic merge loop, written naively, as the oracle for the heap implementation */
function naiveEncode(t: Llama2cTokenizer, text: string): number[] {
  const dec = (id: number) => Buffer.from(t.pieceBytes(id)).toString('latin1');
  const lookup = new Map<string, number>();
  for (let i = 0; i < t.vocabSize; i++) if (!lookup.has(dec(i))) lookup.set(dec(i), i);
  const toks: number[] = [lookup.get(' ')!];
  const bytes = Buffer.from(text, 'utf8');
  let buf: number[] = [];
  for (let i = 0; i < bytes.length; i++) {
    if ((bytes[i] & 0xc0) !== 0x80) buf = [];
    buf.push(bytes[i]);
    if (i + 1 < bytes.length && (bytes[i + 1] & 0xc0) === 0x80 && buf.length < 4) continue;
    const id = lookup.get(Buffer.from(buf).toString('latin1'));
    if (id !== undefined) toks.push(id);
    else for (const b of buf) toks.push(b + 3);
    buf = [];
  }
  for (;;) {
    let best = -1e10;
    let bi = -1;
    let bid = -1;
    for (let i = 0; i + 1 < toks.length; i++) {
      const id = lookup.get(dec(toks[i]) + dec(toks[i + 1]));
      if (id !== undefined && t.score(id) > best) {
        best = t.score(id);
        bi = i;
        bid = id;
      }
    }
    if (bi < 0) break;
    toks.splice(bi, 2, bid);
  }
  return toks;
}

describe.skipIf(!stories260kPresent())('llama2.c tokenizer on tok512.bin', () => {
  const bytes = readFileSync(STORIES260K_TOK);
  const t = Llama2cTokenizer.parse(bytes, 512, STORIES260K_TOK);

  it('known encoding and decode of "Once upon a time"', () => {
    const ids = t.encode('Once upon a time', { bos: true });
    expect(ids).toEqual([1, 403, 407, 261, 378]);
    expect(ids.map((i) => t.piece(i))).toEqual(['\n<s>\n', ' Once', ' upon', ' a', ' time']);
    expect(t.decode(ids)).toBe('Once upon a time');
    expect(t.decode(ids.slice(1))).toBe(' Once upon a time'); // no BOS: the dummy-prefix space stays
    expect(t.encode('', { bos: true, eos: true })).toEqual([1, 2]);
    expect(t.piece(3)).toBe('<0x00>');
  });

  it('the writer reproduces the file byte for byte; reading to EOF finds 512 tokens', () => {
    expect(Buffer.compare(Buffer.from(t.toBytes()), bytes)).toBe(0);
    expect(Llama2cTokenizer.parse(bytes).vocabSize).toBe(512);
  });

  it('round trips text including byte fallback (accents, CJK, emoji, control characters)', () => {
    for (const s of ['Once upon a time', 'Lily said: "Wow!"\nThe end.', 'héllo wörld — ça va?', '日本語のテキスト 🙂🐱', 'tabs\tand  double  spaces ', 'a', ' leading space']) {
      const ids = t.encode(s, { bos: true, eos: true });
      expect(t.decode(ids)).toBe(s);
    }
    expect(t.pieceId('\u0007')).toBe(-1);
    expect(t.encode('\u0007')).toEqual([t.pieceId(' '), 0x07 + 3]);
  });

  it('equals the naive run.c merge loop on random texts', () => {
    const rng = new NonSecretTestRng(42);
    const alphabet = 'abcdefghijklmnopqrstuvwxyz     ,.!?\'"\nABCLTé日';
    for (let n = 0; n < 60; n++) {
      const len = 1 + Math.floor(rng.next() * 80);
      let s = '';
      for (let i = 0; i < len; i++) s += alphabet[Math.floor(rng.next() * alphabet.length)];
      expect(t.encode(s)).toEqual(naiveEncode(t, s));
    }
    const story = 'One day, a little boy named Tim went to the park. He saw a big red ball and wanted to play with it.';
    expect(t.encode(story)).toEqual(naiveEncode(t, story));
  });

  it('decodePiece strips the leading space only after BOS and prints byte tokens as bytes', () => {
    const once = t.encode('Once')[0];
    expect(Buffer.from(t.decodePiece(1, once)).toString()).toBe('Once');
    expect(Buffer.from(t.decodePiece(5, once)).toString()).toBe(' Once');
    expect(Array.from(t.decodePiece(1, 0x20 + 3))).toEqual([0x20]);
    expect(t.decodePiece(-1, 1).length).toBe(0);
  });
});

describe('llama2.c tokenizer from a constructed vocabulary', () => {
  const bytePieces = Array.from({ length: 256 }, (_, b) => `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);
  const pieces = ['<unk>', '<s>', '</s>', ...bytePieces, ' ', 'a', 'b', 'ab', ' ab', 'ba', 'aba'];
  const scores = pieces.map((p, i) => (i < 259 ? 0 : { ' ': -1, a: -1, b: -1, ab: -2, ' ab': -3, ba: -1.5, aba: -4 }[p] ?? 0));
  const t = new Llama2cTokenizer(pieces, scores);
  const id = (p: string) => t.pieceId(p);

  it('merges by score with leftmost tie-break', () => {
    // " aba": ' '+a no, a+b (ab, -2) vs b+a (ba, -1.5): ba wins -> ' ', a, ba ; then a+ba = aba (-4)
    expect(t.encode('aba')).toEqual([id(' '), id('aba')]);
    expect(t.encode('ab')).toEqual([id(' ab')]);
    expect(t.encode('c')).toEqual([id(' '), 0x63 + 3]);
  });

  it('writer and reader agree; malformed files give their codes', () => {
    const file = encodeLlama2cTokenizer(pieces, scores);
    const r = Llama2cTokenizer.parse(file, pieces.length);
    expect(r.encode('abab c')).toEqual(t.encode('abab c'));
    expect(code(() => Llama2cTokenizer.parse(file.subarray(0, 2)))).toBe('MODEL_ERR_TRUNCATED');
    expect(code(() => Llama2cTokenizer.parse(file.subarray(0, file.length - 1)))).toBe('MODEL_ERR_TRUNCATED');
    expect(code(() => Llama2cTokenizer.parse(file, pieces.length + 1))).toBe('MODEL_ERR_TRUNCATED');
    expect(code(() => Llama2cTokenizer.parse(file, pieces.length - 1))).toBe('MODEL_ERR_MALFORMED');
    const badLen = file.slice();
    new DataView(badLen.buffer).setInt32(8, -5, true);
    expect(code(() => Llama2cTokenizer.parse(badLen))).toBe('MODEL_ERR_MALFORMED');
    const badMax = file.slice();
    new DataView(badMax.buffer).setInt32(0, 0, true);
    expect(code(() => Llama2cTokenizer.parse(badMax))).toBe('MODEL_ERR_MALFORMED');
    const tiny = encodeLlama2cTokenizer(['<unk>', '<s>'], [0, 0]);
    expect(code(() => Llama2cTokenizer.parse(tiny))).toBe('MODEL_ERR_TOKENIZER');
    const noBytes = new Llama2cTokenizer(['<unk>', '<s>', '</s>', ' ', 'a'], [0, 0, 0, 0, 0]);
    expect(code(() => noBytes.encode('z'))).toBe('MODEL_ERR_TOKENIZER');
  });
});
