/**
 * The WebSocket transport: one ws connection per pair of parties, authenticated by the
 * handshake (handshake.ts), every frame sealed with AES-256-GCM (frame-codec.ts).
 *
 * Large payloads travel as 256 KiB parts (frame-codec.ts). With cryptoWorkers = 0 (the
 * default on 2 cores or fewer) each part is sealed on the main thread right before it is
 * written and opened as it arrives, so the peer opens part i while this side seals part i+1;
 * with workers, parts of frames of 128 KiB or more are sealed/opened on the pool in parallel
 * and sent/handled in sequence order.
 *
 * Topology: the LOWER party id dials the HIGHER one (0 -> 1, 0 -> 2, 1 -> 2), retrying every
 * 50 ms until the peer listens or the handshake timeout passes. Party 0 therefore never
 * listens; party 2 never dials. Once both links are up the listener is closed, so a session
 * accepts exactly two connections per listening party.
 *
 * Setup = handshake on both links + seed agreement: right after its handshake each side
 * sends a `seed` frame with 16 random bytes (the same bytes to both peers); the common seed
 * is SHA-256('mpcache/v1 common' || sessionId || r0 || r1 || r2)[0..16]. The pairwise seeds
 * come from the handshakes, the own seed from crypto.randomBytes.
 *
 * Failure (fail-closed; every party ends with an MpcError and tells its peers):
 *  - any handshake problem on any connection -> MPC_ERR_AUTH (also for a connection claiming
 *    an unknown or duplicate party), MPC_ERR_BAD_FRAME for undecodable handshake messages;
 *  - a frame: see frame-codec.ts (TAMPER, REPLAY, BAD_FRAME, FRAME_TOO_LARGE);
 *  - unsent bytes on a socket or unconsumed bytes from a peer above maxBufferedBytes ->
 *    MPC_ERR_BUFFER_FULL;
 *  - a connection that closes without a `bye` frame -> MPC_ERR_PEER_CLOSED;
 *  - nothing heard from a peer (no frame, ping or pong) for heartbeatTimeoutMs, or a receive
 *    waiting longer than recvTimeoutMs, or setup longer than handshakeTimeoutMs -> MPC_ERR_TIMEOUT;
 *  - an `abort` frame from a peer -> MPC_ERR_ABORTED naming that peer (its code in the message).
 * Before authentication a connection may bring at most PRE_AUTH_BYTES (MPC_ERR_FRAME_TOO_LARGE).
 * On failure the channel sends an `abort` frame (the code, a fixed text, step and round; never
 * the local message) on every open link, closes the sockets and
 * rejects every pending and future exchange. Every error names this party, the peer and the
 * step (the exchange in progress or the last one).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { availableParallelism } from 'node:os';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { type PartyId, type Payload, nextParty, prevParty } from '../protocols/channel.js';
import type { SessionSeeds } from '../protocols/context.js';
import { MpcError, isMpcError } from '../protocols/errors.js';
import { CryptoPool } from './crypto-pool.js';
import { FrameOpener, FrameSealer, MAX_ENVELOPE_BYTES, PART_BYTES, PREFIX_BYTES, TAG_BYTES, type Frame, type OpenPlan } from './frame-codec.js';
import {
  type HandshakeIO,
  type LinkKeys,
  type LinkMode,
  handshakeReject,
  initiateHandshake,
  peekHandshake,
  rejectMessage,
  respondHandshake,
} from './handshake.js';
import type { Identity } from './identity.js';
import { bareMessage, peerText } from './error-text.js';
import { QueuedChannel } from './queued-channel.js';
import type { SessionConfig, SessionOptions } from './session-config.js';
import { type SessionDigest, sessionDigest } from './session-digest.js';

export interface WsConnectOptions {
  readonly session: SessionConfig;
  readonly self: PartyId;
  readonly identity: Identity;
  /** skip sealing (loopback benchmarks only); every party must use the same mode */
  readonly insecurePlaintext?: boolean;
  /** this party's overrides of the session options (tests: e.g. a different frame limit) */
  readonly overrides?: Partial<SessionOptions>;
  /** host to listen on (default: this party's host in the session file) */
  readonly listenHost?: string;
  /**
   * worker threads that seal and open large frames (default defaultCryptoWorkers()); 0 seals
   * and opens every frame on the main thread, part by part as it is sent or arrives
   */
  readonly cryptoWorkers?: number;
}

