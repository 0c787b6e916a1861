/**
 * Frames on an established link: msgpackr envelopes, optionally sealed with AES-256-GCM.
 *
 * Wire layout of one WebSocket binary message (one frame):
 *
 *   offset 0   u32 BE  sequence number, high half   \
 *   offset 4   u32 BE  sequence number, low half     } 12 clear bytes, authenticated as AAD
 *   offset 8   u32 BE  envelope length E            /
 *   offset 12  E bytes msgpackr envelope  (ciphertext when sealed)
 *   then       P bytes payload            (ciphertext when sealed; raw typed-array bytes)
 *   then       16 bytes GCM tag           (sealed only)
 *
 * The envelope is `{ s: sessionId, k: kind, q: seq, st?: step, dt?: 'u64'|'u8', sh?: [n],
 * np?: parts, c?: code, m?: message, r?: round }`. The payload bytes follow the envelope
 * instead of being packed into it, so a typed array is never copied into a msgpack buffer:
 * the sender encrypts straight from the caller's array and hands the pieces to ws.
 *
 * Large payloads (sealParts) travel as several frames: a data frame with `np: N` carrying the
 * first part (256 KiB by default), then N-1 part frames `{ k: 'p' }`, each sealed on its own (own sequence number,
 * own tag). The receiver opens each part as it arrives, so across processes the sender seals
 * part i+1 while the wire carries part i and the receiver opens part i-1: encryption overlaps
 * the transfer instead of adding to it. The total size is declared (and checked against the
 * limit) in the first frame, before the buffer it is assembled into is allocated.
 *
 * Sealing: per-direction 32-byte key, 96-bit nonce = 4 zero bytes || the 64-bit sequence
 * number. Each direction counts its frames from 0, so the receiver knows the sequence number
 * it expects: a different clear number is MPC_ERR_REPLAY (replayed, reordered or dropped),
 * a failed tag is MPC_ERR_TAMPER. In plaintext mode (`key === null`, loopback benchmarks
 * only) the same checks run except the tag.
 *
 * Decoding order and error codes (the fuzz tests hold the decoder to exactly these):
 *   frame larger than the limit -> MPC_ERR_FRAME_TOO_LARGE (checked before any allocation)
 *   too short / envelope length out of range -> MPC_ERR_BAD_FRAME
 *   sequence number != expected -> MPC_ERR_REPLAY
 *   authentication tag wrong -> MPC_ERR_TAMPER
 *   envelope not msgpack / wrong fields / wrong session / dtype-shape mismatch -> MPC_ERR_BAD_FRAME
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { Packr } from 'msgpackr';
import type { Payload } from '../protocols/channel.js';
import { MpcError, MPC_ERROR_CODES, type MpcErrorCode } from '../protocols/errors.js';

export const PREFIX_BYTES = 12;
export const TAG_BYTES = 16;
/** largest envelope accepted (step tags and abort messages are short) */
export const MAX_ENVELOPE_BYTES = 8192;
/** longest step tag / abort message carried */
export const MAX_STEP_CHARS = 512;
export const MAX_MESSAGE_CHARS = 2048;

export type Frame =
  /** one protocol message */
  | { readonly kind: 'data'; readonly step: string; readonly payload: Payload }
  /** the sender aborts the session */
  | { readonly kind: 'abort'; readonly code: MpcErrorCode; readonly message: string; readonly step?: string; readonly round?: number }
  /** the sender's contribution to the common seed (sent once, right after the handshake) */
  | { readonly kind: 'seed'; readonly seed: Uint8Array }
  /** orderly close: the sender will send nothing more */
  | { readonly kind: 'bye' };

const KIND_CODE = { data: 'd', abort: 'a', seed: 's', bye: 'b' } as const;

/** default part size of sealParts */
export const PART_BYTES = 256 * 1024;

const packr = new Packr({ useRecords: false, moreTypes: false, mapsAsObjects: true });

function nonceFor(seq: number): Buffer {
  const n = Buffer.allocUnsafe(12);
  n.writeUInt32BE(0, 0);
  n.writeUInt32BE(Math.floor(seq / 0x1_0000_0000), 4);
  n.writeUInt32BE(seq >>> 0, 8);
  return n;
}

/** Write the 12-byte clear prefix (sequence number, envelope length) at the start of `out`. */
function writePrefix(out: Buffer, seq: number, envLen: number): void {
  out.writeUInt32BE(Math.floor(seq / 0x1_0000_0000), 0);
  out.writeUInt32BE(seq >>> 0, 4);
  out.writeUInt32BE(envLen, 8);
}

