import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createKernelLoader } from './index.js';
import type { RawKernels } from './raw.js';
import { createTwinRaw } from './twin/index.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

describe('kernel loader', () => {
  it('MPCACHE_NO_NATIVE=1 gives the twin without trying the addon', () => {
    let tried = 0;
    const loader = createKernelLoader({
      env: { MPCACHE_NO_NATIVE: '1' },
      loadNative: () => { tried++; return { ...createTwinRaw(), backend: 'native' }; },
      report: () => { throw new Error('must not report'); },
    });
    expect(loader.kernelBackend()).toBe('twin');
    expect(loader.loadKernels()).toBe(loader.loadKernels());
    expect(tried).toBe(0);
    expect(loader.nativeLoadError()).toBeUndefined();
  });

  it('a failed native load falls back to the twin and is reported exactly once', () => {
    const reports: string[] = [];
    let tried = 0;
    const loader = createKernelLoader({
      env: {},
      loadNative: (): RawKernels => { tried++; throw new Error('boom: no addon'); },
      report: (m) => reports.push(m),
    });
    expect(loader.kernelBackend()).toBe('twin');
    expect(loader.nativeKernels()).toBeUndefined();
    expect(loader.loadKernels().backend).toBe('twin');
    expect(tried).toBe(1);
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatch(/boom: no addon/);
    expect(loader.nativeLoadError()?.message).toBe('boom: no addon');
  });

  it('a native backend that loads is preferred and validated', () => {
    const loader = createKernelLoader({ env: {}, loadNative: () => ({ ...createTwinRaw(), backend: 'native' }), report: () => {} });
    expect(loader.kernelBackend()).toBe('native');
    expect(() => loader.loadKernels().add(new BigUint64Array(1), new BigUint64Array(2))).toThrow(RangeError);
  });

  it('MPCACHE_NO_NATIVE=1 in a real child process selects the twin', () => {
    const script = "import { kernelBackend, nativeLoadError } from './kernels/index.ts'; console.log(kernelBackend(), String(nativeLoadError()));";
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: repoRoot,
      env: { ...process.env, MPCACHE_NO_NATIVE: '1' },
      encoding: 'utf8',
    });
    expect(out.trim()).toBe('twin undefined');
  });
});
