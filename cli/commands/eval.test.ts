import { describe, it, expect } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stories260kPresent } from '../../models/test-support.js';
import { isMpcError } from '../../protocols/errors.js';
import { evalCommand } from './eval.js';

async function configFailure(argv: string[]): Promise<string> {
  try {
    await evalCommand.run(argv);
  } catch (e) {
    if (isMpcError(e) && e.code === 'MPC_ERR_CONFIG') return e.message;
    throw e;
  }
  throw new Error('expected a configuration error');
}

describe.skipIf(!stories260kPresent())('mpcache eval', () => {
  it('rejects unknown policies, bad budgets and oversized prompts as configuration errors', async () => {
    expect(await configFailure(['--policies', 'full,nope'])).toMatch(/unknown policy 'nope'/);
    expect(await configFailure(['--budgets', '0.1,2'])).toMatch(/--budgets/);
    expect(await configFailure(['--prompt', '500', '--cont', '64'])).toMatch(/exceed the model context/);
    expect(await configFailure(['--bogus'])).toMatch(/eval:/);
  });
  it('runs a small evaluation and writes JSON, SVG and Markdown', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mpcache-eval-'));
    const out: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((s: string) => (out.push(String(s)), true)) as typeof process.stdout.write;
    let code: number;
    try {
      code = await evalCommand.run([
        '--policies', 'mpcache,quest', '--budgets', '0.25', '--docs', '1', '--prompt', '80', '--cont', '6',
        '--passkey-lengths', '96', '--passkey-depths', '0.5', '--quiet',
        '--json', join(dir, 'r.json'), '--svg', join(dir, 'c.svg'), '--md', join(dir, 't.md'),
      ]);
    } finally {
      process.stdout.write = write;
    }
    expect(code).toBe(0);
    expect(out.join('')).toMatch(/mpcache\s+25%/);
    const r = JSON.parse(readFileSync(join(dir, 'r.json'), 'utf8'));
    expect(r.rows.map((x: { policy: string }) => x.policy)).toEqual(['full', 'mpcache', 'quest']);
    expect(r.settings.promptLen).toBe(80);
    expect(readFileSync(join(dir, 'c.svg'), 'utf8')).toMatch(/^<svg/);
    expect(readFileSync(join(dir, 't.md'), 'utf8')).toMatch(/\| quest \| 25% \|/);
  });
});
