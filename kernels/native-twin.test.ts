/**
 * Native equals twin: a sweep over shapes (0, 1, odd sizes, non-multiples of the native
 * block sizes MR=6 / NR=16 / KC=256 / MC=96 / NC=2048), transposes, batches and seeds, for the
 * best native code path and for every other instruction-set variant this CPU can run
 * (scalar, AVX2, AVX-512 matmul; software AES and AES-NI).
 */
import { describe, expect, it } from 'vitest';
import { nativeKernels, twinKernels } from './index.js';
import { type Isa, type PrgImpl, loadNativeInternals } from './native-loader.js';

const native = nativeKernels();
const twin = twinKernels();

/** Test data from the twin's AES-CTR stream (deterministic per seed byte). */
function rand(n: number, seedByte: number): BigUint64Array {
  const out = new BigUint64Array(n);
  const seed = new Uint8Array(16).fill(seedByte);
  twin.prgFill(seed, 0n, new Uint8Array(out.buffer));
  return out;
}

describe.skipIf(native === undefined)('native equals twin', () => {
  const nat = native!;
  const internals = loadNativeInternals();
  const info = internals.cpuInfo();
  const isas: Isa[] = ['scalar', ...(info.avx2 ? ['avx2' as const] : []), ...(info.avx512 ? ['avx512' as const] : [])];
  const prgImpls: PrgImpl[] = ['soft', ...(info.aesni ? ['aesni' as const] : [])];

  it('elementwise kernels over sizes and seeds', () => {
    for (const n of [0, 1, 7, 8, 9, 63, 1023, 4097]) {
      for (const s of [1, 2]) {
        const a = rand(n, 10 * s), b = rand(n, 10 * s + 1), c = rand(n, 10 * s + 2), d = rand(n, 10 * s + 3), m = rand(n, 10 * s + 4);
        for (const op of ['add', 'sub', 'mul', 'xor', 'and', 'or'] as const) expect(nat[op](a, b), op).toEqual(twin[op](a, b));
        for (const op of ['neg', 'not'] as const) expect(nat[op](a), op).toEqual(twin[op](a));
        const sc = n ? b[0] : 3n;
        expect(nat.mulScalar(a, sc)).toEqual(twin.mulScalar(a, sc));
        expect(nat.addScalar(a, sc)).toEqual(twin.addScalar(a, sc));
        expect(nat.rssMul(a, b, c, d, m)).toEqual(twin.rssMul(a, b, c, d, m));
        expect(nat.rssAnd(a, b, c, d, m)).toEqual(twin.rssAnd(a, b, c, d, m));
        const want = twin.rssMul(a, b, c, d);
        for (const isa of isas) {
          const out = new BigUint64Array(n);
          internals.rssMulIsa(isa, a, b, c, d, undefined, out);
          expect(out, isa).toEqual(want);
        }
        expect(nat.popcount(a)).toEqual(twin.popcount(a));
        for (const bit of [0, 13, 31, 32, 50, 63]) {
          expect(nat.extractBit(a, bit)).toEqual(twin.extractBit(a, bit));
          const p = nat.packBits(a, bit);
          expect(p).toEqual(twin.packBits(a, bit));
          expect(nat.unpackBits(p, n, bit)).toEqual(twin.unpackBits(p, n, bit));
        }
      }
    }
  });

  it('every shift amount', () => {
    const a = rand(301, 7);
    for (let s = 0; s < 64; s++) {
      for (const op of ['sar', 'shr', 'shl', 'truncHi', 'truncLo'] as const) expect(nat[op](a, s), `${op} ${s}`).toEqual(twin[op](a, s));
    }
  });

  it('fixed point over magnitudes, ties, and special values', () => {
    const xs: number[] = [0, -0, NaN, Infinity, -Infinity, Number.MIN_VALUE, -Number.MIN_VALUE, Number.MAX_VALUE, 2 ** 63, -(2 ** 63), 2 ** 62, 0.49999999999999994];
    const w = rand(2000, 9);
    for (let i = 0; i < 1000; i++) {
      const mant = Number(w[i] >> 11n) / 2 ** 53 - 0.5; // [-0.5, 0.5)
      xs.push(mant * 2 ** (Number(w[1000 + i] % 80n) - 20));
      xs.push((Number(w[i] % 2001n) - 1000 + 0.5) / 2 ** (i % 30)); // exact ties at f = i % 30
    }
    const x = new Float64Array(xs);
    for (const f of [0, 1, 12, 16, 18, 29, 40, 62, 63]) {
      const rn = nat.encodeFixed(x, f), rt = twin.encodeFixed(x, f);
      expect(rn.values, `f=${f}`).toEqual(rt.values);
      expect(rn.outOfRange).toBe(rt.outOfRange);
      expect(rn.firstOutOfRange).toBe(rt.firstOutOfRange);
      expect(nat.decodeFixed(w, f)).toEqual(twin.decodeFixed(w, f));
    }
  });

  it('matmul and rssMatmul over shapes, transposes, batches and every ISA variant', () => {
    const shapes: [number, number, number, number][] = [
      [1, 0, 5, 3], [1, 4, 0, 3], [1, 3, 5, 0], [0, 3, 3, 3], [1, 1, 1, 1], [1, 6, 16, 16], [1, 7, 17, 15],
      [2, 13, 31, 33], [3, 5, 3, 1], [1, 97, 257, 17], [1, 2, 3, 2049], [1, 96, 40, 48],
    ];
    let seed = 30;
    for (const [batch, m, k, n] of shapes) {
      const big = m * k * n > 100_000;
      for (const transA of big ? [false] : [false, true]) {
        for (const transB of big ? [true] : [false, true]) {
          const shape = { batch, m, k, n, transA, transB };
          const tag = JSON.stringify(shape);
          const x0 = rand(batch * m * k, seed++), x1 = rand(batch * m * k, seed++);
          const y0 = rand(batch * k * n, seed++), y1 = rand(batch * k * n, seed++);
          const mask = rand(batch * m * n, seed++);
          const want = twin.matmul(x0, y0, shape);
          expect(nat.matmul(x0, y0, shape), tag).toEqual(want);
          const wantRss = twin.rssMatmul(x0, x1, y0, y1, shape, mask);
          expect(nat.rssMatmul(x0, x1, y0, y1, shape, mask), tag).toEqual(wantRss);
          for (const isa of isas) {
            const out = new BigUint64Array(batch * m * n).fill(123n);
            internals.matmulIsa(isa, x0, y0, batch, m, k, n, transA, transB, out);
            expect(out, `${isa} ${tag}`).toEqual(want);
            internals.rssMatmulIsa(isa, x0, x1, y0, y1, batch, m, k, n, transA, transB, mask, out);
            expect(out, `${isa} rss ${tag}`).toEqual(wantRss);
          }
        }
      }
    }
  });

  it('PRG streams over seeds, counters (incl. the 2^64 carry) and lengths, every AES implementation', () => {
    for (const seedByte of [0, 1, 0xa5]) {
      const seed = new Uint8Array(16).map((_, i) => (seedByte * 31 + i * 7) & 0xff);
      for (const ctr of [0n, 1n, 0xffffffffn, (1n << 64n) - 1n, (1n << 64n) - 5n]) {
        for (const len of [0, 1, 15, 16, 17, 127, 128, 129, 1000]) {
          const want = twin.prgFill(seed, ctr, new Uint8Array(len));
          expect(nat.prgFill(seed, ctr, new Uint8Array(len))).toEqual(want);
          for (const impl of prgImpls) {
            const out = new Uint8Array(len);
            internals.prgFillImpl(impl, seed, ctr, out);
            expect(out, `${impl} ctr=${ctr} len=${len}`).toEqual(want);
          }
        }
      }
    }
  });

  it('the addon rechecks lengths itself (raw calls that bypass validation throw, never overrun)', () => {
    const a = new BigUint64Array(4);
    expect(() => internals.matmulIsa('scalar', a, a, 1, 2, 2, 3, false, false, new BigUint64Array(6))).toThrow(RangeError);
    expect(() => internals.rssMulIsa('scalar', a, a, a, new BigUint64Array(3), undefined, a)).toThrow(RangeError);
    expect(() => internals.prgFillImpl('soft', new Uint8Array(8), 0n, new Uint8Array(16))).toThrow(RangeError);
    expect(() => internals.matmulIsa('sse9' as Isa, a, a, 1, 2, 2, 2, false, false, new BigUint64Array(4))).toThrow(RangeError);
  });
});
