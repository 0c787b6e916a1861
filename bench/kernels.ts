/**
 * Kernel benchmarks (tinybench): every ring kernel on the native addon and on the TypeScript
 * twin, as a rate per element (per multiply-accumulate for matmuls, per byte for the PRG).
 * Both run the same sizes except the matmuls, where the twin runs smaller problems (and
 * everything with --quick); rates are normalised per unit of work. One thread.
 *
 * Figures: matmul_u64_512_gmacs, rss_mul_1m_melems_s, prg_aes_ctr_gbytes_s (native), and for
 * every kernel `<kernel>_native_<unit>`, `<kernel>_twin_<unit>`, `<kernel>_native_twin_ratio`.
 */
import { Bench } from 'tinybench';
import type { RingKernels } from '../kernels/api.js';
import { nativeKernels, nativeLoadError, twinKernels } from '../kernels/index.js';
import type { BenchOptions, BenchResult } from './types.js';

type Unit = 'melems_s' | 'gmacs' | 'gbytes_s';

interface Case {
  /** snake_case key used in the figures */
  readonly key: string;
  readonly unit: Unit;
  /** problem size for each backend */
  readonly size: { native: number; twin: number };
  /** human-readable size */
  readonly label: (size: number) => string;
  /** units of work (elements, MACs, bytes) for a size */
  readonly work: (size: number) => number;
  /** prepares inputs and returns the operation to time */
  readonly make: (k: RingKernels, size: number) => () => void;
}

const M = 1 << 20;

/** Deterministic benchmark inputs (not secret) from the twin's AES-CTR stream. */
function words(n: number, tag: number): BigUint64Array {
  const out = new BigUint64Array(n);
  twinKernels().prgFill(new Uint8Array(16).fill(tag), 0n, new Uint8Array(out.buffer));
  return out;
}

function doubles(n: number): Float64Array {
  const w = words(n, 99);
  return Float64Array.from(w, (v) => (Number(v >> 11n) / 2 ** 53 - 0.5) * 2000);
}

function elementwise(key: string, twinN: number, op: (k: RingKernels, a: BigUint64Array, b: BigUint64Array, o: BigUint64Array) => unknown): Case {
  return {
    key,
    unit: 'melems_s',
    size: { native: M, twin: twinN },
    label: (n) => `${n === M ? '1M' : n} elems`,
    work: (n) => n,
    make: (k, n) => {
      const a = words(n, 1), b = words(n, 2), o = new BigUint64Array(n);
      return () => { op(k, a, b, o); };
    },
  };
}

