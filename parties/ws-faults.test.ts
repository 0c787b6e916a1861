/**
 * Fault injection over real sockets in one process: parties 1 and 2 are real WsChannels,
 * party 0 is driven by the test (it runs the real handshake with its real or a wrong key,
 * then sends hand-made frames: tampered, replayed, reordered, oversized, garbage), or a rogue
 * client claims an unknown party. Every surviving party must fail with the documented code
 * within its timeout.
 */
import { describe, it, expect } from 'vitest';
import { WebSocket } from 'ws';
import type { PartyId } from '../protocols/channel.js';
import { MpcError } from '../protocols/errors.js';
import { FrameOpener, FrameSealer, type Frame } from './frame-codec.js';
import { type HandshakeIO, initiateHandshake } from './handshake.js';
import { generateIdentity, type Identity } from './identity.js';
import { makeLocalSession, type LocalSession } from './local-session.js';
import type { SessionOptions } from './session-config.js';
import { sessionDigest } from './session-digest.js';
import { WsChannel, type ConnectedParty } from './ws-channel.js';

const FAST: Partial<SessionOptions> = { recvTimeoutMs: 1000, handshakeTimeoutMs: 1500, heartbeatMs: 100, heartbeatTimeoutMs: 3000 };

interface ManualLink {
  readonly ws: WebSocket;
  readonly sealer: FrameSealer;
  readonly opener: FrameOpener;
  /** frames received from the real party */
  readonly received: (Frame | null)[];
  send(pieces: Buffer[]): void;
}

function socketIO(ws: WebSocket): HandshakeIO & { queue: Buffer[] } {
  const queue: Buffer[] = [];
  let waiter: ((b: Buffer) => void) | undefined;
  ws.on('message', (d: Buffer) => {
    if (waiter) {
      const w = waiter;
      waiter = undefined;
      w(d);
    } else queue.push(d);
  });
  return {
    queue,
    send: (m) => ws.send(m),
    next: () => (queue.length ? Promise.resolve(queue.shift()!) : new Promise((r) => (waiter = r))),
  };
}

/** Party 0 played by the test: dial `peers`, run the handshake with `identity`, send the seed frame. */
async function manualParty0(s: LocalSession, identity: Identity, peers: PartyId[] = [1, 2], wsOpts: { autoPong?: boolean } = {}): Promise<Map<PartyId, ManualLink>> {
  const links = new Map<PartyId, ManualLink>();
  await Promise.all(
    peers.map(async (peer) => {
      const p = s.config.parties[peer];
      let ws: WebSocket | undefined;
      for (let i = 0; i < 100 && !ws; i++) {
        ws = await new Promise<WebSocket | undefined>((resolve) => {
          const w = new WebSocket(`ws://${p.host}:${p.port}/`, { perMessageDeflate: false, ...wsOpts });
          w.once('open', () => resolve(w));
          w.once('error', () => setTimeout(() => resolve(undefined), 20));
        });
      }
      if (!ws) throw new Error(`cannot reach party ${peer}`);
      const io = socketIO(ws);
      const keys = await initiateHandshake(
        io,
        { sessionId: s.config.session, self: 0, secretKey: identity.secretKey, publicKeys: s.config.parties.map((x) => x.publicKey), mode: 'sealed', digest: sessionDigest(s.config) },
        peer,
      );
      const sealer = new FrameSealer(keys.sendKey, s.config.session);
      const opener = new FrameOpener(keys.recvKey, s.config.session, 1 << 30);
      const received: (Frame | null)[] = [];
      ws.removeAllListeners('message');
      const onBytes = (d: Buffer) => {
        try {
          received.push(opener.open(d));
        } catch {
          // the real party's frames are well formed; a close may cut one
        }
      };
      for (const b of io.queue.splice(0)) onBytes(b);
      ws.on('message', onBytes);
      const send = (pieces: Buffer[]) => ws!.send(Buffer.concat(pieces));
      send(sealer.seal({ kind: 'seed', seed: new Uint8Array(16).fill(7) }));
      links.set(peer, { ws, sealer, opener, received, send });
    }),
  );
  return links;
}

async function realParties(s: LocalSession, ids: PartyId[] = [1, 2]): Promise<ConnectedParty[]> {
  return Promise.all(ids.map((i) => WsChannel.connect({ session: s.config, self: i, identity: s.identities[i] })));
}

async function setup(opts: Partial<SessionOptions> = {}) {
  const s = await makeLocalSession({ ...FAST, ...opts });
  const realP = realParties(s);
  const p0 = await manualParty0(s, s.identities[0]);
  const [p1, p2] = await realP;
  return { s, p0, p1: p1.channel, p2: p2.channel };
}

async function failure(p: Promise<unknown>): Promise<MpcError> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(MpcError);
  return e as MpcError;
}

