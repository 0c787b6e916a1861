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
 * Every problem in the file is MPC_ERR_CONFIG with the field at fault in the message.
 */
import { MpcError } from '../protocols/errors.js';
import type { PartyId } from '../protocols/channel.js';
import { fromHex, readJsonFile, toHex } from './identity.js';

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
