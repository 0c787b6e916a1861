/**
 * Session setup of the WebSocket transport: listening, dialing, the handshakes
 * (handshake.ts) and the seed agreement, up to the moment both links are up; and, when this
 * party fails during setup, telling every peer before giving up.
 *
 * Topology: the LOWER party id dials the HIGHER one (0 -> 1, 0 -> 2, 1 -> 2), retrying every
 * 50 ms until the peer listens or the handshake timeout passes. Party 0 therefore never
 * listens; party 2 never dials. Once both links are up the listener is closed, so a session
 * accepts exactly two connections per listening party.
 *
 * Seed agreement: right after its handshake each side sends a `seed` frame with 16 random
 * bytes (the same bytes to both peers); the channel hands them here (onSeed), and setup is
 * done once both links are up and both seeds arrived.
 *
 * States (`state`): 'connecting' (listening and/or dialing, until both links and seeds are
 * in or the setup deadline passes) -> 'ready' (the channel runs; the listener is closed) ->
 * 'closed'; or, on a failure during setup, 'connecting' -> 'lingering' (until the setup
 * deadline: late connections are answered with a reject, peers not told yet are dialed and
 * told, so no peer waits for its own timeout) -> 'closed'.
 *
 * Failures during setup (fail-closed; the channel aborts the session): any handshake
 * problem on any connection -> MPC_ERR_AUTH (also for a connection claiming an unknown or
 * duplicate party), MPC_ERR_CONFIG_MISMATCH for a different session description or handshake
 * version, MPC_ERR_BAD_FRAME for undecodable handshake messages, MPC_ERR_FRAME_TOO_LARGE for
 * more than PRE_AUTH_BYTES on a connection before it is authenticated; no listener ->
 * MPC_ERR_CONFIG; setup longer than handshakeTimeoutMs -> MPC_ERR_TIMEOUT; a peer's reject
 * -> MPC_ERR_AUTH or MPC_ERR_ABORTED.
 */
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import type { PartyId } from '../protocols/channel.js';
import { MpcError, isMpcError } from '../protocols/errors.js';
import {
  type HandshakeIO,
  type HandshakeParams,
  type LinkKeys,
  initiateHandshake,
  peekHandshake,
  rejectMessage,
  respondHandshake,
} from './handshake.js';
import type { SessionConfig, SessionOptions } from './session-config.js';
import { rawBytes, wsErrorOf } from './ws-link.js';

const RETRY_MS = 50;
/**
 * most bytes a connection may bring before it is authenticated: its two handshake messages
 * (at most 1024 bytes each), the peer's seed frame that may follow its last one, ws headers
 */
export const PRE_AUTH_BYTES = 8 * 1024;

export type ConnectorState = 'connecting' | 'ready' | 'lingering' | 'closed';

/** What the connector needs from the channel it sets up. */
export interface ConnectorHost {
  readonly self: PartyId;
  readonly session: SessionConfig;
  readonly options: SessionOptions;
  /** the largest ws message accepted */
  readonly maxPayload: number;
  readonly handshake: HandshakeParams;
  err(code: MpcError['code'], msg: string, peer?: PartyId, cause?: unknown): MpcError;
  fail(e: MpcError): void;
  /** a link to `keys.peer` finished its handshake on `ws`; `leftover`: messages that came after the handshake's last */
  linkUp(ws: WebSocket, keys: LinkKeys, leftover: Uint8Array[]): void;
  hasLink(peer: PartyId): boolean;
  /** setup completed (called right before `start` resolves) */
  onReady(): void;
  /** a line saying whom this party still waits for (WAIT_NOTICE_MS after the start, then every WAIT_REPEAT_MS) */
  readonly onWaiting?: (line: string) => void;
}

/** first "waiting for" line after this long (or a quarter of a shorter setup window) */
export const WAIT_NOTICE_MS = 1000;
/** then again every this long */
export const WAIT_REPEAT_MS = 5000;

/**
 * Messages on a socket during its handshake; a socket that closes or errors meanwhile ends
 * the handshake with the error `onEnd` builds.
 */
