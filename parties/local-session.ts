/**
 * Loopback sessions for one machine: fresh identities, free ports, files in a temp dir.
 * Used by `mpcache demo`, the launcher, tests and benchmarks.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { PartyId } from '../protocols/channel.js';
import { generateIdentity, writeKeyFile, type Identity } from './identity.js';
import { DEFAULT_SESSION_OPTIONS, type SessionConfig, type SessionOptions, sessionToJson } from './session-config.js';

/** `n` distinct TCP ports that were free on 127.0.0.1 a moment ago (the OS picks them). */
export async function freePorts(n: number, host = '127.0.0.1'): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<import('node:net').Server>((resolve, reject) => {
          const s = createServer();
          s.once('error', reject);
          s.listen(0, host, () => resolve(s));
        }),
    ),
  );
  const ports = servers.map((s) => {
    const a = s.address();
    if (a === null || typeof a === 'string') throw new Error('freePorts: no port');
    return a.port;
  });
  await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  return ports;
}

export interface LocalSession {
  readonly config: SessionConfig;
  readonly identities: readonly [Identity, Identity, Identity];
}

/** A loopback session on 127.0.0.1 with fresh keys and free ports. */
export async function makeLocalSession(options: Partial<SessionOptions> = {}): Promise<LocalSession> {
  const ports = await freePorts(3);
  const identities = [generateIdentity(), generateIdentity(), generateIdentity()] as const;
  const config: SessionConfig = {
    session: `local-${randomBytes(6).toString('hex')}`,
    parties: [0, 1, 2].map((i) => ({ id: i as PartyId, host: '127.0.0.1', port: ports[i], publicKey: identities[i].publicKey })) as unknown as SessionConfig['parties'],
    options: { ...DEFAULT_SESSION_OPTIONS, ...options },
  };
  return { config, identities };
}

export interface LocalSessionFiles {
  readonly dir: string;
  readonly sessionPath: string;
  readonly keyPaths: readonly [string, string, string];
  /** delete the directory */
  remove(): void;
}

/** Write `session.json` and `party{0,1,2}.key` into a fresh temp dir. */
export function writeLocalSession(s: LocalSession, dir = mkdtempSync(join(tmpdir(), 'mpcache-'))): LocalSessionFiles {
  const sessionPath = join(dir, 'session.json');
  writeFileSync(sessionPath, sessionToJson(s.config));
  const keyPaths = [0, 1, 2].map((i) => {
    const p = join(dir, `party${i}.key`);
    writeKeyFile(p, s.identities[i]);
    return p;
  }) as unknown as [string, string, string];
  return { dir, sessionPath, keyPaths, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
