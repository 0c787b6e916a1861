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
 *  - throughput: median over `bulkReps` transfers of `bulkBytes` through the relay of
 *    (bytes - burst) / (last byte at the sink - first write - configured one-way delay): the
 *    rate the link passed the bytes at beyond its burst. It subtracts the configured delay and
 *    burst (stated here and in the bench notes); a stalled relay or sink only lowers it, so it
 *    never exceeds the configured rate (the relay releases nothing early). `arrivalBps` is the
 *    plain arrival rate at the sink (first to last arrival), which a stall followed by a
 *    catch-up can push above the rate.
 *  - the relay's own view: lateness of each piece against its due time, CPU of the process
 *    (one relay process for the round trips, another for the bulk transfers).
 * The relay processes ask for nice RELAY_NICE (relay-process.ts); with `urgent` this process,
 * whose endpoints take the measurements, asks for the same while it calibrates (and goes back
 * after), so that on a busy host the figures describe the link rather than how long the
 * measuring process waited for a core. Where raising the priority is not permitted, both run
 * as they are and `nice` says so.
 */
import { getPriority, setPriority } from 'node:os';
import { childExecArgv } from '../launcher.js';
import { ProbeServers, median } from './probe.js';
import { RELAY_NICE, type RelayStats } from './relay.js';
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
  /** median arrival rate at the sink, first to last arrival (probe.ts) */
  readonly arrivalBps: number;
  readonly bulkBytes: number;
  /** the relay with the setting during the round trips: lateness, CPU */
  readonly relay: RelayStats;
  /** the relay with the setting during the bulk transfers (undefined without a rate) */
  readonly relayBulk?: RelayStats;
  /** the relay's niceness (it asks for a higher priority; see relay-process.ts) */
  readonly nice: number;
  /** this (measuring) process's niceness during the calibration */
  readonly probeNice: number;
}

export interface CalibrateOptions {
  /** round trips with the setting (default: about 1.6 s of them, 40..400) */
  readonly rounds?: number;
  /** bytes per bulk transfer (default: 0.25 s at the configured rate, at least 1 MiB) */
  readonly bulkBytes?: number;
  /** bulk transfers (default 3) */
  readonly bulkReps?: number;
  /** ask for the relay's priority in this process while calibrating (default false) */
  readonly urgent?: boolean;
}

/** Run `fn` at nice RELAY_NICE if permitted (restored after); passes the niceness it ran at. */
async function atRelayPriority<T>(fn: (nice: number) => Promise<T>): Promise<T> {
  const before = getPriority();
  try {
    setPriority(RELAY_NICE);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EACCES' && code !== 'EPERM') throw e; // not permitted: measure as we are
  }
  try {
    return await fn(getPriority());
  } finally {
    if (getPriority() !== before) setPriority(before);
  }
}

function relayTo(shape: LinkShape, name: string, port: number): Promise<RelayHandle> {
  return startRelayProcess(shape, [{ name, listenHost: '127.0.0.1', listenPort: 0, targetHost: '127.0.0.1', targetPort: port }], { execArgv: childExecArgv(relayEntry()) });
}

async function stats(r: RelayHandle): Promise<RelayStats> {
  const s = await r.stop();
  if (s === undefined) throw new Error('calibrate: the relay gave no statistics');
  return s;
}

/** Calibrate one emulated setting (it must have a link). */
export async function calibrate(setting: NetSetting, opts: CalibrateOptions = {}): Promise<Calibration> {
  return opts.urgent ? atRelayPriority((nice) => measure(setting, opts, nice)) : measure(setting, opts, getPriority());
}

async function measure(setting: NetSetting, opts: CalibrateOptions, probeNice: number): Promise<Calibration> {
  const shape = setting.link;
  if (shape === undefined) throw new RangeError(`calibrate: '${setting.name}' emulates nothing`);
  const rttMs = 2 * shape.delayMs;
  const rounds = opts.rounds ?? Math.max(40, Math.min(400, Math.round(1600 / Math.max(rttMs, 1e-3))));
  const block = Math.max(5, Math.round(rounds / 8));
  const servers = await ProbeServers.start();
  const relays: RelayHandle[] = [];
  try {
    const base = await relayTo(parseNetSetting('rtt=0ms').link!, 'echo', servers.echoPort);
    relays.push(base);
    const relay = await relayTo(shape, 'echo', servers.echoPort);
    relays.push(relay);
    const measured: number[] = [];
    const based: number[] = [];
    for (let done = 0; done < rounds; done += block) {
      const n = Math.min(block, rounds - done);
      measured.push(...(await servers.pingPong(relay.ports[0], n, { warmup: done === 0 ? 10 : 2 })));
      based.push(...(await servers.pingPong(base.ports[0], n, { warmup: done === 0 ? 10 : 2, gapMs: rttMs })));
    }
    const rttStats = await stats(relay);
    const configuredBps = shape.rateBps;
    let measuredBps = Infinity;
    let arrivalBps = Infinity;
    let bulkBytes = 0;
    let relayBulk: RelayStats | undefined;
    if (Number.isFinite(configuredBps)) {
      const bulk = await relayTo(shape, 'sink', servers.sinkPort);
      relays.push(bulk);
      bulkBytes = opts.bulkBytes ?? Math.max(1 << 20, Math.round((configuredBps / 8) * 0.25));
      const paced: number[] = [];
      const arrival: number[] = [];
      for (let i = 0; i < (opts.bulkReps ?? 3); i++) {
        const b = await servers.bulk(bulk.ports[0], bulkBytes);
        paced.push(((b.bytes - shape.burstBytes) * 8) / ((b.totalMs - shape.delayMs) / 1000));
        arrival.push(b.bps);
      }
      measuredBps = median(paced);
      arrivalBps = median(arrival);
      relayBulk = await stats(bulk);
    }
    const m = median(measured);
    const b = median(based);
    return {
      setting,
      configuredRttMs: rttMs,
      measuredRttMs: m,
      baseRttMs: b,
      calibratedRttMs: m - b,
      rttSamples: measured.length,
      configuredBps,
      measuredBps,
      arrivalBps,
      bulkBytes,
      relay: rttStats,
      ...(relayBulk ? { relayBulk } : {}),
      nice: relay.nice,
      probeNice,
    };
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