function prefixFor(seq: number, envLen: number): Buffer {
  const p = Buffer.allocUnsafe(PREFIX_BYTES);
  writePrefix(p, seq, envLen);
  return p;
}

function u32be(b: Uint8Array, at: number): number {
  return ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0;
}

function bytesOf(p: Payload): Uint8Array {
  return p instanceof Uint8Array ? p : new Uint8Array(p.buffer, p.byteOffset, p.byteLength);
}

function cut(s: string, n: number): string {
  return s.length <= n ? s : s.slice(0, n);
}

/** Seals (or frames, in plaintext mode) the frames of one direction of one link. */
export class FrameSealer {
  private seq = 0;
  /**
   * @param key 32-byte AES-256-GCM key of this direction, or null for plaintext mode
   * @param sessionId carried in every envelope
   */
  constructor(
    private readonly key: Uint8Array | null,
    private readonly sessionId: string,
  ) {
    if (key !== null && key.length !== 32) throw new RangeError('FrameSealer: key must be 32 bytes');
  }

  /** frames sealed so far */
  get sequence(): number {
    return this.seq;
  }

  /**
   * Encode a frame as one or more WebSocket messages (several when a data payload is larger
   * than `partBytes`). Each message is a list of pieces (send them as fragments of one
   * message, or concatenate them). The pieces never alias the caller's payload.
   * LAZY: each part is sealed when the iterator reaches it, so a caller that sends every
   * message as it comes puts part i on the wire before sealing part i+1. Consume the whole
   * iterator at once (sequence numbers are taken as parts are sealed).
   */
  *sealParts(frame: Frame, partBytes = PART_BYTES): Generator<Buffer[], void, undefined> {
    if (!Number.isSafeInteger(partBytes) || partBytes < 1) throw new RangeError('sealParts: partBytes must be a positive integer');
    if (frame.kind !== 'data' || frame.payload.byteLength <= partBytes) {
      yield this.seal(frame);
      return;
    }
    const bytes = bytesOf(frame.payload);
    const np = Math.ceil(bytes.byteLength / partBytes);
    yield this.seal(frame, { np, part: bytes.subarray(0, partBytes) });
    for (let i = 1; i < np; i++) yield this.sealRaw({ k: 'p' }, bytes.subarray(i * partBytes, Math.min(bytes.byteLength, (i + 1) * partBytes)));
  }

  /**
   * Encode one frame as one WebSocket message (whatever its size). Returns the pieces of the
   * message, in order. The pieces never alias the caller's payload, so the caller may reuse
   * its array as soon as this returns.
   */
  seal(frame: Frame, first?: { np: number; part: Uint8Array }): Buffer[] {
    const env: Record<string, unknown> = {};
    let payload: Uint8Array | undefined;
    switch (frame.kind) {
      case 'data':
        env.st = frame.step;
        env.dt = frame.payload instanceof BigUint64Array ? 'u64' : 'u8';
        env.sh = [frame.payload.length];
        payload = bytesOf(frame.payload);
        if (first) {
          env.np = first.np;
          payload = first.part;
        }
        break;
      case 'abort':
        env.c = frame.code;
        env.m = cut(frame.message, MAX_MESSAGE_CHARS);
        if (frame.step !== undefined) env.st = cut(frame.step, MAX_STEP_CHARS);
        if (frame.round !== undefined) env.r = frame.round;
        break;
      case 'seed':
        env.dt = 'u8';
        env.sh = [frame.seed.length];
        payload = frame.seed;
        break;
      case 'bye':
        break;
    }
    return this.sealRaw({ k: KIND_CODE[frame.kind], ...env }, payload);
  }

  /**
   * Plan the sealed parts of a data frame without encrypting them (for a worker pool):
   * each plan has its sequence number taken, the clear prefix (also the AAD), the nonce and
   * a fresh buffer holding envelope || part to encrypt. The message to send is
   * prefix || ciphertext || tag. Sealed mode only; consume the whole iterator at once.
   */
  *planParts(frame: Frame & { kind: 'data' }, partBytes = PART_BYTES): Generator<SealPlan, void, undefined> {
    if (this.key === null) throw new RangeError('planParts: sealed mode only');
    const bytes = bytesOf(frame.payload);
    const np = Math.max(1, Math.ceil(bytes.byteLength / partBytes));
    const head: Record<string, unknown> = {
      k: 'd',
      st: frame.step,
      dt: frame.payload instanceof BigUint64Array ? 'u64' : 'u8',
      sh: [frame.payload.length],
      ...(np > 1 ? { np } : {}),
    };
    for (let i = 0; i < np; i++) {
      const part = bytes.subarray(i * partBytes, Math.min(bytes.byteLength, (i + 1) * partBytes));
      const seq = this.seq++;
      const envBytes = packr.pack({ s: this.sessionId, q: seq, ...(i === 0 ? head : { k: 'p' }) });
      if (envBytes.length > MAX_ENVELOPE_BYTES) throw new RangeError(`frame envelope too large (${envBytes.length} bytes; step tag too long?)`);
      const plain = new Uint8Array(envBytes.length + part.byteLength);
      plain.set(envBytes, 0);
      plain.set(part, envBytes.length);
      yield { seq, prefix: prefixFor(seq, envBytes.length), nonce: nonceFor(seq), plain };
    }
  }

