/**
 * Loads the C++ addon (build/Release/mpcache_kernels.node, built by node-gyp at npm install)
 * and adapts it to RawKernels. Throws an Error (with the underlying cause) when the addon is
 * missing, fails to load, or is a stale build with another ABI version.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { KERNEL_NAMES, type RawKernels, pickKernels } from './raw.js';

/** Must equal kMpcacheKernelsAbi in kernels/native/addon.cc; bump both on any signature change. */
export const NATIVE_ABI_VERSION = 1;

const INTERNALS = ['cpuInfo', 'matmulIsa', 'rssMatmulIsa', 'rssMulIsa', 'prgFillImpl'] as const;

/** Where the addon may be: the package root is one level above kernels/ (sources) or two above dist/kernels/ (build output). */
export function nativeAddonCandidates(): string[] {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const roots = [path.resolve(here, '..'), path.resolve(here, '..', '..')];
  const out: string[] = [];
  for (const r of roots) for (const cfg of ['Release', 'Debug']) out.push(path.join(r, 'build', cfg, 'mpcache_kernels.node'));
  return out;
}

/** What the addon exports besides the RawKernels functions: explicit-ISA variants for tests and benchmarks. */
export interface NativeInternals {
  readonly abiVersion: number;
  cpuInfo(): { arith: Isa; prg: PrgImpl; avx2: boolean; avx512: boolean; aesni: boolean };
  matmulIsa(isa: Isa, ...args: Parameters<RawKernels['matmul']>): void;
  rssMatmulIsa(isa: Isa, ...args: Parameters<RawKernels['rssMatmul']>): void;
  rssMulIsa(isa: Isa, ...args: Parameters<RawKernels['rssMul']>): void;
  prgFillImpl(impl: PrgImpl, ...args: Parameters<RawKernels['prgFill']>): void;
}
export type Isa = 'scalar' | 'avx2' | 'avx512';
export type PrgImpl = 'soft' | 'aesni';

type Addon = NativeInternals & Omit<RawKernels, 'backend'>;

function requireAddon(): Addon {
  const candidates = nativeAddonCandidates();
  const file = candidates.find((p) => existsSync(p));
  if (file === undefined) {
    throw new Error(`native addon not built (looked for ${candidates.join(', ')}); run \`npx node-gyp rebuild\``);
  }
  const require = createRequire(import.meta.url);
  let addon: Record<string, unknown>;
  try {
    addon = require(file) as Record<string, unknown>;
  } catch (e) {
    throw new Error(`native addon ${file} failed to load: ${(e as Error).message}`, { cause: e });
  }
  if (addon.abiVersion !== NATIVE_ABI_VERSION) {
    throw new Error(`native addon ${file} has ABI version ${String(addon.abiVersion)}, expected ${NATIVE_ABI_VERSION} (stale build: run \`npx node-gyp rebuild\`)`);
  }
  for (const f of [...KERNEL_NAMES, ...INTERNALS]) {
    if (typeof addon[f] !== 'function') throw new Error(`native addon ${file} does not export ${f}()`);
  }
  return addon as unknown as Addon;
}

/** The native backend (unvalidated); throws when the addon is missing, fails to load or is stale. */
export function loadNativeRaw(): RawKernels {
  return { backend: 'native', ...pickKernels(requireAddon()) };
}

/** The addon's explicit-ISA entry points (tests and benchmarks only; arguments are not validated). */
export function loadNativeInternals(): NativeInternals {
  return requireAddon();
}