/** Wait for cond, polling every 10 ms; a counter (not the clock) bounds it: at least 20 s, whatever the load. */
const until = async (cond: () => boolean, polls = 2000) => {
  for (let i = 0; !cond(); i++) {
    if (i >= polls) throw new Error(`condition not reached after ${polls} polls`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('fault injection on the WebSocket transport', () => {
  it('a tampered frame: MPC_ERR_TAMPER at the receiver, MPC_ERR_ABORTED at the other party, the sender hears the abort', async () => {
    const { p0, p1, p2 } = await setup();
    const w1 = failure(p1.exchange({ step: 'in', recv: [0] }));
    const w2 = failure(p2.exchange({ step: 'in', recv: [0] }));
    const pieces = p0.get(1)!.sealer.seal({ kind: 'data', step: 'in', payload: new BigUint64Array([1n, 2n, 3n]) });
    const frame = Buffer.concat(pieces);
    frame[frame.length - 20] ^= 1; // a payload ciphertext byte
    p0.get(1)!.ws.send(frame);
    const e1 = await w1;
    expect(e1.code).toBe('MPC_ERR_TAMPER');
    expect([e1.party, e1.peer, e1.step]).toEqual([1, 0, 'in']);
    const e2 = await w2;
    expect(e2.code).toBe('MPC_ERR_ABORTED');
    expect(e2.message).toContain('MPC_ERR_TAMPER');
    await until(() => p0.get(1)!.received.some((f) => f?.kind === 'abort'));
    const ab = p0.get(1)!.received.find((f) => f?.kind === 'abort');
    expect(ab && ab.kind === 'abort' && ab.code).toBe('MPC_ERR_TAMPER');
  });

  it('a tampered part of a large payload (opened part by part: on a worker thread with more than 2 cores, else on the main thread): MPC_ERR_TAMPER', async () => {
    const { p0, p1, p2 } = await setup();
    const w1 = failure(p1.exchange({ step: 'big', recv: [0] }));
    const w2 = failure(p2.exchange({ step: 'big', recv: [0] }));
    const msgs = [...p0.get(1)!.sealer.sealParts({ kind: 'data', step: 'big', payload: new BigUint64Array(100_000) })];
    expect(msgs.length).toBeGreaterThan(2);
    const second = Buffer.concat(msgs[1]);
    second[1000] ^= 0x80;
    p0.get(1)!.ws.send(Buffer.concat(msgs[0]));
    p0.get(1)!.ws.send(second);
    for (const m of msgs.slice(2)) p0.get(1)!.ws.send(Buffer.concat(m));
    const e1 = await w1;
    expect(e1.code).toBe('MPC_ERR_TAMPER');
    expect([e1.party, e1.peer, e1.step]).toEqual([1, 0, 'big']);
    expect((await w2).code).toBe('MPC_ERR_ABORTED');
  });

  it('a replayed frame and a reordered frame: MPC_ERR_REPLAY', async () => {
    for (const mode of ['replay', 'reorder'] as const) {
      const { p0, p1, p2 } = await setup();
      const l = p0.get(1)!;
      const a = Buffer.concat(l.sealer.seal({ kind: 'data', step: 'a', payload: new Uint8Array([1]) }));
      const b = Buffer.concat(l.sealer.seal({ kind: 'data', step: 'b', payload: new Uint8Array([2]) }));
      const w2 = failure(p2.exchange({ step: 'a', recv: [0] }));
      if (mode === 'replay') {
        l.ws.send(a);
        l.ws.send(a);
        expect((await p1.exchange({ step: 'a', recv: [0] })).get(0)).toEqual(new Uint8Array([1]));
      } else {
        l.ws.send(b);
        l.ws.send(a);
      }
      const e1 = await failure(p1.exchange({ step: mode === 'replay' ? 'b' : 'a', recv: [0] }));
      expect(e1.code).toBe('MPC_ERR_REPLAY');
      expect(e1.peer).toBe(0);
      expect((await w2).code).toBe('MPC_ERR_ABORTED');
    }
  });

  it('an oversized frame: MPC_ERR_FRAME_TOO_LARGE (checked by ws before buffering it whole)', async () => {
    const { p0, p1, p2 } = await setup({ maxFrameBytes: 64 * 1024 });
    const w1 = failure(p1.exchange({ step: 'big', recv: [0] }));
    const w2 = failure(p2.exchange({ step: 'big', recv: [0] }));
    p0.get(1)!.send(p0.get(1)!.sealer.seal({ kind: 'data', step: 'big', payload: new Uint8Array(200 * 1024) }));
    const e1 = await w1;
    expect(e1.code).toBe('MPC_ERR_FRAME_TOO_LARGE');
    expect(e1.peer).toBe(0);
    expect((await w2).code).toBe('MPC_ERR_ABORTED');
    // and a local send over the limit is refused before anything goes out
    const { p1: q1 } = await setup({ maxFrameBytes: 1024 });
    expect((await failure(q1.exchange({ step: 'x', send: { 2: new Uint8Array(4096) } }))).code).toBe('MPC_ERR_FRAME_TOO_LARGE');
  });

  it('garbage bytes: MPC_ERR_BAD_FRAME', async () => {
    const { p0, p1, p2 } = await setup();
    const w1 = failure(p1.exchange({ step: 'g', recv: [0] }));
    const w2 = failure(p2.exchange({ step: 'g', recv: [0] }));
    const junk = Buffer.alloc(300);
    for (let i = 0; i < junk.length; i++) junk[i] = (i * 151 + 17) & 0xff;
    p0.get(1)!.ws.send(junk);
    const e1 = await w1;
    expect(e1.code).toBe('MPC_ERR_BAD_FRAME');
    expect((await w2).code).toBe('MPC_ERR_ABORTED');
  });

  it('a peer that disconnects mid-protocol: MPC_ERR_PEER_CLOSED on both survivors, at once', async () => {
    const { p0, p1, p2 } = await setup();
    const w1 = failure(p1.exchange({ step: 'k', recv: [0] }));
    const w2 = failure(p2.exchange({ step: 'k', recv: [0] }));
    for (const l of p0.values()) l.ws.terminate();
    // "at once": the close itself is the signal, not a receive timeout (whose code would be
    // MPC_ERR_TIMEOUT); a survivor may hear the other's abort before its own close
    for (const w of [w1, w2]) {
      const e = await w;
      expect(['MPC_ERR_PEER_CLOSED', 'MPC_ERR_ABORTED']).toContain(e.code);
      expect(e.step).toBe('k');
    }
    expect([p1.error?.code, p2.error?.code]).toContain('MPC_ERR_PEER_CLOSED');
  });

  it('a silent peer (no pong): heartbeat MPC_ERR_TIMEOUT while no exchange is pending', async () => {
    const s = await makeLocalSession({ ...FAST, heartbeatMs: 50, heartbeatTimeoutMs: 300 });
    const realP = realParties(s);
    await manualParty0(s, s.identities[0], [1, 2], { autoPong: false });
    const [p1, p2] = (await realP).map((p) => p.channel);
    await until(() => p1.error !== undefined && p2.error !== undefined);
    expect([p1.error?.code, p2.error?.code].sort()).toEqual(expect.arrayContaining(['MPC_ERR_TIMEOUT']));
    expect(p1.error?.code === 'MPC_ERR_TIMEOUT' ? p1.error.peer : p2.error?.peer).toBe(0);
  });

  it('the wrong key: MPC_ERR_AUTH', async () => {
    const s = await makeLocalSession(FAST);
    const c1 = failure(WsChannel.connect({ session: s.config, self: 1, identity: s.identities[1] }));
    const c2 = failure(WsChannel.connect({ session: s.config, self: 2, identity: s.identities[2] }));
    const impostor = failure(manualParty0(s, generateIdentity(), [1]));
    const e1 = await c1;
    expect(e1.code).toBe('MPC_ERR_AUTH');
    expect(e1.peer).toBe(0);
    expect(e1.message).toContain('failed to prove its identity');
    // party 2 is never contacted by the impostor: it hears of the failure from party 1, by
    // party 1's handshake reject (code MPC_ERR_AUTH) or, when their link was already up, its
    // abort (MPC_ERR_ABORTED); either way it names party 1 and the AUTH cause, never a timeout
    const e2 = await c2;
    expect(['MPC_ERR_AUTH', 'MPC_ERR_ABORTED']).toContain(e2.code);
    expect(e2.peer).toBe(1);
    expect(e2.message).toMatch(/party 1 (aborted the session )?with MPC_ERR_AUTH/);
    expect((await impostor).code).toBe('MPC_ERR_AUTH');
  });

  it('an unknown party or a foreign session id: MPC_ERR_AUTH, and the other party hears of it', async () => {
    for (const hello of [{ f: 7, s: undefined }, { f: 0, s: 'other-session' }]) {
      const s = await makeLocalSession(FAST);
      const c2 = WsChannel.connect({ session: s.config, self: 2, identity: s.identities[2] }).catch((x: unknown) => x);
      const c1 = WsChannel.connect({ session: s.config, self: 1, identity: s.identities[1] }).catch((x: unknown) => x);
      const rogue = new WebSocket(`ws://127.0.0.1:${s.config.parties[2].port}/`);
      await new Promise((r) => rogue.once('open', r));
      const { Packr } = await import('msgpackr');
      rogue.send(new Packr({ useRecords: false }).pack({ t: 'hello', v: 2, s: hello.s ?? s.config.session, f: hello.f, to: 2, m: 'sealed', e: new Uint8Array(32).fill(9) }));
      const e2 = (await c2) as MpcError;
      expect(e2).toBeInstanceOf(MpcError);
      expect(e2.code).toBe('MPC_ERR_AUTH');
      const e1 = (await c1) as MpcError;
      expect(e1).toBeInstanceOf(MpcError);
      // the rogue talks to party 2 only: party 1 hears of it from party 2 (reject or abort, as
      // in the wrong-key case), not by a handshake timeout
      expect(['MPC_ERR_AUTH', 'MPC_ERR_ABORTED']).toContain(e1.code);
      expect(e1.peer).toBe(2);
      expect(e1.message).toMatch(/party 2 (aborted the session )?with MPC_ERR_AUTH/);
      rogue.terminate();
    }
  });
});
