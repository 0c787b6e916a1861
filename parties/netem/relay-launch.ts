/**
 * Start the link-emulation relay in a process of its own and put it in front of a session's
 * listeners.
 *
 * Every party keeps the same session file (the handshake binds a digest of it, hosts and
 * ports included). The relay listens on the session's addresses of the listening parties 1
 * and 2 (127.0.0.1:port), which is where their peers dial (0 -> 1, 0 -> 2, 1 -> 2); the
 * listeners themselves listen on BEHIND_RELAY_HOST at the same port (`--listen-host`), where
 * the relay forwards each connection. Each connection (one link) is shaped on its own, each
 * direction by its own shaper; the route to party 2 carries both links 0-2 and 1-2.
 * Linux: the whole 127.0.0.0/8 is loopback (elsewhere, add 127.0.0.2 to the loopback
 * interface to use --net).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SessionConfig } from '../session-config.js';
import type { RelayConfig, RelayRoute, RelayStats } from './relay.js';
import type { RelayReply, RelayRequest } from './relay-process.js';
import type { LinkShape } from './settings.js';

const here = dirname(fileURLToPath(import.meta.url));

/** where the listening parties listen while the relay holds their session addresses */
export const BEHIND_RELAY_HOST = '127.0.0.2';

/** The relay process entry beside this file (TypeScript source or compiled). */
export function relayEntry(): string {
  const p = join(here, import.meta.url.endsWith('.ts') ? 'relay-process.ts' : 'relay-process.js');
  if (!existsSync(p)) throw new Error(`relay: entry ${p} not found`);
  return p;
}

/** The relay's routes for a session: party 1's and party 2's session addresses, forwarded to BEHIND_RELAY_HOST. */
export function sessionRoutes(session: SessionConfig): RelayRoute[] {
  return ([1, 2] as const).map((j) => {
    const p = session.parties[j];
    return { name: `to-${j}`, listenHost: p.host, listenPort: p.port, targetHost: BEHIND_RELAY_HOST, targetPort: p.port };
  });
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
  // in this process's session, not detached: under autogroup scheduling a session of its own
  // would compete as one more group with every other session on a shared host, while here its
  // nice -10 puts it ahead of the parties (measured: 1 KiB party round trip at wan4 under load
  // ~13, 4.8-5.0 ms in the session vs 5.9-7.2 ms detached)
  const child = fork(relayEntry(), [], { execArgv: [...opts.execArgv], stdio: ['ignore', 'pipe', 'pipe', 'ipc'], serialization: 'advanced' });
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
