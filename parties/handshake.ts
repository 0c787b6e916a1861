/**
 * The per-connection authenticated key exchange (the lower party id dials and initiates).
 *
 *   I -> R  hello  { t:'hello', v:2, s: sessionId, f: I, to: R, m: mode, e: ephI, d: descI }
 *   R -> I  hello2 { t:'hello2', e: ephR, g: sign_R('mpcache/v2 responder' || T) }
 *   I -> R  auth   { t:'auth', g: sign_I('mpcache/v2 initiator' || T) }
 *   R -> I  ok     { t:'ok' }
 *
 * with T = SHA-256('mpcache/v2 handshake' || len||sessionId || I || R || mode || D || pkI ||
 * pkR || ephI || ephR), D the hash of the whole session description (session-digest.ts: the
 * session id, every party's id, host, port and public key, the agreed options such as
 * fracBits and the timeouts): the transcript binds the session, both long-term Ed25519
 * identities (taken from the session file, never from the wire), the description both sides
 * hold and both fresh X25519 ephemeral keys. `descI` (field hashes and agreed option values,
 * nothing secret) lets R say what differs: R refuses a hello whose description differs from
 * its own with MPC_ERR_CONFIG_MISMATCH and sends its own in the reject, so both sides log the
 * same one-line difference ("option 'fracBits' differs: ...", "parties[2].port differs ...").
 *
 * Either side may instead answer `{ t:'reject', f: id, c: code, m: text, d?: desc }` and
 * close; `m` is the fixed text of the code (error-text.ts peerTextOf: the code's text and, for a second-hand abort, the first cause's code), never a local message.
 * Version: a hello with v != 2 (an older release: v1 had no description) is refused with
 * MPC_ERR_CONFIG_MISMATCH naming both versions; an older responder refuses a v2 hello with
 * its own "expected a version 1 hello" reject, which this side reports with the code it sent.
 *
 * From Z = X25519(eph, peerEph), HKDF-SHA256 (salt T) derives
 *   key I->R and key R->I (32 bytes each, AES-256-GCM, one per direction) and
 *   the pairwise PRG seed of {I, R} (16 bytes) used by the protocol suite.
 * Messages are msgpack of at most 1024 bytes; every failure is an MpcError: MPC_ERR_AUTH for
 * identity, session id or mode problems, MPC_ERR_CONFIG_MISMATCH for a different description
 * or version, MPC_ERR_BAD_FRAME for undecodable messages, MPC_ERR_TIMEOUT / _PEER_CLOSED from
 * the message source.
 */
import { createHash, hkdfSync } from 'node:crypto';
import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import { Packr } from 'msgpackr';
import type { PartyId } from '../protocols/channel.js';
import { MpcError, MPC_ERROR_CODES, type MpcErrorCode } from '../protocols/errors.js';
import { peerTextOf } from './error-text.js';
import { type SessionDigest, describeDifference, digestFromWire, digestToWire } from './session-digest.js';

export type LinkMode = 'sealed' | 'plain';

/** How the handshake talks: one message out, next message in. */
export interface HandshakeIO {
  send(msg: Uint8Array): void;
  /** next message; rejects with MpcError (timeout, closed) */
  next(): Promise<Uint8Array>;
}

export interface HandshakeParams {
  readonly sessionId: string;
  readonly self: PartyId;
  readonly secretKey: Uint8Array;
  /** Ed25519 public keys of all parties, by id (from the session file) */
  readonly publicKeys: readonly Uint8Array[];
  readonly mode: LinkMode;
  /** this party's session description (session-digest.ts) */
  readonly digest: SessionDigest;
}

/** The handshake version this release speaks. */
export const HANDSHAKE_VERSION = 2;

export interface LinkKeys {
  readonly peer: PartyId;
  /** key for frames this party sends to the peer */
  readonly sendKey: Uint8Array;
  /** key for frames from the peer */
  readonly recvKey: Uint8Array;
  /** PRG seed shared by this party and the peer */
  readonly pairSeed: Uint8Array;
}

const packr = new Packr({ useRecords: false, moreTypes: false, mapsAsObjects: true });
const MAX_HANDSHAKE_BYTES = 1024;

function auth(msg: string, self: PartyId, peer?: number): MpcError {
  return new MpcError('MPC_ERR_AUTH', msg, { party: self, ...(peer !== undefined ? { peer } : {}), step: 'handshake' });
}

