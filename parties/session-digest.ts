/**
 * The session description every party must hold equal, in the two forms the handshake uses:
 *  - `hash`: SHA-256 over a canonical encoding of the session id, the three parties (id, host,
 *    port, public key) and the agreed options (AGREED_OPTIONS, by name, in a fixed order).
 *    The handshake binds it into the signed transcript, so two parties whose descriptions
 *    differ in anything can never complete a handshake.
 *  - `fields` + `options`: what travels in the (unauthenticated) hello so the listening party
 *    can say WHAT differs before refusing: an 8-byte hash of each party's host, port and public
 *    key (9 x 8 bytes; nothing a peer could not know already) and the agreed option values
 *    (public numbers). `describeDifference` turns two of them into one line.
 * Nothing here is secret: the session file holds addresses, public keys and options only.
 */
import { createHash } from 'node:crypto';
import type { PartyId } from '../protocols/channel.js';
import { AGREED_OPTIONS, type SessionConfig, type SessionOptions } from './session-config.js';

/** bytes of each field hash in `fields` */
const FIELD_HASH_BYTES = 8;
const PARTY_FIELDS = ['host', 'port', 'publicKey'] as const;
/** length of `fields`: 3 parties x 3 fields x 8 bytes */
export const DIGEST_FIELDS_BYTES = 3 * PARTY_FIELDS.length * FIELD_HASH_BYTES;

export interface SessionDigest {
  /** SHA-256 of the canonical description (bound into the handshake transcript) */
  readonly hash: Uint8Array;
  /** 8-byte hashes of parties[i].host, .port, .publicKey, i = 0..2, concatenated */
  readonly fields: Uint8Array;
  /** the agreed options, by name */
  readonly options: Readonly<Record<string, number>>;
}

function lenPrefixed(h: ReturnType<typeof createHash>, b: Uint8Array | string): void {
  const bytes = typeof b === 'string' ? Buffer.from(b, 'utf8') : b;
  const n = Buffer.alloc(4);
  n.writeUInt32BE(bytes.length);
  h.update(n);
  h.update(bytes);
}

function portBytes(port: number): Uint8Array {
  return Uint8Array.of(port >> 8, port & 0xff);
}

/** The digest of a session with its effective options (the file's options plus this party's overrides). */
export function sessionDigest(s: SessionConfig, options: SessionOptions = s.options): SessionDigest {
  const h = createHash('sha256');
  h.update('mpcache/v2 session');
  lenPrefixed(h, s.session);
  const fields = new Uint8Array(DIGEST_FIELDS_BYTES);
  let at = 0;
  for (const p of s.parties) {
    h.update(Uint8Array.of(p.id));
    const values: Uint8Array[] = [Buffer.from(p.host, 'utf8'), portBytes(p.port), p.publicKey];
    values.forEach((v, k) => {
      lenPrefixed(h, v);
      const fh = createHash('sha256').update(`mpcache/v2 field ${p.id} ${PARTY_FIELDS[k]}`).update(v).digest();
      fields.set(fh.subarray(0, FIELD_HASH_BYTES), at);
      at += FIELD_HASH_BYTES;
    });
  }
  const opts: Record<string, number> = {};
  for (const k of AGREED_OPTIONS) {
    opts[k] = options[k];
    lenPrefixed(h, k);
    lenPrefixed(h, String(options[k]));
  }
  return { hash: new Uint8Array(h.digest()), fields, options: opts };
}

/** The wire form carried in a hello (and in a reject that refuses a different description). */
export function digestToWire(d: SessionDigest): { f: Uint8Array; o: Record<string, number> } {
  return { f: d.fields, o: { ...d.options } };
}

/** Parse a wire form; undefined when malformed. */
export function digestFromWire(v: unknown): Pick<SessionDigest, 'fields' | 'options'> | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
  const o = v as Record<string, unknown>;
  if (!(o.f instanceof Uint8Array) || o.f.length !== DIGEST_FIELDS_BYTES) return undefined;
  if (typeof o.o !== 'object' || o.o === null || Array.isArray(o.o)) return undefined;
  const options: Record<string, number> = {};
  for (const [k, x] of Object.entries(o.o as Record<string, unknown>)) {
    if (typeof x !== 'number' || !/^[A-Za-z]{1,64}$/.test(k)) return undefined;
    options[k] = x;
  }
  return { fields: o.f, options };
}

/**
 * One line saying what differs between this party's description and the peer's (undefined
 * when the field hashes and options agree). Option values are named; addresses and keys only
 * by field, e.g. "option 'fracBits' differs: party 1 (this party) has 18, party 0 has 16" or
 * "parties[2].port differs between the session files of party 1 (this party) and party 0".
 */
export function describeDifference(mine: Pick<SessionDigest, 'fields' | 'options'>, theirs: Pick<SessionDigest, 'fields' | 'options'>, self: PartyId, peer: number): string | undefined {
  const diffs: string[] = [];
  for (let i = 0; i < 3; i++) {
    for (let k = 0; k < PARTY_FIELDS.length; k++) {
      const at = (i * PARTY_FIELDS.length + k) * FIELD_HASH_BYTES;
      const a = mine.fields.subarray(at, at + FIELD_HASH_BYTES);
      const b = theirs.fields.subarray(at, at + FIELD_HASH_BYTES);
      if (!a.every((x, j) => x === b[j])) diffs.push(`parties[${i}].${PARTY_FIELDS[k]}`);
    }
  }
  const fieldLine = diffs.length > 0 ? `${diffs.join(', ')} differ${diffs.length === 1 ? 's' : ''} between the session files of party ${self} (this party) and party ${peer}` : undefined;
  const names = [...new Set([...Object.keys(mine.options), ...Object.keys(theirs.options)])];
  const optionLines = names
    .filter((k) => mine.options[k] !== theirs.options[k])
    .map((k) => `option '${k}' differs: party ${self} (this party) has ${mine.options[k] ?? 'no value'}, party ${peer} has ${theirs.options[k] ?? 'no value'}`);
  const all = [...(fieldLine ? [fieldLine] : []), ...optionLines];
  return all.length > 0 ? `session description differs: ${all.join('; ')}` : undefined;
}
