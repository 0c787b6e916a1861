/**
 * The relay as a TCP component (in this process; timing is calibration.integration.test.ts's
 * business): bytes intact and in order, half-close behind the data, resets both ways, a target
 * that does not listen, back-pressure; then three party processes through a relay process.
 */
import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { runLocalParties } from '../launcher.js';
import { freePorts } from '../local-session.js';
import { Relay, PIECE_BYTES } from './relay.js';
import { parseNetSetting, type LinkShape } from './settings.js';

const quiet = () => undefined;

async function server(onConn: (s: Socket) => void): Promise<{ server: Server; port: number }> {
  const srv = createServer({ allowHalfOpen: true }, onConn);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  return { server: srv, port: (srv.address() as { port: number }).port };
}

async function relayTo(port: number, shape: LinkShape, maxQueuedBytes?: number): Promise<Relay> {
  return Relay.start({ shape, routes: [{ name: 't', listenHost: '127.0.0.1', listenPort: 0, targetHost: '127.0.0.1', targetPort: port }], seed: 5, maxQueuedBytes });
}

function dial(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port, allowHalfOpen: true });
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

function readAll(s: Socket): Promise<Buffer> {
  const parts: Buffer[] = [];
  return new Promise((resolve, reject) => {
    s.on('data', (b: Buffer) => parts.push(b));
    s.once('end', () => resolve(Buffer.concat(parts)));
    s.once('error', reject);
  });
}

describe('link-emulation relay', () => {
  it('carries bytes intact and in order both ways, with jitter and a rate limit; FIN travels behind the data', async () => {
    // the server reads everything until the client's FIN, then answers with the reversed bytes and ends
    const { server: srv, port } = await server((s) => {
      void readAll(s).then((got) => s.end(Buffer.from(got).reverse()));
    });
    const relay = await relayTo(port, parseNetSetting('rtt=4ms,rate=200mbit,jitter=1ms').link!);
    try {
      const c = await dial(relay.ports[0]);
      const back = readAll(c);
      // many small writes and some large ones, so pieces of both kinds queue and jitter
      const chunks: Buffer[] = [];
      for (let i = 0; i < 300; i++) chunks.push(randomBytes(i % 10 === 0 ? 3 * PIECE_BYTES + 17 : 1 + (i % 97)));
      for (const b of chunks) c.write(b);
      c.end();
      const sent = Buffer.concat(chunks);
      const got = await back;
      expect(got.equals(Buffer.from(sent).reverse())).toBe(true);
      const st = relay.stats();
      expect(st.directions.find((d) => d.direction === 'forward')!.bytes).toBe(sent.length);
      expect(st.directions.find((d) => d.direction === 'back')!.bytes).toBe(sent.length);
      expect(st.lateUs.count).toBeGreaterThan(0);
    } finally {
      await relay.close();
      srv.close();
    }
  });

  it('resets the dialer when the target does not listen, and passes a reset on to the other side', async () => {
    const [closedPort] = await freePorts(1);
    const relay = await relayTo(closedPort, parseNetSetting('rtt=1ms').link!);
    const c = await dial(relay.ports[0]);
    const err = await new Promise<NodeJS.ErrnoException>((resolve) => c.once('error', resolve));
    expect(err.code).toBe('ECONNRESET');
    await relay.close();

    let accepted!: (s: Socket) => void;
    const serverSide = new Promise<Socket>((r) => (accepted = r));
    const { server: srv, port } = await server((s) => accepted(s));
    const r2 = await relayTo(port, parseNetSetting('rtt=1ms').link!);
    try {
      const c2 = await dial(r2.ports[0]);
      c2.write('hello');
      const s = await serverSide;
      await new Promise((r) => s.once('data', r));
      const serverErr = new Promise<NodeJS.ErrnoException>((r) => s.once('error', r));
      c2.resetAndDestroy();
      expect((await serverErr).code).toBe('ECONNRESET');
    } finally {
      await r2.close();
      srv.close();
    }
  });

  it('holds at most about maxQueuedBytes per direction: back-pressure reaches the sender', async () => {
    let received = 0;
    const { server: srv, port } = await server((s) => s.on('data', (b: Buffer) => (received += b.length)));
    // 80 Mbit/s = 10 MB/s: 8 MiB take ~0.8 s; the relay may hold only 1 MiB of it at once
    const relay = await relayTo(port, parseNetSetting('rtt=2ms,rate=80mbit').link!, 1 << 20);
    try {
      const c = await dial(relay.ports[0]);
      const total = 8 << 20;
      const block = Buffer.alloc(1 << 20, 1);
      for (let i = 0; i < 8; i++) if (!c.write(block)) await new Promise((r) => c.once('drain', r));
      while (received < total) await new Promise((r) => setTimeout(r, 20));
      const fwd = relay.stats().directions.find((d) => d.direction === 'forward')!;
      expect(fwd.bytes).toBe(total);
      expect(fwd.pauses).toBeGreaterThan(0);
      // the threshold plus one read of the source (at most 64 KiB in Node) and what the target's socket holds
      expect(fwd.maxHeldBytes).toBeLessThan((1 << 20) + 4 * 65536);
      c.destroy();
    } finally {
      await relay.close();
      srv.close();
    }
  });

  it('three party processes run through a relay process; every round waits at least the one-way delay', async () => {
    const net = parseNetSetting('rtt=20ms,rate=100mbit');
    const rounds = 15;
    const r = await runLocalParties({
      jobModule: 'testing/party-jobs.ts#ticker',
      jobArgs: { rounds, pauseMs: 0 },
      net,
      onLine: quiet,
      recvTimeoutMs: 10_000,
      sessionOptions: { handshakeTimeoutMs: 20_000 },
      timeoutMs: 60_000,
    });
    expect(r.results).toEqual([rounds, rounds, rounds]);
    // each round needs a message from both peers, each held 10 ms by the relay (never released early)
    for (const s of r.stats) expect(s.jobMs).toBeGreaterThanOrEqual(rounds * 10);
    const relay = r.relay!;
    // the route to party 2 carries both links 0-2 and 1-2 (each connection shaped on its own)
    expect(relay.directions.map((d) => d.route).sort()).toEqual(['to-1', 'to-1', 'to-2', 'to-2']);
    expect(relay.connections).toBeGreaterThanOrEqual(3);
    for (const d of relay.directions) expect(d.bytes).toBeGreaterThan(rounds * 8);
    const wire = r.stats.reduce((a, s) => a + s.wire.wireBytesSent, 0);
    const relayed = relay.directions.reduce((a, d) => a + d.bytes, 0);
    // the relay carried every frame (plus the HTTP upgrade and the ws close/ping frames)
    expect(relayed).toBeGreaterThan(wire);
  });
});