/** A peer's reject message as an MpcError (with what differs, when it sent its description). */
function rejected(o: Record<string, unknown>, self: PartyId, peer: number | undefined, mine: SessionDigest | undefined): MpcError {
  const code: MpcErrorCode =
    typeof o.c === 'string' && (MPC_ERROR_CODES as readonly string[]).includes(o.c) ? (o.c as MpcErrorCode) : 'MPC_ERR_AUTH';
  const m = typeof o.m === 'string' ? o.m.slice(0, 500) : '';
  if (peer === undefined && (o.f === 0 || o.f === 1 || o.f === 2) && o.f !== self) peer = o.f;
  const theirs = o.d !== undefined ? digestFromWire(o.d) : undefined;
  const who = peer !== undefined ? `party ${peer}` : 'the peer';
  if (code === 'MPC_ERR_BAD_FRAME' && m === V1_VERSION_REJECT) {
    return new MpcError('MPC_ERR_CONFIG_MISMATCH', `${who} speaks handshake version 1 (an older release), this party version ${HANDSHAKE_VERSION}: every party must run a release with the same handshake`, { party: self, peer, step: 'handshake' });
  }
  const diff = mine !== undefined && theirs !== undefined && peer !== undefined ? describeDifference(mine, theirs, self, peer) : undefined;
  return new MpcError(code, `rejected by ${who} with ${code}: ${diff ?? m}`, { party: self, peer, step: 'handshake' });
}

function decode(bytes: Uint8Array, self: PartyId, peer?: number, mine?: SessionDigest): Record<string, unknown> {
  if (bytes.byteLength > MAX_HANDSHAKE_BYTES) {
    throw new MpcError('MPC_ERR_FRAME_TOO_LARGE', `handshake message of ${bytes.byteLength} bytes`, { party: self, peer, step: 'handshake' });
  }
  let v: unknown;
  try {
    v = packr.unpack(bytes);
  } catch (e) {
    throw new MpcError('MPC_ERR_BAD_FRAME', `handshake message is not msgpack (${(e as Error).message})`, { party: self, peer, step: 'handshake' });
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new MpcError('MPC_ERR_BAD_FRAME', 'handshake message is not a map', { party: self, peer, step: 'handshake' });
  }
  const o = v as Record<string, unknown>;
  if (o.t === 'reject') throw rejected(o, self, peer, mine);
  return o;
}

function bytes32(v: unknown): v is Uint8Array {
  return v instanceof Uint8Array && v.length === 32;
}

function transcript(sid: string, i: number, r: number, mode: LinkMode, description: Uint8Array, pkI: Uint8Array, pkR: Uint8Array, ephI: Uint8Array, ephR: Uint8Array): Uint8Array {
  const h = createHash('sha256');
  const sidBytes = Buffer.from(sid, 'utf8');
  h.update('mpcache/v2 handshake');
  h.update(Buffer.from([sidBytes.length]));
  h.update(sidBytes);
  h.update(Buffer.from([i, r, mode === 'sealed' ? 1 : 0]));
  for (const b of [description, pkI, pkR, ephI, ephR]) h.update(b);
  return new Uint8Array(h.digest());
}

function label(prefix: string, t: Uint8Array): Uint8Array {
  const p = Buffer.from(prefix, 'utf8');
  const out = new Uint8Array(p.length + t.length);
  out.set(p);
  out.set(t, p.length);
  return out;
}

function derive(shared: Uint8Array, t: Uint8Array, i: number, r: number): { iToR: Uint8Array; rToI: Uint8Array; seed: Uint8Array } {
  const k = (info: string, n: number) => new Uint8Array(hkdfSync('sha256', shared, t, info, n));
  return { iToR: k(`mpcache/v2 key ${i}->${r}`, 32), rToI: k(`mpcache/v2 key ${r}->${i}`, 32), seed: k(`mpcache/v2 seed ${i},${r}`, 16) };
}

function sharedSecret(eph: Uint8Array, peerEph: Uint8Array, self: PartyId, peer: number): Uint8Array {
  let z: Uint8Array;
  try {
    z = x25519.getSharedSecret(eph, peerEph);
  } catch {
    throw auth('peer sent an invalid X25519 ephemeral key', self, peer);
  }
  if (z.every((b) => b === 0)) throw auth('peer sent a low-order X25519 ephemeral key', self, peer);
  return z;
}

