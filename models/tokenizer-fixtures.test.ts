/**
 * Tokenizers trained with the `tokenizers` library (models/fixtures/tokenizers/, written by
 * scripts/hf-fixtures.py): byte-level BPE (GPT-2's pre-tokenizer; a Llama-3-style Split regex +
 * ByteLevel), sentencepiece-style BPE with byte fallback (Llama 2 layout: Prepend/Replace "▁"
 * normalizer) and a Metaspace BPE with <unk>. HfBpeTokenizer must encode every test string to the
 * ids `tokenizers` gave and decode them to its text (special tokens skipped, as
 * decode(skip_special_tokens=True)).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './test-support.js';
import { HfBpeTokenizer } from './tokenizer-hf.js';

const DIR = join(REPO_ROOT, 'models', 'fixtures', 'tokenizers');

interface Case {
  readonly text: string;
  readonly ids: number[];
  readonly decoded: string;
}

describe('tokenizer fixtures (tokenizers 0.23.2)', () => {
  for (const kind of ['bytelevel', 'bytelevel-split', 'spm-bytefallback', 'metaspace']) {
    it(`${kind}: encodes and decodes like tokenizers`, async () => {
      const ref = JSON.parse(readFileSync(join(DIR, kind, 'reference.json'), 'utf8')) as { vocab_size: number; cases: Case[] };
      const tok = await HfBpeTokenizer.load(join(DIR, kind, 'tokenizer.json'));
      expect(tok.vocabSize).toBe(ref.vocab_size);
      for (const c of ref.cases) {
        expect([c.text, tok.encode(c.text)]).toEqual([c.text, c.ids]);
        expect([c.text, tok.decode(c.ids)]).toEqual([c.text, c.decoded]);
      }
    });
  }
});