  /** this direction's key (null in plaintext mode) */
  get sealKey(): Uint8Array | null {
    return this.key;
  }

  /**
   * One frame as ONE buffer (prefix || envelope || payload [|| tag]): a single allocation the
   * socket can take as it is (no second copy to join pieces), and, sealed, the envelope and
   * the payload encrypted by one cipher in two updates (the payload keeps its own output
   * buffer only transiently).
   */
  private sealRaw(fields: Record<string, unknown>, payload: Uint8Array | undefined): Buffer[] {
    const seq = this.seq++;
    const env = { s: this.sessionId, q: seq, ...fields };
    const envBytes = packr.pack(env);
    const envLen = envBytes.length;
    if (envLen > MAX_ENVELOPE_BYTES) throw new RangeError(`frame envelope too large (${envLen} bytes; step tag too long?)`);
    const payLen = payload ? payload.byteLength : 0;
    const tagLen = this.key === null ? 0 : TAG_BYTES;
    const out = Buffer.allocUnsafe(PREFIX_BYTES + envLen + payLen + tagLen);
    writePrefix(out, seq, envLen);
    if (this.key === null) {
      // one copy into one piece: ws may still hold it after exchange() returns and the caller reuses its array
      out.set(envBytes, PREFIX_BYTES);
      if (payload && payLen > 0) out.set(payload, PREFIX_BYTES + envLen);
      return [out];
    }
    const c = createCipheriv('aes-256-gcm', this.key, nonceFor(seq));
    c.setAAD(out.subarray(0, PREFIX_BYTES));
    out.set(c.update(envBytes), PREFIX_BYTES);
    if (payload && payLen > 0) out.set(c.update(payload), PREFIX_BYTES + envLen);
    c.final();
    out.set(c.getAuthTag(), PREFIX_BYTES + envLen + payLen);
    return [out];
  }
}

/** Opens the frames of one direction of one link, checking order and authenticity. */
/** One part planned for sealing elsewhere (see FrameSealer.planParts). */
export interface SealPlan {
  readonly seq: number;
  /** the 12 clear bytes: first bytes of the message and the AAD */
  readonly prefix: Buffer;
  readonly nonce: Buffer;
  /** envelope || payload part, in a buffer of its own */
  readonly plain: Uint8Array;
}

/** A frame whose prefix was checked (sequence number taken), not yet decrypted. */
export interface OpenPlan {
  readonly seq: number;
  readonly envLen: number;
  readonly frame: Uint8Array;
  readonly nonce: Buffer;
}

interface Assembly {
  readonly step: string;
  readonly u64: boolean;
  readonly buf: Uint8Array;
  readonly words: BigUint64Array | undefined;
  filled: number;
  partsLeft: number;
}

export class FrameOpener {
  private seq = 0;
  private assembly: Assembly | undefined;
  /**
   * @param key 32-byte key of this direction, or null for plaintext mode
   * @param sessionId every envelope must carry it
   * @param maxFrameBytes frames longer than this are MPC_ERR_FRAME_TOO_LARGE
   */
  constructor(
    private readonly key: Uint8Array | null,
    private readonly sessionId: string,
    readonly maxFrameBytes: number,
  ) {
    if (key !== null && key.length !== 32) throw new RangeError('FrameOpener: key must be 32 bytes');
  }

  /** frames opened so far */
  get sequence(): number {
    return this.seq;
  }

  /**
   * Decode one frame; throws only MpcError (codes: see the file comment). Returns null for a
   * part of a multi-part data frame that is not complete yet; the last part returns the whole
   * data frame.
   */
  open(buf: Uint8Array): Frame | null {
    const plan = this.precheck(buf);
    const plain = this.decrypt(plan);
    if (plain === null) throw new MpcError('MPC_ERR_TAMPER', `frame ${plan.seq} failed authentication (tampered or wrong key)`);
    return this.finish(plan, plain.env, plain.payload);
  }

  /** this direction's key (null in plaintext mode) */
  get openKey(): Uint8Array | null {
    return this.key;
  }

