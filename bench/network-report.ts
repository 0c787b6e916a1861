/**
 * The README's network section, generated from bench/results/: the emulator's calibration
 * (network.json, `npm run bench -- network`) and private generation per setting
 * (generation-none.json or generation.json, generation-lan.json, generation-wan4.json,
 * generation-wan40.json: `npm run bench -- generation --net <setting>`), with the rule of thumb
 *
 *     time per token ~ rounds x one-way delay + bytes on the busiest link / bandwidth
 *
 * checked against the measured figures: predicted = (ms per token on loopback, the compute
 * and the loopback's own cost) + rounds x delay + busiest-link bytes / rate, using the rounds
 * and bytes measured in that same run. Rewritten by bench/run.ts after `network` and after
 * `generation --net`; never edit the section by hand.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NAMED_NET_SETTINGS, describeNetSetting, parseNetSetting, type NetSetting } from '../parties/netem/settings.js';

export const NETWORK_SECTION = 'network';

interface ResultsFile {
  readonly date: string;
  readonly loadavg: string;
  readonly net?: string;
  readonly figures: Record<string, number>;
}

function read(path: string): ResultsFile | undefined {
  if (!existsSync(path)) return undefined;
  return JSON.parse(readFileSync(path, 'utf8')) as ResultsFile;
}

const EMULATED: readonly NetSetting[] = [NAMED_NET_SETTINGS.lan, NAMED_NET_SETTINGS.wan4, NAMED_NET_SETTINGS.wan40];
const MODELS: readonly (readonly [string, string])[] = [
  ['default', 'default model'],
  ['s260k', 'stories260K'],
  ['gpt2', 'GPT-2 small'],
  ['llama_blocks_gpt2dims', 'Llama blocks at GPT-2-small dims'],
];

const f = (v: number | undefined, digits = 3): string => (v === undefined || !Number.isFinite(v) ? '-' : Number(v.toPrecision(digits)).toString());
const pct = (v: number | undefined): string => (v === undefined || !Number.isFinite(v) ? '-' : `${v >= 0 ? '+' : ''}${v.toFixed(1)}%`);

/** The calibration table from network.json (empty when the suite has not run). */
function calibrationLines(net: ResultsFile | undefined): string[] {
  if (net === undefined) return ['Calibration: not measured yet (`npm run bench -- network`).'];
  const g = net.figures;
  const lines = [
    `Emulator calibration (\`npm run bench -- network\`, run ${net.date} UTC, load average ${net.loadavg}). RTT: median ping-pong of a 64-byte frame`,
    'between two endpoints in one process, through the relay process; **base**: the same through a relay at rtt=0 with the same pause between',
    'round trips (loopback, the relay hop, and the endpoints waking from as long a sleep), measured in alternating blocks; **added** = measured - base.',
    'Rate: (bytes - burst) / (last byte at the sink - first write - configured one-way delay) of a bulk transfer. Relay: lateness of each piece against its due time, CPU of the relay process.',
    'Party level: three party processes (sealed WebSockets) through the relay: 1 KiB round trip P0 -> P1 -> P0, and one empty round among all three.',
    '',
    '| setting | RTT configured | RTT measured | base | added | added vs configured | rate configured | rate measured | error | relay late p50 / p99 | relay CPU | party 1 KiB RTT | party empty round |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const s of EMULATED) {
    const k = (x: string): number | undefined => g[`net_${s.tag}_${x}`];
    if (k('rtt_measured_ms') === undefined) continue;
    lines.push(
      `| ${s.name} | ${f(k('rtt_configured_ms'))} ms | ${f(k('rtt_measured_ms'))} ms (${pct(k('rtt_error_pct'))}) | ${f(k('rtt_base_ms'))} ms | ${f(k('rtt_added_ms'))} ms | ${pct(k('rtt_added_error_pct'))} | ${f(k('rate_configured_mbps'))} Mbit/s | ${f(k('rate_measured_mbps'))} Mbit/s | ${pct(k('rate_error_pct'))} | ${f(k('relay_late_p50_us'))} / ${f(k('relay_late_p99_us'))} us | ${f(k('relay_cpu_pct'), 2)}% | ${f(k('party_rtt_1kib_ms'))} ms | ${f(k('party_empty_round_ms'))} ms |`,
    );
  }
  lines.push(
    '',
    `Loopback without relay: ${f(g.net_loopback_rtt_ms)} ms; through a relay at rtt=0 (no pauses): ${f(g.net_relay0_rtt_ms)} ms. Party level without relay: 1 KiB round trip ${f(g.net_loopback_party_rtt_1kib_ms)} ms, empty round ${f(g.net_loopback_party_empty_round_ms)} ms, 4 MiB round trip ${f(g.net_loopback_party_rtt_4mib_ms)} ms.`,
  );
  const bulk = EMULATED.filter((s) => g[`net_${s.tag}_party_rtt_4mib_ms`] !== undefined).map((s) => `${s.name} ${f(g[`net_${s.tag}_party_rtt_4mib_ms`])} ms (predicted 2 x (delay + 4 MiB / rate) = ${f(g[`net_${s.tag}_party_rtt_4mib_predicted_ms`])} ms, + loopback ${f(g.net_loopback_party_rtt_4mib_ms)} ms)`);
  if (bulk.length > 0) lines.push(`Party-level 4 MiB round trip: ${bulk.join('; ')}.`);
  return lines;
}

