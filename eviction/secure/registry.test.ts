import { describe, expect, it } from 'vitest';
import { makeConfig } from '../../models/config.js';
import { secureFullPolicy } from './full.js';
import { createSecurePolicy, securePolicyNames } from './registry.js';

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
