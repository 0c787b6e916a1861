/**
 * The unit/integration split of vitest.config.ts stays true: a test that starts processes
 * (child_process, the launcher) is in the integration project, by its name
 * (*.integration.test.ts) or by the config's SPAWNING list, and that list names real files.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SPAWNING } from '../vitest.config.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const SKIP = new Set(['node_modules', 'dist', 'build', '.git']);

function testFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    if (SKIP.has(name)) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) testFiles(p, out);
    else if (name.endsWith('.test.ts')) out.push(relative(root, p).split(sep).join('/'));
  }
  return out;
}

describe('vitest projects', () => {
  it('every process-spawning test is in the integration project', () => {
    const self = relative(root, fileURLToPath(import.meta.url)).split(sep).join('/');
    const spawning = testFiles(root).filter((f) => f !== self && /from 'node:child_process'|runLocalParties(Settled)?\(/.test(readFileSync(join(root, f), 'utf8')));
    expect(spawning.length).toBeGreaterThan(0);
    const stray = spawning.filter((f) => !f.endsWith('.integration.test.ts') && !SPAWNING.includes(f));
    expect(stray, 'name them *.integration.test.ts or list them in vitest.config.ts SPAWNING').toEqual([]);
  });

  it('the SPAWNING list names existing, non-integration test files', () => {
    for (const f of SPAWNING) {
      expect(existsSync(join(root, f)), f).toBe(true);
      expect(f.endsWith('.integration.test.ts'), f).toBe(false);
    }
  });
});