  /**
   * Step 1 of open, in arrival order: size, envelope-length and sequence checks; takes the
   * sequence number. Throws FRAME_TOO_LARGE / BAD_FRAME / REPLAY.
   */
  precheck(buf: Uint8Array): OpenPlan {
    if (buf.byteLength > this.maxFrameBytes) {
      throw new MpcError('MPC_ERR_FRAME_TOO_LARGE', `frame of ${buf.byteLength} bytes exceeds the limit of ${this.maxFrameBytes}`);
    }
    const tagLen = this.key === null ? 0 : TAG_BYTES;
    if (buf.byteLength < PREFIX_BYTES + tagLen) throw new MpcError('MPC_ERR_BAD_FRAME', `frame of ${buf.byteLength} bytes is too short`);
    const seq = u32be(buf, 0) * 0x1_0000_0000 + u32be(buf, 4);
    const envLen = u32be(buf, 8);
    if (envLen === 0 || envLen > MAX_ENVELOPE_BYTES || PREFIX_BYTES + envLen + tagLen > buf.byteLength) {
      throw new MpcError('MPC_ERR_BAD_FRAME', `envelope length ${envLen} out of range`);
    }
    if (seq !== this.seq) {
      throw new MpcError('MPC_ERR_REPLAY', `frame sequence ${seq} where ${this.seq} was expected (replayed, reordered or dropped frame)`);
    }
    this.seq++;
    return { seq, envLen, frame: buf, nonce: nonceFor(seq) };
  }

  /** Step 2, here: the envelope and payload in clear, or null if authentication fails. */
  decrypt(plan: OpenPlan): { env: Uint8Array; payload: Uint8Array } | null {
    const buf = plan.frame;
    const envEnd = PREFIX_BYTES + plan.envLen;
    if (this.key === null) return { env: buf.subarray(PREFIX_BYTES, envEnd), payload: buf.subarray(envEnd) };
    const payEnd = buf.byteLength - TAG_BYTES;
    const d = createDecipheriv('aes-256-gcm', this.key, plan.nonce);
    d.setAAD(buf.subarray(0, PREFIX_BYTES));
    d.setAuthTag(buf.subarray(payEnd));
    const env = d.update(buf.subarray(PREFIX_BYTES, envEnd));
    const payload = payEnd > envEnd ? d.update(buf.subarray(envEnd, payEnd)) : new Uint8Array(0);
    try {
      d.final();
    } catch {
      return null;
    }
    return { env, payload };
  }

  /**
   * Step 3, in sequence order: decode the authenticated envelope and payload. Returns null
   * for a part of a multi-part data frame that is not complete yet.
   */
  finish(plan: OpenPlan, env: Uint8Array, payload: Uint8Array): Frame | null {
    const o = decodeEnvelopeMap(env, plan.seq, this.sessionId);
    if (this.assembly) {
      if (o.k !== 'p') throw bad(`frame of kind ${JSON.stringify(o.k)} inside a multi-part data frame`);
      return this.addPart(payload);
    }
    if (o.k === 'p') throw bad('part frame without a data frame');
    if (o.k === 'd' && o.np !== undefined) return this.startAssembly(o, payload);
    return decodeFrame(o, payload);
  }

  private startAssembly(o: Record<string, unknown>, part: Uint8Array): null {
    const np = o.np;
    if (typeof o.st !== 'string' || o.st.length > MAX_STEP_CHARS) throw bad('data frame without a valid step tag');
    const sh = o.sh;
    if (!Array.isArray(sh) || sh.length !== 1 || typeof sh[0] !== 'number' || !Number.isSafeInteger(sh[0]) || sh[0] < 0) throw bad('payload shape must be [n]');
    if (o.dt !== 'u8' && o.dt !== 'u64') throw bad(`unknown payload dtype ${JSON.stringify(o.dt)}`);
    const u64 = o.dt === 'u64';
    const total = sh[0] * (u64 ? 8 : 1);
    if (total > this.maxFrameBytes) throw new MpcError('MPC_ERR_FRAME_TOO_LARGE', `multi-part payload of ${total} bytes exceeds the limit of ${this.maxFrameBytes}`);
    if (typeof np !== 'number' || !Number.isSafeInteger(np) || np < 2 || np > total) throw bad(`bad part count ${JSON.stringify(np)}`);
    if (part.byteLength === 0 || part.byteLength >= total) throw bad('first part of a multi-part frame has a bad size');
    // uninitialised memory (no zero fill of a buffer the parts overwrite): it is handed out
    // only once every byte of it was written (the parts must add up to `total`, see addPart)
    const ab = Buffer.allocUnsafeSlow(total).buffer;
    const words = u64 ? new BigUint64Array(ab, 0, sh[0]) : undefined;
    const buf = new Uint8Array(ab, 0, total);
    buf.set(part, 0);
    this.assembly = { step: o.st, u64, buf, words, filled: part.byteLength, partsLeft: np - 1 };
    return null;
  }

