/**
 * One authenticated WebSocket link to a peer, after its handshake: frames out (sealed and
 * sent in order, large payloads as 256 KiB parts), frames in (opened in arrival order,
 * handled in sequence order), the heartbeat, and the watchers of the socket.
 *
 * Large payloads travel as parts (frame-codec.ts). With cryptoWorkers = 0 (the default on 2
 * cores or fewer) each part is sealed on the main thread right before it is written and
 * opened as it arrives, so the peer opens part i while this side seals part i+1; with
 * workers, parts of frames of 128 KiB or more are sealed/opened on the pool in parallel and
 * sent/handled in sequence order.
 *
 * A link reports to its host (the channel, ws-channel.ts): every complete frame
 * (handleFrame), and failures as MpcErrors naming the peer (fail); it never decides the
 * session's fate itself.
 */
import { WebSocket, type RawData } from 'ws';
import type { PartyId } from '../protocols/channel.js';
import { MpcError, isMpcError } from '../protocols/errors.js';
import type { CryptoPool } from './crypto-pool.js';
import { bareMessage } from './error-text.js';
import { FrameOpener, FrameSealer, PART_BYTES, PREFIX_BYTES, TAG_BYTES, type Frame, type OpenPlan } from './frame-codec.js';
import { handshakeReject, type LinkKeys } from './handshake.js';
import type { SessionOptions } from './session-config.js';

/** Counters of frames on the wire (framing included), beside the Channel payload stats. */
export interface WireStats {
  framesSent: number;
  framesReceived: number;
  wireBytesSent: number;
  wireBytesReceived: number;
}

/** What a link needs from the channel that owns it. */
export interface LinkHost {
  readonly options: SessionOptions;
  readonly wire: WireStats;
  /** worker threads for sealing/opening; 0: every frame on the main thread */
  readonly cryptoWorkers: number;
  /** the channel has shut down: frames are ignored from now on */
  readonly shutDown: boolean;
  /** the worker pool (started on first use) */
  cryptoPool(): CryptoPool;
  /** an MpcError naming this party, `peer`, the step in progress and the round */
  err(code: MpcError['code'], msg: string, peer?: PartyId, cause?: unknown): MpcError;
  /** the session failed */
  fail(e: MpcError): void;
  /** a complete frame from the link's peer (sequence number `seq`) */
  handleFrame(link: WsLink, f: Frame, seq: number): void;
  /** the socket closed (`why`); judged once every frame that arrived before was handled */
  linkClosed(link: WsLink, why: string): void;
}

/**
 * Pieces of frames up to this size (every part of a split payload) are concatenated and sent
 * as one ws frame: one write, and the receiver gets the frame without a fragment-joining copy
 * (the receiving side, which also opens the frame, is the busier end of a transfer).
 */
const COALESCE_BYTES = PART_BYTES + 64 * 1024;
/** sealed frames / payloads at least this large are sealed and opened on worker threads */
const OFFLOAD_BYTES = 128 * 1024;
/** ws send options of a whole message (ws copies them; never changed) */
const SEND_WHOLE = Object.freeze({ binary: true });

/** The bytes of a ws message. */
export function rawBytes(data: RawData): Uint8Array {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return new Uint8Array(data);
}

/** The MpcError for a ws error on the connection to `peer` (undefined: not known yet). */
export function wsErrorOf(host: Pick<LinkHost, 'err' | 'options'>, e: Error & { code?: string }, peer: PartyId | undefined): MpcError {
  if (e.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') {
    return host.err('MPC_ERR_FRAME_TOO_LARGE', `${peer !== undefined ? `party ${peer}` : 'a peer'} sent a frame over the limit of ${host.options.maxFrameBytes} bytes`, peer, e);
  }
  if (e.code?.startsWith('WS_ERR_')) return host.err('MPC_ERR_BAD_FRAME', `invalid WebSocket frame from ${peer !== undefined ? `party ${peer}` : 'a peer'}: ${e.message}`, peer, e);
  return host.err('MPC_ERR_PEER_CLOSED', `connection${peer !== undefined ? ` to party ${peer}` : ''} failed: ${e.message}`, peer, e);
}

export class WsLink {
  readonly peer: PartyId;
  readonly pairSeed: Uint8Array;
  /** frames being opened or handled off the arrival path, in order */
  rx: Promise<void> = Promise.resolve();
  private rxPending = 0;
  /** bytes of the frames in `rx` (bounded by maxBufferedBytes) */
  private rxBytes = 0;
  /** messages being sealed, sent in order */
  private tx: Promise<void> = Promise.resolve();
  private txPending = 0;
  private readonly sealer: FrameSealer;
  private readonly opener: FrameOpener;
  private lastHeard = Date.now();
  private heartbeatTimer: NodeJS.Timeout | undefined;
  /** the peer said `bye` (an orderly close follows) */
  byeReceived = false;
  /** the socket closed or failed */
  closed = false;

