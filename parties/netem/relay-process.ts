/**
 * Entry of the relay process (forked by relay-launch.ts with an IPC channel, advanced
 * serialization). Protocol: the parent sends `{ type: 'start', config }`; the relay answers
 * `{ type: 'ready', ports }` (or `{ type: 'failed', message }` and exits 1); on
 * `{ type: 'stop' }` it answers `{ type: 'stats', stats }`, closes and exits 0. It exits as
 * soon as the parent goes away (IPC disconnect), so it never outlives the run.
 *
 * It asks the OS for a higher scheduling priority (nice RELAY_NICE, relay.ts): a link should not queue
 * behind the parties' computation for a core, as a network card does not. Where that is not
 * permitted it runs at the priority it has; `ready` reports which.
 */
import { getPriority, setPriority } from 'node:os';
import { RELAY_NICE, Relay, type RelayConfig, type RelayStats } from './relay.js';

export type RelayRequest = { readonly type: 'start'; readonly config: RelayConfig } | { readonly type: 'stop' };
export type RelayReply =
  | { readonly type: 'ready'; readonly ports: number[]; readonly nice: number }
  | { readonly type: 'failed'; readonly message: string }
  | { readonly type: 'stats'; readonly stats: RelayStats };

function reply(m: RelayReply): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send || !process.connected) return resolve();
    process.send(m, undefined, {}, () => resolve());
  });
}

function isRequest(m: unknown): m is RelayRequest {
  const t = typeof m === 'object' && m !== null ? (m as { type?: unknown }).type : undefined;
  return t === 'start' || t === 'stop';
}

if (!process.send) {
  process.stderr.write('relay-process: must be started with an IPC channel (parties/netem/relay-launch.ts)\n');
  process.exit(2);
}

function raisePriority(): number {
  try {
    setPriority(RELAY_NICE);
  } catch (e) {
    // EACCES / EPERM: not permitted here (no CAP_SYS_NICE); the relay runs as it is, and says so
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EACCES' && code !== 'EPERM') throw e;
  }
  return getPriority();
}

let relay: Relay | undefined;
process.on('disconnect', () => process.exit(0));
process.on('message', (m: unknown) => {
  if (!isRequest(m)) return;
  if (m.type === 'start') {
    if (relay) return;
    Relay.start(m.config).then(
      (r) => {
        relay = r;
        void reply({ type: 'ready', ports: r.ports, nice: raisePriority() });
      },
      async (e: unknown) => {
        await reply({ type: 'failed', message: e instanceof Error ? e.message : String(e) });
        process.exit(1);
      },
    );
    return;
  }
  const r = relay;
  void (async () => {
    if (r) {
      const stats = r.stats();
      await r.close();
      await reply({ type: 'stats', stats });
    }
    process.disconnect();
    process.exit(0);
  })();
});
