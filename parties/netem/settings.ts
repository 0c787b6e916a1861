/**
 * Network settings for link emulation: the named ones (`none`, `lan`, `wan4`, `wan40`) and
 * custom ones written as `key=value` pairs, e.g. `rtt=10ms,rate=100mbit,jitter=1ms`.
 *
 * A setting shapes EACH DIRECTION OF EACH LINK (party pair) on its own, as a point-to-point
 * link would: one-way delay = rtt / 2, a token-bucket rate limit, optional jitter. The rate
 * counts TCP payload bytes (the WebSocket frames), not IP/TCP headers.
 *
 * Custom syntax (keys in any order, comma-separated; a named setting may come first and the
 * pairs then override it, e.g. `wan40,jitter=2ms`):
 *   rtt=T      round-trip time (one-way delay = T / 2)          T: 500us, 0.5ms, 2s
 *   delay=T    one-way delay (instead of rtt)
 *   rate=R     per direction; default unlimited                 R: 800kbit, 100mbit, 1gbit (bits/s; mbps = mbit)
 *   jitter=T   each piece's one-way delay is uniform in [delay - T, delay + T]; T <= delay;
 *              order is kept (a piece never overtakes the one before it, as in one TCP stream)
 *   burst=B    token-bucket depth; default 16kib                 B: bytes (b, kb = 1000 b, kib, mb, mib)
 * Every problem is MPC_ERR_CONFIG naming the part at fault.
 */
import { MpcError } from '../../protocols/errors.js';

/** What the relay does to each direction of a link. */
export interface LinkShape {
  /** one-way delay added to every byte, ms */
  readonly delayMs: number;
  /** rate limit per direction, bits per second (Infinity: none) */
  readonly rateBps: number;
  /** +- this much uniform jitter on each piece's one-way delay, ms (0: none) */
  readonly jitterMs: number;
  /** token-bucket depth, bytes: at most this much passes at once without waiting for the rate */
  readonly burstBytes: number;
}

export interface NetSetting {
  /** 'none', 'lan', 'wan4', 'wan40' or the canonical custom text */
  readonly name: string;
  /** for figure keys and file names: '' for none, the name of a named setting, else a slug of the values */
  readonly tag: string;
  /** undefined: plain loopback, no relay */
  readonly link?: LinkShape;
}

/** the default token-bucket depth: one relay piece (parties/netem/relay.ts splits into pieces of this size) */
export const DEFAULT_BURST_BYTES = 16 * 1024;

const link = (rttMs: number, rateBps: number): LinkShape => ({ delayMs: rttMs / 2, rateBps, jitterMs: 0, burstBytes: DEFAULT_BURST_BYTES });

/** The named settings (common in the private-inference literature: LAN 1 Gbps / 0.5 ms, WAN 400 Mbps / 4 or 40 ms). */
export const NAMED_NET_SETTINGS: Readonly<Record<'none' | 'lan' | 'wan4' | 'wan40', NetSetting>> = {
  none: { name: 'none', tag: '' },
  lan: { name: 'lan', tag: 'lan', link: link(0.5, 1e9) },
  wan4: { name: 'wan4', tag: 'wan4', link: link(4, 400e6) },
  wan40: { name: 'wan40', tag: 'wan40', link: link(40, 400e6) },
};

export const NET_SETTING_HELP =
  "none | lan (1 Gbit/s, 0.5 ms RTT) | wan4 (400 Mbit/s, 4 ms RTT) | wan40 (400 Mbit/s, 40 ms RTT) | custom 'rtt=10ms,rate=100mbit[,jitter=1ms][,burst=64kib]'";

function bad(text: string, why: string): MpcError {
  return new MpcError('MPC_ERR_CONFIG', `--net '${text}': ${why} (settings: ${NET_SETTING_HELP})`);
}

const TIME_UNITS: Record<string, number> = { us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000 };
const RATE_UNITS: Record<string, number> = { bit: 1, kbit: 1e3, mbit: 1e6, gbit: 1e9, bps: 1, kbps: 1e3, mbps: 1e6, gbps: 1e9 };
const BYTE_UNITS: Record<string, number> = { b: 1, kb: 1e3, kib: 1024, mb: 1e6, mib: 1024 * 1024 };

function quantity(text: string, key: string, value: string, units: Record<string, number>, example: string): number {
  const m = /^([0-9]+(?:\.[0-9]+)?|\.[0-9]+)([a-zµ]+)$/i.exec(value.trim());
  const unit = m ? units[m[2].toLowerCase()] : undefined;
  if (!m || unit === undefined) throw bad(text, `${key}=${value}: needs a number and a unit: ${Object.keys(units).join(', ')} (e.g. ${key}=${example})`);
  const v = Number(m[1]) * unit;
  if (!Number.isFinite(v)) throw bad(text, `${key}=${value} is not a finite number`);
  return v;
}

/** `0.5` -> `0p5`: figure keys and file names keep to [a-z0-9_]. */
function slugNumber(v: number): string {
  return String(Number(v.toPrecision(6))).replace('.', 'p');
}

