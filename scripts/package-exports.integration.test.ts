/**
 * The package's public surface as a user sees it: every `exports` subpath imported by name
 * (`mpcache`, `mpcache/protocols`, ...) from the BUILT package (dist/, `npm run build`) in a
 * fresh Node process, which resolves the package by its own name through package.json.
 * Checks the key names each subpath must offer and that the root no longer re-exports the
 * protocol internals.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  exports: Record<string, unknown>;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

const SUBPATHS = ['.', './protocols', './parties', './models', './eviction', './testing'] as const;

/** names each subpath must export (a value, not only a type) */
const EXPECTED: Record<(typeof SUBPATHS)[number], string[]> = {
  '.': ['Context', 'ArithShare', 'PublicTensor', 'MpcError', 'runInProcess', 'runLocalParties', 'runParty', 'readSessionFile', 'readKeyFile', 'SecureDecoder', 'shareModel', 'createSecurePolicy', 'secureMpCachePolicy', 'reveal'],
  './protocols': ['Context', 'input', 'reveal', 'mul', 'matmulFixed', 'trunc', 'msb', 'msbPlanCost', 'tournamentPlan', 'lt', 'max', 'argmax', 'softmax', 'topk', 'parallel', 'ROTATE_MIN'],
  './parties': ['runInProcess', 'runLocalParties', 'runParty', 'WsChannel', 'MemoryChannel', 'readSessionFile', 'parseSessionConfig', 'readKeyFile', 'generateIdentity', 'makeLocalSession'],
  './models': ['ReferenceModel', 'SecureDecoder', 'shareModel', 'loadWeights', 'loadTokenizer', 'randomWeights'],
  './eviction': ['createSecurePolicy', 'secureMpCachePolicy', 'resolveMpCacheParams', 'secureFullPolicy', 'SECURE_POLICIES', 'mpcachePolicy', 'h2oPolicy'],
  './testing': ['makeTrio', 'runTrio', 'costOf', 'measured'],
};

function specifier(sub: string): string {
  return sub === '.' ? 'mpcache' : `mpcache/${sub.slice(2)}`;
}

describe('package exports (from dist/)', () => {
  it('declares exactly the documented subpaths', () => {
    expect(Object.keys(pkg.exports).filter((k) => k !== './package.json').sort()).toEqual([...SUBPATHS].sort());
  });

  it('keeps build and test tools out of the runtime dependencies', () => {
    for (const d of ['tsx', 'node-gyp', 'typescript', 'vitest', '@noble/hashes']) expect(pkg.dependencies[d]).toBeUndefined();
    expect(Object.keys(pkg.dependencies).sort()).toEqual(['@noble/curves', 'msgpackr', 'node-addon-api', 'ws']);
  });

  it('each subpath resolves by the package name and offers its key names', () => {
    if (!existsSync(join(root, 'dist', 'index.js'))) throw new Error('dist/ is missing: run `npm run build` first');
    const script = `const subs = ${JSON.stringify(SUBPATHS.map(specifier))};
      const out = {};
      for (const s of subs) out[s] = Object.keys(await import(s)).sort();
      process.stdout.write(JSON.stringify(out));`;
    // no tsx loader: the built JavaScript alone, as an installed package runs
    const json = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
    const keys = JSON.parse(json) as Record<string, string[]>;
    for (const sub of SUBPATHS) {
      const got = keys[specifier(sub)];
      for (const name of EXPECTED[sub]) expect(got, `${specifier(sub)} exports ${name}`).toContain(name);
    }
    // the root is curated: no layer namespaces and no protocol internals
    for (const internal of ['protocols', 'kernels', 'andSlices', 'productRound', 'b2a', 'chunkShare', 'tournamentPlan']) {
      expect(keys.mpcache, `root must not export ${internal}`).not.toContain(internal);
    }
    expect(keys.mpcache.length).toBeLessThan(60);
  });
});