interface GenRun {
  readonly setting: NetSetting;
  readonly file: ResultsFile;
}

function genKey(model: string, tag: string, what: string, ctx: number): string {
  return `${model}${tag ? `_${tag}` : ''}_${what}_ctx${ctx}`;
}

/** The per-setting generation tables with the rule-of-thumb check. */
function generationLines(dir: string): string[] {
  const runs: GenRun[] = [];
  const none = read(join(dir, 'generation-none.json')) ?? read(join(dir, 'generation.json'));
  if (none) runs.push({ setting: NAMED_NET_SETTINGS.none, file: none });
  for (const s of EMULATED) {
    const file = read(join(dir, `generation-${s.tag}.json`));
    if (file) runs.push({ setting: file.net ? parseNetSetting(file.net) : s, file });
  }
  const lines: string[] = [];
  for (const [model, label] of MODELS) {
    const ctxs = new Set<number>();
    for (const r of runs) {
      for (const key of Object.keys(r.file.figures)) {
        const m = new RegExp(`^${model}${r.setting.tag ? `_${r.setting.tag}` : ''}_ms_per_token_ctx(\\d+)$`).exec(key);
        if (m) ctxs.add(Number(m[1]));
      }
    }
    for (const ctx of [...ctxs].sort((a, b) => a - b)) {
      const have = runs.filter((r) => r.file.figures[genKey(model, r.setting.tag, 'ms_per_token', ctx)] !== undefined);
      if (!have.some((r) => r.setting.link !== undefined)) continue;
      const base = have.find((r) => r.setting.link === undefined);
      const baseMs = base?.file.figures[genKey(model, '', 'ms_per_token', ctx)];
      lines.push(
        `**${label}, context ${ctx}** (${settingNames(have)}). Predicted = loopback ms/token + rounds x one-way delay + busiest-link bytes / rate, from the rounds and bytes measured in the same run;`,
        'the last column is what each round costs beyond that (on a busy host mostly the wake-up of a party that slept through the delay, and waiting for a core).',
        '',
        '| setting | ms/token measured | rounds/token | kB/token sent (max party) | busiest link kB/token | rounds x delay | bytes / rate | predicted ms/token | measured / predicted | (measured - predicted) / round | run (UTC), load |',
        '|---|---|---|---|---|---|---|---|---|---|---|',
      );
      for (const r of have) {
        const g = (what: string): number | undefined => r.file.figures[genKey(model, r.setting.tag, what, ctx)];
        const ms = g('ms_per_token')!;
        const rounds = g('rounds_per_token');
        const sent = Math.max(...[0, 1, 2].flatMap((p) => r.file.figures[`${genKey(model, r.setting.tag, 'bytes_per_token', ctx)}_p${p}`] ?? []));
        const link = g('max_link_bytes_per_token');
        const l = r.setting.link;
        const delayTerm = l && rounds !== undefined ? rounds * l.delayMs : l ? undefined : 0;
        const rateTerm = l && link !== undefined ? (Number.isFinite(l.rateBps) ? (link * 8 * 1000) / l.rateBps : 0) : l ? undefined : 0;
        const predicted = baseMs !== undefined && delayTerm !== undefined && rateTerm !== undefined ? baseMs + delayTerm + rateTerm : undefined;
        lines.push(
          `| ${r.setting.name} | ${f(ms, 4)} | ${f(rounds, 4)} | ${f(sent / 1e3, 4)} | ${f(link === undefined ? undefined : link / 1e3, 4)} | ${l ? `${f(delayTerm, 4)} ms` : '-'} | ${l ? `${f(rateTerm, 3)} ms` : '-'} | ${l ? f(predicted, 4) : '(the base)'} | ${l && predicted ? f(ms / predicted, 3) : '-'} | ${l && predicted && rounds ? `${f((ms - predicted) / rounds, 2)} ms` : '-'} | ${r.file.date}, ${r.file.loadavg} |`,
        );
      }
      lines.push('');
    }
  }
  if (lines.length === 0) return ['Generation per setting: not measured yet (`npm run bench -- generation --net <setting> --models default --contexts 256`).'];
  return lines;
}

function settingNames(runs: readonly GenRun[]): string {
  return runs.map((r) => r.setting.name).join(', ');
}

/** The whole section (the README keeps it between `<!-- bench:network -->` markers). */
export function networkSection(dir: string): string {
  const net = read(join(dir, 'network.json'));
  return [
    'Settings (`--net` of `npm run bench -- generation|mpcache|protocols` and `npm run demo`; `runLocalParties({ net })`):',
    '',
    ...[NAMED_NET_SETTINGS.none, ...EMULATED].map((s) => `- ${describeNetSetting(s)}`),
    "- custom: `--net 'rtt=10ms,rate=100mbit,jitter=1ms'` (keys rtt or delay, rate, jitter, burst; a named setting can come first: `wan40,jitter=2ms`)",
    '',
    'Rule of thumb: **time per token ~ rounds x one-way delay + bytes / bandwidth** (the bytes of the busiest directed link, as each',
    'link carries its own traffic), on top of the time the same step takes on loopback (compute and the loopback transport).',
    '',
    ...generationLines(dir),
    ...calibrationLines(net),
  ].join('\n');
}