class HandshakeQueue implements HandshakeIO {
  private readonly queue: Uint8Array[] = [];
  private waiter: { resolve(b: Uint8Array): void; reject(e: Error): void } | undefined;
  private error: MpcError | undefined;
  readonly onMessage = (data: RawData): void => {
    const b = rawBytes(data);
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      w.resolve(b);
    } else this.queue.push(b);
  };
  private readonly onClose = (code: number): void => this.stop(this.onEnd(undefined, code));
  private readonly onError = (e: Error): void => this.stop(this.onEnd(e, 0));
  constructor(
    private readonly ws: WebSocket,
    private readonly onEnd: (e: Error | undefined, code: number) => MpcError,
  ) {
    ws.on('message', this.onMessage);
    ws.on('close', this.onClose);
    ws.on('error', this.onError);
  }
  send(msg: Uint8Array): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(msg);
  }
  next(): Promise<Uint8Array> {
    const b = this.queue.shift();
    if (b) return Promise.resolve(b);
    if (this.error) return Promise.reject(this.error);
    return new Promise((resolve, reject) => (this.waiter = { resolve, reject }));
  }
  stop(e: MpcError): void {
    this.error ??= e;
    const w = this.waiter;
    this.waiter = undefined;
    w?.reject(e);
  }
  /** Detach; returns messages that arrived after the handshake's last one. */
  detach(): Uint8Array[] {
    this.ws.off('message', this.onMessage);
    this.ws.off('close', this.onClose);
    this.ws.off('error', this.onError);
    return this.queue.splice(0);
  }
}

/** The sender id of a hello or reject message, if `bytes` is one. */
function helloSender(bytes: Uint8Array): PartyId | undefined {
  const m = peekHandshake(bytes);
  return m && (m.t === 'hello' || m.t === 'reject') && (m.f === 0 || m.f === 1 || m.f === 2) ? m.f : undefined;
}

export class WsConnector {
  private current: ConnectorState = 'connecting';
  /** every socket of the session (handshaking, linked, lingering) */
  readonly sockets = new Set<WebSocket>();
  private server: WebSocketServer | undefined;
  /** the setup deadline and dial retries */
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly seedsIn = new Map<PartyId, Uint8Array>();
  private setupDone: { resolve(): void; reject(e: MpcError): void } | undefined;
  /** setup deadline (ms since epoch) */
  private deadline = 0;
  /** peers already told that this party failed (reject message or abort frame) */
  private readonly told = new Set<PartyId>();
  /** sockets this party dialed, by peer */
  private readonly dialing = new Map<WebSocket, PartyId>();
  /** accepted sockets, by the party their hello claims */
  private readonly claimed = new Map<WebSocket, PartyId>();
  /** lifts the pre-authentication byte cap of a socket (capPreAuth) */
  private readonly preAuth = new Map<WebSocket, () => void>();
  /** while lingering after a failed setup: the error to answer late connections with */
  private lingerError: MpcError | undefined;
  private lingerCheck: (() => void) | undefined;

  constructor(private readonly host: ConnectorHost) {}

  get state(): ConnectorState {
    return this.current;
  }

  /** The peers' seeds (complete once setup resolved). */
  seedOf(peer: PartyId): Uint8Array | undefined {
    return this.seedsIn.get(peer);
  }

