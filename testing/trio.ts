/**
 * Test harness for protocols: three Contexts over MemoryChannel.trio() with deterministic
 * seeds, running one program on all three parties concurrently, plus cost counters
 * (re-exported from protocols/measure.ts). Test-only: testing/ is not part of the build
 * (tsconfig.build.json), and it may import every layer.
 *
 * Seeds are derived from a test seed number with SHA-256, so a run is reproducible. They
 * are consistent the way the key exchange makes them: party i's `next` seed equals party
 * i+1's `prev` seed (both are seed_{i,i+1}), `common` is the same on all three and `own`
 * differs per party. Never use these seeds outside tests: they are public.
 */
import { createHash } from 'node:crypto';
import type { RingKernels } from '../kernels/api.js';
import { memoryContexts, runOnContexts } from '../parties/in-process.js';
import type { PartyId } from '../protocols/channel.js';
import type { Context, SessionSeeds } from '../protocols/context.js';

export { costOf, measured } from '../protocols/measure.js';

export interface TrioOptions {
  /** fractional bits (default 18) */
  readonly fracBits?: number;
  /** test seed number the session seeds derive from (default 1) */
  readonly seed?: number;
  /** kernels to use (default loadKernels()) */
  readonly kernels?: RingKernels;
  /** receive timeout of the in-memory channels (default 20 s) */
  readonly recvTimeoutMs?: number;
}

function derive(seed: number, label: string): Uint8Array {
  const h = createHash('sha256').update(`mpcache-test-seed/${seed}/${label}`).digest();
  return new Uint8Array(h.buffer, h.byteOffset, 16).slice();
}

/** The three parties' session seeds for a test seed number (pair seeds consistent). */
export function trioSeeds(seed = 1): [SessionSeeds, SessionSeeds, SessionSeeds] {
  if (!Number.isSafeInteger(seed)) throw new RangeError(`trioSeeds: seed must be a safe integer, got ${seed}`);
  const pair = [derive(seed, 'pair01'), derive(seed, 'pair12'), derive(seed, 'pair20')]; // pair[i] = seed_{i,i+1}
  const common = derive(seed, 'common');
  const mk = (i: PartyId): SessionSeeds => ({
    next: pair[i],
    prev: pair[(i + 2) % 3],
    common,
    own: derive(seed, `own${i}`),
  });
  return [mk(0), mk(1), mk(2)];
}

/** Three connected Contexts (party 0, 1, 2) over in-memory channels. */
export function makeTrio(opts: TrioOptions = {}): [Context, Context, Context] {
  return memoryContexts(trioSeeds(opts.seed ?? 1), { recvTimeoutMs: 20_000, ...opts });
}

/**
 * Run `fn` on three fresh parties concurrently and return the three results (index = party).
 * When one party throws, its channel aborts the session so the others fail fast, and the
 * first party's own error (not the induced MPC_ERR_ABORTED ones) is rethrown.
 */
export async function runTrio<T>(fn: (ctx: Context) => Promise<T>, opts: TrioOptions = {}): Promise<[T, T, T]> {
  if (typeof fn !== 'function') throw new TypeError('runTrio: fn must be a function');
  return runOnContexts(makeTrio(opts), fn);
}
