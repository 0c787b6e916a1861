/**
 * The handshake binds the whole session description (session-digest.ts) and speaks version 2:
 * real WsChannels over loopback sockets, parties whose session files or options differ, an old
 * (version 1) peer, and a peer that lies about its description.
 */
import { describe, it, expect } from 'vitest';
import { WebSocket } from 'ws';
import { Packr } from 'msgpackr';
import type { PartyId } from '../protocols/channel.js';
import { MpcError } from '../protocols/errors.js';
import { initiateHandshake, type HandshakeIO } from './handshake.js';
import { makeLocalSession } from './local-session.js';
import type { SessionConfig, SessionOptions } from './session-config.js';
import { sessionDigest } from './session-digest.js';
import { WsChannel } from './ws-channel.js';

const FAST: Partial<SessionOptions> = { recvTimeoutMs: 1000, handshakeTimeoutMs: 1500, heartbeatMs: 100, heartbeatTimeoutMs: 3000 };
const packr = new Packr({ useRecords: false, moreTypes: false, mapsAsObjects: true });

function connectAll(configs: readonly SessionConfig[], ids: readonly Parameters<typeof WsChannel.connect>[0]['identity'][], overrides: (Partial<SessionOptions> | undefined)[] = []): Promise<unknown>[] {
  return [0, 1, 2].map((i) =>
    WsChannel.connect({ session: configs[i], self: i as PartyId, identity: ids[i], overrides: overrides[i] }).then(
      async (c) => {
        await c.channel.close();
        return c;
      },
      (e: unknown) => e,
    ),
  );
}

async function rawSocket(port: number): Promise<{ ws: WebSocket; next(): Promise<Record<string, unknown>> }> {
  for (let i = 0; i < 100; i++) {
    const ws = await new Promise<WebSocket | undefined>((resolve) => {
      const w = new WebSocket(`ws://127.0.0.1:${port}/`, { perMessageDeflate: false });
      w.once('open', () => resolve(w));
      w.once('error', () => setTimeout(() => resolve(undefined), 20));
    });
    if (ws) {
      const queue: Buffer[] = [];
      let waiter: ((b: Buffer) => void) | undefined;
      ws.on('message', (d: Buffer) => (waiter ? (waiter(d), (waiter = undefined)) : queue.push(d)));
      const next = async () => packr.unpack(queue.length ? queue.shift()! : await new Promise<Buffer>((r) => (waiter = r))) as Record<string, unknown>;
      return { ws, next };
    }
  }
  throw new Error('cannot reach the party');
}

