import { describe, expect, it } from 'vitest';
import { MpcError } from '../../protocols/errors.js';
import { DEFAULT_BURST_BYTES, NAMED_NET_SETTINGS, describeNetSetting, linkText, parseNetSetting } from './settings.js';

function configError(text: string): string {
  try {
    parseNetSetting(text);
  } catch (e) {
    expect(e).toBeInstanceOf(MpcError);
    expect((e as MpcError).code).toBe('MPC_ERR_CONFIG');
    return (e as Error).message;
  }
  throw new Error(`'${text}' parsed`);
}

describe('network settings', () => {
  it('names the issue #15 settings: none, lan, wan4, wan40', () => {
    expect(parseNetSetting('none')).toEqual({ name: 'none', tag: '' });
    expect(parseNetSetting('lan').link).toEqual({ delayMs: 0.25, rateBps: 1e9, jitterMs: 0, burstBytes: DEFAULT_BURST_BYTES });
    expect(parseNetSetting('WAN4').link).toEqual({ delayMs: 2, rateBps: 400e6, jitterMs: 0, burstBytes: DEFAULT_BURST_BYTES });
    expect(parseNetSetting(' wan40 ')).toBe(NAMED_NET_SETTINGS.wan40);
    expect(describeNetSetting(NAMED_NET_SETTINGS.wan40)).toBe('wan40: 40 ms RTT (20 ms one way), 400 Mbit/s per direction, burst 16 KiB');
  });

  it('parses custom values with units; the canonical text round-trips; tags are key-safe', () => {
    const s = parseNetSetting('rtt=10ms,rate=100mbit,jitter=1ms');
    expect(s.link).toEqual({ delayMs: 5, rateBps: 100e6, jitterMs: 1, burstBytes: DEFAULT_BURST_BYTES });
    expect(s.name).toBe('rtt=10ms,rate=100mbit,jitter=1ms');
    expect(s.tag).toBe('net_rtt10ms_rate100mbit_jitter1ms');
    expect(parseNetSetting(s.name)).toEqual(s);
    expect(parseNetSetting('delay=250us, rate=1gbps, burst=64kib').link).toEqual({ delayMs: 0.25, rateBps: 1e9, jitterMs: 0, burstBytes: 65536 });
    expect(parseNetSetting('rtt=0.5ms').link!.rateBps).toBe(Infinity);
    expect(parseNetSetting('rtt=0.5ms').tag).toBe('net_rtt0p5ms');
    expect(parseNetSetting('rtt=2s,rate=800kbit').link).toMatchObject({ delayMs: 1000, rateBps: 800e3 });
    for (const t of ['rtt=3ms,rate=7mbit,burst=1500b', 'rtt=0.1ms,jitter=0.05ms']) expect(linkText(parseNetSetting(t).link!)).toBe(t);
    expect(parseNetSetting('rtt=3ms,rate=7mbit,burst=1500b').tag).toMatch(/^[a-z0-9_]+$/);
  });

  it('a named setting can be the base of overrides', () => {
    expect(parseNetSetting('wan40,jitter=2ms').link).toEqual({ ...NAMED_NET_SETTINGS.wan40.link, jitterMs: 2 });
    expect(parseNetSetting('lan,rate=1gbit')).toBe(NAMED_NET_SETTINGS.lan);
  });

  it('bad values are MPC_ERR_CONFIG naming the part at fault', () => {
    expect(configError('')).toMatch(/empty/);
    expect(configError('wan')).toMatch(/unknown setting 'wan'/);
    expect(configError('rtt=10')).toMatch(/rtt=10: needs a number and a unit: us, µs, ms, s/);
    expect(configError('rtt=10ms,rate=fast')).toMatch(/rate=fast: needs a number and a unit/);
    expect(configError('rtt=10ms,rate=100MB')).toMatch(/rate=100MB/);
    expect(configError('rate=100mbit')).toMatch(/needs rtt=\.\.\. or delay=\.\.\./);
    expect(configError('rtt=10ms,delay=5ms')).toMatch(/twice/);
    expect(configError('rtt=10ms,rtt=5ms')).toMatch(/rtt given twice/);
    expect(configError('rtt=2ms,jitter=3ms')).toMatch(/jitter 3 ms exceeds the one-way delay 1 ms/);
    expect(configError('rtt=10ms,loss=1%')).toMatch(/unknown key 'loss'/);
    expect(configError('rtt=10ms,rate=1bit')).toMatch(/below 8 kbit/);
    expect(configError('rtt=10ms,burst=0b')).toMatch(/below one byte/);
    expect(configError('rtt=10ms,,rate=1gbit')).toMatch(/'' is not key=value/);
    expect(configError('none,rtt=1ms')).toMatch(/'none' takes no values/);
    expect(configError('rtt=-1ms')).toMatch(/needs a number and a unit/);
    expect(configError('rtt=200s')).toMatch(/over a minute/);
  });
});
