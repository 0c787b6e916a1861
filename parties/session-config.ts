/**
 * The session file: which three parties take part, where they listen and which Ed25519
 * public key each one proves in the handshake, plus the options every party must agree on.
 *
 * ```json
 * {
 *   "session": "demo-2f6c",                        // 1..128 chars [A-Za-z0-9._:-]
 *   "parties": [
 *     { "id": 0, "host": "127.0.0.1", "port": 7100, "publicKey": "<64 hex>" },
 *     { "id": 1, "host": "127.0.0.1", "port": 7101, "publicKey": "<64 hex>" },
 *     { "id": 2, "host": "127.0.0.1", "port": 7102, "publicKey": "<64 hex>" }
 *   ],
 *   "options": { "fracBits": 18, "recvTimeoutMs": 30000, "handshakeTimeoutMs": 10000,
 *                "maxFrameBytes": 268435456, "maxBufferedBytes": 1073741824,
 *                "heartbeatMs": 5000, "heartbeatTimeoutMs": 60000 }   // every option optional
 * }
 * ```
 * Connection topology: the lower id dials the higher id (0 -> 1, 0 -> 2, 1 -> 2), so party
 * 0 never listens (its port is unused but must still be valid) and party 2 only listens.
 * Every problem in the file is MPC_ERR_CONFIG with the field at fault in the message; two
 * parties with the same public key, or parties 1 and 2 on the same host:port, are refused.
 *
 * Every party must hold the same description: the handshake binds a hash of the session id,
 * the party list and the AGREED options (every option but `handshakeTimeoutMs`, which is each
 * party's own setup window) into its signed transcript (session-digest.ts).
 */
import { MpcError } from '../protocols/errors.js';
import type { PartyId } from '../protocols/channel.js';
import { equalBytes, fromHex, readJsonFile, toHex } from './identity.js';

export interface PartyEndpoint {
  readonly id: PartyId;
  readonly host: string;
  readonly port: number;
  /** 32-byte Ed25519 public key */
  readonly publicKey: Uint8Array;
}

/** Options shared by all parties (every field has a default). */
export interface SessionOptions {
  /** fixed-point fractional bits of the Context (default 18) */
  readonly fracBits: number;
  /** a receive that waits longer rejects with MPC_ERR_TIMEOUT (default 30000) */
  readonly recvTimeoutMs: number;
  /** connecting (with retries) + handshake + seed agreement must finish within this (default 10000) */
  readonly handshakeTimeoutMs: number;
  /** largest payload+envelope accepted in one frame; larger is MPC_ERR_FRAME_TOO_LARGE (default 256 MiB) */
  readonly maxFrameBytes: number;
  /** most received-but-unconsumed bytes (per peer) or unsent bytes (per socket); beyond is MPC_ERR_BUFFER_FULL (default 1 GiB) */
  readonly maxBufferedBytes: number;
  /** interval of WebSocket pings (default 5000; 0 disables heartbeats) */
  readonly heartbeatMs: number;
  /** a peer silent (no frame, no pong) this long is MPC_ERR_TIMEOUT (default 60000) */
  readonly heartbeatTimeoutMs: number;
}

export const DEFAULT_SESSION_OPTIONS: SessionOptions = {
  fracBits: 18,
  recvTimeoutMs: 30_000,
  handshakeTimeoutMs: 10_000,
  maxFrameBytes: 256 * 1024 * 1024,
  maxBufferedBytes: 1024 * 1024 * 1024,
  heartbeatMs: 5_000,
  heartbeatTimeoutMs: 60_000,
};

export interface SessionConfig {
  readonly session: string;
  /** indexed by party id */
  readonly parties: readonly [PartyEndpoint, PartyEndpoint, PartyEndpoint];
  readonly options: SessionOptions;
}

const SESSION_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const HOST = /^[A-Za-z0-9.:\-[\]]{1,255}$/;

function cfg(msg: string): MpcError {
  return new MpcError('MPC_ERR_CONFIG', msg);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function intIn(v: unknown, lo: number, hi: number, field: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < lo || v > hi) throw cfg(`${field} must be an integer in [${lo}, ${hi}], got ${JSON.stringify(v)}`);
  return v;
}

const OPTION_RANGES: Record<keyof SessionOptions, [number, number]> = {
  fracBits: [0, 40],
  recvTimeoutMs: [1, 24 * 3600_000],
  handshakeTimeoutMs: [1, 24 * 3600_000],
  maxFrameBytes: [1024, 2 ** 31 - 1],
  maxBufferedBytes: [1024, 2 ** 40],
  heartbeatMs: [0, 3600_000],
  heartbeatTimeoutMs: [1, 24 * 3600_000],
};

