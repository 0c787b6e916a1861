/**
 * Transport benchmark: the WebSocket channel (parties/ws-channel.ts) between three party
 * PROCESSES on loopback, started by the launcher (parties/launcher.ts) — real sockets, real
 * handshake; one launch sealed (AES-256-GCM), one launch --insecure-plaintext.
 *
 *  - round trip of 1 KiB .. 64 MiB payloads: party 0 sends, party 1 sends it back; median of
 *    the repetitions; throughput = 2 x payload / round trip;
 *  - empty round among all three parties (each sends an empty payload to both peers and
 *    receives from both): median and p90 over the rounds of party 0.
 *
 * Figures: rtt_<size>_{sealed,plain}_ms, throughput_<size>_{sealed,plain}_gbps (GB/s),
 * enc_vs_plain_16mib_ratio (sealed / plain throughput at 16 MiB; target >= 0.7),
 * empty_round_ms_median (sealed; target <= 0.5), empty_round_ms_p90, empty_round_plain_ms_median.
 * `--quick` stops at 16 MiB with fewer repetitions.
 *
 * The children get glibc malloc settings that keep freed memory (as bench/protocols.ts
 * does): on this VM a fresh page fault costs more than sealing the page.
 */
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PARTY_ALLOCATOR_ENV, runLocalParties } from '../parties/launcher.js';
import { defaultCryptoWorkers } from '../parties/ws-channel.js';
import type { TransportJobArgs, TransportJobResult } from './transport-job.js';
import type { BenchOptions, BenchResult } from './types.js';

const here = dirname(fileURLToPath(import.meta.url));
/** the job module beside this one, compiled or not */
const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
const KiB = 1024;
const MiB = 1024 * 1024;

const MALLOC_ENV: Record<string, string> = { ...PARTY_ALLOCATOR_ENV };

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function quantile(xs: readonly number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}

function sizeKey(n: number): string {
  return n >= MiB ? `${n / MiB}mib` : `${n / KiB}kib`;
}

async function launch(args: TransportJobArgs, plain: boolean): Promise<TransportJobResult> {
  const r = await runLocalParties({
    jobModule: `${join(here, `transport-job${ext}`)}#transportJob`,
    jobArgs: args,
    insecurePlaintext: plain,
    env: MALLOC_ENV,
    recvTimeoutMs: 120_000,
    sessionOptions: { maxFrameBytes: 128 * MiB, handshakeTimeoutMs: 60_000 },
    onLine: () => undefined,
    timeoutMs: 600_000,
  });
  return r.results[0] as TransportJobResult;
}

export default async function transportBench(opts: BenchOptions): Promise<BenchResult> {
  const quick = opts.quick === true;
  const sizes = [1 * KiB, 64 * KiB, 1 * MiB, 16 * MiB, ...(quick ? [] : [64 * MiB])];
  const reps = sizes.map((s) => Math.max(quick ? 3 : 5, Math.min(quick ? 100 : 300, Math.floor(((quick ? 64 : 256) * MiB) / s))));
  const args: TransportJobArgs = { sizes, reps, emptyRounds: quick ? 500 : 3000, emptyWarmup: 200 };
  const sealed = await launch(args, false);
  const plain = await launch(args, true);

  const rows: Record<string, string | number>[] = [];
  const figures: Record<string, number> = {};
  sizes.forEach((size, i) => {
    const row: Record<string, string | number> = { payload: sizeKey(size).replace('mib', ' MiB').replace('kib', ' KiB'), reps: reps[i] };
    const rate: Record<string, number> = {};
    for (const [mode, res] of [['plain', plain], ['sealed', sealed]] as const) {
      const ms = median(res.rttMs[i]);
      rate[mode] = (2 * size) / (ms / 1000) / 1e9;
      figures[`rtt_${sizeKey(size)}_${mode}_ms`] = ms;
      figures[`throughput_${sizeKey(size)}_${mode}_gbps`] = rate[mode];
      row[`${mode} rtt ms`] = ms;
      row[`${mode} GB/s`] = rate[mode];
    }
    row['sealed/plain'] = rate.sealed / rate.plain;
    rows.push(row);
  });
  figures.enc_vs_plain_16mib_ratio = figures.throughput_16mib_sealed_gbps / figures.throughput_16mib_plain_gbps;
  figures.empty_round_ms_median = median(sealed.emptyRoundMs);
  figures.empty_round_ms_p90 = quantile(sealed.emptyRoundMs, 0.9);
  figures.empty_round_plain_ms_median = median(plain.emptyRoundMs);
  rows.push({ payload: 'empty round (3 parties)', reps: args.emptyRounds, 'plain rtt ms': figures.empty_round_plain_ms_median, 'sealed rtt ms': figures.empty_round_ms_median });
  return {
    title: 'Transport: WebSocket channel, three processes on loopback, sealed (AES-256-GCM) vs --insecure-plaintext',
    rows,
    figures,
    notes: [
      'three party processes (launcher), real loopback sockets; rtt = party 0 -> party 1 -> party 0; GB/s = 2 x payload / rtt',
      `payloads over 256 KiB travel as 256 KiB parts, each sealed as it is sent and opened as it arrives, so sealing overlaps the transfer; crypto worker threads per party: ${defaultCryptoWorkers()} (none on 2 cores or fewer: sealed on the main thread)`,
      `empty round: every party sends to and receives from both peers; ${args.emptyRounds} rounds after ${args.emptyWarmup} warm-up, party 0`,
      `machine: ${cpus().length} cores, load average ${loadavg()[0].toFixed(1)} at the end (timings on a busy machine are noisy)`,
      `targets: enc_vs_plain_16mib_ratio >= 0.7 (got ${figures.enc_vs_plain_16mib_ratio.toFixed(2)}), empty_round_ms_median <= 0.5 (got ${figures.empty_round_ms_median.toFixed(3)})`,
    ],
  };
}
