import { describe, expect, it } from 'vitest';
import { makeTrio } from '../testing/trio.js';
import { MODEL_TRUNC_MODE, applyTruncPolicy } from './trunc-policy.js';
import { MemoryChannel } from '../parties/memory-channel.js';

describe('model truncation policy', () => {
  it('is faithful, installed on the context and shared with derived contexts; refuses unknown modes', () => {
    expect(MODEL_TRUNC_MODE).toBe('faithful');
    const [c0] = makeTrio();
    expect(c0.state.trunc.mode).toBe('prob'); // the protocol-level default
    const d = c0.derive(0, MemoryChannel.trio()[0], c0.drawSeeds());
    applyTruncPolicy(c0);
    expect(c0.state.trunc.mode).toBe('faithful');
    expect(d.state.trunc.mode).toBe('faithful');
    expect(d.traceId).toBe(`${c0.traceId}.0`);
    applyTruncPolicy(c0, 'prob');
    expect(d.state.trunc.mode).toBe('prob');
    expect(() => applyTruncPolicy(c0, 'fast' as never)).toThrow(RangeError);
  });
});