  /**
   * Take over `ws` after its handshake (keys) and watch it. `sealed`: AES-GCM frames (else the
   * insecure plaintext mode); `maxPayload`: the largest ws message accepted.
   */
  constructor(
    private readonly host: LinkHost,
    readonly ws: WebSocket,
    keys: LinkKeys,
    sealed: boolean,
    sessionId: string,
    maxPayload: number,
  ) {
    this.peer = keys.peer;
    this.pairSeed = keys.pairSeed;
    this.sealer = new FrameSealer(sealed ? keys.sendKey : null, sessionId);
    this.opener = new FrameOpener(sealed ? keys.recvKey : null, sessionId, maxPayload);
    ws.on('message', (data: RawData) => this.receive(rawBytes(data)));
    ws.on('ping', () => (this.lastHeard = Date.now()));
    ws.on('pong', () => (this.lastHeard = Date.now()));
    ws.on('error', (e: Error) => {
      this.closed = true;
      host.fail(wsErrorOf(host, e, this.peer));
    });
    ws.on('close', (code: number, reason: Buffer) => {
      this.closed = true;
      const why = `connection to party ${this.peer} closed (code ${code}${reason.length ? `, ${reason.toString('utf8').slice(0, 100)}` : ''})`;
      // frames that arrived before the close may still be opening on worker threads (the
      // peer's `bye` among them): judge the close only once they have all been handled
      void this.rx.then(() => host.linkClosed(this, why));
    });
  }

  /** Ping every heartbeatMs; fail with MPC_ERR_TIMEOUT when nothing was heard for heartbeatTimeoutMs. */
  startHeartbeat(): void {
    const o = this.host.options;
    if (o.heartbeatMs <= 0) return;
    let lastTick = Date.now();
    const t = setInterval(() => {
      const now = Date.now();
      // if this process was blocked (the timer is late), pongs may be waiting unread: skip
      if (now - lastTick > 2 * o.heartbeatMs) this.lastHeard = now;
      lastTick = now;
      if (this.closed) return;
      if (now - this.lastHeard > o.heartbeatTimeoutMs) {
        this.host.fail(this.host.err('MPC_ERR_TIMEOUT', `nothing heard from party ${this.peer} for ${now - this.lastHeard} ms (heartbeat timeout ${o.heartbeatTimeoutMs} ms)`, this.peer));
        return;
      }
      if (this.ws.readyState === WebSocket.OPEN) this.ws.ping();
    }, o.heartbeatMs);
    t.unref();
    this.heartbeatTimer = t;
  }

  stopHeartbeat(): void {
    clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = undefined;
  }

  /** Messages still being sealed. */
  get sending(): boolean {
    return this.txPending > 0;
  }

  /** Resolves once every message handed to `send` so far went out (or failed). */
  drained(): Promise<void> {
    return this.tx;
  }

  /** A message from the peer (the socket's messages; the channel replays those that came with the handshake). */
  receive(bytes: Uint8Array): void {
    const host = this.host;
    if (host.shutDown) return;
    this.lastHeard = Date.now();
    host.wire.framesReceived++;
    host.wire.wireBytesReceived += bytes.byteLength;
    if (this.opener.sequence === 0) {
      // the peer failed while we finished the handshake: its reject message comes instead of a frame
      const rej = handshakeReject(bytes);
      if (rej) {
        host.fail(host.err(rej.code === 'MPC_ERR_AUTH' ? 'MPC_ERR_AUTH' : 'MPC_ERR_ABORTED', `party ${this.peer} gave up the session with ${rej.code}: ${rej.message}`, this.peer));
        return;
      }
    }
    let plan: OpenPlan;
    try {
      plan = this.opener.precheck(bytes); // in arrival order: sequence numbers are taken here
    } catch (e) {
      this.refused(e);
      return;
    }
    const key = this.opener.openKey;
    if (key !== null && host.cryptoWorkers > 0 && bytes.byteLength >= OFFLOAD_BYTES) {
      // a large sealed frame: open it on a worker thread, handle it in sequence order
      const opened = host.cryptoPool().open(key, plan.nonce, bytes.subarray(0, PREFIX_BYTES), bytes, PREFIX_BYTES, bytes.byteLength - PREFIX_BYTES - TAG_BYTES);
      this.inOrder(bytes.byteLength, opened, (plain) => {
        if (plain === null) throw new MpcError('MPC_ERR_TAMPER', `frame ${plan.seq} failed authentication (tampered or wrong key)`);
        return this.opener.finish(plan, plain.subarray(0, plan.envLen), plain.subarray(plan.envLen));
      });
      return;
    }
    if (this.rxPending > 0) {
      this.inOrder(bytes.byteLength, Promise.resolve(null), () => this.openHere(plan));
      return;
    }
    let f: Frame | null;
    try {
      f = this.openHere(plan);
    } catch (e) {
      this.refused(e);
      return;
    }
    if (f !== null) host.handleFrame(this, f, plan.seq); // null: a part of a multi-part data frame
  }