  /**
   * Listen / dial per the topology; resolves once both links are up and both seeds arrived;
   * rejects (only once the channel has shut down, so peers have been told) on failure.
   */
  start(listenHost: string | undefined): Promise<void> {
    const h = this.host;
    const done = new Promise<void>((resolve, reject) => (this.setupDone = { resolve, reject }));
    const deadline = Date.now() + h.options.handshakeTimeoutMs;
    this.deadline = deadline;
    this.timer(() => {
      const missing = [0, 1, 2].filter((i) => i !== h.self && !(h.hasLink(i as PartyId) && this.seedsIn.has(i as PartyId)));
      h.fail(h.err('MPC_ERR_TIMEOUT', `setup with part${missing.length > 1 ? 'ies' : 'y'} ${missing.join(', ')} did not complete within ${h.options.handshakeTimeoutMs} ms`, missing.length === 1 ? (missing[0] as PartyId) : undefined));
    }, h.options.handshakeTimeoutMs);
    if (h.self > 0) this.listen(listenHost ?? h.session.parties[h.self].host);
    for (let peer = h.self + 1; peer <= 2; peer++) this.dial(peer as PartyId, deadline);
    if (h.onWaiting) {
      const notice = () => {
        if (this.current !== 'connecting') return;
        const missing = ([0, 1, 2] as PartyId[]).filter((i) => i !== h.self && !(h.hasLink(i) && this.seedsIn.has(i)));
        if (missing.length === 0) return;
        const who = missing.map((i) => {
          const p = h.session.parties[i];
          return `party ${i} (${i < h.self ? `dials in from ${p.host}` : `listening at ${p.host}:${p.port}`})`;
        });
        const left = Math.max(0, Math.ceil((deadline - Date.now()) / 1000));
        h.onWaiting?.(`party ${h.self}: waiting for ${who.join(' and ')}; setup window ${h.options.handshakeTimeoutMs / 1000} s, ${left} s left`);
        this.timer(notice, WAIT_REPEAT_MS);
      };
      this.timer(notice, Math.min(WAIT_NOTICE_MS, Math.max(1, Math.floor(h.options.handshakeTimeoutMs / 4))));
    }
    return done;
  }

  /** The seed frame of `peer` arrived. */
  onSeed(peer: PartyId, seed: Uint8Array): void {
    this.seedsIn.set(peer, seed);
    this.checkSetup();
  }

  private checkSetup(): void {
    const h = this.host;
    if (!this.setupDone || this.current !== 'connecting') return;
    for (const peer of [0, 1, 2] as PartyId[]) {
      if (peer !== h.self && !(h.hasLink(peer) && this.seedsIn.has(peer))) return;
    }
    const d = this.setupDone;
    this.setupDone = undefined;
    this.stopTimers(); // the setup deadline and any dial retries
    this.current = 'ready';
    h.onReady();
    this.closeServer();
    d.resolve();
  }

  private timer(fn: () => void, ms: number): NodeJS.Timeout {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
    return t;
  }

