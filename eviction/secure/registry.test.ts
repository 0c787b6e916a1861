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

  it("'mpcache' is MPCache-R; 'mpcache-v1' and 'mpcache-noshare' create the first secure MPCache with the paper's ratios", () => {
    expect(securePolicyNames()).toEqual(expect.arrayContaining(['full', 'mpcache', 'mpcache-v1', 'mpcache-noshare', 'streaming-llm', 'snapkv', 'quest', 'tova']));
    const r = createSecurePolicy('mpcache', config, { budget: { ratio: 0.1 } });
    expect(r.name).toBe('mpcache');
    expect(r.leaks).toBe('');
    expect(typeof r.attend).toBe('function');
    const p = createSecurePolicy('mpcache-v1', config) as ReturnType<typeof secureMpCachePolicy>;
    expect(p.name).toBe('mpcache-v1');
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
    const twin = createPlainTwin('mpcache-v1', config);
    expect(twin.params).toMatchObject({ share: true, ratio1: 0.5, alpha: 0.6, block2: 16 });
    expect(createPlainTwin('mpcache', config).params).toMatchObject({ share: false, recent: 16, pool: 7, obsWindow: 32, staticPerKvHead: true });
    for (const n of ['streaming-llm', 'snapkv', 'quest', 'tova']) expect(createPlainTwin(n, config, { budget: { ratio: 0.2 } }).name).toBe(n);
    expect(createPlainTwin('mpcache-noshare', config).params).toMatchObject({ share: false });
    expect(() => createPlainTwin('nope', config)).toThrow(RangeError);
  });
});
