/** The generate job's prefill progress line (issue #14). */
import { describe, expect, it } from 'vitest';
import { PREFILL_LINE_PREFIX, formatPrefillProgress } from './generate-args.js';

describe('prefill progress line', () => {
  it('shows layer, tokens, elapsed and the estimate; done at the end', () => {
    const base = { layer: 2, layers: 6, tokens: 972, tokensDone: 480, fraction: 0.41, elapsedMs: 12_400, remainingMs: 29_600 };
    expect(formatPrefillProgress(base)).toBe(`${PREFILL_LINE_PREFIX}layer 3/6, 480/972 tokens, 12 s, ~30 s to go`);
    expect(formatPrefillProgress({ ...base, layer: 5, tokensDone: 972, fraction: 1, remainingMs: 0 })).toBe('prefill: layer 6/6, 972/972 tokens, 12 s, done');
    expect(formatPrefillProgress({ ...base, remainingMs: Number.NaN })).toBe('prefill: layer 3/6, 480/972 tokens, 12 s');
  });
});