/** Decode a small handshake message without throwing (undefined when it is not one). */
export function peekHandshake(bytes: Uint8Array): Record<string, unknown> | undefined {
  // a msgpack map (fixmap, map16, map32); frames start with the high half of their sequence number, 0
  const b0 = bytes[0];
  if (bytes.byteLength === 0 || bytes.byteLength > MAX_HANDSHAKE_BYTES || !((b0 >= 0x80 && b0 <= 0x8f) || b0 === 0xde || b0 === 0xdf)) return undefined;
  try {
    const v: unknown = packr.unpack(bytes);
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** If `bytes` is a reject message: its code and (fixed) text. */
export function handshakeReject(bytes: Uint8Array): { code: MpcErrorCode; message: string; from?: PartyId } | undefined {
  const m = peekHandshake(bytes);
  if (!m || m.t !== 'reject') return undefined;
  const code: MpcErrorCode = typeof m.c === 'string' && (MPC_ERROR_CODES as readonly string[]).includes(m.c) ? (m.c as MpcErrorCode) : 'MPC_ERR_AUTH';
  const from = m.f === 0 || m.f === 1 || m.f === 2 ? (m.f as PartyId) : undefined;
  return { code, message: typeof m.m === 'string' ? m.m.slice(0, 500) : '', ...(from !== undefined ? { from } : {}) };
}

/**
 * Build a reject message from party `self` (sent before closing a connection whose handshake
 * failed): the code and its fixed text only (the local message stays local), plus this
 * party's session description (public) so a peer whose description differs can say what.
 */
export function rejectMessage(e: MpcError, self: number, digest?: SessionDigest): Uint8Array {
  return packr.pack({ t: 'reject', f: self, c: e.code, m: peerTextOf(e), ...(digest !== undefined ? { d: digestToWire(digest) } : {}) });
}

/** The reject of a hello in another handshake version (fixed text an older release shows as it is). */
function versionReject(self: number): Uint8Array {
  return packr.pack({ t: 'reject', f: self, c: 'MPC_ERR_CONFIG_MISMATCH', m: `party ${self} speaks handshake version ${HANDSHAKE_VERSION}: every party must run a release with the same handshake` });
}

/** What a release with handshake version 1 answers to any other version. */
const V1_VERSION_REJECT = 'expected a version 1 hello message';

/** The dialing side (self < peer). */
export async function initiateHandshake(io: HandshakeIO, p: HandshakeParams, peer: PartyId): Promise<LinkKeys> {
  const eph = x25519.utils.randomSecretKey();
  const ephI = x25519.getPublicKey(eph);
  io.send(packr.pack({ t: 'hello', v: HANDSHAKE_VERSION, s: p.sessionId, f: p.self, to: peer, m: p.mode, e: ephI, d: digestToWire(p.digest) }));
  const h2 = decode(await io.next(), p.self, peer, p.digest);
  if (h2.t !== 'hello2' || !bytes32(h2.e) || !(h2.g instanceof Uint8Array) || h2.g.length !== 64) {
    throw new MpcError('MPC_ERR_BAD_FRAME', 'expected a hello2 message', { party: p.self, peer, step: 'handshake' });
  }
  const ephR = h2.e;
  const t = transcript(p.sessionId, p.self, peer, p.mode, p.digest.hash, p.publicKeys[p.self], p.publicKeys[peer], ephI, ephR);
  let ok = false;
  try {
    ok = ed25519.verify(h2.g, label('mpcache/v2 responder', t), p.publicKeys[peer]);
  } catch {
    ok = false;
  }
  if (!ok) {
    const e = auth(`party ${peer} failed to prove its identity (signature does not verify against its public key in the session file)`, p.self, peer);
    io.send(rejectMessage(e, p.self, p.digest));
    throw e;
  }
  const z = sharedSecret(eph, ephR, p.self, peer);
  io.send(packr.pack({ t: 'auth', g: ed25519.sign(label('mpcache/v2 initiator', t), p.secretKey) }));
  const fin = decode(await io.next(), p.self, peer, p.digest);
  if (fin.t !== 'ok') throw new MpcError('MPC_ERR_BAD_FRAME', 'expected an ok message', { party: p.self, peer, step: 'handshake' });
  const d = derive(z, t, p.self, peer);
  return { peer, sendKey: d.iToR, recvKey: d.rToI, pairSeed: d.seed };
}

/**
 * The listening side. `expectPeer(id)` is asked whether a hello from party `id` is acceptable
 * (a known, lower party not yet connected); it returns an error message or undefined.
 */
export async function respondHandshake(io: HandshakeIO, p: HandshakeParams, expectPeer: (id: number) => string | undefined): Promise<LinkKeys> {
  const hello = decode(await io.next(), p.self);
  const fail = (e: MpcError, msg = rejectMessage(e, p.self, p.digest)): never => {
    io.send(msg);
    throw e;
  };
  if (hello.t !== 'hello') fail(new MpcError('MPC_ERR_BAD_FRAME', 'expected a hello message', { party: p.self, step: 'handshake' }));
  if (hello.v !== HANDSHAKE_VERSION) {
    const v = typeof hello.v === 'number' && Number.isSafeInteger(hello.v) ? String(hello.v) : 'unknown';
    const who = hello.f === 0 || hello.f === 1 || hello.f === 2 ? `party ${hello.f}` : 'the dialing party';
    fail(
      new MpcError('MPC_ERR_CONFIG_MISMATCH', `${who} speaks handshake version ${v}, this party version ${HANDSHAKE_VERSION} (every party must run a release with the same handshake)`, {
        party: p.self,
        ...(hello.f === 0 || hello.f === 1 || hello.f === 2 ? { peer: hello.f } : {}),
        step: 'handshake',
      }),
      versionReject(p.self),
    );
  }
  if (hello.s !== p.sessionId) fail(auth(`hello names session ${JSON.stringify(hello.s).slice(0, 140)}, this is session ${JSON.stringify(p.sessionId)}`, p.self));
  const from = hello.f;
  if (typeof from !== 'number' || !Number.isInteger(from) || from < 0 || from > 2) {
    fail(auth(`hello from unknown party ${JSON.stringify(from).slice(0, 40)}`, p.self));
  }
  const peer = from as PartyId;
  const why = expectPeer(peer);
  if (why !== undefined) fail(auth(why, p.self, peer));
  if (hello.to !== p.self) fail(auth(`hello addressed to party ${String(hello.to)}, this is party ${p.self}`, p.self, peer));
  if (hello.m !== p.mode) {
    fail(auth(`party ${peer} runs in ${String(hello.m)} mode, this party in ${p.mode} mode (all parties must agree on --insecure-plaintext)`, p.self, peer));
  }
  const theirs = digestFromWire(hello.d);
  if (theirs === undefined) fail(new MpcError('MPC_ERR_BAD_FRAME', 'hello without a valid session description', { party: p.self, peer, step: 'handshake' }));
  const diff = describeDifference(p.digest, theirs!, p.self, peer);
  if (diff !== undefined) fail(new MpcError('MPC_ERR_CONFIG_MISMATCH', diff, { party: p.self, peer, step: 'handshake' }));
  if (!bytes32(hello.e)) fail(new MpcError('MPC_ERR_BAD_FRAME', 'hello without a 32-byte ephemeral key', { party: p.self, peer, step: 'handshake' }));
  const ephI = hello.e as Uint8Array;
  const eph = x25519.utils.randomSecretKey();
  const ephR = x25519.getPublicKey(eph);
  const t = transcript(p.sessionId, peer, p.self, p.mode, p.digest.hash, p.publicKeys[peer], p.publicKeys[p.self], ephI, ephR);
  let z: Uint8Array | undefined;
  try {
    z = sharedSecret(eph, ephI, p.self, peer);
  } catch (e) {
    fail(e as MpcError);
  }
  io.send(packr.pack({ t: 'hello2', e: ephR, g: ed25519.sign(label('mpcache/v2 responder', t), p.secretKey) }));
  const a = decode(await io.next(), p.self, peer, p.digest);
  if (a.t !== 'auth' || !(a.g instanceof Uint8Array) || a.g.length !== 64) {
    fail(new MpcError('MPC_ERR_BAD_FRAME', 'expected an auth message', { party: p.self, peer, step: 'handshake' }));
  }
  let ok = false;
  try {
    ok = ed25519.verify(a.g as Uint8Array, label('mpcache/v2 initiator', t), p.publicKeys[peer]);
  } catch {
    ok = false;
  }
  if (!ok) fail(auth(`party ${peer} failed to prove its identity (signature does not verify against its public key in the session file)`, p.self, peer));
  io.send(packr.pack({ t: 'ok' }));
  const d = derive(z!, t, peer, p.self);
  return { peer, sendKey: d.rToI, recvKey: d.iToR, pairSeed: d.seed };
}
