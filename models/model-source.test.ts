import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { byteTokenizer, defaultModelPath, RANDOM_MODEL_CONFIG, randomModelWeights, repoRoot, tokenizerPathFor } from './model-source.js';
import { validateWeights } from './weights.js';

describe('model source', () => {
  const base = mkdtempSync(join(tmpdir(), 'mpcache-src-'));
  afterAll(() => rmSync(base, { recursive: true, force: true }));
  const root = join(base, 'repo');
  mkdirSync(root);

  it('defaultModelPath prefers models/default, then ../shared stories260K, else none', () => {
    expect(defaultModelPath(root)).toBeUndefined();
    const s = join(base, 'shared', 'models', 'stories260K');
    mkdirSync(s, { recursive: true });
    writeFileSync(join(s, 'stories260K.bin'), '');
    expect(defaultModelPath(root)).toBe(join(s, 'stories260K.bin'));
    mkdirSync(join(root, 'models', 'default'), { recursive: true });
    expect(defaultModelPath(root)).toBe(join(s, 'stories260K.bin')); // no config.json yet
    writeFileSync(join(root, 'models', 'default', 'config.json'), '{}');
    expect(defaultModelPath(root)).toBe(join(root, 'models', 'default'));
  });

  it('tokenizerPathFor finds tokenizer.json / tokenizer.bin / the one tok*.bin', () => {
    const d = join(base, 'm1');
    mkdirSync(d);
    writeFileSync(join(d, 'model.bin'), '');
    expect(() => tokenizerPathFor(join(d, 'model.bin'))).toThrow(/no tokenizer/);
    writeFileSync(join(d, 'tok512.bin'), '');
    expect(tokenizerPathFor(join(d, 'model.bin'))).toBe(join(d, 'tok512.bin'));
    writeFileSync(join(d, 'tokenizer.bin'), '');
    expect(tokenizerPathFor(join(d, 'model.bin'))).toBe(join(d, 'tokenizer.bin'));
    writeFileSync(join(d, 'tokenizer.json'), '');
    expect(tokenizerPathFor(d)).toBe(join(d, 'tokenizer.json'));
    expect(() => tokenizerPathFor('')).toThrow(TypeError);
  });

  it('the random stand-in: valid weights, deterministic, and a byte tokenizer that round-trips text', () => {
    const w = randomModelWeights();
    validateWeights(w);
    expect(w.config).toEqual(RANDOM_MODEL_CONFIG);
    expect(randomModelWeights().layers[0].wq).toEqual(w.layers[0].wq);
    const t = byteTokenizer();
    expect(t.vocabSize).toBe(RANDOM_MODEL_CONFIG.vocabSize);
    const ids = t.encode('héllo, world', { bos: true });
    expect(ids[0]).toBe(t.bos);
    expect(t.decode(ids)).toBe(' héllo, world'); // the dummy-prefix space is a byte token here, so it prints
  });

  it('repoRoot is the folder holding package.json', () => {
    expect(repoRoot()).toBe(join(import.meta.dirname, '..'));
  });
});