/**
 * Options every party must hold equal (bound into the handshake transcript): fixed-point
 * precision, the timeouts and heartbeats that must fit each other, the frame and buffer limits
 * (a frame one party sends must be one its peer accepts). `handshakeTimeoutMs` is each party's
 * own setup window and may differ.
 */
export const AGREED_OPTIONS: readonly (keyof SessionOptions)[] = ['fracBits', 'recvTimeoutMs', 'maxFrameBytes', 'maxBufferedBytes', 'heartbeatMs', 'heartbeatTimeoutMs'];

/** Validate session options (a partial object); unknown keys are errors. */
export function parseSessionOptions(v: unknown, field = 'options'): SessionOptions {
  if (v === undefined) return DEFAULT_SESSION_OPTIONS;
  if (!isObject(v)) throw cfg(`${field} must be an object`);
  const out: Record<string, number> = { ...DEFAULT_SESSION_OPTIONS };
  for (const [k, val] of Object.entries(v)) {
    const range = OPTION_RANGES[k as keyof SessionOptions];
    if (!range) throw cfg(`${field}.${k} is not a known option (known: ${Object.keys(OPTION_RANGES).join(', ')})`);
    out[k] = intIn(val, range[0], range[1], `${field}.${k}`);
  }
  return out as unknown as SessionOptions;
}

/** Validate a parsed session object. */
export function parseSessionConfig(obj: unknown, where = 'session'): SessionConfig {
  if (!isObject(obj)) throw cfg(`${where}: not a JSON object`);
  for (const k of Object.keys(obj)) {
    if (k !== 'session' && k !== 'parties' && k !== 'options') throw cfg(`${where}: unknown field '${k}'`);
  }
  const session = obj.session;
  if (typeof session !== 'string' || !SESSION_ID.test(session)) throw cfg(`${where}: field 'session' must be 1-128 characters of [A-Za-z0-9._:-]`);
  const ps = obj.parties;
  if (!Array.isArray(ps) || ps.length !== 3) throw cfg(`${where}: field 'parties' must list exactly 3 parties`);
  const parties = ps.map((p: unknown, i: number): PartyEndpoint => {
    const f = `${where}: parties[${i}]`;
    if (!isObject(p)) throw cfg(`${f} must be an object`);
    if (p.id !== i) throw cfg(`${f}.id must be ${i} (parties are listed in id order)`);
    if (typeof p.host !== 'string' || !HOST.test(p.host)) throw cfg(`${f}.host must be a host name or IP address`);
    const port = intIn(p.port, 1, 65535, `${f}.port`);
    const publicKey = fromHex(p.publicKey, 32, `${f}.publicKey`);
    return { id: i as PartyId, host: p.host, port, publicKey };
  }) as unknown as [PartyEndpoint, PartyEndpoint, PartyEndpoint];
  for (let i = 1; i < 3; i++) {
    for (let j = 0; j < i; j++) {
      if (equalBytes(parties[i].publicKey, parties[j].publicKey)) {
        throw cfg(`${where}: parties[${i}].publicKey is the same as parties[${j}].publicKey (every party needs its own key: mpcache keygen)`);
      }
    }
  }
  if (parties[1].host.toLowerCase() === parties[2].host.toLowerCase() && parties[1].port === parties[2].port) {
    throw cfg(`${where}: parties[2] listens on the same host:port as parties[1] (${parties[1].host}:${parties[1].port})`);
  }
  const options = parseSessionOptions(obj.options, `${where}: options`);
  return { session, parties, options };
}

export function readSessionFile(path: string): SessionConfig {
  return parseSessionConfig(readJsonFile(path, 'session file'), `session file ${path}`);
}

export function sessionToJson(s: SessionConfig): string {
  return (
    JSON.stringify(
      {
        session: s.session,
        parties: s.parties.map((p) => ({ id: p.id, host: p.host, port: p.port, publicKey: toHex(p.publicKey) })),
        options: s.options,
      },
      null,
      2,
    ) + '\n'
  );
}

/**
 * Whether `host` names this machine's loopback interface without a lookup: `localhost`,
 * 127.0.0.0/8, ::1 (also bracketed or IPv4-mapped). Any other name counts as not loopback.
 */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  if (h === 'localhost' || h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  const v4 = h.replace(/^::ffff:/, '');
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(v4);
  return m !== null && m[1] === '127' && m.slice(2).every((x) => Number(x) <= 255);
}

/** Refuse unsealed links unless every party of the session is on a loopback host. */
export function checkPlaintextAllowed(s: SessionConfig): void {
  const far = s.parties.find((p) => !isLoopbackHost(p.host));
  if (far !== undefined) {
    throw cfg(`--insecure-plaintext is for loopback benchmarks only: every party must be on a loopback host (127.0.0.0/8, ::1, localhost), parties[${far.id}].host is ${far.host}`);
  }
}
