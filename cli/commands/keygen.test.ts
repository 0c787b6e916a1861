/** `mpcache keygen` as a subprocess: the key file is 0600 however it is written. */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../../models/model-source.js';
import { readKeyFile, toHex } from '../../parties/identity.js';

function keygen(args: string[], umask?: string) {
  const cli = join(repoRoot(), 'cli', 'main.ts');
  const cmd = umask === undefined ? [process.execPath, '--import', 'tsx', cli, 'keygen', ...args] : ['sh', '-c', `umask ${umask} && exec "$0" "$@"`, process.execPath, '--import', 'tsx', cli, 'keygen', ...args];
  return spawnSync(cmd[0], cmd.slice(1), { cwd: repoRoot(), encoding: 'utf8', timeout: 60_000 });
}

describe.skipIf(process.platform === 'win32')('mpcache keygen', () => {
  it('writes mode 0600 under a permissive umask, refuses to overwrite, and --force over a 0644 file leaves a 0600 file with the new key', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mpcache-keygen-'));
    try {
      const out = join(dir, 'p0.key');
      const r1 = keygen(['--out', out], '000');
      expect(r1.status).toBe(0);
      expect(statSync(out).mode & 0o777).toBe(0o600);
      expect(r1.stdout.trim()).toBe(toHex(readKeyFile(out).publicKey));

      const r2 = keygen(['--out', out]);
      expect(r2.status).toBe(2);
      expect(r2.stderr).toMatch(/already exists \(use --force to overwrite\)/);

      writeFileSync(out, 'old contents\n');
      chmodSync(out, 0o644);
      const r3 = keygen(['--out', out, '--force'], '000');
      expect(r3.status).toBe(0);
      expect(statSync(out).mode & 0o777).toBe(0o600);
      expect(readFileSync(out, 'utf8')).toContain(r3.stdout.trim());
      expect(toHex(readKeyFile(out).publicKey)).toBe(r3.stdout.trim());
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
