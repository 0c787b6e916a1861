/**
 * Start the link-emulation relay in a process of its own and wire a session through it.
 *
 * Routes for a three-party session (the lower id dials the higher): 0-1 -> party 1,
 * 0-2 -> party 2, 1-2 -> party 2. The relay listens on a fresh loopback port per route; each
 * party gets its own view of the session in which the peers IT DIALS sit at the relay's
 * ports, while its own entry (where it listens) stays the real one. Nothing else changes:
 * the handshake authenticates keys, not addresses.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PartyId } from '../../protocols/channel.js';
import { sessionToJson, type SessionConfig } from '../session-config.js';
import type { RelayConfig, RelayRoute, RelayStats } from './relay.js';
import type { RelayReply, RelayRequest } from './relay-process.js';
import type { LinkShape } from './settings.js';

const here = dirname(fileURLToPath(import.meta.url));

/** The relay process entry beside this file (TypeScript source or compiled). */
export function relayEntry(): string {
  const p = join(here, import.meta.url.endsWith('.ts') ? 'relay-process.ts' : 'relay-process.js');
  if (!existsSync(p)) throw new Error(`relay: entry ${p} not found`);
  return p;
}

/** the three routes of a session, in the order 0-1, 0-2, 1-2 */
export const SESSION_LINKS: readonly (readonly [PartyId, PartyId])[] = [
  [0, 1],
  [0, 2],
  [1, 2],
];

export function sessionRoutes(session: SessionConfig, relayHost = '127.0.0.1'): RelayRoute[] {
  return SESSION_LINKS.map(([a, b]) => ({ name: `${a}-${b}`, listenHost: relayHost, listenPort: 0, targetHost: session.parties[b].host, targetPort: session.parties[b].port }));
}

/** Party `self`'s view of the session: the peers it dials are reached through the relay's `ports` (sessionRoutes order). */
export function relayedSession(session: SessionConfig, self: PartyId, ports: readonly number[], relayHost = '127.0.0.1'): SessionConfig {
  const parties = session.parties.map((p) => {
    if (p.id <= self) return p;
    const i = SESSION_LINKS.findIndex(([a, b]) => a === self && b === p.id);
    return { ...p, host: relayHost, port: ports[i] };
  }) as unknown as SessionConfig['parties'];
  return { ...session, parties };
}

/** Write each party's relayed view of `session` as `dir/session-p<i>.json`; returns the three paths. */
export function writeRelayedSessions(dir: string, session: SessionConfig, ports: readonly number[]): [string, string, string] {
  return ([0, 1, 2] as PartyId[]).map((i) => {
    const path = join(dir, `session-p${i}.json`);
    writeFileSync(path, sessionToJson(relayedSession(session, i, ports)));
    return path;
  }) as [string, string, string];
}

export interface RelayHandle {
  /** listening ports, in route order */
  readonly ports: readonly number[];
  /** the relay process's niceness (it asks for RELAY_NICE; lower is more urgent) */
  readonly nice: number;
  readonly child: ChildProcess;
  /** stop the relay; resolves with its statistics (undefined if it had already gone) */
  stop(): Promise<RelayStats | undefined>;
  /** kill it now (idempotent) */
  kill(): void;
}

function isReply(m: unknown): m is RelayReply {
  const t = typeof m === 'object' && m !== null ? (m as { type?: unknown }).type : undefined;
  return t === 'ready' || t === 'failed' || t === 'stats';
}

/**
 * Fork the relay process with `execArgv` (e.g. the launcher's childExecArgv(relayEntry()),
 * which brings tsx's loader when the entry is TypeScript) and start `routes` shaped by `shape`.
 * Rejects if it fails to start within `timeoutMs`.
 */
export async function startRelayProcess(
  shape: LinkShape,
  routes: readonly RelayRoute[],
  opts: { readonly execArgv: readonly string[]; readonly seed?: number; readonly timeoutMs?: number; readonly onLine?: (line: string) => void },
): Promise<RelayHandle> {
  // its own session (detached): on Linux with autogroup scheduling that is its own scheduling
  // group, so the parties' computation cannot use up the CPU share the relay's timing needs;
  // it still exits with this process (IPC disconnect)
  const child = fork(relayEntry(), [], { execArgv: [...opts.execArgv], stdio: ['ignore', 'pipe', 'pipe', 'ipc'], serialization: 'advanced', detached: true });
  const onLine = opts.onLine ?? ((l: string) => process.stderr.write(`[relay] ${l}\n`));
  for (const s of [child.stdout, child.stderr]) {
    let rest = '';
    s?.setEncoding('utf8');
    s?.on('data', (t: string) => {
      const lines = (rest + t).split('\n');
      rest = lines.pop() ?? '';
      for (const l of lines) onLine(l);
    });
  }
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  let stopping: Promise<RelayStats | undefined> | undefined;
  let ready = false;
  let killed = false;
  child.once('exit', (code, signal) => {
    if (ready && stopping === undefined && !killed) onLine(`the relay process exited unexpectedly with ${signal ?? `code ${code}`}: every link through it is gone`);
  });
  const kill = (): void => {
    killed = true;
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  const config: RelayConfig = { shape, routes, seed: opts.seed };
  const { ports, nice } = await new Promise<{ ports: number[]; nice: number }>((resolve, reject) => {
    const t = setTimeout(() => {
      kill();
      reject(new Error(`relay: did not start within ${opts.timeoutMs ?? 30_000} ms`));
    }, opts.timeoutMs ?? 30_000);
    child.on('message', (m: unknown) => {
      if (!isReply(m)) return;
      if (m.type === 'ready') {
        clearTimeout(t);
        resolve({ ports: m.ports, nice: m.nice });
      } else if (m.type === 'failed') {
        clearTimeout(t);
        kill();
        reject(new Error(`relay: failed to start: ${m.message}`));
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(t);
      reject(new Error(`relay: exited with ${signal ?? `code ${code}`} before it was ready`));
    });
    child.send({ type: 'start', config } satisfies RelayRequest);
  });
  ready = true;
  const stop = (): Promise<RelayStats | undefined> => {
    stopping ??= new Promise<RelayStats | undefined>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null || !child.connected) {
        resolve(undefined);
        return;
      }
      let stats: RelayStats | undefined;
      const t = setTimeout(kill, 10_000);
      child.on('message', (m: unknown) => {
        if (isReply(m) && m.type === 'stats') stats = m.stats;
      });
      void exited.then(() => {
        clearTimeout(t);
        resolve(stats);
      });
      child.send({ type: 'stop' } satisfies RelayRequest);
    });
    return stopping;
  };
  return { ports, nice, child, stop, kill };
}
