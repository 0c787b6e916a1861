/**
 * `npm run bench -- network [--net SETTING] [--quick]`: calibration of the link emulator
 * (parties/netem/) per setting, configured against measured (parties/netem/calibrate.ts):
 *  - RTT of a 64-byte ping-pong through the relay process (raw), the base through a relay at
 *    rtt=0 with the same pauses, and the difference (the delay the emulation adds);
 *  - throughput of bulk transfers (arrival rate at the sink);
 *  - the relay's own lateness (piece written after its due time) and CPU;
 *  - at party level, three party processes through the relay (sealed WebSockets, the
 *    transport benchmark's job): 1 KiB round trip P0 -> P1 -> P0, a 4 MiB round trip against
 *    its prediction 2 x (delay + 4 MiB / rate), and one empty round among all three.
 * The same party-level figures without the relay (net_loopback_party_*) are the base they add to.
 * Settings: lan, wan4, wan40 (or the one given with --net). Figures: net_<setting>_* (see the
 * keys below), net_loopback_rtt_ms, net_relay0_rtt_ms, net_loopback_party_*. --quick: fewer repetitions.
 */
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runLocalParties, PARTY_ALLOCATOR_ENV } from '../parties/launcher.js';
import { calibrate, loopbackRttMs } from '../parties/netem/calibrate.js';
import { median } from '../parties/netem/probe.js';
import { NAMED_NET_SETTINGS, describeNetSetting, parseNetSetting, type NetSetting } from '../parties/netem/settings.js';
import type { TransportJobArgs, TransportJobResult } from './transport-job.js';
import type { BenchOptions, BenchResult } from './types.js';

const here = dirname(fileURLToPath(import.meta.url));
const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
const MiB = 1 << 20;
const PARTY_BULK = 4 * MiB;

const r3 = (v: number): number => Number(v.toPrecision(4));

async function partyLevel(net: NetSetting, quick: boolean): Promise<{ rtt1k: number; rttBulk: number; emptyRound: number }> {
  const rtt = net.link === undefined ? 0.3 : 2 * net.link.delayMs;
  const n = (budgetMs: number, per: number, lo: number): number => Math.max(lo, Math.round(budgetMs / Math.max(per, 0.05)));
  const args: TransportJobArgs = {
    sizes: [1024, PARTY_BULK],
    reps: [n(quick ? 400 : 1200, rtt, 10), quick ? 2 : 5],
    emptyRounds: n(quick ? 400 : 1500, rtt / 2, 20),
    emptyWarmup: 10,
  };
  const r = await runLocalParties({
    jobModule: `${join(here, `transport-job${ext}`)}#transportJob`,
    jobArgs: args,
    net,
    env: { ...PARTY_ALLOCATOR_ENV },
    recvTimeoutMs: 120_000,
    sessionOptions: { handshakeTimeoutMs: 60_000 },
    onLine: () => undefined,
    timeoutMs: 600_000,
  });
  const res = r.results[0] as TransportJobResult;
  return { rtt1k: median(res.rttMs[0]), rttBulk: median(res.rttMs[1]), emptyRound: median(res.emptyRoundMs) };
}