/** The canonical text of a link shape (round-trips through parseNetSetting). */
export function linkText(l: LinkShape): string {
  const parts = [`rtt=${Number((2 * l.delayMs).toPrecision(6))}ms`];
  if (Number.isFinite(l.rateBps)) parts.push(`rate=${Number((l.rateBps / 1e6).toPrecision(6))}mbit`);
  if (l.jitterMs > 0) parts.push(`jitter=${Number(l.jitterMs.toPrecision(6))}ms`);
  if (l.burstBytes !== DEFAULT_BURST_BYTES) parts.push(`burst=${l.burstBytes}b`);
  return parts.join(',');
}

function linkTag(l: LinkShape): string {
  const parts = [`rtt${slugNumber(2 * l.delayMs)}ms`];
  if (Number.isFinite(l.rateBps)) parts.push(`rate${slugNumber(l.rateBps / 1e6)}mbit`);
  if (l.jitterMs > 0) parts.push(`jitter${slugNumber(l.jitterMs)}ms`);
  if (l.burstBytes !== DEFAULT_BURST_BYTES) parts.push(`burst${l.burstBytes}b`);
  return parts.join('_');
}

/** Parse a `--net` value. */
export function parseNetSetting(text: string): NetSetting {
  const t = text.trim();
  if (t === '') throw bad(text, 'empty');
  const items = t.split(',').map((s) => s.trim());
  let base: LinkShape | undefined;
  let baseName: string | undefined;
  if (!items[0].includes('=')) {
    const named = (NAMED_NET_SETTINGS as Record<string, NetSetting>)[items[0].toLowerCase()];
    if (named === undefined) throw bad(text, `unknown setting '${items[0]}'`);
    if (items.length === 1) return named;
    if (named.link === undefined) throw bad(text, `'none' takes no values (it is plain loopback)`);
    base = named.link;
    baseName = named.name;
    items.shift();
  }
  const seen = new Set<string>();
  let delayMs = base?.delayMs;
  let rateBps = base?.rateBps ?? Infinity;
  let jitterMs = base?.jitterMs ?? 0;
  let burstBytes = base?.burstBytes ?? DEFAULT_BURST_BYTES;
  for (const item of items) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw bad(text, `'${item}' is not key=value`);
    const key = item.slice(0, eq).trim().toLowerCase();
    const value = item.slice(eq + 1).trim();
    if (seen.has(key) || (key === 'rtt' && seen.has('delay')) || (key === 'delay' && seen.has('rtt'))) throw bad(text, `${key} given twice (or both rtt and delay)`);
    seen.add(key);
    switch (key) {
      case 'rtt':
        delayMs = quantity(text, key, value, TIME_UNITS, '10ms') / 2;
        break;
      case 'delay':
        delayMs = quantity(text, key, value, TIME_UNITS, '5ms');
        break;
      case 'rate':
        rateBps = quantity(text, key, value, RATE_UNITS, '100mbit');
        if (rateBps < 8000) throw bad(text, `rate=${value} is below 8 kbit/s`);
        break;
      case 'jitter':
        jitterMs = quantity(text, key, value, TIME_UNITS, '1ms');
        break;
      case 'burst':
        burstBytes = Math.round(quantity(text, key, value, BYTE_UNITS, '64kib'));
        if (burstBytes < 1) throw bad(text, `burst=${value} is below one byte`);
        break;
      default:
        throw bad(text, `unknown key '${key}' (keys: rtt, delay, rate, jitter, burst)`);
    }
  }
  if (delayMs === undefined) throw bad(text, 'needs rtt=... or delay=...');
  if (delayMs > 60_000) throw bad(text, `one-way delay ${delayMs} ms is over a minute`);
  if (jitterMs > delayMs) throw bad(text, `jitter ${jitterMs} ms exceeds the one-way delay ${delayMs} ms (delays would go negative)`);
  const l: LinkShape = { delayMs, rateBps, jitterMs, burstBytes };
  // a named setting with overrides that change nothing is that setting
  if (baseName !== undefined && linkText(l) === linkText(base!)) return (NAMED_NET_SETTINGS as Record<string, NetSetting>)[baseName];
  return { name: linkText(l), tag: `net_${linkTag(l)}`, link: l };
}

/** One line for humans: `wan40: 40 ms RTT (20 ms one way), 400 Mbit/s per direction, burst 16 KiB`. */
export function describeNetSetting(s: NetSetting): string {
  const l = s.link;
  if (l === undefined) return `${s.name}: plain loopback, no emulation`;
  const rate = !Number.isFinite(l.rateBps) ? 'unlimited rate' : l.rateBps >= 1e9 ? `${l.rateBps / 1e9} Gbit/s per direction` : `${l.rateBps / 1e6} Mbit/s per direction`;
  const burst = l.burstBytes % 1024 === 0 ? `${l.burstBytes / 1024} KiB` : `${l.burstBytes} B`;
  return `${s.name}: ${2 * l.delayMs} ms RTT (${l.delayMs} ms one way)${l.jitterMs > 0 ? `, jitter +-${l.jitterMs} ms` : ''}, ${rate}${Number.isFinite(l.rateBps) ? `, burst ${burst}` : ''}`;
}
