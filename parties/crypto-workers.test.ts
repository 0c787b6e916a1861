/**
 * Large sealed payloads with and without worker threads (cryptoWorkers): the same bytes arrive
 * either way; the worker pool itself seals/opens and rejects a tampered part.
 */
import { describe, it, expect } from 'vitest';
import { randomBytes } from 'node:crypto';
import type { PartyId, Payload } from '../protocols/channel.js';
import { CryptoPool } from './crypto-pool.js';
import { makeLocalSession } from './local-session.js';
import { WsChannel } from './ws-channel.js';

const FAST = { recvTimeoutMs: 5000, handshakeTimeoutMs: 5000, heartbeatMs: 200, heartbeatTimeoutMs: 5000 };

function bytesOf(p: Payload): Buffer {
  return Buffer.from(p.buffer, p.byteOffset, p.byteLength);
}

describe('large sealed payloads on worker threads or on the main thread', () => {
  for (const cryptoWorkers of [0, 2]) {
    it(`cryptoWorkers ${cryptoWorkers}: multi-part u64 and odd-sized u8 payloads arrive intact`, async () => {
      const s = await makeLocalSession(FAST);
      const ps = await Promise.all([0, 1, 2].map((i) => WsChannel.connect({ session: s.config, self: i as PartyId, identity: s.identities[i], cryptoWorkers })));
      try {
        const words = new BigUint64Array(300_001); // 2.4 MB: ten parts, the last one short
        new Uint8Array(words.buffer).set(randomBytes(words.byteLength));
        const odd = new Uint8Array(randomBytes(1_048_579)); // not a multiple of 8
        for (let round = 0; round < 2; round++) {
          const res = await Promise.all(
            ps.map(({ channel }) => {
              const me = channel.self;
              const send: Partial<Record<PartyId, Payload>> = {};
              if (me === 0) Object.assign(send, { 1: words, 2: odd });
              if (me === 1) Object.assign(send, { 0: odd });
              return channel.exchange({ step: `big${round}`, send, recv: me === 0 ? [1] : me === 1 ? [0] : [0] });
            }),
          );
          const w = res[1].get(0)!;
          expect(w).toBeInstanceOf(BigUint64Array);
          expect(bytesOf(w).equals(bytesOf(words))).toBe(true);
          const o2 = res[2].get(0)!;
          expect(o2).toBeInstanceOf(Uint8Array);
          expect(bytesOf(o2).equals(bytesOf(odd))).toBe(true);
          expect(bytesOf(res[0].get(1)!).equals(bytesOf(odd))).toBe(true);
        }
        // the worker pool runs exactly when asked for
        expect(ps.map((p) => p.channel.cryptoThreads)).toEqual(cryptoWorkers ? [cryptoWorkers, cryptoWorkers, cryptoWorkers] : [0, 0, 0]);
      } finally {
        await Promise.all(ps.map((p) => p.channel.close()));
      }
    });
  }

  it('rejects a bad worker count', async () => {
    const s = await makeLocalSession(FAST);
    await expect(WsChannel.connect({ session: s.config, self: 0, identity: s.identities[0], cryptoWorkers: -1 })).rejects.toThrow(RangeError);
  });
});

describe('CryptoPool', () => {
  it('seals and opens; a flipped ciphertext, tag or AAD byte fails authentication', async () => {
    const pool = new CryptoPool(2);
    try {
      const key = randomBytes(32);
      const nonce = randomBytes(12);
      const aad = randomBytes(12);
      const plain = new Uint8Array(randomBytes(300_000));
      const copy = Buffer.from(plain);
      const msg = await pool.seal(key, nonce, aad, plain.slice());
      expect(msg.byteLength).toBe(12 + plain.byteLength + 16);
      expect(Buffer.from(msg.subarray(0, 12)).equals(aad)).toBe(true);
      const open = (m: Uint8Array, a: Uint8Array = aad) => pool.open(key, nonce, a, m.slice(), 12, m.byteLength - 12 - 16);
      const opened = await open(msg);
      expect(opened && Buffer.from(opened).equals(copy)).toBe(true);
      for (const at of [12, 12 + 150_000, msg.byteLength - 1]) {
        const bad = msg.slice();
        bad[at] ^= 1;
        expect(await open(bad)).toBeNull();
      }
      const badAad = Buffer.from(aad);
      badAad[0] ^= 1;
      expect(await open(msg, badAad)).toBeNull();
    } finally {
      await pool.close();
    }
  });
});