function cases(quick: boolean): Case[] {
  const T = quick ? 1 << 16 : M; // twin size for elementwise kernels (the same as native unless --quick)
  const cube = (n: number) => n * n * n;
  return [
    elementwise('add', T, (k, a, b, o) => k.add(a, b, o)),
    elementwise('sub', T, (k, a, b, o) => k.sub(a, b, o)),
    elementwise('neg', T, (k, a, _b, o) => k.neg(a, o)),
    elementwise('mul', T, (k, a, b, o) => k.mul(a, b, o)),
    elementwise('mul_scalar', T, (k, a, _b, o) => k.mulScalar(a, 0x9e3779b97f4a7c15n, o)),
    elementwise('add_scalar', T, (k, a, _b, o) => k.addScalar(a, 12345n, o)),
    {
      key: 'rss_mul',
      unit: 'melems_s',
      size: { native: M, twin: T },
      label: (n) => `${n === M ? '1M' : n} elems`,
      work: (n) => n,
      make: (k, n) => {
        const x0 = words(n, 1), x1 = words(n, 2), y0 = words(n, 3), y1 = words(n, 4), o = new BigUint64Array(n);
        return () => { k.rssMul(x0, x1, y0, y1, undefined, o); };
      },
    },
    {
      key: 'rss_and',
      unit: 'melems_s',
      size: { native: M, twin: T },
      label: (n) => `${n === M ? '1M' : n} words`,
      work: (n) => n,
      make: (k, n) => {
        const x0 = words(n, 1), x1 = words(n, 2), y0 = words(n, 3), y1 = words(n, 4), o = new BigUint64Array(n);
        return () => { k.rssAnd(x0, x1, y0, y1, undefined, o); };
      },
    },
    elementwise('sar', T, (k, a, _b, o) => k.sar(a, 18, o)),
    elementwise('shr', T, (k, a, _b, o) => k.shr(a, 18, o)),
    elementwise('shl', T, (k, a, _b, o) => k.shl(a, 18, o)),
    elementwise('trunc_lo', T, (k, a, _b, o) => k.truncLo(a, 18, o)),
    elementwise('xor', T, (k, a, b, o) => k.xor(a, b, o)),
    elementwise('and', T, (k, a, b, o) => k.and(a, b, o)),
    elementwise('or', T, (k, a, b, o) => k.or(a, b, o)),
    elementwise('not', T, (k, a, _b, o) => k.not(a, o)),
    {
      key: 'encode_fixed',
      unit: 'melems_s',
      size: { native: M, twin: T },
      label: (n) => `${n === M ? '1M' : n} elems`,
      work: (n) => n,
      make: (k, n) => {
        const x = doubles(n), o = new BigUint64Array(n);
        return () => { k.encodeFixed(x, 18, o); };
      },
    },
    {
      key: 'decode_fixed',
      unit: 'melems_s',
      size: { native: M, twin: T },
      label: (n) => `${n === M ? '1M' : n} elems`,
      work: (n) => n,
      make: (k, n) => {
        const a = k.encodeFixed(doubles(n), 18).values, o = new Float64Array(n);
        return () => { k.decodeFixed(a, 18, o); };
      },
    },
    {
      key: 'popcount',
      unit: 'melems_s',
      size: { native: M, twin: T },
      label: (n) => `${n === M ? '1M' : n} words`,
      work: (n) => n,
      make: (k, n) => {
        const a = words(n, 5), o = new Uint8Array(n);
        return () => { k.popcount(a, o); };
      },
    },
    {
      key: 'extract_bit',
      unit: 'melems_s',
      size: { native: M, twin: T },
      label: (n) => `${n === M ? '1M' : n} words`,
      work: (n) => n,
      make: (k, n) => {
        const a = words(n, 6), o = new Uint8Array(n);
        return () => { k.extractBit(a, 63, o); };
      },
    },
    {
      key: 'pack_bits',
      unit: 'melems_s',
      size: { native: M, twin: T },
      label: (n) => `${n === M ? '1M' : n} words`,
      work: (n) => n,
      make: (k, n) => {
        const a = words(n, 7), o = new BigUint64Array(Math.ceil(n / 64));
        return () => { k.packBits(a, 63, o); };
      },
    },
    {
      key: 'unpack_bits',
      unit: 'melems_s',
      size: { native: M, twin: T },
      label: (n) => `${n === M ? '1M' : n} words`,
      work: (n) => n,
      make: (k, n) => {
        const p = words(Math.ceil(n / 64), 8), o = new BigUint64Array(n);
        return () => { k.unpackBits(p, n, 63, o); };
      },
    },
    {
      key: 'matmul',
      unit: 'gmacs',
      size: { native: 512, twin: quick ? 48 : 192 },
      label: (n) => `${n}x${n}x${n}`,
      work: cube,
      make: (k, n) => {
        const a = words(n * n, 1), b = words(n * n, 2), o = new BigUint64Array(n * n);
        return () => { k.matmul(a, b, { m: n, k: n, n }, o); };
      },
    },
    {
      key: 'rss_matmul',
      unit: 'gmacs',
      size: { native: 256, twin: quick ? 32 : 96 },
      label: (n) => `${n}x${n}x${n} (MACs of one product)`,
      work: cube,
      make: (k, n) => {
        const [x0, x1, y0, y1] = [1, 2, 3, 4].map((t) => words(n * n, t)), o = new BigUint64Array(n * n);
        return () => { k.rssMatmul(x0, x1, y0, y1, { m: n, k: n, n, transB: true }, undefined, o); };
      },
    },
    {
      key: 'prg_fill',
      unit: 'gbytes_s',
      size: { native: 16 * M, twin: quick ? M : 16 * M },
      label: (n) => `${n / M} MiB`,
      work: (n) => n,
      make: (k, n) => {
        const seed = new Uint8Array(16).fill(42), o = new Uint8Array(n);
        return () => { k.prgFill(seed, 0n, o); };
      },
    },
  ];
}

