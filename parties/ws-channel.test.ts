import { describe, it, expect } from 'vitest';
import type { PartyId } from '../protocols/channel.js';
import { MpcError } from '../protocols/errors.js';
import { makeLocalSession } from './local-session.js';
import { DEFAULT_SESSION_OPTIONS, type SessionOptions } from './session-config.js';
import { WsChannel, type ConnectedParty } from './ws-channel.js';

const FAST: Partial<SessionOptions> = { recvTimeoutMs: 1500, handshakeTimeoutMs: 2000, heartbeatMs: 200, heartbeatTimeoutMs: 1500 };

async function trio(opts: Partial<SessionOptions> = {}, insecurePlaintext = false): Promise<ConnectedParty[]> {
  const s = await makeLocalSession({ ...FAST, ...opts });
  return Promise.all(
    [0, 1, 2].map((i) => WsChannel.connect({ session: s.config, self: i as PartyId, identity: s.identities[i], insecurePlaintext })),
  );
}

async function closeAll(ps: ConnectedParty[]): Promise<void> {
  await Promise.all(ps.map((p) => p.channel.close()));
}

describe('WsChannel over loopback (three channels in one process)', () => {
  for (const plain of [false, true]) {
    it(`exchanges typed arrays in ${plain ? 'plaintext' : 'sealed'} mode and agrees on seeds`, async () => {
      const ps = await trio({}, plain);
      const [a, b, c] = ps;
      // pairwise seeds: next of i equals prev of i+1
      expect(Buffer.from(a.seeds.next)).toEqual(Buffer.from(b.seeds.prev));
      expect(Buffer.from(b.seeds.next)).toEqual(Buffer.from(c.seeds.prev));
      expect(Buffer.from(c.seeds.next)).toEqual(Buffer.from(a.seeds.prev));
      expect(Buffer.from(a.seeds.common)).toEqual(Buffer.from(b.seeds.common));
      expect(Buffer.from(a.seeds.common)).toEqual(Buffer.from(c.seeds.common));
      expect(Buffer.from(a.seeds.own)).not.toEqual(Buffer.from(b.seeds.own));
      expect(Buffer.from(a.seeds.next)).not.toEqual(Buffer.from(a.seeds.prev));
      const big = new BigUint64Array(300_000).map((_, i) => BigInt(i) * 0x9e3779b97f4a7c15n & 0xffffffffffffffffn);
      for (let round = 0; round < 3; round++) {
        const res = await Promise.all(
          ps.map(({ channel }) => {
            const me = channel.self;
            const send: Partial<Record<PartyId, BigUint64Array | Uint8Array>> = {};
            for (const to of [0, 1, 2] as PartyId[]) if (to !== me) send[to] = to === 0 ? big : new Uint8Array([me, to, round]);
            return channel.exchange({ step: `r${round}`, send, recv: ([0, 1, 2] as PartyId[]).filter((x) => x !== me) });
          }),
        );
        for (const from of [1, 2] as PartyId[]) {
          const got = res[0].get(from);
          expect(got).toBeInstanceOf(BigUint64Array);
          expect(Buffer.from((got as BigUint64Array).buffer, (got as BigUint64Array).byteOffset, got!.byteLength).equals(Buffer.from(big.buffer))).toBe(true);
        }
        expect(res[1].get(2)).toEqual(new Uint8Array([2, 1, round]));
        expect(res[2].get(1)).toEqual(new Uint8Array([1, 2, round]));
        expect(res[1].get(0)).toEqual(new Uint8Array([0, 1, round]));
      }
      expect(a.channel.stats.rounds).toBe(3);
      expect(a.channel.stats.byStep.get('r1')?.bytesReceived).toBe(2 * 2_400_000);
      // an orderly close needs no timer: every party ends closed, not timed out
      await closeAll(ps);
      expect(ps.map((p) => p.channel.error?.code)).toEqual(['MPC_ERR_CLOSED', 'MPC_ERR_CLOSED', 'MPC_ERR_CLOSED']);
    });
  }

  it('an empty round works and an orderly close raises nothing', async () => {
    const ps = await trio();
    await Promise.all(ps.map(({ channel }) => channel.exchange({ step: 'empty' })));
    await Promise.all(
      ps.map(({ channel }) => {
        const me = channel.self;
        const others = ([0, 1, 2] as PartyId[]).filter((x) => x !== me);
        return channel.exchange({ step: 'e', send: Object.fromEntries(others.map((o) => [o, new Uint8Array(0)])), recv: others });
      }),
    );
    await closeAll(ps);
    expect(ps.every((p) => p.channel.error?.code === 'MPC_ERR_CLOSED')).toBe(true);
  });

  it('a receive times out with MPC_ERR_TIMEOUT naming party, peer and step', async () => {
    const ps = await trio({ recvTimeoutMs: 200 });
    const t0 = performance.now();
    const e = await ps[0].channel.exchange({ step: 'lonely', recv: [1] }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(MpcError);
    expect((e as MpcError).code).toBe('MPC_ERR_TIMEOUT');
    expect((e as MpcError).party).toBe(0);
    expect((e as MpcError).peer).toBe(1);
    expect((e as MpcError).step).toBe('lonely');
    // it is this session's receive timeout that fired (200 ms; the default is 30 s): timers
    // never fire early, and any delay under load stays far below the default
    const waited = performance.now() - t0;
    expect(waited).toBeGreaterThanOrEqual(190);
    expect(waited).toBeLessThan(DEFAULT_SESSION_OPTIONS.recvTimeoutMs / 2);
    // the others hear the abort
    const e1 = await ps[1].channel.exchange({ step: 'x', recv: [2] }).catch((x: unknown) => x);
    expect((e1 as MpcError).code).toBe('MPC_ERR_ABORTED');
    await closeAll(ps);
  });
});
