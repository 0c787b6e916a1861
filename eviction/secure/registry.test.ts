import { describe, expect, it } from 'vitest';
import { makeConfig } from '../../models/config.js';
import { secureFullPolicy } from './full.js';
import { secureMpCachePolicy } from './mpcache.js';
import { createPlainTwin, createSecurePolicy, securePolicyNames } from './registry.js';

describe('secure policy registry', () => {
  const config = makeConfig({ dim: 8, hiddenDim: 8, nLayers: 1, nHeads: 2, vocabSize: 4, maxSeqLen: 8 });

  it("'full' keeps everything: no hooks, nothing leaked", () => {
    const p = secureFullPolicy();
    expect(p.name).toBe('full');
    expect(p.leaks).toBe('');
    expect(p.afterPrefill).toBeUndefined();
    expect(p.selectForStep).toBeUndefined();
    expect(p.onAppend).toBeUndefined();
    expect(createSecurePolicy('full', config).name).toBe('full');
    expect(securePolicyNames()).toContain('full');
  });

  it('rejects unknown names, listing the known ones', () => {
    expect(() => createSecurePolicy('nope', config)).toThrow(/policy must be one of .*full/);
    expect(() => createSecurePolicy('toString', config)).toThrow(RangeError);
  });
});

describe('secure policy registry: MPCache', () => {
  const config = makeConfig({ dim: 16, hiddenDim: 16, nLayers: 6, nHeads: 4, nKvHeads: 2, vocabSize: 4, maxSeqLen: 64 });

  it("'mpcache' and 'mpcache-noshare' create the secure MPCache with the paper's defaults", () => {
    expect(securePolicyNames()).toEqual(expect.arrayContaining(['full', 'mpcache', 'mpcache-noshare']));
    const p = createSecurePolicy('mpcache', config) as ReturnType<typeof secureMpCachePolicy>;
    expect(p.name).toBe('mpcache');
    expect(p.leaks).toBe('');
    expect(p.params).toMatchObject({ staticRatio: 0.3, ratio1: 0.5, ratio2: 0.2, alpha: 0.6, block2: 16, block1: 32, share: true, keepRule: 'topk' });
    expect(typeof p.attend).toBe('function');
    expect(createSecurePolicy('mpcache-noshare', config).name).toBe('mpcache-noshare');
    expect(secureMpCachePolicy(config, { keepRule: 'threshold' }).leaks).toMatch(/number of prompt tokens/);
  });
});

describe('secure policy registry: plaintext twins', () => {
  it('every secure policy names a plain twin with the same parameters', () => {
    const config = makeConfig({ dim: 16, hiddenDim: 16, nLayers: 6, nHeads: 4, nKvHeads: 2, vocabSize: 4, maxSeqLen: 64 });
    expect(createPlainTwin('full', config).name).toBe('full');
    const twin = createPlainTwin('mpcache', config);
    expect(twin.params).toMatchObject({ share: true, ratio1: 0.5, alpha: 0.6, block2: 16 });
    expect(createPlainTwin('mpcache-noshare', config).params).toMatchObject({ share: false });
    expect(() => createPlainTwin('nope', config)).toThrow(RangeError);
  });
});
