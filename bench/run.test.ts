import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError, checkResult, formatTable, loadSuite, markdownTable, parseArgs, readmeSection, spliceIntoReadme } from './run.js';

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
