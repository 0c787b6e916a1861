import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as models from './index.js';

describe('models/index.ts: format detection', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('loads weights and tokenizers in every format by path', async () => {
    const d = await mkdtemp(join(tmpdir(), 'mpcache-load-'));
    dirs.push(d);
    const cfg = models.makeConfig({ dim: 16, hiddenDim: 24, nLayers: 1, nHeads: 2, vocabSize: 300, maxSeqLen: 16, tiedEmbeddings: true });
    const w = models.randomWeights(cfg, 1);
    await models.saveHfLlama(join(d, 'hf'), w);
    await models.saveLlama2c(join(d, 'm.bin'), w);
    const ref = new models.ReferenceModel(w).logits([1, 2]);
    for (const p of [join(d, 'hf'), join(d, 'hf', 'model.safetensors'), join(d, 'm.bin')]) {
      expect(new models.ReferenceModel(await models.loadWeights(p)).logits([1, 2])).toEqual(ref);
    }
    const pieces = ['<unk>', '<s>', '</s>', ...Array.from({ length: 256 }, (_, b) => `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`), ' ', 'h', 'i', 'hi', ' hi'];
    const scores = pieces.map((_, i) => (i < 259 ? 0 : -i));
    const tok = new models.Llama2cTokenizer(pieces, scores);
    await tok.save(join(d, 'tok.bin'));
    await writeFile(join(d, 'hf', 'tokenizer.json'), JSON.stringify(models.llama2cToHfTokenizerJson(tok)));
    for (const p of [join(d, 'tok.bin'), join(d, 'hf', 'tokenizer.json'), join(d, 'hf')]) {
      const t = await models.loadTokenizer(p, p.endsWith('.bin') ? pieces.length : undefined);
      expect(t.encode('hi hi', { bos: true })).toEqual([1, pieces.indexOf(' hi'), pieces.indexOf(' hi')]);
    }
    // a model directory with a llama2.c tokenizer.bin and no tokenizer.json (the default model's layout)
    await models.saveHfLlama(join(d, 'l2c'), w);
    await tok.save(join(d, 'l2c', 'tokenizer.bin'));
    const fromDir = await models.loadTokenizer(join(d, 'l2c'), pieces.length);
    expect(fromDir.encode('hi hi', { bos: true })).toEqual([1, pieces.indexOf(' hi'), pieces.indexOf(' hi')]);
    await expect(models.loadTokenizer(join(d, 'hf', 'nothing-here'))).rejects.toMatchObject({ code: 'MODEL_ERR_IO' });
    await expect(models.loadWeights(join(d, 'absent'))).rejects.toMatchObject({ code: 'MODEL_ERR_IO' });
  });
});