  /** A frame from the peer was refused (MpcError) — the session fails; anything else is a bug. */
  private refused(e: unknown): void {
    if (!isMpcError(e)) throw e;
    this.host.fail(this.host.err(e.code, `from party ${this.peer}: ${bareMessage(e)}`, this.peer));
  }

  private openHere(plan: OpenPlan): Frame | null {
    const plain = this.opener.decrypt(plan);
    if (plain === null) throw new MpcError('MPC_ERR_TAMPER', `frame ${plan.seq} failed authentication (tampered or wrong key)`);
    return this.opener.finish(plan, plain.env, plain.payload);
  }

  /** Run `then(result)` after every earlier frame of this link was handled. */
  private inOrder<T>(size: number, work: Promise<T>, then: (r: T) => Frame | null): void {
    const host = this.host;
    this.rxPending++;
    this.rxBytes += size;
    if (this.rxBytes > host.options.maxBufferedBytes) {
      host.fail(host.err('MPC_ERR_BUFFER_FULL', `more than ${host.options.maxBufferedBytes} bytes from party ${this.peer} waiting to be opened`, this.peer));
      return;
    }
    const seq = this.opener.sequence - 1;
    this.rx = this.rx
      .then(() => work)
      .then((r) => {
        this.rxPending--;
        this.rxBytes -= size;
        if (host.shutDown) return;
        const f = then(r);
        if (f !== null) host.handleFrame(this, f, seq);
      })
      .catch((e: unknown) => {
        this.rxPending--;
        if (isMpcError(e)) host.fail(host.err(e.code, `from party ${this.peer}: ${bareMessage(e)}`, this.peer));
        else host.fail(host.err('MPC_ERR_BAD_FRAME', `from party ${this.peer}: ${String(e)}`, this.peer, e));
      });
  }

  /** Seal and send one frame (after every earlier one). */
  send(f: Frame): void {
    const key = this.sealer.sealKey;
    if (key !== null && this.host.cryptoWorkers > 0 && f.kind === 'data' && f.payload.byteLength >= OFFLOAD_BYTES) {
      // large sealed payload: parts sealed in parallel on worker threads, sent in order
      const pool = this.host.cryptoPool();
      for (const plan of this.sealer.planParts(f)) {
        this.sendInOrder(pool.seal(key, plan.nonce, plan.prefix, plan.plain).then((m) => [Buffer.from(m.buffer, m.byteOffset, m.byteLength)]));
      }
      return;
    }
    if (f.kind !== 'data' || f.payload.byteLength <= PART_BYTES) {
      // one frame (the common small message): sealed without the part iterator
      const pieces = this.sealer.seal(f);
      if (this.txPending > 0) this.sendInOrder(Promise.resolve(pieces));
      else this.sendMessage(pieces);
      return;
    }
    for (const pieces of this.sealer.sealParts(f)) {
      if (this.txPending > 0) this.sendInOrder(Promise.resolve(pieces));
      else this.sendMessage(pieces);
    }
  }

  /** Send `pieces` once every earlier message of this link went out. */
  private sendInOrder(pieces: Promise<Buffer[]>): void {
    this.txPending++;
    this.tx = this.tx
      .then(() => pieces)
      .then((p) => {
        this.txPending--;
        if (!this.closed && this.ws.readyState === WebSocket.OPEN) this.sendMessage(p);
      })
      .catch((e: unknown) => {
        this.txPending--;
        this.host.fail(this.host.err('MPC_ERR_CLOSED', `sealing a frame for party ${this.peer} failed: ${String(e)}`, this.peer, e));
      });
  }

  private sendMessage(pieces: Buffer[]): void {
    const wire = this.host.wire;
    if (pieces.length === 1) {
      wire.framesSent++;
      wire.wireBytesSent += pieces[0].byteLength;
      this.ws.send(pieces[0], SEND_WHOLE);
      return;
    }
    let total = 0;
    for (const p of pieces) total += p.byteLength;
    wire.framesSent++;
    wire.wireBytesSent += total;
    if (total <= COALESCE_BYTES || pieces.length === 1) {
      this.ws.send(Buffer.concat(pieces, total), SEND_WHOLE);
      return;
    }
    for (let i = 0; i < pieces.length; i++) this.ws.send(pieces[i], { binary: true, fin: i === pieces.length - 1 });
  }
}