const SCALE: Record<Unit, number> = { melems_s: 1e6, gmacs: 1e9, gbytes_s: 1e9 };

/** Median seconds per call of each function, measured by tinybench. */
async function measure(tasks: { name: string; fn: () => void }[], quick: boolean): Promise<Map<string, number>> {
  const bench = new Bench({
    time: quick ? 60 : 300,
    warmupTime: quick ? 10 : 50,
    iterations: 3,
    warmupIterations: 1,
    throws: true,
  });
  for (const t of tasks) bench.add(t.name, t.fn);
  await bench.run();
  const out = new Map<string, number>();
  for (const task of bench.tasks) {
    const r = task.result;
    if (r.state !== 'completed') throw new Error(`benchmark ${task.name} did not complete (${r.state})`);
    out.set(task.name, r.latency.p50 / 1000);
  }
  return out;
}

export default async function kernelsSuite(opts: BenchOptions): Promise<BenchResult> {
  const quick = opts.quick === true;
  const native = nativeKernels();
  const backends: [string, RingKernels][] = [['twin', twinKernels()]];
  if (native) backends.unshift(['native', native]);
  const all = cases(quick);
  const only = opts.args.filter((a) => !a.startsWith('--'));
  const selected = only.length ? all.filter((c) => only.includes(c.key)) : all;
  if (selected.length === 0) throw new Error(`no kernel matches ${only.join(', ')}; known: ${all.map((c) => c.key).join(', ')}`);

  const tasks: { name: string; fn: () => void }[] = [];
  for (const c of selected) for (const [b, k] of backends) tasks.push({ name: `${c.key}/${b}`, fn: c.make(k, c.size[b as 'native' | 'twin']) });
  const secs = await measure(tasks, quick);

  const rows: Record<string, string | number>[] = [];
  const figures: Record<string, number> = { native_available: native ? 1 : 0 };
  for (const c of selected) {
    const rate = (b: 'native' | 'twin') => c.work(c.size[b]) / secs.get(`${c.key}/${b}`)! / SCALE[c.unit];
    const twinRate = rate('twin');
    const row: Record<string, string | number> = { kernel: c.key, unit: c.unit.replace('_', '/'), twin_size: c.label(c.size.twin), twin: twinRate };
    figures[`${c.key}_twin_${c.unit}`] = twinRate;
    if (native) {
      const nativeRate = rate('native');
      row.native_size = c.label(c.size.native);
      row.native = nativeRate;
      row['native/twin'] = nativeRate / twinRate;
      figures[`${c.key}_native_${c.unit}`] = nativeRate;
      figures[`${c.key}_native_twin_ratio`] = nativeRate / twinRate;
    }
    rows.push(row);
  }
  if (native) {
    if (figures.matmul_native_gmacs !== undefined) figures.matmul_u64_512_gmacs = figures.matmul_native_gmacs;
    if (figures.rss_mul_native_melems_s !== undefined) figures.rss_mul_1m_melems_s = figures.rss_mul_native_melems_s;
    if (figures.prg_fill_native_gbytes_s !== undefined) figures.prg_aes_ctr_gbytes_s = figures.prg_fill_native_gbytes_s;
  }
  const notes = [
    'rates are medians of tinybench samples, normalised per element / multiply-accumulate / byte; one thread',
    'targets (native): matmul_u64_512_gmacs >= 2.5, rss_mul_1m_melems_s >= 300, prg_aes_ctr_gbytes_s >= 1',
  ];
  if (!native) notes.push(`native backend unavailable, twin only: ${nativeLoadError()?.message ?? 'unknown reason'}`);
  return { title: `Ring kernels: native vs TypeScript twin${quick ? ' (quick)' : ''}`, rows, figures, notes };
}