/**
 * Worker threads for sealing/opening by default: none on a machine of 2 cores or fewer (there
 * the main threads of the parties already keep every core busy during a transfer — a handoff
 * to a worker only adds copies, messages and context switches: measured on 2 cores, sealing on
 * the main thread took less CPU and less time), otherwise cores - 1, at most 4.
 */
export function defaultCryptoWorkers(): number {
  const cores = availableParallelism();
  return cores <= 2 ? 0 : Math.min(4, cores - 1);
}

export interface ConnectedParty {
  readonly channel: WsChannel;
  readonly seeds: SessionSeeds;
}

/** Counters of frames on the wire (framing included), beside the Channel payload stats. */
export interface WireStats {
  framesSent: number;
  framesReceived: number;
  wireBytesSent: number;
  wireBytesReceived: number;
}

/**
 * Pieces of frames up to this size (every part of a split payload) are concatenated and sent
 * as one ws frame: one write, and the receiver gets the frame without a fragment-joining copy
 * (the receiving side, which also opens the frame, is the busier end of a transfer).
 */
const COALESCE_BYTES = PART_BYTES + 64 * 1024;
const RETRY_MS = 50;
/** sealed frames / payloads at least this large are sealed and opened on worker threads */
const OFFLOAD_BYTES = 128 * 1024;
const CLOSE_GRACE_MS = 1000;
/**
 * most bytes a connection may bring before it is authenticated: its two handshake messages
 * (at most 1024 bytes each), the peer's seed frame that may follow its last one, ws headers
 */
export const PRE_AUTH_BYTES = 8 * 1024;
/** ws send options of a whole message (ws copies them; never changed) */
const SEND_WHOLE = Object.freeze({ binary: true });

interface Link {
  readonly peer: PartyId;
  /** frames being opened or handled off the arrival path, in order */
  rx: Promise<void>;
  rxPending: number;
  /** bytes of the frames in `rx` (bounded by maxBufferedBytes) */
  rxBytes: number;
  /** messages being sealed, sent in order */
  tx: Promise<void>;
  txPending: number;
  readonly ws: WebSocket;
  readonly sealer: FrameSealer;
  readonly opener: FrameOpener;
  readonly pairSeed: Uint8Array;
  lastHeard: number;
  byeReceived: boolean;
  closed: boolean;
}

function rawBytes(data: RawData): Uint8Array {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return new Uint8Array(data);
}

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

export class WsChannel extends QueuedChannel {
  readonly session: SessionConfig;
  readonly options: SessionOptions;
  readonly mode: LinkMode;
  readonly wire: WireStats = { framesSent: 0, framesReceived: 0, wireBytesSent: 0, wireBytesReceived: 0 };
  private readonly identity: Identity;
  private readonly links = new Map<PartyId, Link>();
  private readonly sockets = new Set<WebSocket>();
  private server: WebSocketServer | undefined;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly seedsIn = new Map<PartyId, Uint8Array>();
  private readonly mySeed = new Uint8Array(randomBytes(16));
  private setupDone: { resolve(): void; reject(e: MpcError): void } | undefined;
  private shutDown = false;
  /** worker threads for sealing/opening large frames (started on first use) */
  private pool: CryptoPool | undefined;
  /** size of that pool; 0: every frame is sealed and opened on this thread */
  private readonly cryptoWorkers: number;
  /** setup deadline (ms since epoch) */
  private deadline = 0;
  /** peers already told that this party failed (reject message or abort frame) */
  private readonly told = new Set<PartyId>();
  /** sockets this party dialed, by peer */
  private readonly dialing = new Map<WebSocket, PartyId>();
  /** accepted sockets, by the party their hello claims */
  private readonly claimed = new Map<WebSocket, PartyId>();
  /** while lingering after a failed setup: the error to answer late connections with */
  private lingerError: MpcError | undefined;
  private lingerCheck: (() => void) | undefined;
  /** lifts the pre-authentication byte cap of a socket (capPreAuth) */
  private readonly preAuth = new Map<WebSocket, () => void>();
  /** the session description this party holds (bound into every handshake) */
  private readonly digest: SessionDigest;

