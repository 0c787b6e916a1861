/**
 * The operations of the peers suite (bench/peers.ts): their sizes, their inputs, the float64
 * reference and the error measure, shared by the three implementations (mpcache's party job
 * bench/peers-job.ts, MP-SPDZ's bench/peers/bench_op.mpc, CrypTen's bench/peers/crypten_bench.py:
 * those two mirror the sizes and inputs defined here and must be changed with them).
 *
 * Inputs are a public LCG (values(), identical in the three languages), not secrets. Every
 * implementation hands back its revealed output decoded to float64 in one canonical layout
 * (row-major; argmax: the index per row; top-k: the k largest values of each row, descending),
 * and opError() measures it against the float64 reference on the same inputs:
 *   continuous ops and top-k: max |out - ref|;
 *   lt, argmax: the fraction of wrong outputs (0 = all right).
 */
import { geluRef, siluRef } from '../protocols/fit/special.js';
import { randFloats } from '../testing/protocol-helpers.js';

export const PEER_OPS = ['mul', 'fxmul', 'lt', 'exp', 'reciprocal', 'softmax', 'argmax', 'matmul', 'gelu', 'silu', 'rsqrt', 'layernorm', 'topk'] as const;
export type PeerOp = (typeof PEER_OPS)[number];

export function isPeerOp(s: string): s is PeerOp {
  return (PEER_OPS as readonly string[]).includes(s);
}

/** fixed point of every implementation: 18 fractional bits in the ring 2^64 */
export const FRAC_BITS = 18;
/** LayerNorm's epsilon (no gain, no bias) */
export const LN_EPS = 1e-5;

export interface OpSizes {
  /** elementwise ops */
  readonly n: number;
  /** softmax / argmax rows x columns */
  readonly rows: number;
  readonly cols: number;
  /** matmul m x k x n */
  readonly mm: readonly [number, number, number];
  /** layernorm rows x width */
  readonly ln: readonly [number, number];
  /** top-k rows, row length, k */
  readonly tk: readonly [number, number, number];
}

export const FULL_SIZES: OpSizes = { n: 100_000, rows: 100, cols: 1000, mm: [128, 768, 768], ln: [128, 768], tk: [32, 1024, 64] };
/** --quick (bench_op.mpc switches to these when its element count is below 100k) */
export const QUICK_SIZES: OpSizes = { n: 10_000, rows: 10, cols: 1000, mm: [16, 768, 768], ln: [16, 768], tk: [4, 1024, 64] };

export interface OpSpec {
  readonly op: PeerOp;
  readonly label: string;
  /** shape as the table shows it */
  readonly size: string;
  /** elements the per-element bytes are divided by (input elements; matmul: output elements) */
  readonly elems: number;
  /** how opError measures */
  readonly metric: 'abs' | 'wrong';
}

export function opSpec(op: PeerOp, s: OpSizes): OpSpec {
  const k = (n: number): string => (n % 1000 === 0 ? `${n / 1000}k` : String(n));
  switch (op) {
    case 'mul': return { op, label: 'mul (ring product)', size: k(s.n), elems: s.n, metric: 'abs' };
    case 'fxmul': return { op, label: 'fixed mul', size: k(s.n), elems: s.n, metric: 'abs' };
    case 'lt': return { op, label: 'lt', size: k(s.n), elems: s.n, metric: 'wrong' };
    case 'exp': return { op, label: 'exp', size: k(s.n), elems: s.n, metric: 'abs' };
    case 'reciprocal': return { op, label: 'reciprocal', size: k(s.n), elems: s.n, metric: 'abs' };
    case 'softmax': return { op, label: 'softmax', size: `${s.rows}x${s.cols}`, elems: s.rows * s.cols, metric: 'abs' };
    case 'argmax': return { op, label: 'argmax', size: `${s.rows}x${s.cols}`, elems: s.rows * s.cols, metric: 'wrong' };
    case 'matmul': return { op, label: 'matmul (fixed)', size: s.mm.join('x'), elems: s.mm[0] * s.mm[2], metric: 'abs' };
    case 'gelu': return { op, label: 'GeLU', size: k(s.n), elems: s.n, metric: 'abs' };
    case 'silu': return { op, label: 'SiLU', size: k(s.n), elems: s.n, metric: 'abs' };
    case 'rsqrt': return { op, label: 'rsqrt', size: k(s.n), elems: s.n, metric: 'abs' };
    case 'layernorm': return { op, label: 'LayerNorm', size: s.ln.join('x'), elems: s.ln[0] * s.ln[1], metric: 'abs' };
    case 'topk': return { op, label: `top-k (k=${s.tk[2]})`, size: `${s.tk[0]}x${s.tk[1]}`, elems: s.tk[0] * s.tk[1], metric: 'abs' };
  }
}

/**
 * The benchmark LCG (bench/protocols-job.ts, bench_op.mpc, crypten_bench.py): n values in
 * [lo, hi) — the protocol tests' randFloats.
 */
export const values = randFloats;

/** The inputs of an op, row-major. `a` is shared by party 1 (the user), `b` (when present) by party 0. */
export interface OpInputs {
  readonly a: Float64Array;
  readonly aShape: readonly number[];
  readonly b?: Float64Array;
  readonly bShape?: readonly number[];
}

