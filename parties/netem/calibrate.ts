/**
 * Calibration of the relay against its configured link: what the endpoints measure through a
 * relay process, next to what was asked for (the test and `npm run bench -- network`).
 *
 *  - RTT: median ping-pong round trip of a 64-byte frame (probe.ts) through the relay with the
 *    setting (`measuredRttMs`, nothing subtracted), and through a second relay at rtt=0 with
 *    the same pause between round trips as the setting's RTT (`baseRttMs`: loopback, the
 *    relay's forwarding and the endpoints' wake-ups after sleeping as long as they do under the
 *    setting). `calibratedRttMs` = measured - base is the delay the emulation adds. The two
 *    are measured in alternating blocks, so a change in the host's load hits both alike.
 *  - throughput: median over `bulkReps` transfers of `bulkBytes` through the relay, as the
 *    arrival rate at the sink (probe.ts: bytes after the first chunk / first-to-last arrival).
 *  - the relay's own view: lateness of each piece against its due time, CPU of the process.
 */
import { childExecArgv } from '../launcher.js';
import { ProbeServers, median } from './probe.js';
import type { RelayStats } from './relay.js';
import { relayEntry, startRelayProcess, type RelayHandle } from './relay-launch.js';
import { parseNetSetting, type LinkShape, type NetSetting } from './settings.js';

export interface Calibration {
  readonly setting: NetSetting;
  readonly configuredRttMs: number;
  readonly measuredRttMs: number;
  readonly baseRttMs: number;
  readonly calibratedRttMs: number;
  /** round trips measured with the setting (and as many for the base) */
  readonly rttSamples: number;
  /** bits per second (Infinity: no limit configured, not measured) */
  readonly configuredBps: number;
  readonly measuredBps: number;
  readonly bulkBytes: number;
  /** the relay with the setting: lateness, CPU */
  readonly relay: RelayStats;
}

export interface CalibrateOptions {
  /** round trips with the setting (default: about 1.6 s of them, 40..400) */
  readonly rounds?: number;
  /** bytes per bulk transfer (default: 0.25 s at the configured rate, at least 1 MiB) */
  readonly bulkBytes?: number;
  /** bulk transfers (default 3) */
  readonly bulkReps?: number;
}

function relayFor(shape: LinkShape, servers: ProbeServers): Promise<RelayHandle> {
  return startRelayProcess(
    shape,
    [
      { name: 'echo', listenHost: '127.0.0.1', listenPort: 0, targetHost: '127.0.0.1', targetPort: servers.echoPort },
      { name: 'sink', listenHost: '127.0.0.1', listenPort: 0, targetHost: '127.0.0.1', targetPort: servers.sinkPort },
    ],
    { execArgv: childExecArgv(relayEntry()) },
  );
}

/** Calibrate one emulated setting (it must have a link). */
export async function calibrate(setting: NetSetting, opts: CalibrateOptions = {}): Promise<Calibration> {
  const shape = setting.link;
  if (shape === undefined) throw new RangeError(`calibrate: '${setting.name}' emulates nothing`);
  const rttMs = 2 * shape.delayMs;
  const rounds = opts.rounds ?? Math.max(40, Math.min(400, Math.round(1600 / Math.max(rttMs, 1e-3))));
  const block = Math.max(5, Math.round(rounds / 8));
  const servers = await ProbeServers.start();
  const relays: RelayHandle[] = [];
  try {
    const base = await relayFor(parseNetSetting('rtt=0ms').link!, servers);
    relays.push(base);
    const relay = await relayFor(shape, servers);
    relays.push(relay);
    const measured: number[] = [];
    const based: number[] = [];
    for (let done = 0; done < rounds; done += block) {
      const n = Math.min(block, rounds - done);
      measured.push(...(await servers.pingPong(relay.ports[0], n, { warmup: done === 0 ? 10 : 2 })));
      based.push(...(await servers.pingPong(base.ports[0], n, { warmup: done === 0 ? 10 : 2, gapMs: rttMs })));
    }
    const configuredBps = shape.rateBps;
    let measuredBps = Infinity;
    let bulkBytes = 0;
    if (Number.isFinite(configuredBps)) {
      bulkBytes = opts.bulkBytes ?? Math.max(1 << 20, Math.round((configuredBps / 8) * 0.25));
      const rates: number[] = [];
      for (let i = 0; i < (opts.bulkReps ?? 3); i++) rates.push((await servers.bulk(relay.ports[1], bulkBytes)).bps);
      measuredBps = median(rates);
    }
    const stats = await relay.stop();
    if (stats === undefined) throw new Error('calibrate: the relay gave no statistics');
    const m = median(measured);
    const b = median(based);
    return { setting, configuredRttMs: rttMs, measuredRttMs: m, baseRttMs: b, calibratedRttMs: m - b, rttSamples: measured.length, configuredBps, measuredBps, bulkBytes, relay: stats };
  } finally {
    for (const r of relays) r.kill();
    await servers.close();
  }
}

/** Median ping-pong RTT straight to the echo server (no relay), ms. */
export async function loopbackRttMs(rounds = 200): Promise<number> {
  const servers = await ProbeServers.start();
  try {
    return median(await servers.pingPong(servers.echoPort, rounds));
  } finally {
    await servers.close();
  }
}