  private constructor(opts: WsConnectOptions) {
    const options: SessionOptions = { ...opts.session.options, ...(opts.overrides ?? {}) };
    super(opts.self, { recvTimeoutMs: options.recvTimeoutMs, maxBufferedBytes: options.maxBufferedBytes, maxPendingMessages: 1 << 20 });
    this.session = opts.session;
    this.options = options;
    this.identity = opts.identity;
    this.mode = opts.insecurePlaintext ? 'plain' : 'sealed';
    const workers = opts.cryptoWorkers ?? defaultCryptoWorkers();
    if (!Number.isSafeInteger(workers) || workers < 0) throw new RangeError('WsChannel.connect: cryptoWorkers must be a non-negative integer');
    this.cryptoWorkers = workers;
    this.digest = sessionDigest(opts.session, options);
  }

  /**
   * Connect this party to its two peers (listen / dial per the topology), run the handshakes
   * and the seed agreement. Resolves once the channel is ready; rejects with an MpcError
   * (after telling any connected peer) on failure or after handshakeTimeoutMs.
   */
  static async connect(opts: WsConnectOptions): Promise<ConnectedParty> {
    const ch = new WsChannel(opts);
    if (opts.insecurePlaintext) {
      process.stderr.write(`WARNING: party ${opts.self} runs with --insecure-plaintext: frames are NOT encrypted or authenticated. Loopback benchmarks only.\n`);
    }
    await ch.setup(opts.listenHost);
    const self = ch.self;
    const next = nextParty(self);
    const prev = prevParty(self);
    const r = [0, 1, 2].map((i) => (i === self ? ch.mySeed : ch.seedsIn.get(i as PartyId)!));
    const h = createHash('sha256').update('mpcache/v1 common').update(Buffer.from([ch.session.session.length])).update(ch.session.session);
    for (const x of r) h.update(x);
    const seeds: SessionSeeds = {
      next: ch.links.get(next)!.pairSeed,
      prev: ch.links.get(prev)!.pairSeed,
      common: new Uint8Array(h.digest().subarray(0, 16)),
      own: new Uint8Array(randomBytes(16)),
    };
    return { channel: ch, seeds };
  }

  private get maxPayload(): number {
    return this.options.maxFrameBytes + PREFIX_BYTES + MAX_ENVELOPE_BYTES + TAG_BYTES;
  }

  private err(code: MpcError['code'], msg: string, peer?: PartyId, cause?: unknown): MpcError {
    return new MpcError(code, msg, { party: this.self, peer, step: this.currentStep ?? 'setup', round: this.stats.rounds, cause });
  }

  private hsParams() {
    return {
      sessionId: this.session.session,
      self: this.self,
      secretKey: this.identity.secretKey,
      publicKeys: this.session.parties.map((p) => p.publicKey),
      mode: this.mode,
      digest: this.digest,
    };
  }

  private setup(listenHost: string | undefined): Promise<void> {
    const done = new Promise<void>((resolve, reject) => (this.setupDone = { resolve, reject }));
    const deadline = Date.now() + this.options.handshakeTimeoutMs;
    this.deadline = deadline;
    this.timer(() => {
      const missing = [0, 1, 2].filter((i) => i !== this.self && !(this.links.has(i as PartyId) && this.seedsIn.has(i as PartyId)));
      this.fail(this.err('MPC_ERR_TIMEOUT', `setup with part${missing.length > 1 ? 'ies' : 'y'} ${missing.join(', ')} did not complete within ${this.options.handshakeTimeoutMs} ms`, missing.length === 1 ? (missing[0] as PartyId) : undefined));
    }, this.options.handshakeTimeoutMs);
    if (this.self > 0) this.listen(listenHost ?? this.session.parties[this.self].host);
    for (let peer = this.self + 1; peer <= 2; peer++) this.dial(peer as PartyId, deadline);
    return done;
  }

  private timer(fn: () => void, ms: number): NodeJS.Timeout {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
    return t;
  }

