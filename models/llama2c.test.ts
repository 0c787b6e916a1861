import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { makeConfig } from './config.js';
import { encodeLlama2c, loadLlama2c, parseLlama2c } from './llama2c.js';
import { randomWeights } from './random-weights.js';
import { ReferenceModel } from './reference.js';
import { STORIES260K_BIN, stories260kPresent, modelErrorCode as code } from './test-support.js';


const cfg = makeConfig({ dim: 16, hiddenDim: 24, nLayers: 2, nHeads: 4, nKvHeads: 2, vocabSize: 20, maxSeqLen: 8, tiedEmbeddings: true });

describe('llama2.c legacy checkpoints', () => {
  it.skipIf(!stories260kPresent())('stories260K: header, shapes, and the writer reproduces the file byte for byte', () => {
    const bytes = readFileSync(STORIES260K_BIN);
    const w = parseLlama2c(bytes, STORIES260K_BIN);
    expect(w.config).toMatchObject({ dim: 64, hiddenDim: 172, nLayers: 5, nHeads: 8, nKvHeads: 4, vocabSize: 512, maxSeqLen: 512, headDim: 8, tiedEmbeddings: true });
    expect(w.output).toBe(w.tokenEmbedding);
    expect(w.layers[4].wk.length).toBe(32 * 64);
    const again = encodeLlama2c(w);
    expect(again.length).toBe(bytes.length);
    // weights are bit-exact; the RoPE tables are recomputed in float64 and may differ in the last ulp
    const ropeStart = bytes.length - 4 * 512 * 8;
    expect(Buffer.compare(Buffer.from(again.subarray(0, ropeStart)), bytes.subarray(0, ropeStart))).toBe(0);
    const a = new Float32Array(again.slice(ropeStart).buffer);
    const b = new Float32Array(bytes.buffer.slice(bytes.byteOffset + ropeStart, bytes.byteOffset + bytes.length));
    for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i])).toBeLessThan(1e-5);
  });

  it('round trips tied and untied random models', () => {
    for (const tied of [true, false]) {
      const w = randomWeights({ ...cfg, tiedEmbeddings: tied }, 3);
      const r = parseLlama2c(encodeLlama2c(w));
      expect(r.config).toEqual(w.config);
      expect(r.layers[1].w3).toEqual(w.layers[1].w3);
      expect(r.output).toEqual(w.output);
      expect(r.output === r.tokenEmbedding).toBe(tied);
      expect(new ReferenceModel(r).logits([1, 2, 3])[2]).toEqual(new ReferenceModel(w).logits([1, 2, 3])[2]);
    }
  });

  it('reads from an unaligned buffer', () => {
    const enc = encodeLlama2c(randomWeights(cfg, 4));
    const shifted = new Uint8Array(enc.length + 1).subarray(1);
    shifted.set(enc);
    expect(parseLlama2c(shifted).layers[0].wq).toEqual(parseLlama2c(enc).layers[0].wq);
  });

  it('malformed files give their error code', () => {
    const enc = encodeLlama2c(randomWeights(cfg, 5));
    expect(code(() => parseLlama2c(enc.subarray(0, 10)))).toBe('MODEL_ERR_TRUNCATED');
    expect(code(() => parseLlama2c(enc.subarray(0, enc.length - 4)))).toBe('MODEL_ERR_TRUNCATED');
    const longer = new Uint8Array(enc.length + 4);
    longer.set(enc);
    expect(code(() => parseLlama2c(longer))).toBe('MODEL_ERR_MALFORMED');
    const bad = enc.slice();
    new DataView(bad.buffer).setInt32(12, 3, true); // n_heads = 3 does not divide dim 16
    expect(code(() => parseLlama2c(bad))).toBe('MODEL_ERR_CONFIG');
    const gqa = enc.slice();
    new DataView(gqa.buffer).setInt32(16, 3, true); // n_kv_heads = 3 does not divide n_heads 4
    expect(code(() => parseLlama2c(gqa))).toBe('MODEL_ERR_CONFIG');
    const v1 = enc.slice();
    new DataView(v1.buffer).setUint32(0, 0x616b3432, true);
    expect(() => parseLlama2c(v1, 'x.bin')).toThrow(/version.*x\.bin/);
    expect(() => parseLlama2c(enc.subarray(0, 10), 'named.bin')).toThrow(/named\.bin/);
  });

  it('a missing file is MODEL_ERR_IO', async () => {
    await expect(loadLlama2c('/nonexistent/model.bin')).rejects.toMatchObject({ code: 'MODEL_ERR_IO', file: '/nonexistent/model.bin' });
  });
});