  private addPart(part: Uint8Array): Frame | null {
    const a = this.assembly!;
    const left = a.buf.byteLength - a.filled;
    if (part.byteLength === 0 || part.byteLength > left || (a.partsLeft === 1) !== (part.byteLength === left)) {
      this.assembly = undefined;
      throw bad('multi-part frame parts do not add up to its declared size');
    }
    a.buf.set(part, a.filled);
    a.filled += part.byteLength;
    a.partsLeft--;
    if (a.partsLeft > 0) return null;
    this.assembly = undefined;
    return { kind: 'data', step: a.step, payload: a.words ?? a.buf };
  }
}

function bad(msg: string): MpcError {
  return new MpcError('MPC_ERR_BAD_FRAME', msg);
}

function decodeEnvelopeMap(envBytes: Uint8Array, seq: number, sessionId: string): Record<string, unknown> {
  let env: unknown;
  try {
    env = packr.unpack(envBytes);
  } catch (e) {
    throw bad(`envelope is not msgpack (${(e as Error).message})`);
  }
  if (typeof env !== 'object' || env === null || Array.isArray(env)) throw bad('envelope is not a map');
  const o = env as Record<string, unknown>;
  if (o.s !== sessionId) throw bad(`envelope names session ${JSON.stringify(o.s)}, not ${JSON.stringify(sessionId)}`);
  if (o.q !== seq) throw bad(`envelope sequence ${String(o.q)} differs from frame sequence ${seq}`);
  return o;
}

function decodeFrame(o: Record<string, unknown>, payload: Uint8Array): Frame {
  switch (o.k) {
    case 'd': {
      if (typeof o.st !== 'string' || o.st.length > MAX_STEP_CHARS) throw bad('data frame without a valid step tag');
      return { kind: 'data', step: o.st, payload: typedPayload(o.dt, o.sh, payload) };
    }
    case 's': {
      const p = typedPayload(o.dt, o.sh, payload);
      if (!(p instanceof Uint8Array) || p.length !== 16) throw bad('seed frame must carry 16 bytes');
      return { kind: 'seed', seed: p };
    }
    case 'a': {
      if (payload.byteLength !== 0) throw bad('abort frame with a payload');
      const code = typeof o.c === 'string' && (MPC_ERROR_CODES as readonly string[]).includes(o.c) ? (o.c as MpcErrorCode) : undefined;
      if (code === undefined) throw bad('abort frame with an unknown error code');
      if (typeof o.m !== 'string' || o.m.length > MAX_MESSAGE_CHARS) throw bad('abort frame without a valid message');
      const step = typeof o.st === 'string' && o.st.length <= MAX_STEP_CHARS ? o.st : undefined;
      const round = typeof o.r === 'number' && Number.isSafeInteger(o.r) && o.r >= 0 ? o.r : undefined;
      return { kind: 'abort', code, message: o.m, ...(step !== undefined ? { step } : {}), ...(round !== undefined ? { round } : {}) };
    }
    case 'b':
      if (payload.byteLength !== 0) throw bad('bye frame with a payload');
      return { kind: 'bye' };
    default:
      throw bad(`unknown frame kind ${JSON.stringify(o.k)}`);
  }
}

function typedPayload(dt: unknown, sh: unknown, bytes: Uint8Array): Payload {
  if (!Array.isArray(sh) || sh.length !== 1 || typeof sh[0] !== 'number' || !Number.isSafeInteger(sh[0]) || sh[0] < 0) {
    throw bad('payload shape must be [n]');
  }
  const n = sh[0];
  if (dt === 'u8') {
    if (bytes.byteLength !== n) throw bad(`u8 payload of ${bytes.byteLength} bytes, shape says ${n}`);
    // a plain Uint8Array view (not a Buffer), as the Channel contract promises
    return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  if (dt === 'u64') {
    if (bytes.byteLength !== n * 8) throw bad(`u64 payload of ${bytes.byteLength} bytes, shape says ${n} words`);
    if (bytes.byteOffset % 8 === 0) return new BigUint64Array(bytes.buffer, bytes.byteOffset, n);
    const copy = new BigUint64Array(n);
    new Uint8Array(copy.buffer).set(bytes);
    return copy;
  }
  throw bad(`unknown payload dtype ${JSON.stringify(dt)}`);
}
