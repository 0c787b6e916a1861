import { describe, expect, it } from 'vitest';
import { MemoryChannel } from '../parties/memory-channel.js';
import { countBytesToPeers } from './peer-bytes.js';

describe('countBytesToPeers', () => {
  it('counts the payload bytes each party sends to each peer and passes the exchange on unchanged', async () => {
    const [a, b, c] = MemoryChannel.trio();
    const sentA = countBytesToPeers(a);
    const sentB = countBytesToPeers(b);
    const got = await Promise.all([
      a.exchange({ step: 's', send: { 1: new BigUint64Array(3), 2: new Uint8Array(5) }, recv: [1] }),
      b.exchange({ step: 's', send: { 0: new Uint8Array(7) }, recv: [0] }),
      c.exchange({ step: 's', recv: [0] }),
    ]);
    expect(sentA).toEqual([0, 24, 5]);
    expect(sentB).toEqual([7, 0, 0]);
    expect(got[0].get(1)!.byteLength).toBe(7);
    expect(got[2].get(0)!.byteLength).toBe(5);
    expect(a.stats.bytesSent).toBe(29);
  });
});
