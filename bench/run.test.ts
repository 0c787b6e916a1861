import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NAMED_NET_SETTINGS } from '../parties/netem/settings.js';
import { reportName, suffixKeys } from './net-keys.js';
import { networkSection } from './network-report.js';
import { UsageError, checkResult, formatTable, loadSuite, markdownTable, parseArgs, readmeSection, spliceIntoReadme, withNetFigures } from './run.js';

describe('bench runner', () => {
  it('parses the suite, --json, --quick and passes the rest through', () => {
    expect(parseArgs(['kernels', '--json', '/tmp/x.json', '--quick', 'matmul'])).toEqual({
      suite: 'kernels',
      opts: { json: '/tmp/x.json', quick: true, args: ['matmul'] },
    });
    expect(parseArgs(['--json=/tmp/y.json', 'eval']).opts.json).toBe('/tmp/y.json');
    expect(parseArgs(['kernels']).opts).toEqual({ json: undefined, quick: false, args: [] });
  });

  it('rejects unknown suites, a missing suite and a --json without a file', () => {
    expect(() => parseArgs([])).toThrow(UsageError);
    expect(() => parseArgs(['nope'])).toThrow(/unknown suite 'nope'/);
    expect(() => parseArgs(['kernels', '--json'])).toThrow(/--json needs a file/);
  });

  it('parses --net for the suites that run parties, and refuses it elsewhere or when bad', () => {
    expect(parseArgs(['generation', '--net', 'wan40', '--models', 'default']).opts).toEqual({ json: undefined, quick: false, args: ['--models', 'default'], net: NAMED_NET_SETTINGS.wan40 });
    expect(parseArgs(['mpcache', '--net=rtt=10ms,rate=100mbit']).opts.net!.tag).toBe('net_rtt10ms_rate100mbit');
    expect(parseArgs(['protocols', '--net', 'none']).opts.net).toBe(NAMED_NET_SETTINGS.none);
    expect(() => parseArgs(['kernels', '--net', 'lan'])).toThrow(/does not run over a network/);
    expect(() => parseArgs(['generation', '--net'])).toThrow(/--net needs a setting/);
    expect(() => parseArgs(['generation', '--net', 'wan5'])).toThrow(UsageError);
    expect(() => parseArgs(['generation', '--net', 'rtt=5'])).toThrow(/rtt=5: needs a number and a unit/);
  });

  it('names figures and reports per setting: the loopback keys with the setting appended', () => {
    expect(reportName('generation', undefined)).toBe('generation');
    expect(reportName('generation', NAMED_NET_SETTINGS.none)).toBe('generation-none');
    expect(reportName('mpcache', NAMED_NET_SETTINGS.wan40)).toBe('mpcache-wan40');
    expect(reportName('network', NAMED_NET_SETTINGS.lan)).toBe('network');
    expect(suffixKeys({ mpcache_vs_full_latency_ratio_4096: 2 }, NAMED_NET_SETTINGS.lan)).toEqual({ mpcache_vs_full_latency_ratio_4096_lan: 2 });
    expect(suffixKeys({ a: 1 }, NAMED_NET_SETTINGS.none)).toEqual({ a: 1 });
    const r = withNetFigures({ title: 't', rows: [], figures: { a: 1 } }, 'generation', NAMED_NET_SETTINGS.wan4);
    expect(r.figures).toEqual({ a: 1, net_rtt_ms: 4, net_jitter_ms: 0, net_rate_mbps: 400 });
    expect(withNetFigures({ title: 't', rows: [], figures: { a: 1 } }, 'generation', NAMED_NET_SETTINGS.none).figures).toEqual({ a: 1 });
  });

  it('writes the network section: the rule of thumb computed from the measured rounds and bytes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mpcache-net-'));
    const file = (net: string | undefined, figures: Record<string, number>) => JSON.stringify({ suite: 'generation', date: 'd', loadavg: '1.0', ...(net ? { net } : {}), figures });
    writeFileSync(join(dir, 'generation.json'), file(undefined, { default_ms_per_token_ctx256: 300, default_rounds_per_token_ctx256: 600, default_bytes_per_token_ctx256_p0: 4e6, default_max_link_bytes_per_token_ctx256: 2e6 }));
    writeFileSync(
      join(dir, 'generation-wan40.json'),
      file('wan40', { default_wan40_ms_per_token_ctx256: 13_000, default_wan40_rounds_per_token_ctx256: 600, default_wan40_bytes_per_token_ctx256_p0: 4e6, default_wan40_max_link_bytes_per_token_ctx256: 2e6 }),
    );
    const md = networkSection(dir);
    // predicted = 300 + 600 x 20 ms + 2 MB x 8 / 400 Mbit/s (40 ms) = 12340 ms
    // excess per round = (13000 - 12340) / 600 = 1.1 ms
    expect(md).toContain('| wan40 | 13000 | 600 | 4000 | 2000 | 12000 ms | 40 ms | 12340 | 1.05 | 1.1 ms | d, 1.0 |');
    expect(md).toContain('| none | 300 | 600 | 4000 | 2000 | - | - | (the base) | - | - | d, 1.0 |');
    expect(md).toContain('Calibration: not measured yet');
  });

  it('loads the kernels suite and gives a clear error for a suite file that does not exist', async () => {
    expect(typeof (await loadSuite('kernels'))).toBe('function');
    // 'default-model' is a known name whose file may be absent; either it loads or says it is not implemented
    await loadSuite('default-model').then(
      (f) => expect(typeof f).toBe('function'),
      (e: Error) => expect(e.message).toMatch(/not implemented yet \(bench\/default-model\.ts does not exist\)/),
    );
  });

  it('checks figures are finite numbers and formats tables', () => {
    expect(() => checkResult('x', { title: 't', rows: [], figures: { a_ms: NaN } })).toThrow(/not a finite number/);
    expect(() => checkResult('x', { rows: [], figures: {} })).toThrow(/malformed/);
    const t = formatTable([{ kernel: 'add', rate: 1234.5678 }, { kernel: 'matmul', rate: 2, extra: 'x' }]);
    expect(t.split('\n')).toEqual([
      'kernel  rate  extra',
      '------  ----  -----',
      'add     1235       ',
      'matmul     2      x',
    ]);
  });

  it('splices a report into the README between its markers, headings demoted, figure table dropped', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mpcache-readme-'));
    const readme = join(dir, 'README.md');
    writeFileSync(readme, 'intro\n<!-- bench:kernels -->\nold\n<!-- /bench:kernels -->\noutro\n');
    const report = `# Title\n\n${markdownTable([{ kernel: 'add', x: 2 }])}\n\n${markdownTable([{ figure: 'a_s', value: 1.5 }])}\n- a note`;
    expect(spliceIntoReadme('kernels', readmeSection('kernels', report), readme)).toBe(true);
    const text = readFileSync(readme, 'utf8');
    expect(text).toContain('#### Title');
    expect(text).toContain('| add | 2 |');
    expect(text).not.toContain('| figure | value |');
    expect(text).toContain('- a note');
    expect(text).toContain('All figures: [bench/results/kernels.json]');
    expect(text).not.toContain('old');
    expect(text.startsWith('intro\n')).toBe(true);
    expect(text.endsWith('<!-- /bench:kernels -->\noutro\n')).toBe(true);
    // no markers: nothing changes
    expect(spliceIntoReadme('eval', 'x', readme)).toBe(false);
  });
});