  stopTimers(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  private listen(host: string): void {
    const h = this.host;
    const me = h.session.parties[h.self];
    const server = new WebSocketServer({
      host,
      port: me.port,
      perMessageDeflate: false,
      maxPayload: h.maxPayload,
      skipUTF8Validation: true,
      clientTracking: false,
    });
    this.server = server;
    server.on('error', (e: NodeJS.ErrnoException) => {
      h.fail(new MpcError('MPC_ERR_CONFIG', `party ${h.self} cannot listen on ${host}:${me.port}: ${e.code ?? e.message}`, { party: h.self, step: 'setup', cause: e }));
    });
    server.on('connection', (ws, req) => {
      this.capPreAuth(ws, req.socket, undefined);
      if (this.current !== 'connecting') {
        this.answerLate(ws);
        return;
      }
      this.track(ws);
      const q = this.handshakeQueue(ws, undefined);
      respondHandshake(q, h.handshake, (id) => {
        this.claimed.set(ws, id as PartyId);
        if (id === h.self) return `hello from party ${id}, which is this party`;
        if (id > h.self) return `party ${id} must be dialed by this party, not dial it (the lower id dials)`;
        if (h.hasLink(id as PartyId)) return `a second connection claims to be party ${id}`;
        return undefined;
      }).then(
        (keys) => this.linked(ws, q, keys),
        (e: unknown) => {
          // a connection that closes during its handshake is dropped: its dialer retries (or
          // failed and tells us so itself); anything else fails the session
          if (isMpcError(e) && e.code === 'MPC_ERR_PEER_CLOSED') return;
          if (isMpcError(e) && e.peer !== undefined) this.markTold(e.peer as PartyId);
          h.fail(isMpcError(e) ? e : h.err('MPC_ERR_AUTH', String(e)));
        },
      );
    });
  }

  /** `peer` knows this party failed (or failed itself and told us) */
  markTold(peer: PartyId): void {
    this.told.add(peer);
    this.lingerCheck?.();
  }

  /** A connection after this party failed during setup: answer its hello with a reject. */
  private answerLate(ws: WebSocket): void {
    const e = this.lingerError;
    if (!e) {
      ws.terminate();
      return;
    }
    this.track(ws);
    ws.once('message', (data: RawData) => {
      const from = helloSender(rawBytes(data));
      ws.send(rejectMessage(e, this.host.self, this.host.handshake.digest), () => ws.close(4000, e.code));
      if (from !== undefined) {
        this.markTold(from);
      }
    });
  }

  private dial(peer: PartyId, deadline: number): void {
    const h = this.host;
    if (this.current !== 'connecting') return;
    const p = h.session.parties[peer];
    const host = p.host.includes(':') ? `[${p.host}]` : p.host;
    const ws = new WebSocket(`ws://${host}:${p.port}/mpcache`, {
      perMessageDeflate: false,
      maxPayload: h.maxPayload,
      skipUTF8Validation: true,
      handshakeTimeout: Math.max(1, deadline - Date.now()),
      // every frame is sealed with AES-GCM (or the run is an explicit insecure benchmark):
      // RFC 6455 masking protects browsers' proxies, not us, so use a zero mask (ws then skips it)
      generateMask: (mask: Buffer) => void mask.fill(0),
    });
    this.track(ws);
    this.dialing.set(ws, peer);
    ws.once('upgrade', (res) => this.capPreAuth(ws, res.socket, peer));
    let opened = false;
    ws.on('error', (e: NodeJS.ErrnoException) => {
      if (opened) return; // handled by the handshake/link watchers
      this.sockets.delete(ws);
      const retriable = e.code === 'ECONNREFUSED' || e.code === 'ECONNRESET' || e.code === 'EHOSTUNREACH' || e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN';
      if (retriable && Date.now() + RETRY_MS < deadline) {
        this.timer(() => this.dial(peer, deadline), RETRY_MS);
      } else if (!retriable) {
        h.fail(h.err('MPC_ERR_PEER_CLOSED', `cannot connect to party ${peer} at ${p.host}:${p.port}: ${e.code ?? e.message}`, peer, e));
      }
    });
    ws.on('open', () => {
      opened = true;
      const q = this.handshakeQueue(ws, peer);
      initiateHandshake(q, h.handshake, peer).then(
        (keys) => this.linked(ws, q, keys),
        (e: unknown) => {
          // closed during the handshake: the listener gave up on this connection; dial again
          // (a listener that failed answers the next attempt with a reject)
          if (isMpcError(e) && e.code === 'MPC_ERR_PEER_CLOSED' && this.current === 'connecting' && Date.now() + RETRY_MS < deadline) {
            this.sockets.delete(ws);
            this.timer(() => this.dial(peer, deadline), RETRY_MS);
            return;
          }
          this.markTold(peer);
          h.fail(isMpcError(e) ? e : h.err('MPC_ERR_AUTH', String(e), peer));
        },
      );
    });
  }

  private track(ws: WebSocket): void {
    this.sockets.add(ws);
    ws.on('close', () => this.sockets.delete(ws));
  }

  private handshakeQueue(ws: WebSocket, peer: PartyId | undefined): HandshakeQueue {
    return new HandshakeQueue(ws, (e, code) =>
      e ? wsErrorOf(this.host, e, peer) : this.host.err('MPC_ERR_PEER_CLOSED', `connection${peer !== undefined ? ` to party ${peer}` : ''} closed during the handshake (code ${code})`, peer),
    );
  }

  /**
   * Until its link is authenticated, a connection may bring at most PRE_AUTH_BYTES (frames and
   * their headers, counted on the socket as they arrive): ws's maxPayload is fixed per socket
   * at the post-authentication frame limit, so without this an unauthenticated peer could make
   * this party buffer a frame of up to maxFrameBytes. Beyond it the socket is destroyed and the
   * setup fails with MPC_ERR_FRAME_TOO_LARGE. `linked` lifts the cap.
   */
  private capPreAuth(ws: WebSocket, socket: Duplex, peer: PartyId | undefined): void {
    let n = 0;
    const onData = (chunk: Buffer) => {
      n += chunk.byteLength;
      if (n <= PRE_AUTH_BYTES) return;
      socket.off('data', onData);
      socket.destroy();
      const who = peer ?? this.claimed.get(ws);
      this.host.fail(this.host.err('MPC_ERR_FRAME_TOO_LARGE', `more than ${PRE_AUTH_BYTES} bytes from ${who !== undefined ? `party ${who}` : 'a connection'} before authentication`, who));
    };
    socket.on('data', onData);
    this.preAuth.set(ws, () => socket.off('data', onData));
    ws.once('close', () => this.preAuth.delete(ws));
  }

  private linked(ws: WebSocket, q: HandshakeQueue, keys: LinkKeys): void {
    this.preAuth.get(ws)?.();
    this.preAuth.delete(ws);
    const leftover = q.detach();
    if (this.current !== 'connecting') {
      ws.terminate();
      return;
    }
    this.host.linkUp(ws, keys, leftover);
    this.checkSetup();
  }

  closeServer(): void {
    const s = this.server;
    this.server = undefined;
    s?.close();
  }

  /**
   * The channel shuts down: stop connecting. After a failure during setup (`abortError`),
   * late connections are answered with a reject from now on (see linger).
   */
  stop(abortError: MpcError | undefined): void {
    const wasConnecting = this.current === 'connecting';
    this.stopTimers();
    if (wasConnecting && abortError) {
      this.current = 'lingering';
      this.lingerError = abortError;
    } else {
      this.current = 'closed';
      this.closeServer();
    }
  }

  /**
   * Tell a socket still in its handshake that this party aborts (a reject message), noting
   * which peer has been told (from the socket, or from its hello once it arrives).
   */
  rejectHandshake(ws: WebSocket, e: MpcError): void {
    ws.send(rejectMessage(e, this.host.self, this.host.handshake.digest));
    const peer = this.dialing.get(ws) ?? this.claimed.get(ws);
    if (peer !== undefined) this.markTold(peer);
    // its hello may still be in flight: once it arrives we know who has been told
    else ws.once('message', (data: RawData) => {
      const from = helloSender(rawBytes(data));
      if (from !== undefined) this.markTold(from);
    });
  }

  /**
   * After failing during setup: until the setup deadline, tell every peer not told yet —
   * answer its connection with a reject (lower peers dial us) or dial it and send one
   * (higher peers) — so no peer waits for the full handshake timeout. Bounded by the
   * deadline. Ends in state 'closed'.
   */
  async linger(e: MpcError): Promise<void> {
    const h = this.host;
    const pending = () => ([0, 1, 2] as PartyId[]).filter((p) => p !== h.self && !this.told.has(p) && !h.hasLink(p));
    if (pending().length === 0 || Date.now() >= this.deadline) {
      this.finishLinger();
      return;
    }
    const timers: NodeJS.Timeout[] = [];
    await new Promise<void>((resolve) => {
      const done = () => {
        this.lingerCheck = undefined;
        resolve();
      };
      this.lingerCheck = () => {
        if (pending().length === 0) done();
      };
      timers.push(setTimeout(done, Math.max(0, this.deadline - Date.now())));
      for (const peer of pending()) {
        if (peer < h.self) continue; // it dials us: answered in answerLate
        const p = h.session.parties[peer];
        const tryDial = () => {
          if (!this.lingerCheck || this.told.has(peer)) return;
          const ws = new WebSocket(`ws://${p.host.includes(':') ? `[${p.host}]` : p.host}:${p.port}/mpcache`, {
            perMessageDeflate: false,
            handshakeTimeout: Math.max(1, this.deadline - Date.now()),
          });
          this.track(ws);
          ws.on('error', () => {
            if (Date.now() + RETRY_MS < this.deadline) timers.push(setTimeout(tryDial, RETRY_MS));
          });
          ws.on('open', () =>
            ws.send(rejectMessage(e, h.self, h.handshake.digest), () => {
              this.markTold(peer);
              ws.close(4000, e.code);
            }),
          );
        };
        tryDial();
      }
    });
    for (const t of timers) clearTimeout(t);
    this.finishLinger();
    for (const ws of this.sockets) ws.terminate();
  }

  private finishLinger(): void {
    this.lingerError = undefined;
    this.current = 'closed';
    this.closeServer();
  }

  /** Reject `start` (once the channel has shut down) when setup never completed. */
  settle(e: MpcError): void {
    if (!this.setupDone) return;
    const d = this.setupDone;
    this.setupDone = undefined;
    d.reject(e);
  }
}