  private listen(host: string): void {
    const me = this.session.parties[this.self];
    const server = new WebSocketServer({
      host,
      port: me.port,
      perMessageDeflate: false,
      maxPayload: this.maxPayload,
      skipUTF8Validation: true,
      clientTracking: false,
    });
    this.server = server;
    server.on('error', (e: NodeJS.ErrnoException) => {
      this.fail(new MpcError('MPC_ERR_CONFIG', `party ${this.self} cannot listen on ${host}:${me.port}: ${e.code ?? e.message}`, { party: this.self, step: 'setup', cause: e }));
    });
    server.on('connection', (ws, req) => {
      this.capPreAuth(ws, req.socket, undefined);
      if (this.shutDown) {
        this.answerLate(ws);
        return;
      }
      this.track(ws);
      const q = this.handshakeQueue(ws, undefined);
      respondHandshake(q, this.hsParams(), (id) => {
        this.claimed.set(ws, id as PartyId);
        if (id === this.self) return `hello from party ${id}, which is this party`;
        if (id > this.self) return `party ${id} must be dialed by this party, not dial it (the lower id dials)`;
        if (this.links.has(id as PartyId)) return `a second connection claims to be party ${id}`;
        return undefined;
      }).then(
        (keys) => this.addLink(ws, q, keys),
        (e: unknown) => {
          // a connection that closes during its handshake is dropped: its dialer retries (or
          // failed and tells us so itself); anything else fails the session
          if (isMpcError(e) && e.code === 'MPC_ERR_PEER_CLOSED') return;
          if (isMpcError(e) && e.peer !== undefined) this.markTold(e.peer as PartyId);
          this.fail(isMpcError(e) ? e : this.err('MPC_ERR_AUTH', String(e)));
        },
      );
    });
  }

