/**
 * The `mpcache` command line in child processes: configuration errors give one line and
 * exit code 2.
 */
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { childExecArgv } from '../parties/launcher.js';

describe('mpcache CLI configuration errors', () => {
  const entry = fileURLToPath(new URL('./main.ts', import.meta.url));
  const run = (...args: string[]) => spawnSync(process.execPath, [...childExecArgv(entry), entry, ...args], { encoding: 'utf8', timeout: 30_000 });

  it('an unknown party id, a missing file and a bad session field each give one line and exit code 2', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mpcache-test-'));
    try {
      const key = join(dir, 'k.key');
      const kg = run('keygen', '--out', key);
      expect(kg.status).toBe(0);
      expect(kg.stdout.trim()).toMatch(/^[0-9a-f]{64}$/);
      const r1 = run('party', '--session', join(dir, 'missing.json'), '--id', '3', '--key', key);
      expect(r1.status).toBe(2);
      expect(r1.stderr.trim().split('\n')).toHaveLength(1);
      expect(r1.stderr).toContain('--id must be 0, 1 or 2');
      const r2 = run('party', '--session', join(dir, 'missing.json'), '--id', '1', '--key', key);
      expect(r2.status).toBe(2);
      expect(r2.stderr).toContain('cannot read session file');
      const r3 = run('keygen', '--out', key);
      expect(r3.status).toBe(2);
      expect(r3.stderr).toContain('already exists');
      const r4 = run('frobnicate');
      expect(r4.status).toBe(2);
      const r5 = run('party', '--session', join(dir, 'missing.json'), '--id', '1', '--key', key, '--job-modul', 'x');
      expect(r5.status).toBe(2);
      expect(r5.stderr).toContain("Unknown option '--job-modul'");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
