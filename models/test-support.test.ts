import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { describe, expect, it, vi } from 'vitest';
import { isCi, stories260kPresent } from './test-support.js';

describe('stories260kPresent (the ../shared model the known-answer tests need)', () => {
  const missing = join(tmpdir(), 'mpcache-no-such-shared-dir', 'stories260K');

  it('fails loudly when the model is missing and CI is set', () => {
    expect(() => stories260kPresent({ CI: '1' }, missing)).toThrow(/CI is set/);
    expect(() => stories260kPresent({ CI: 'true' }, missing)).toThrow(/stories260K not found/);
  });

  it('outside CI it skips and says so', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      expect(stories260kPresent({}, missing)).toBe(false);
      expect(stories260kPresent({ CI: '0' }, missing)).toBe(false);
      expect(warn).toHaveBeenCalledTimes(2);
      expect(String(warn.mock.calls[0][0])).toMatch(/^SKIP: stories260K not found/);
    } finally {
      warn.mockRestore();
    }
  });

  it('reads CI the way CI services set it', () => {
    expect([isCi({}), isCi({ CI: '' }), isCi({ CI: '0' }), isCi({ CI: 'false' }), isCi({ CI: 'FALSE' })]).toEqual([false, false, false, false, false]);
    expect([isCi({ CI: '1' }), isCi({ CI: 'true' }), isCi({ CI: 'yes' })]).toEqual([true, true, true]);
  });
});
