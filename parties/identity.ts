/**
 * Party identities: Ed25519 key pairs (@noble/curves) and the key file that `mpcache keygen`
 * writes. A key file is JSON:
 *
 *   { "kind": "mpcache-ed25519", "publicKey": "<64 hex>", "secretKey": "<64 hex>" }
 *
 * It is always written with mode 0600 (a temp file renamed into place, so `keygen --force`
 * over a file with wider permissions leaves a 0600 file). The public key goes into the
 * session file; the secret key never leaves the party.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fchmodSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { ed25519 } from '@noble/curves/ed25519.js';
import { MpcError } from '../protocols/errors.js';

export const KEY_FILE_KIND = 'mpcache-ed25519';

export interface Identity {
  /** 32-byte Ed25519 secret key (seed) */
  readonly secretKey: Uint8Array;
  /** 32-byte Ed25519 public key */
  readonly publicKey: Uint8Array;
}

/** A fresh key pair from the system CSPRNG (noble uses crypto.getRandomValues). */
export function generateIdentity(): Identity {
  const { secretKey, publicKey } = ed25519.keygen();
  return { secretKey, publicKey };
}

export function toHex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

/** Parse exactly `bytes` bytes of hex; throws MPC_ERR_CONFIG naming `field`. */
export function fromHex(s: unknown, bytes: number, field: string): Uint8Array {
  if (typeof s !== 'string' || s.length !== bytes * 2 || !/^[0-9a-fA-F]*$/.test(s)) {
    throw new MpcError('MPC_ERR_CONFIG', `${field} must be ${bytes * 2} hex characters`);
  }
  return new Uint8Array(Buffer.from(s, 'hex'));
}

export function identityToJson(id: Identity): string {
  return JSON.stringify({ kind: KEY_FILE_KIND, publicKey: toHex(id.publicKey), secretKey: toHex(id.secretKey) }, null, 2) + '\n';
}

/** Validate a parsed key file object; `where` names the file in error messages. */
export function identityFromJson(obj: unknown, where = 'key file'): Identity {
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) throw new MpcError('MPC_ERR_CONFIG', `${where}: not a JSON object`);
  const o = obj as Record<string, unknown>;
  if (o.kind !== KEY_FILE_KIND) throw new MpcError('MPC_ERR_CONFIG', `${where}: field 'kind' must be '${KEY_FILE_KIND}'`);
  const secretKey = fromHex(o.secretKey, 32, `${where}: field 'secretKey'`);
  const publicKey = fromHex(o.publicKey, 32, `${where}: field 'publicKey'`);
  const derived = ed25519.getPublicKey(secretKey);
  if (!equalBytes(derived, publicKey)) throw new MpcError('MPC_ERR_CONFIG', `${where}: field 'publicKey' does not match 'secretKey'`);
  return { secretKey, publicKey };
}

/**
 * Write a key file with mode 0600, whatever the umask and whatever file was there before:
 * the JSON goes to a fresh temp file beside `path` (created 0600, exclusive), is flushed, and
 * is renamed over `path`, so an existing file's permissions are never kept and no reader sees
 * a half-written key. Throws the fs error (the temp file is removed).
 */
export function writeKeyFile(path: string, id: Identity): void {
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    try {
      fchmodSync(fd, 0o600); // the umask cannot widen it, but be explicit
      writeSync(fd, identityToJson(id));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/** Permission bits of a key file that let other users read or change it (0 when none, or not POSIX). */
export function keyFileExposure(path: string): number {
  if (process.platform === 'win32') return 0;
  return statSync(path).mode & 0o077;
}

export function readKeyFile(path: string): Identity {
  return identityFromJson(readJsonFile(path, 'key file'), `key file ${path}`);
}

/** Read and parse a JSON file; any failure is MPC_ERR_CONFIG naming the file. */
export function readJsonFile(path: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new MpcError('MPC_ERR_CONFIG', `cannot read ${what} ${path}: ${(e as Error).message}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new MpcError('MPC_ERR_CONFIG', `${what} ${path} is not valid JSON: ${(e as Error).message}`);
  }
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i] ^ b[i];
  return d === 0;
}