export function opInputs(op: PeerOp, s: OpSizes): OpInputs {
  const n = s.n;
  switch (op) {
    case 'mul':
    case 'fxmul':
    case 'lt':
      // x (seed 1) from party 0, y (seed 2) from party 1: a = y, b = x
      return { a: values(n, -10, 10, 2), aShape: [n], b: values(n, -10, 10, 1), bShape: [n] };
    case 'exp': return { a: values(n, -14, 0, 6), aShape: [n] };
    case 'reciprocal': return { a: values(n, 1, 1000, 6), aShape: [n] };
    case 'gelu':
    case 'silu': return { a: values(n, -8, 8, 7), aShape: [n] };
    case 'rsqrt': return { a: values(n, 0.1, 100, 8), aShape: [n] };
    case 'softmax': return { a: values(s.rows * s.cols, -8, 8, 6), aShape: [s.rows, s.cols] };
    case 'argmax': return { a: values(s.rows * s.cols, -8, 8, 3), aShape: [s.rows, s.cols] };
    case 'matmul': {
      const [m, k, nn] = s.mm;
      return { a: values(m * k, -1, 1, 4), aShape: [m, k], b: values(k * nn, -0.1, 0.1, 5), bShape: [k, nn] };
    }
    case 'layernorm': {
      // rows of different spread (scale 0.2 .. 8): the variances span ~0.013 .. 21
      const [rows, d] = s.ln;
      const v = values(rows * d, -1, 1, 9);
      const sc = values(rows, 0.2, 8, 10);
      for (let r = 0; r < rows; r++) for (let j = 0; j < d; j++) v[r * d + j] *= sc[r];
      return { a: v, aShape: [rows, d] };
    }
    case 'topk': return { a: values(s.tk[0] * s.tk[1], -8, 8, 11), aShape: [s.tk[0], s.tk[1]] };
  }
}

function rowsOf(x: Float64Array, cols: number, f: (row: Float64Array, out: number[]) => void): Float64Array {
  const out: number[] = [];
  for (let r = 0; r * cols < x.length; r++) f(x.subarray(r * cols, (r + 1) * cols), out);
  return Float64Array.from(out);
}

/** the index of the first largest element */
export function argmaxIndex(row: ArrayLike<number>): number {
  let best = 0;
  for (let j = 1; j < row.length; j++) if (row[j] > row[best]) best = j;
  return best;
}

/** The float64 reference output of an op, in the canonical layout. */
export function opReference(op: PeerOp, s: OpSizes, inp: OpInputs = opInputs(op, s)): Float64Array {
  const { a, b } = inp;
  const map = (f: (v: number, i: number) => number): Float64Array => Float64Array.from(a, f);
  switch (op) {
    case 'mul':
    case 'fxmul': return map((v, i) => b![i] * v);
    case 'lt': return map((v, i) => (b![i] < v ? 1 : 0));
    case 'exp': return map(Math.exp);
    case 'reciprocal': return map((v) => 1 / v);
    case 'gelu': return map(geluRef);
    case 'silu': return map(siluRef);
    case 'rsqrt': return map((v) => 1 / Math.sqrt(v));
    case 'softmax':
      return rowsOf(a, s.cols, (row, out) => {
        const m = Math.max(...row);
        const e = Array.from(row, (v) => Math.exp(v - m));
        const sum = e.reduce((p, q) => p + q, 0);
        for (const v of e) out.push(v / sum);
      });
    case 'argmax': return rowsOf(a, s.cols, (row, out) => out.push(argmaxIndex(row)));
    case 'matmul': {
      const [m, k, n] = s.mm;
      const z = new Float64Array(m * n);
      for (let i = 0; i < m; i++) for (let t = 0; t < k; t++) {
        const av = a[i * k + t];
        for (let j = 0; j < n; j++) z[i * n + j] += av * b![t * n + j];
      }
      return z;
    }
    case 'layernorm':
      return rowsOf(a, s.ln[1], (row, out) => {
        const d = row.length;
        const mu = row.reduce((p, q) => p + q, 0) / d;
        const v = row.reduce((p, q) => p + (q - mu) ** 2, 0) / d;
        const r = 1 / Math.sqrt(v + LN_EPS);
        for (const x of row) out.push((x - mu) * r);
      });
    case 'topk':
      return rowsOf(a, s.tk[1], (row, out) => {
        out.push(...Array.from(row).sort((p, q) => q - p).slice(0, s.tk[2]));
      });
  }
}

/** Error of an output against the reference (see the header); throws when the lengths differ. */
export function opError(spec: Pick<OpSpec, 'op' | 'metric'>, out: ArrayLike<number>, ref: ArrayLike<number>): number {
  if (out.length !== ref.length) throw new RangeError(`${spec.op}: output has ${out.length} values, the reference ${ref.length}`);
  let e = 0;
  let wrong = 0;
  for (let i = 0; i < ref.length; i++) {
    const d = Math.abs(out[i] - ref[i]);
    if (Number.isNaN(d)) return Infinity;
    if (d > e) e = d;
    if (d > 0.5) wrong++;
  }
  return spec.metric === 'wrong' ? wrong / Math.max(1, ref.length) : e;
}