describe('handshake: the session description is bound and compared', () => {
  it('a party with another fracBits fails at setup with MPC_ERR_CONFIG_MISMATCH naming the option and both values', async () => {
    const s = await makeLocalSession(FAST);
    const rs = await Promise.all(connectAll([s.config, s.config, s.config], s.identities, [undefined, { fracBits: 16 }]));
    const errs = rs as MpcError[];
    for (const e of errs) expect(e).toBeInstanceOf(MpcError);
    for (const p of [0, 1]) {
      expect(errs[p].code).toBe('MPC_ERR_CONFIG_MISMATCH');
      expect(errs[p].message).toMatch(/option 'fracBits' differs: party \d \(this party\) has 1[68], party \d has 1[68]/);
    }
    expect(errs[1].message).toContain('party 1 (this party) has 16');
    expect(errs[0].message).toContain('party 0 (this party) has 18, party 1 has 16');
    // nobody waits for the setup timeout (that would be MPC_ERR_TIMEOUT): party 2 hears of the
    // mismatch from a peer, by its reject or its abort
    expect(['MPC_ERR_CONFIG_MISMATCH', 'MPC_ERR_ABORTED']).toContain(errs[2].code);
  });

  it('different party lists fail with MPC_ERR_CONFIG_MISMATCH naming the entry and field', async () => {
    const s = await makeLocalSession(FAST);
    // party 2's file names party 0's host differently (party 0 never listens, so every link still connects)
    const other: SessionConfig = { ...s.config, parties: [{ ...s.config.parties[0], host: 'localhost' }, s.config.parties[1], s.config.parties[2]] };
    const errs = (await Promise.all(connectAll([s.config, s.config, other], s.identities))) as MpcError[];
    expect(errs[2]).toBeInstanceOf(MpcError);
    expect(errs[2].code).toBe('MPC_ERR_CONFIG_MISMATCH');
    expect(errs[2].message).toMatch(/parties\[0\]\.host differs between the session files of party 2 \(this party\) and party [01]/);
    for (const p of [0, 1]) expect(['MPC_ERR_CONFIG_MISMATCH', 'MPC_ERR_ABORTED']).toContain(errs[p].code);
    // party 2 refuses both hellos; whoever hears its reject computes the same difference
    expect(errs.filter((e, i) => i < 2 && /parties\[0\]\.host differs between the session files of party [01] \(this party\) and party 2/.test(e.message)).length).toBeGreaterThan(0);
  });

  it('an old (version 1) peer is refused with MPC_ERR_CONFIG_MISMATCH naming both versions, in a reject it can read', async () => {
    const s = await makeLocalSession(FAST);
    const c2 = WsChannel.connect({ session: s.config, self: 2, identity: s.identities[2] }).catch((x: unknown) => x);
    const { ws, next } = await rawSocket(s.config.parties[2].port);
    // exactly what a release with handshake version 1 sends
    ws.send(packr.pack({ t: 'hello', v: 1, s: s.config.session, f: 1, to: 2, m: 'sealed', e: new Uint8Array(32).fill(9) }));
    const reply = await next();
    expect(reply.t).toBe('reject');
    expect(reply.c).toBe('MPC_ERR_CONFIG_MISMATCH');
    expect(String(reply.m)).toContain('handshake version 2');
    const e = (await c2) as MpcError;
    expect(e).toBeInstanceOf(MpcError);
    expect(e.code).toBe('MPC_ERR_CONFIG_MISMATCH');
    expect(e.message).toContain('party 1 speaks handshake version 1, this party version 2');
    ws.terminate();
  });

  it('a newer party dialing an old (version 1) listener reports MPC_ERR_CONFIG_MISMATCH', async () => {
    const s = await makeLocalSession(FAST);
    // an old listener: answers any other version with its fixed reject
    const { WebSocketServer } = await import('ws');
    const server = new WebSocketServer({ host: '127.0.0.1', port: s.config.parties[1].port });
    server.on('connection', (w) => w.once('message', () => w.send(packr.pack({ t: 'reject', f: 1, c: 'MPC_ERR_BAD_FRAME', m: 'expected a version 1 hello message' }))));
    try {
      const e = (await WsChannel.connect({ session: s.config, self: 0, identity: s.identities[0] }).catch((x: unknown) => x)) as MpcError;
      expect(e).toBeInstanceOf(MpcError);
      expect(e.code).toBe('MPC_ERR_CONFIG_MISMATCH');
      expect(e.message).toContain('party 1 speaks handshake version 1');
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it('the description hash is in the signed transcript: a peer that sends the right field hashes but holds another description fails MPC_ERR_AUTH', async () => {
    const s = await makeLocalSession(FAST);
    const c1 = WsChannel.connect({ session: s.config, self: 1, identity: s.identities[1] }).catch((x: unknown) => x);
    const { ws } = await rawSocket(s.config.parties[1].port);
    const queue: Buffer[] = [];
    let waiter: ((b: Buffer) => void) | undefined;
    ws.removeAllListeners('message');
    ws.on('message', (d: Buffer) => (waiter ? (waiter(d), (waiter = undefined)) : queue.push(d)));
    const io: HandshakeIO = { send: (m) => ws.send(m), next: () => (queue.length ? Promise.resolve(queue.shift()!) : new Promise((r) => (waiter = r))) };
    const real = sessionDigest(s.config);
    const lying = { ...real, hash: sessionDigest(s.config, { ...s.config.options, fracBits: 12 }).hash };
    const mine = initiateHandshake(io, { sessionId: s.config.session, self: 0, secretKey: s.identities[0].secretKey, publicKeys: s.config.parties.map((p) => p.publicKey), mode: 'sealed', digest: lying }, 1).catch((x: unknown) => x);
    // the liar computes another transcript: the listener's signature does not verify for it, and it is refused
    const e0 = (await mine) as MpcError;
    expect(e0.code).toBe('MPC_ERR_AUTH');
    expect(e0.message).toContain('failed to prove its identity');
    expect(((await c1) as MpcError).code).toBe('MPC_ERR_AUTH');
    ws.terminate();
  });
});
