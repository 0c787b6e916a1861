/**
 * What an unauthenticated or failing peer can do over real loopback sockets: a connection may
 * bring at most PRE_AUTH_BYTES before it is authenticated (not a frame of maxFrameBytes), and
 * an abort frame tells the peers the code and a fixed text, never the local message.
 */
import { connect } from 'node:net';
import { describe, it, expect } from 'vitest';
import type { PartyId } from '../protocols/channel.js';
import { MpcError } from '../protocols/errors.js';
import { makeLocalSession } from './local-session.js';
import type { SessionOptions } from './session-config.js';
import { WsChannel } from './ws-channel.js';
import { PRE_AUTH_BYTES } from './ws-connector.js';

const FAST: Partial<SessionOptions> = { recvTimeoutMs: 1500, handshakeTimeoutMs: 3000, heartbeatMs: 200, heartbeatTimeoutMs: 3000 };

describe('WebSocket limits before and after authentication', () => {
  it('an unauthenticated connection that streams a huge frame is cut off after a few KiB with MPC_ERR_FRAME_TOO_LARGE', async () => {
    const s = await makeLocalSession(FAST);
    const port = s.config.parties[2].port;
    const c2 = WsChannel.connect({ session: s.config, self: 2, identity: s.identities[2] }).catch((x: unknown) => x);
    // a raw client: the WebSocket upgrade, then a binary frame that declares 64 MiB
    const sock = await new Promise<import('node:net').Socket>((resolve) => {
      const tryIt = () => {
        const c = connect(port, '127.0.0.1');
        c.once('connect', () => resolve(c));
        c.once('error', () => setTimeout(tryIt, 20));
      };
      tryIt();
    });
    let closed = false;
    let closedAt = 0;
    sock.on('close', () => ((closed = true), (closedAt = Date.now())));
    sock.on('error', () => undefined); // the party resets the connection: that is the point
    sock.write(`GET /mpcache HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`);
    await new Promise<void>((resolve) => sock.once('data', (d: Buffer) => (expect(d.toString('latin1')).toMatch(/^HTTP\/1\.1 101/), resolve())));
    const header = Buffer.alloc(14);
    header[0] = 0x82; // FIN, binary
    header[1] = 0x80 | 127; // masked, 64-bit length
    header.writeBigUInt64BE(64n << 20n, 2);
    sock.write(header); // mask bytes 10..13 are zero
    const t0 = Date.now();
    let sent = 0;
    for (let i = 0; i < 64 && !closed; i++) {
      sock.write(Buffer.alloc(4096, 0x41));
      sent += 4096;
      await new Promise((r) => setTimeout(r, 5));
    }
    const e = (await c2) as MpcError;
    expect(e).toBeInstanceOf(MpcError);
    expect(e.code).toBe('MPC_ERR_FRAME_TOO_LARGE');
    expect(e.message).toContain(`more than ${PRE_AUTH_BYTES} bytes from a connection before authentication`);
    expect(closed).toBe(true);
    expect(closedAt - t0).toBeLessThan(1000); // at once, not at the setup timeout
    expect(sent).toBeLessThan(64 * 4096); // cut off long before the 256 KiB were written
    sock.destroy();
  });

  it('an abort frame carries the code and a fixed text: a secret in the local message stays local', async () => {
    const s = await makeLocalSession(FAST);
    const ps = await Promise.all([0, 1, 2].map((i) => WsChannel.connect({ session: s.config, self: i as PartyId, identity: s.identities[i] })));
    await Promise.all(ps.map(({ channel }) => channel.exchange({ step: 'warm' })));
    const secret = 'character "Ω" of the prompt "zebra-quartz" is not in the vocabulary';
    const pending = [0, 2].map((i) =>
      ps[i].channel.exchange({ step: 'next', recv: [1] }).then(
        () => undefined,
        (x: unknown) => x as MpcError,
      ),
    );
    await ps[1].channel.abort(new MpcError('MPC_ERR_PROTOCOL', secret, { party: 1, step: 'next' }));
    for (const e of await Promise.all(pending)) {
      expect(e).toBeInstanceOf(MpcError);
      if (!e) continue;
      expect(e.code).toBe('MPC_ERR_ABORTED');
      expect(e.message).toContain('party 1 aborted the session with MPC_ERR_PROTOCOL: the protocol steps disagree there');
      expect(e.message).not.toMatch(/Ω|zebra|vocabulary/);
    }
    await Promise.all(ps.map((p) => p.channel.close()));
  });
});