export default async function networkBench(opts: BenchOptions): Promise<BenchResult> {
  const quick = opts.quick === true;
  const settings = opts.net?.link ? [opts.net] : [NAMED_NET_SETTINGS.lan, NAMED_NET_SETTINGS.wan4, NAMED_NET_SETTINGS.wan40];
  const figures: Record<string, number> = {};
  const rows: Record<string, string | number>[] = [];
  const notes: string[] = [];
  figures.net_loopback_rtt_ms = r3(await loopbackRttMs(quick ? 100 : 300));
  figures.net_relay0_rtt_ms = r3((await calibrate(parseNetSetting('rtt=0ms'), { rounds: quick ? 100 : 300, urgent: true })).measuredRttMs);
  const lo = await partyLevel(NAMED_NET_SETTINGS.none, quick);
  Object.assign(figures, { net_loopback_party_rtt_1kib_ms: r3(lo.rtt1k), net_loopback_party_empty_round_ms: r3(lo.emptyRound), net_loopback_party_rtt_4mib_ms: r3(lo.rttBulk) });
  rows.push({ setting: 'none (no relay)', 'party 1KiB RTT ms': r3(lo.rtt1k), 'party empty round ms': r3(lo.emptyRound), 'party 4MiB RTT ms (pred)': r3(lo.rttBulk) });
  for (const s of settings) {
    const c = await calibrate(s, { urgent: true, ...(quick ? { rounds: 40, bulkReps: 1 } : {}) });
    const p = await partyLevel(s, quick);
    const l = s.link!;
    const k = `net_${s.tag}`;
    const rate = Number.isFinite(c.configuredBps);
    const bulkPredicted = 2 * l.delayMs + (rate ? (2 * PARTY_BULK * 8 * 1000) / l.rateBps : 0);
    Object.assign(figures, {
      [`${k}_rtt_configured_ms`]: c.configuredRttMs,
      [`${k}_rtt_measured_ms`]: r3(c.measuredRttMs),
      [`${k}_rtt_error_pct`]: r3((c.measuredRttMs / c.configuredRttMs - 1) * 100),
      [`${k}_rtt_base_ms`]: r3(c.baseRttMs),
      [`${k}_rtt_added_ms`]: r3(c.calibratedRttMs),
      [`${k}_rtt_added_error_pct`]: r3((c.calibratedRttMs / c.configuredRttMs - 1) * 100),
      [`${k}_relay_late_p50_us`]: c.relay.lateUs.p50,
      [`${k}_relay_late_p90_us`]: c.relay.lateUs.p90,
      [`${k}_relay_late_p99_us`]: c.relay.lateUs.p99,
      [`${k}_relay_cpu_pct`]: r3((100 * c.relay.cpuMs) / c.relay.wallMs),
      [`${k}_party_rtt_1kib_ms`]: r3(p.rtt1k),
      [`${k}_party_empty_round_ms`]: r3(p.emptyRound),
      [`${k}_party_rtt_4mib_ms`]: r3(p.rttBulk),
      [`${k}_party_rtt_4mib_predicted_ms`]: r3(bulkPredicted),
    });
    if (rate) {
      Object.assign(figures, {
        [`${k}_rate_configured_mbps`]: l.rateBps / 1e6,
        [`${k}_rate_measured_mbps`]: r3(c.measuredBps / 1e6),
        [`${k}_rate_error_pct`]: r3((c.measuredBps / c.configuredBps - 1) * 100),
        [`${k}_rate_arrival_mbps`]: r3(c.arrivalBps / 1e6),
      });
    }
    rows.push({
      setting: s.name,
      'RTT conf ms': c.configuredRttMs,
      'RTT meas ms': r3(c.measuredRttMs),
      'base ms': r3(c.baseRttMs),
      'added ms': r3(c.calibratedRttMs),
      'rate conf Mbit/s': rate ? l.rateBps / 1e6 : '-',
      'rate meas Mbit/s': rate ? r3(c.measuredBps / 1e6) : '-',
      'late p50/p99 us': `${c.relay.lateUs.p50}/${c.relay.lateUs.p99}`,
      'relay CPU %': r3((100 * c.relay.cpuMs) / c.relay.wallMs),
      'party 1KiB RTT ms': r3(p.rtt1k),
      'party empty round ms': r3(p.emptyRound),
      'party 4MiB RTT ms (pred)': `${r3(p.rttBulk)} (${r3(bulkPredicted)})`,
    });
    notes.push(`${describeNetSetting(s)}: ${c.rttSamples} round trips (and as many for the base), bulk ${(c.bulkBytes / MiB).toFixed(1)} MiB; load average ${loadavg()[0].toFixed(1)} after it`);
  }
  notes.push(
    'RTT: 64-byte ping-pong between two endpoints of this process through the relay process; base: the same through a relay at rtt=0 with the same pause between round trips; added = measured - base',
    'rate: (bytes - burst) / (last byte at the sink - first write - configured one-way delay), median of the bulk transfers (the configured delay and burst are subtracted); arrival: bytes after the first chunk / first-to-last arrival at the sink',
    'party level: sealed WebSockets between three party processes through the relay (bench/transport-job.ts); the 4 MiB prediction is 2 x (one-way delay + 4 MiB / rate), without the sealing and framing costs (the none row measures those)',
  );
  return { title: 'Link emulator calibration: configured vs measured, through the relay process on loopback', rows, figures, notes };
}