  /** `peer` knows this party failed (or failed itself and told us) */
  private markTold(peer: PartyId): void {
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
      ws.send(rejectMessage(e, this.self, this.digest), () => ws.close(4000, e.code));
      if (from !== undefined) {
        this.markTold(from);
      }
    });
  }

  private dial(peer: PartyId, deadline: number): void {
    if (this.shutDown) return;
    const p = this.session.parties[peer];
    const host = p.host.includes(':') ? `[${p.host}]` : p.host;
    const ws = new WebSocket(`ws://${host}:${p.port}/mpcache`, {
      perMessageDeflate: false,
      maxPayload: this.maxPayload,
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
        this.fail(this.err('MPC_ERR_PEER_CLOSED', `cannot connect to party ${peer} at ${p.host}:${p.port}: ${e.code ?? e.message}`, peer, e));
      }
    });
    ws.on('open', () => {
      opened = true;
      const q = this.handshakeQueue(ws, peer);
      initiateHandshake(q, this.hsParams(), peer).then(
        (keys) => this.addLink(ws, q, keys),
        (e: unknown) => {
          // closed during the handshake: the listener gave up on this connection; dial again
          // (a listener that failed answers the next attempt with a reject)
          if (isMpcError(e) && e.code === 'MPC_ERR_PEER_CLOSED' && !this.shutDown && Date.now() + RETRY_MS < deadline) {
            this.sockets.delete(ws);
            this.timer(() => this.dial(peer, deadline), RETRY_MS);
            return;
          }
          this.markTold(peer);
          this.fail(isMpcError(e) ? e : this.err('MPC_ERR_AUTH', String(e), peer));
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
      e ? this.wsError(e, peer) : this.err('MPC_ERR_PEER_CLOSED', `connection${peer !== undefined ? ` to party ${peer}` : ''} closed during the handshake (code ${code})`, peer),
    );
  }

  private wsError(e: Error & { code?: string }, peer: PartyId | undefined): MpcError {
    if (e.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') {
      return this.err('MPC_ERR_FRAME_TOO_LARGE', `${peer !== undefined ? `party ${peer}` : 'a peer'} sent a frame over the limit of ${this.options.maxFrameBytes} bytes`, peer, e);
    }
    if (e.code?.startsWith('WS_ERR_')) return this.err('MPC_ERR_BAD_FRAME', `invalid WebSocket frame from ${peer !== undefined ? `party ${peer}` : 'a peer'}: ${e.message}`, peer, e);
    return this.err('MPC_ERR_PEER_CLOSED', `connection${peer !== undefined ? ` to party ${peer}` : ''} failed: ${e.message}`, peer, e);
  }

  /**
   * Until its link is authenticated, a connection may bring at most PRE_AUTH_BYTES (frames and
   * their headers, counted on the socket as they arrive): ws's maxPayload is fixed per socket
   * at the post-authentication frame limit, so without this an unauthenticated peer could make
   * this party buffer a frame of up to maxFrameBytes. Beyond it the socket is destroyed and the
   * setup fails with MPC_ERR_FRAME_TOO_LARGE. addLink lifts the cap.
   */
  private capPreAuth(ws: WebSocket, socket: Duplex, peer: PartyId | undefined): void {
    let n = 0;
    const onData = (chunk: Buffer) => {
      n += chunk.byteLength;
      if (n <= PRE_AUTH_BYTES) return;
      socket.off('data', onData);
      socket.destroy();
      const who = peer ?? this.claimed.get(ws);
      this.fail(this.err('MPC_ERR_FRAME_TOO_LARGE', `more than ${PRE_AUTH_BYTES} bytes from ${who !== undefined ? `party ${who}` : 'a connection'} before authentication`, who));
    };
    socket.on('data', onData);
    this.preAuth.set(ws, () => socket.off('data', onData));
    ws.once('close', () => this.preAuth.delete(ws));
  }

  private addLink(ws: WebSocket, q: HandshakeQueue, keys: LinkKeys): void {
    this.preAuth.get(ws)?.();
    this.preAuth.delete(ws);
    const leftover = q.detach();
    if (this.shutDown) {
      ws.terminate();
      return;
    }
    const sealed = this.mode === 'sealed';
    const link: Link = {
      peer: keys.peer,
      rx: Promise.resolve(),
      rxPending: 0,
      rxBytes: 0,
      tx: Promise.resolve(),
      txPending: 0,
      ws,
      sealer: new FrameSealer(sealed ? keys.sendKey : null, this.session.session),
      opener: new FrameOpener(sealed ? keys.recvKey : null, this.session.session, this.maxPayload),
      pairSeed: keys.pairSeed,
      lastHeard: Date.now(),
      byeReceived: false,
      closed: false,
    };
    this.links.set(keys.peer, link);
    ws.on('message', (data: RawData) => this.onFrame(link, rawBytes(data)));
    ws.on('ping', () => (link.lastHeard = Date.now()));
    ws.on('pong', () => (link.lastHeard = Date.now()));
    ws.on('error', (e: Error) => {
      link.closed = true;
      this.fail(this.wsError(e, link.peer));
    });
    ws.on('close', (code: number, reason: Buffer) => {
      link.closed = true;
      const why = `connection to party ${link.peer} closed (code ${code}${reason.length ? `, ${reason.toString('utf8').slice(0, 100)}` : ''})`;
      // frames that arrived before the close may still be opening on worker threads (the
      // peer's `bye` among them): judge the close only once they have all been handled
      void link.rx.then(() => {
        if (link.byeReceived) this.peerGone(link.peer, this.err('MPC_ERR_PEER_CLOSED', `party ${link.peer} closed the session; ${why}`, link.peer));
        else this.fail(this.err('MPC_ERR_PEER_CLOSED', why, link.peer));
      });
    });
    this.sendFrame(link, { kind: 'seed', seed: this.mySeed });
    for (const m of leftover) this.onFrame(link, m);
  }

  private heartbeat(link: Link): void {
    let lastTick = Date.now();
    const t = setInterval(() => {
      const now = Date.now();
      // if this process was blocked (the timer is late), pongs may be waiting unread: skip
      if (now - lastTick > 2 * this.options.heartbeatMs) link.lastHeard = now;
      lastTick = now;
      if (link.closed) return;
      if (now - link.lastHeard > this.options.heartbeatTimeoutMs) {
        this.fail(this.err('MPC_ERR_TIMEOUT', `nothing heard from party ${link.peer} for ${now - link.lastHeard} ms (heartbeat timeout ${this.options.heartbeatTimeoutMs} ms)`, link.peer));
        return;
      }
      if (link.ws.readyState === WebSocket.OPEN) link.ws.ping();
    }, this.options.heartbeatMs);
    t.unref();
    this.timers.add(t);
  }

  private onFrame(link: Link, bytes: Uint8Array): void {
    if (this.shutDown) return;
    link.lastHeard = Date.now();
    this.wire.framesReceived++;
    this.wire.wireBytesReceived += bytes.byteLength;
    if (link.opener.sequence === 0) {
      // the peer failed while we finished the handshake: its reject message comes instead of a frame
      const rej = handshakeReject(bytes);
      if (rej) {
        this.fail(this.err(rej.code === 'MPC_ERR_AUTH' ? 'MPC_ERR_AUTH' : 'MPC_ERR_ABORTED', `party ${link.peer} gave up the session with ${rej.code}: ${rej.message}`, link.peer));
        return;
      }
    }
    let plan: OpenPlan;
    try {
      plan = link.opener.precheck(bytes); // in arrival order: sequence numbers are taken here
    } catch (e) {
      this.peerFailed(link, e);
      return;
    }
    const key = link.opener.openKey;
    if (key !== null && this.cryptoWorkers > 0 && bytes.byteLength >= OFFLOAD_BYTES) {
      // a large sealed frame: open it on a worker thread, handle it in sequence order
      const opened = this.cryptoPool().open(key, plan.nonce, bytes.subarray(0, PREFIX_BYTES), bytes, PREFIX_BYTES, bytes.byteLength - PREFIX_BYTES - TAG_BYTES);
      this.inOrder(link, bytes.byteLength, opened, (plain) => {
        if (plain === null) throw new MpcError('MPC_ERR_TAMPER', `frame ${plan.seq} failed authentication (tampered or wrong key)`);
        return link.opener.finish(plan, plain.subarray(0, plan.envLen), plain.subarray(plan.envLen));
      });
      return;
    }
    if (link.rxPending > 0) {
      this.inOrder(link, bytes.byteLength, Promise.resolve(null), () => this.openHere(link, plan));
      return;
    }
    let f: Frame | null;
    try {
      f = this.openHere(link, plan);
    } catch (e) {
      this.peerFailed(link, e);
      return;
    }
    this.handleFrame(link, f, plan.seq);
  }

  /** A frame from `link`'s peer was refused (MpcError) — the session fails; anything else is a bug. */
  private peerFailed(link: Link, e: unknown): void {
    if (!isMpcError(e)) throw e;
    this.fail(this.err(e.code, `from party ${link.peer}: ${bareMessage(e)}`, link.peer));
  }

  private openHere(link: Link, plan: OpenPlan): Frame | null {
    const plain = link.opener.decrypt(plan);
    if (plain === null) throw new MpcError('MPC_ERR_TAMPER', `frame ${plan.seq} failed authentication (tampered or wrong key)`);
    return link.opener.finish(plan, plain.env, plain.payload);
  }

  /** Run `then(result)` after every earlier frame of this link was handled. */
  private inOrder<T>(link: Link, size: number, work: Promise<T>, then: (r: T) => Frame | null): void {
    link.rxPending++;
    link.rxBytes += size;
    if (link.rxBytes > this.options.maxBufferedBytes) {
      this.fail(this.err('MPC_ERR_BUFFER_FULL', `more than ${this.options.maxBufferedBytes} bytes from party ${link.peer} waiting to be opened`, link.peer));
      return;
    }
    const seq = link.opener.sequence - 1;
    link.rx = link.rx
      .then(() => work)
      .then((r) => {
        link.rxPending--;
        link.rxBytes -= size;
        if (this.shutDown) return;
        this.handleFrame(link, then(r), seq);
      })
      .catch((e: unknown) => {
        link.rxPending--;
        if (isMpcError(e)) this.fail(this.err(e.code, `from party ${link.peer}: ${bareMessage(e)}`, link.peer));
        else this.fail(this.err('MPC_ERR_BAD_FRAME', `from party ${link.peer}: ${String(e)}`, link.peer, e));
      });
  }

  private handleFrame(link: Link, f: Frame | null, seq: number): void {
    if (f === null) return; // a part of a multi-part data frame
    const firstFrame = seq === 0;
    if (firstFrame !== (f.kind === 'seed') && f.kind !== 'abort') {
      this.fail(this.err('MPC_ERR_PROTOCOL', `party ${link.peer} sent a ${f.kind} frame ${firstFrame ? 'before its seed' : 'after setup as a seed'}`, link.peer));
      return;
    }
    switch (f.kind) {
      case 'data':
        this.deliver(link.peer, f.step, f.payload);
        return;
      case 'seed':
        this.seedsIn.set(link.peer, f.seed);
        this.checkSetup();
        return;
      case 'abort':
        this.fail(
          new MpcError('MPC_ERR_ABORTED', `party ${link.peer} aborted the session with ${f.code}: ${f.message}${f.step !== undefined ? ` (its step '${f.step}')` : ''}`, {
            party: this.self,
            peer: link.peer,
            step: this.currentStep ?? f.step ?? 'setup',
            round: this.stats.rounds,
          }),
        );
        return;
      case 'bye':
        link.byeReceived = true;
        return;
    }
  }

  private checkSetup(): void {
    if (!this.setupDone) return;
    for (const peer of [0, 1, 2] as PartyId[]) {
      if (peer !== this.self && !(this.links.has(peer) && this.seedsIn.has(peer))) return;
    }
    const d = this.setupDone;
    this.setupDone = undefined;
    for (const t of this.timers) clearTimeout(t); // the setup deadline and any dial retries
    this.timers.clear();
    for (const link of this.links.values()) if (this.options.heartbeatMs > 0) this.heartbeat(link);
    this.closeServer();
    d.resolve();
  }

  private closeServer(): void {
    const s = this.server;
    this.server = undefined;
    s?.close();
  }

  private sendFrame(link: Link, f: Frame): void {
    const key = link.sealer.sealKey;
    if (key !== null && this.cryptoWorkers > 0 && f.kind === 'data' && f.payload.byteLength >= OFFLOAD_BYTES) {
      // large sealed payload: parts sealed in parallel on worker threads, sent in order
      const pool = this.cryptoPool();
      for (const plan of link.sealer.planParts(f)) {
        this.sendInOrder(link, pool.seal(key, plan.nonce, plan.prefix, plan.plain).then((m) => [Buffer.from(m.buffer, m.byteOffset, m.byteLength)]));
      }
      return;
    }
    if (f.kind !== 'data' || f.payload.byteLength <= PART_BYTES) {
      // one frame (the common small message): sealed without the part iterator
      const pieces = link.sealer.seal(f);
      if (link.txPending > 0) this.sendInOrder(link, Promise.resolve(pieces));
      else this.sendMessage(link, pieces);
      return;
    }
    for (const pieces of link.sealer.sealParts(f)) {
      if (link.txPending > 0) this.sendInOrder(link, Promise.resolve(pieces));
      else this.sendMessage(link, pieces);
    }
  }

  /** Send `pieces` once every earlier message of this link went out. */
  private sendInOrder(link: Link, pieces: Promise<Buffer[]>): void {
    link.txPending++;
    link.tx = link.tx
      .then(() => pieces)
      .then((p) => {
        link.txPending--;
        if (!link.closed && link.ws.readyState === WebSocket.OPEN) this.sendMessage(link, p);
      })
      .catch((e: unknown) => {
        link.txPending--;
        this.fail(this.err('MPC_ERR_CLOSED', `sealing a frame for party ${link.peer} failed: ${String(e)}`, link.peer, e));
      });
  }

  /** worker threads started for sealing/opening (0 until a large frame needed them, or when cryptoWorkers is 0) */
  get cryptoThreads(): number {
    return this.pool?.size ?? 0;
  }

  private cryptoPool(): CryptoPool {
    this.pool ??= new CryptoPool(this.cryptoWorkers);
    return this.pool;
  }

  private sendMessage(link: Link, pieces: Buffer[]): void {
    if (pieces.length === 1) {
      this.wire.framesSent++;
      this.wire.wireBytesSent += pieces[0].byteLength;
      link.ws.send(pieces[0], SEND_WHOLE);
      return;
    }
    let total = 0;
    for (const p of pieces) total += p.byteLength;
    this.wire.framesSent++;
    this.wire.wireBytesSent += total;
    if (total <= COALESCE_BYTES || pieces.length === 1) {
      link.ws.send(Buffer.concat(pieces, total), SEND_WHOLE);
      return;
    }
    for (let i = 0; i < pieces.length; i++) link.ws.send(pieces[i], { binary: true, fin: i === pieces.length - 1 });
  }

  protected transmit(to: PartyId, step: string, payload: Payload): void {
    const link = this.links.get(to);
    if (!link || link.closed || link.ws.readyState !== WebSocket.OPEN) {
      throw this.err('MPC_ERR_PEER_CLOSED', `no open connection to party ${to}`, to);
    }
    if (payload.byteLength > this.options.maxFrameBytes) {
      throw this.err('MPC_ERR_FRAME_TOO_LARGE', `payload of ${payload.byteLength} bytes to party ${to} exceeds maxFrameBytes ${this.options.maxFrameBytes}`, to);
    }
    if (link.ws.bufferedAmount + payload.byteLength > this.options.maxBufferedBytes) {
      throw this.err('MPC_ERR_BUFFER_FULL', `${link.ws.bufferedAmount} bytes still unsent to party ${to} (maxBufferedBytes ${this.options.maxBufferedBytes})`, to);
    }
    this.sendFrame(link, { kind: 'data', step, payload });
  }

  protected async shutdown(abortError: MpcError | undefined): Promise<void> {
    if (this.shutDown) return;
    this.shutDown = true;
    for (const t of this.timers) {
      clearTimeout(t);
      clearInterval(t);
    }
    this.timers.clear();
    const inSetup = this.setupDone !== undefined;
    if (inSetup && abortError) this.lingerError = abortError; // late connections get a reject from now on
    else this.closeServer();
    // frames still being sealed go out first (the peer would see a sequence gap otherwise)
    // (an orderly close waits for them as long as a receive may wait: the last message of a
    // session can be large, and dropping it would fail the peer; an abort waits briefly)
    const graceMs = abortError ? CLOSE_GRACE_MS : Math.max(CLOSE_GRACE_MS, this.recvTimeoutMs);
    if ([...this.links.values()].some((l) => l.txPending > 0)) {
      let t: NodeJS.Timeout | undefined;
      await Promise.race([Promise.all([...this.links.values()].map((l) => l.tx)), new Promise((r) => (t = setTimeout(r, graceMs)))]);
      clearTimeout(t);
    }
    const closing: Promise<void>[] = [];
    for (const ws of this.sockets) {
      const link = [...this.links.values()].find((l) => l.ws === ws);
      if (ws.readyState === WebSocket.OPEN) {
        if (link && !link.closed) {
          try {
            this.markTold(link.peer);
            if (abortError) {
              // the code and its fixed text only: the local message may quote a secret
              this.sendFrame(link, { kind: 'abort', code: abortError.code, message: peerText(abortError.code), step: abortError.step, round: abortError.round });
            } else this.sendFrame(link, { kind: 'bye' });
          } catch {
            // best effort: the socket is going away anyway
          }
        } else if (!link && abortError) {
          ws.send(rejectMessage(abortError, this.self, this.digest)); // a connection still in its handshake
          const peer = this.dialing.get(ws) ?? this.claimed.get(ws);
          if (peer !== undefined) this.markTold(peer);
          // its hello may still be in flight: once it arrives we know who has been told
          else ws.once('message', (data: RawData) => {
            const from = helloSender(rawBytes(data));
            if (from !== undefined) this.markTold(from);
          });
        }
      }
      closing.push(
        new Promise<void>((resolve) => {
          if (ws.readyState === WebSocket.CLOSED) return resolve();
          // queued data goes out before the close frame; give a slow reader time to drain it
          const t = setTimeout(() => {
            ws.terminate();
            resolve();
          }, graceMs);
          ws.once('close', () => {
            clearTimeout(t);
            resolve();
          });
          if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
          else ws.close(abortError ? 4000 : 1000, abortError ? abortError.code : 'bye');
        }),
      );
    }
    await Promise.all(closing);
    if (inSetup && abortError) await this.linger(abortError);
    await this.pool?.close();
    // connect() rejects only now, so a caller that exits on failure has told its peers first
    if (this.setupDone) {
      const d = this.setupDone;
      this.setupDone = undefined;
      d.reject(abortError ?? this.err('MPC_ERR_CLOSED', 'channel closed during setup'));
    }
  }

  /**
   * After failing during setup: until the setup deadline, tell every peer not told yet —
   * answer its connection with a reject (lower peers dial us) or dial it and send one
   * (higher peers) — so no peer waits for the full handshake timeout. Bounded by the deadline.
   */
  private async linger(e: MpcError): Promise<void> {
    const pending = () => ([0, 1, 2] as PartyId[]).filter((p) => p !== this.self && !this.told.has(p) && !this.links.has(p));
    if (pending().length === 0 || Date.now() >= this.deadline) {
      this.lingerError = undefined;
      this.closeServer();
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
        if (peer < this.self) continue; // it dials us: answered in answerLate
        const p = this.session.parties[peer];
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
            ws.send(rejectMessage(e, this.self, this.digest), () => {
              this.markTold(peer);
              ws.close(4000, e.code);
            }),
          );
        };
        tryDial();
      }
    });
    for (const t of timers) clearTimeout(t);
    this.lingerError = undefined;
    this.closeServer();
    for (const ws of this.sockets) ws.terminate();
  }
}

/** The sender id of a hello or reject message, if `bytes` is one. */
function helloSender(bytes: Uint8Array): PartyId | undefined {
  const m = peekHandshake(bytes);
  return m && (m.t === 'hello' || m.t === 'reject') && (m.f === 0 || m.f === 1 || m.f === 2) ? m.f : undefined;
}
