/**
 * The WebSocket transport: one ws connection per pair of parties, authenticated by the
 * handshake (handshake.ts), every frame sealed with AES-256-GCM (frame-codec.ts).
 *
 * Three parts: the connector (ws-connector.ts: topology, listening and dialing, handshakes,
 * seed agreement, telling peers after a failed setup), the links (ws-link.ts: one per peer,
 * frames in and out, heartbeats) and this channel (the Channel over the two links: data
 * frames to the inboxes of queued-channel.ts, abort and bye frames, orderly and failed
 * shutdown).
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
 * Before authentication a connection may bring at most PRE_AUTH_BYTES (ws-connector.ts;
 * MPC_ERR_FRAME_TOO_LARGE). On failure the channel sends an `abort` frame (the code, a fixed
 * text, step and round; never the local message) on every open link, closes the sockets and
 * rejects every pending and future exchange. Every error names this party, the peer and the
 * step (the exchange in progress or the last one).
 */
import { createHash, randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { WebSocket } from 'ws';
import { type PartyId, type Payload, nextParty, prevParty } from '../protocols/channel.js';
import type { SessionSeeds } from '../protocols/context.js';
import { MpcError } from '../protocols/errors.js';
import { CryptoPool } from './crypto-pool.js';
import { peerTextOf } from './error-text.js';
import { MAX_ENVELOPE_BYTES, PREFIX_BYTES, TAG_BYTES, type Frame } from './frame-codec.js';
import type { HandshakeParams, LinkKeys, LinkMode } from './handshake.js';
import type { Identity } from './identity.js';
import { QueuedChannel } from './queued-channel.js';
import type { SessionConfig, SessionOptions } from './session-config.js';
import { sessionDigest } from './session-digest.js';
import { WsConnector, type ConnectorHost } from './ws-connector.js';
import { type LinkHost, type WireStats, WsLink } from './ws-link.js';

export type { WireStats } from './ws-link.js';

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
  /** while setting up: a line saying whom this party still waits for (ws-connector.ts, every few seconds) */
  readonly onWaiting?: (line: string) => void;
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

const CLOSE_GRACE_MS = 1000;

export class WsChannel extends QueuedChannel implements LinkHost, ConnectorHost {
  readonly session: SessionConfig;
  readonly options: SessionOptions;
  readonly mode: LinkMode;
  readonly wire: WireStats = { framesSent: 0, framesReceived: 0, wireBytesSent: 0, wireBytesReceived: 0 };
  /** worker threads for sealing/opening large frames; 0: every frame on this thread */
  readonly cryptoWorkers: number;
  readonly handshake: HandshakeParams;
  readonly onWaiting: ((line: string) => void) | undefined;
  private readonly links = new Map<PartyId, WsLink>();
  private readonly connector: WsConnector;
  private readonly mySeed = new Uint8Array(randomBytes(16));
  private down = false;
  /** the worker pool (started on first use) */
  private pool: CryptoPool | undefined;

  private constructor(opts: WsConnectOptions) {
    const options: SessionOptions = { ...opts.session.options, ...(opts.overrides ?? {}) };
    super(opts.self, { recvTimeoutMs: options.recvTimeoutMs, maxBufferedBytes: options.maxBufferedBytes, maxPendingMessages: 1 << 20 });
    this.session = opts.session;
    this.options = options;
    this.mode = opts.insecurePlaintext ? 'plain' : 'sealed';
    const workers = opts.cryptoWorkers ?? defaultCryptoWorkers();
    if (!Number.isSafeInteger(workers) || workers < 0) throw new RangeError('WsChannel.connect: cryptoWorkers must be a non-negative integer');
    this.cryptoWorkers = workers;
    this.handshake = {
      sessionId: opts.session.session,
      self: opts.self,
      secretKey: opts.identity.secretKey,
      publicKeys: opts.session.parties.map((p) => p.publicKey),
      mode: this.mode,
      digest: sessionDigest(opts.session, options),
    };
    this.onWaiting = opts.onWaiting;
    this.connector = new WsConnector(this);
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
    await ch.connector.start(opts.listenHost);
    const self = ch.self;
    const r = [0, 1, 2].map((i) => (i === self ? ch.mySeed : ch.connector.seedOf(i as PartyId)!));
    const h = createHash('sha256').update('mpcache/v1 common').update(Buffer.from([ch.session.session.length])).update(ch.session.session);
    for (const x of r) h.update(x);
    const seeds: SessionSeeds = {
      next: ch.links.get(nextParty(self))!.pairSeed,
      prev: ch.links.get(prevParty(self))!.pairSeed,
      common: new Uint8Array(h.digest().subarray(0, 16)),
      own: new Uint8Array(randomBytes(16)),
    };
    return { channel: ch, seeds };
  }

  /** the largest ws message accepted */
  get maxPayload(): number {
    return this.options.maxFrameBytes + PREFIX_BYTES + MAX_ENVELOPE_BYTES + TAG_BYTES;
  }

  /** the channel has shut down (or is shutting down) */
  get shutDown(): boolean {
    return this.down;
  }

  err(code: MpcError['code'], msg: string, peer?: PartyId, cause?: unknown): MpcError {
    return new MpcError(code, msg, { party: this.self, peer, step: this.currentStep ?? 'setup', round: this.stats.rounds, cause });
  }

  /** worker threads started for sealing/opening (0 until a large frame needed them, or when cryptoWorkers is 0) */
  get cryptoThreads(): number {
    return this.pool?.size ?? 0;
  }

  cryptoPool(): CryptoPool {
    this.pool ??= new CryptoPool(this.cryptoWorkers);
    return this.pool;
  }

  // ---- the connector's callbacks

  hasLink(peer: PartyId): boolean {
    return this.links.has(peer);
  }

  linkUp(ws: WebSocket, keys: LinkKeys, leftover: Uint8Array[]): void {
    const link = new WsLink(this, ws, keys, this.mode === 'sealed', this.session.session, this.maxPayload);
    this.links.set(keys.peer, link);
    link.send({ kind: 'seed', seed: this.mySeed });
    for (const m of leftover) link.receive(m);
  }

  onReady(): void {
    for (const link of this.links.values()) link.startHeartbeat();
  }

  // ---- the links' callbacks

  handleFrame(link: WsLink, f: Frame, seq: number): void {
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
        this.connector.onSeed(link.peer, f.seed);
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

  linkClosed(link: WsLink, why: string): void {
    if (link.byeReceived) this.peerGone(link.peer, this.err('MPC_ERR_PEER_CLOSED', `party ${link.peer} closed the session; ${why}`, link.peer));
    else this.fail(this.err('MPC_ERR_PEER_CLOSED', why, link.peer));
  }

  // ---- QueuedChannel

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
    link.send({ kind: 'data', step, payload });
  }

  protected async shutdown(abortError: MpcError | undefined): Promise<void> {
    if (this.down) return;
    this.down = true;
    const inSetup = this.connector.state === 'connecting';
    this.connector.stop(abortError); // after a failed setup, late connections get a reject from now on
    for (const link of this.links.values()) link.stopHeartbeat();
    // frames still being sealed go out first (the peer would see a sequence gap otherwise)
    // (an orderly close waits for them as long as a receive may wait: the last message of a
    // session can be large, and dropping it would fail the peer; an abort waits briefly)
    const graceMs = abortError ? CLOSE_GRACE_MS : Math.max(CLOSE_GRACE_MS, this.recvTimeoutMs);
    const links = [...this.links.values()];
    if (links.some((l) => l.sending)) {
      let t: NodeJS.Timeout | undefined;
      await Promise.race([Promise.all(links.map((l) => l.drained())), new Promise((r) => (t = setTimeout(r, graceMs)))]);
      clearTimeout(t);
    }
    const closing: Promise<void>[] = [];
    for (const ws of this.connector.sockets) {
      const link = links.find((l) => l.ws === ws);
      if (ws.readyState === WebSocket.OPEN) {
        if (link && !link.closed) {
          try {
            this.connector.markTold(link.peer);
            if (abortError) {
              // the code and its fixed text only: the local message may quote a secret
              link.send({ kind: 'abort', code: abortError.code, message: peerTextOf(abortError), step: abortError.step, round: abortError.round });
            } else link.send({ kind: 'bye' });
          } catch {
            // best effort: the socket is going away anyway
          }
        } else if (!link && abortError) {
          this.connector.rejectHandshake(ws, abortError); // a connection still in its handshake
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
    if (inSetup && abortError) await this.connector.linger(abortError);
    await this.pool?.close();
    // connect() rejects only now, so a caller that exits on failure has told its peers first
    this.connector.settle(abortError ?? this.err('MPC_ERR_CLOSED', 'channel closed during setup'));
  }
}
