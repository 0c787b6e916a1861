/**
 * Kernel loading. `loadKernels()` returns the native addon when it loads, the TypeScript
 * twin otherwise (or when MPCACHE_NO_NATIVE=1). Both are wrapped by the same argument
 * validation (kernels/validate.ts). A failed native load is reported once on stderr and
 * kept for `nativeLoadError()`; it is never silently swallowed.
 */
import type { RingKernels } from './api.js';
import { loadNativeRaw } from './native-loader.js';
import type { RawKernels } from './raw.js';
import { createTwinRaw } from './twin/index.js';
import { validated } from './validate.js';

export type { EncodeResult, MatmulShape, RingKernels, U64 } from './api.js';
export type KernelBackend = 'native' | 'twin';

export interface KernelLoaderOptions {
  /** environment to read MPCACHE_NO_NATIVE from (default process.env) */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** loads the native backend or throws (default: the built addon) */
  readonly loadNative?: () => RawKernels;
  /** where a failed native load is reported (default: one line on stderr) */
  readonly report?: (message: string) => void;
}

export interface KernelLoader {
  loadKernels(): RingKernels;
  kernelBackend(): KernelBackend;
  nativeLoadError(): Error | undefined;
  twinKernels(): RingKernels;
  nativeKernels(): RingKernels | undefined;
}

/** True when the environment forces the twin (MPCACHE_NO_NATIVE=1 or =true). */
export function nativeDisabled(env: Readonly<Record<string, string | undefined>>): boolean {
  const v = env.MPCACHE_NO_NATIVE;
  return v === '1' || v === 'true';
}

/** A loader with its own caches; the module-level functions below use one default loader. */
export function createKernelLoader(opts: KernelLoaderOptions = {}): KernelLoader {
  const env = opts.env ?? process.env;
  const loadNative = opts.loadNative ?? loadNativeRaw;
  const report = opts.report ?? ((m: string) => process.stderr.write(`${m}\n`));
  let twin: RingKernels | undefined;
  let native: RingKernels | undefined;
  let nativeTried = false;
  let nativeError: Error | undefined;
  let active: RingKernels | undefined;

  const twinKernels = (): RingKernels => (twin ??= validated(createTwinRaw()));
  const nativeKernels = (): RingKernels | undefined => {
    if (!nativeTried) {
      nativeTried = true;
      try {
        native = validated(loadNative());
      } catch (e) {
        nativeError = e instanceof Error ? e : new Error(String(e));
        report(`[mpcache] native kernels unavailable, using the TypeScript twin: ${nativeError.message}`);
      }
    }
    return native;
  };
  const loadKernels = (): RingKernels => {
    if (active === undefined) active = nativeDisabled(env) ? twinKernels() : (nativeKernels() ?? twinKernels());
    return active;
  };
  return {
    loadKernels,
    kernelBackend: () => loadKernels().backend,
    nativeLoadError: () => nativeError,
    twinKernels,
    nativeKernels,
  };
}

const defaultLoader = createKernelLoader();

/** The kernels to use: native when the addon loads, the twin otherwise or when MPCACHE_NO_NATIVE=1. Cached. */
export function loadKernels(): RingKernels {
  return defaultLoader.loadKernels();
}

/** Which backend loadKernels() returns. */
export function kernelBackend(): KernelBackend {
  return defaultLoader.kernelBackend();
}

/** Why the native addon did not load (undefined when it loaded or was never tried). */
export function nativeLoadError(): Error | undefined {
  return defaultLoader.nativeLoadError();
}

/** The TypeScript twin, validated. */
export function twinKernels(): RingKernels {
  return defaultLoader.twinKernels();
}

/** The native addon, validated, or undefined when it does not load (the failure is reported once). */
export function nativeKernels(): RingKernels | undefined {
  return defaultLoader.nativeKernels();
}
