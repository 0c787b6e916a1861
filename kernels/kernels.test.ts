/**
 * One test body for every available backend (the twin always; the native addon when built),
 * checked against an independent BigInt model and against published known answers.
 */
import { createCipheriv } from 'node:crypto';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { RingKernels } from './api.js';
import {
  refAdd, refMatmul, refMul, refNeg, refRss, refSar, refShl, refShr, refSub, refTruncLo,
} from './bigint-reference.js';
import { nativeKernels, nativeLoadError, twinKernels } from './index.js';
import { nativeAddonCandidates } from './native-loader.js';

const native = nativeKernels();
const backends: [string, RingKernels][] = [['twin', twinKernels()]];
if (native) backends.push(['native', native]);

const MAX = (1n << 64n) - 1n;

/** Deterministic test data (not secret): a splitmix64 stream with edge values mixed in. */
function words(n: number, seed: number): BigUint64Array {
  const out = new BigUint64Array(n);
  let s = BigInt(seed) * 0x9e3779b97f4a7c15n;
  const edges = [0n, 1n, MAX, 1n << 63n, (1n << 63n) - 1n, 0xffffffffn, 1n << 32n, 0x8000_0000n];
  for (let i = 0; i < n; i++) {
    if (i % 7 === 3) { out[i] = edges[(i + seed) % edges.length]; continue; }
    s = (s + 0x9e3779b97f4a7c15n) & MAX;
    let z = s;
    z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MAX;
    z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MAX;
    out[i] = z ^ (z >> 31n);
  }
  return out;
}

function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

it('the native addon loads whenever it has been built', () => {
  if (nativeAddonCandidates().some((p) => existsSync(p))) {
    expect(nativeLoadError()).toBeUndefined();
    expect(native?.backend).toBe('native');
  } else {
    expect(nativeLoadError()).toBeInstanceOf(Error);
  }
});

describe.each(backends)('%s backend', (name, k) => {
  it('reports its name', () => {
    expect(k.backend).toBe(name);
  });

  it('wraparound known answers', () => {
    expect(k.add(new BigUint64Array([MAX]), new BigUint64Array([1n]))).toEqual(new BigUint64Array([0n]));
    expect(k.sub(new BigUint64Array([0n]), new BigUint64Array([1n]))).toEqual(new BigUint64Array([MAX]));
    expect(k.mul(new BigUint64Array([MAX]), new BigUint64Array([MAX]))).toEqual(new BigUint64Array([1n]));
    expect(k.neg(new BigUint64Array([1n, 0n]))).toEqual(new BigUint64Array([MAX, 0n]));
    expect(k.mul(new BigUint64Array([1n << 32n]), new BigUint64Array([1n << 32n]))).toEqual(new BigUint64Array([0n]));
    expect(k.mulScalar(new BigUint64Array([3n]), -1n)).toEqual(new BigUint64Array([MAX - 2n]));
    expect(k.addScalar(new BigUint64Array([MAX]), 2n)).toEqual(new BigUint64Array([1n]));
    expect(k.sar(new BigUint64Array([MAX - 7n]), 2)).toEqual(new BigUint64Array([MAX - 1n])); // -8 >> 2 = -2
    expect(k.shr(new BigUint64Array([MAX - 7n]), 2)).toEqual(new BigUint64Array([(MAX - 7n) >> 2n]));
    expect(k.shl(new BigUint64Array([MAX]), 63)).toEqual(new BigUint64Array([1n << 63n]));
    // 2x2 matmul with -1 entries: [[-1,-1],[1,0]] * [[-1,0],[0,-1]] = [[1,1],[-1,0]]
    expect(k.matmul(new BigUint64Array([MAX, MAX, 1n, 0n]), new BigUint64Array([MAX, 0n, 0n, MAX]), { m: 2, k: 2, n: 2 }))
      .toEqual(new BigUint64Array([1n, 1n, MAX, 0n]));
  });

  it('elementwise arithmetic equals the BigInt model (sizes 0, 1, odd)', () => {
    for (const n of [0, 1, 7, 33, 1001]) {
      const a = words(n, n + 1), b = words(n, n + 2);
      const exp = (f: (x: bigint, y: bigint) => bigint) => BigUint64Array.from(a, (x, i) => f(x, b[i]));
      expect(k.add(a, b)).toEqual(exp(refAdd));
      expect(k.sub(a, b)).toEqual(exp(refSub));
      expect(k.mul(a, b)).toEqual(exp(refMul));
      expect(k.neg(a)).toEqual(BigUint64Array.from(a, refNeg));
      const s = b.length ? b[0] : 12345n;
      expect(k.mulScalar(a, s)).toEqual(BigUint64Array.from(a, (x) => refMul(x, s)));
      expect(k.addScalar(a, s)).toEqual(BigUint64Array.from(a, (x) => refAdd(x, s)));
    }
  });

  it('in-place (out aliases an input) gives the same result', () => {
    const a = words(101, 5), b = words(101, 6);
    const want = k.mul(a, b);
    const c = a.slice();
    expect(k.mul(c, b, c)).toBe(c);
    expect(c).toEqual(want);
    const d = b.slice();
    k.rssMul(a, a, d, d, undefined, d);
    expect(d).toEqual(k.rssMul(a, a, b, b));
  });

  it('shifts and truncation helpers equal the BigInt model', () => {
    const a = words(257, 9);
    for (const s of [0, 1, 5, 31, 32, 33, 47, 62, 63]) {
      expect(k.sar(a, s)).toEqual(BigUint64Array.from(a, (x) => refSar(x, s)));
      expect(k.shr(a, s)).toEqual(BigUint64Array.from(a, (x) => refShr(x, s)));
      expect(k.truncHi(a, s)).toEqual(BigUint64Array.from(a, (x) => refShr(x, s)));
      expect(k.shl(a, s)).toEqual(BigUint64Array.from(a, (x) => refShl(x, s)));
      expect(k.truncLo(a, s)).toEqual(BigUint64Array.from(a, (x) => refTruncLo(x, s)));
    }
  });

  it('replicated products equal the BigInt model, with and without mask', () => {
    for (const n of [0, 1, 9, 517]) {
      const [x0, x1, y0, y1, mask] = [1, 2, 3, 4, 5].map((s) => words(n, 10 * n + s));
      expect(k.rssMul(x0, x1, y0, y1)).toEqual(BigUint64Array.from(x0, (_, i) => refRss(x0[i], x1[i], y0[i], y1[i])));
      expect(k.rssMul(x0, x1, y0, y1, mask)).toEqual(BigUint64Array.from(x0, (_, i) => refRss(x0[i], x1[i], y0[i], y1[i], mask[i])));
      const band = BigUint64Array.from(x0, (_, i) => (x0[i] & y0[i]) ^ (x0[i] & y1[i]) ^ (x1[i] & y0[i]));
      expect(k.rssAnd(x0, x1, y0, y1)).toEqual(band);
      expect(k.rssAnd(x0, x1, y0, y1, mask)).toEqual(BigUint64Array.from(band, (v, i) => v ^ mask[i]));
    }
  });

  it('matmul equals the BigInt model over shapes, transposes and batches', () => {
    const shapes: [number, number, number, number][] = [
      [1, 0, 0, 0], [1, 1, 1, 1], [1, 3, 0, 2], [1, 1, 7, 1], [2, 5, 3, 4], [1, 17, 9, 13], [3, 2, 70, 3], [1, 33, 65, 31],
    ];
    for (const [batch, m, kk, n] of shapes) {
      for (const transA of [false, true]) {
        for (const transB of [false, true]) {
          const a = words(batch * m * kk, m + kk), b = words(batch * kk * n, n + 3 * kk);
          const shape = { batch, m, k: kk, n, transA, transB };
          const want = refMatmul(a, b, batch, m, kk, n, transA, transB);
          expect(k.matmul(a, b, shape), `${JSON.stringify(shape)}`).toEqual(want);
          // rssMatmul against three plain matmuls
          const x1 = words(a.length, 77), y1 = words(b.length, 78), mask = words(want.length, 79);
          const z = k.add(k.add(want, refMatmul(a, y1, batch, m, kk, n, transA, transB)), refMatmul(x1, b, batch, m, kk, n, transA, transB));
          expect(k.rssMatmul(a, x1, b, y1, shape)).toEqual(z);
          expect(k.rssMatmul(a, x1, b, y1, shape, mask)).toEqual(k.add(z, mask));
        }
      }
    }
  });

  it('fixed point: round to nearest (ties away from zero), clamps and counts out-of-range', () => {
    const f = 16;
    const r = k.encodeFixed(new Float64Array([0, 1, -1, 1.5, 0.5 / 65536, -0.5 / 65536, 1.49 / 65536, -2.5 / 65536, 3.25]), f);
    expect(r.outOfRange).toBe(0);
    expect(r.firstOutOfRange).toBe(-1);
    expect(Array.from(r.values, (v) => BigInt.asIntN(64, v))).toEqual([0n, 65536n, -65536n, 98304n, 1n, -1n, 1n, -3n, 212992n]);
    const bad = k.encodeFixed(new Float64Array([1, NaN, Infinity, -Infinity, 2 ** 47, -(2 ** 47) - 1, 2 ** 47 - 1]), f);
    expect(bad.outOfRange).toBe(5);
    expect(bad.firstOutOfRange).toBe(1);
    expect(Array.from(bad.values, (v) => BigInt.asIntN(64, v))).toEqual([
      65536n, 0n, (1n << 63n) - 1n, -(1n << 63n), (1n << 63n) - 1n, -(1n << 63n), (2n ** 47n - 1n) << 16n,
    ]);
    // -2^63 exactly is representable
    expect(k.encodeFixed(new Float64Array([-(2 ** 63)]), 0).outOfRange).toBe(0);
    const xs = new Float64Array([0, 1, -1, 0.125, -1234.5678, 1e-9, 3.0517578125e-5, 2 ** 40 + 0.5]);
    const back = k.decodeFixed(k.encodeFixed(xs, 20).values, 20);
    for (let i = 0; i < xs.length; i++) expect(Math.abs(back[i] - xs[i])).toBeLessThanOrEqual(2 ** -21);
    expect(k.decodeFixed(new BigUint64Array([MAX, 1n << 63n, (1n << 63n) - 1n]), 0)).toEqual(new Float64Array([-1, -(2 ** 63), 2 ** 63]));
  });

  it('boolean words: xor/and/or/not, popcount, extractBit, pack/unpack', () => {
    const a = words(130, 21), b = words(130, 22);
    expect(k.xor(a, b)).toEqual(BigUint64Array.from(a, (x, i) => x ^ b[i]));
    expect(k.and(a, b)).toEqual(BigUint64Array.from(a, (x, i) => x & b[i]));
    expect(k.or(a, b)).toEqual(BigUint64Array.from(a, (x, i) => x | b[i]));
    expect(k.not(a)).toEqual(BigUint64Array.from(a, (x) => ~x & MAX));
    const pc = (x: bigint) => x.toString(2).split('').filter((c) => c === '1').length;
    expect(Array.from(k.popcount(a))).toEqual(Array.from(a, pc));
    expect(Array.from(k.popcount(new BigUint64Array([0n, MAX])))).toEqual([0, 64]);
    for (const bit of [0, 1, 31, 32, 63]) {
      const bits = k.extractBit(a, bit);
      expect(Array.from(bits)).toEqual(Array.from(a, (x) => Number((x >> BigInt(bit)) & 1n)));
      for (const n of [0, 1, 63, 64, 65, 130]) {
        const sub = a.subarray(0, n);
        const packed = k.packBits(sub, bit);
        expect(packed.length).toBe(Math.ceil(n / 64));
        for (let i = 0; i < n; i++) expect(Number((packed[i >> 6] >> BigInt(i & 63)) & 1n)).toBe(bits[i]);
        if (n % 64) expect(packed[packed.length - 1] >> BigInt(n % 64)).toBe(0n);
        expect(k.unpackBits(packed, n, bit)).toEqual(BigUint64Array.from(sub, (x) => x & (1n << BigInt(bit))));
      }
    }
  });

  it('PRG: AES-128 known answers (NIST AESAVS, plaintext block 0 = counter 0)', () => {
    // NIST "The Advanced Encryption Standard Algorithm Validation Suite (AESAVS)", 2002:
    // Appendix D.1 KeySbox (AES-128) count 0 and Appendix E.1 VarKey (AES-128) count 0, both
    // with plaintext 00..00, plus the classic all-zero key / all-zero block answer. With
    // counter 0 the first counter block is 00..00, so the first keystream block is AES_K(0).
    const kat: [string, string][] = [
      ['10a58869d74be5a374cf867cfb473859', '6d251e6944b051e04eaa6fb4dbf78465'],
      ['80000000000000000000000000000000', '0edd33d3c621e546455bd8ba1418bec8'],
      ['00000000000000000000000000000000', '66e94bd4ef8a2c3b884cfa59ca342b2e'],
    ];
    for (const [key, ct] of kat) {
      expect(hex(k.prgFill(Buffer.from(key, 'hex'), 0n, new Uint8Array(16)))).toBe(ct);
    }
  });

  it('PRG: counter blocks are 0^64 || counter, incremented as 128-bit big-endian; tails truncate', () => {
    const seed = Buffer.from('2b7e151628aed2a6abf7158809cf4f3c', 'hex');
    const ecb = (block: Buffer) => {
      const c = createCipheriv('aes-128-ecb', seed, null);
      c.setAutoPadding(false);
      return c.update(block);
    };
    const block = (hi: bigint, lo: bigint) => {
      const b = Buffer.alloc(16);
      b.writeBigUInt64BE(hi, 0);
      b.writeBigUInt64BE(lo, 8);
      return b;
    };
    for (const ctr of [0n, 1n, 0xfffffffen, (1n << 64n) - 2n]) {
      const want = Buffer.concat([0n, 1n, 2n].map((d) => {
        const v = ctr + d;
        return ecb(block(v >> 64n, v & MAX));
      }));
      expect(hex(k.prgFill(seed, ctr, new Uint8Array(48)))).toBe(want.toString('hex'));
      // a truncated tail is a prefix of the full stream
      expect(hex(k.prgFill(seed, ctr, new Uint8Array(37)))).toBe(want.subarray(0, 37).toString('hex'));
    }
    expect(k.prgFill(seed, 5n, new Uint8Array(0)).length).toBe(0);
    // long fills equal concatenated short fills
    const long = k.prgFill(seed, 7n, new Uint8Array(16 * 5000 + 3));
    const part = k.prgFill(seed, 7n + 4000n, new Uint8Array(16 * 1000 + 3));
    expect(hex(long.subarray(16 * 4000))).toBe(hex(part));
  });

  it('validates arguments before computing', () => {
    const a = new BigUint64Array(4), b = new BigUint64Array(5);
    expect(() => k.add(a, b)).toThrow(RangeError);
    expect(() => k.add(a, a, new BigUint64Array(3))).toThrow(RangeError);
    expect(() => k.add(a, new Uint32Array(4) as unknown as BigUint64Array)).toThrow(TypeError);
    expect(() => k.add(a, a, new BigUint64Array(a.buffer, 8, 4 - 1) as BigUint64Array)).toThrow(RangeError);
    const big = new BigUint64Array(8);
    expect(() => k.add(big.subarray(0, 4), big.subarray(0, 4), big.subarray(1, 5))).toThrow(/overlap/);
    expect(() => k.sar(a, 64)).toThrow(RangeError);
    expect(() => k.sar(a, -1)).toThrow(RangeError);
    expect(() => k.shl(a, 1.5)).toThrow(RangeError);
    expect(() => k.shr(a, '3' as unknown as number)).toThrow(TypeError);
    expect(() => k.mulScalar(a, 3 as unknown as bigint)).toThrow(TypeError);
    expect(() => k.matmul(a, a, { m: 2, k: 2, n: 3 })).toThrow(RangeError);
    expect(() => k.matmul(a, a, { m: 2, k: -2, n: 2 })).toThrow(RangeError);
    expect(() => k.matmul(a, a, { m: 2, k: 2, n: 2 }, a)).toThrow(/overlap/);
    expect(() => k.matmul(a, a, null as unknown as { m: number; k: number; n: number })).toThrow(TypeError);
    expect(() => k.rssMul(a, a, a, b)).toThrow(RangeError);
    expect(() => k.rssMul(a, a, a, a, b)).toThrow(RangeError);
    expect(() => k.rssMatmul(a, a, a, a, { m: 2, k: 2, n: 2 }, b)).toThrow(RangeError);
    expect(() => k.encodeFixed(new Float32Array(2) as unknown as Float64Array, 8)).toThrow(TypeError);
    expect(() => k.encodeFixed(new Float64Array(2), 64)).toThrow(RangeError);
    expect(() => k.decodeFixed(a, 8, new Float64Array(3))).toThrow(RangeError);
    expect(() => k.extractBit(a, 64)).toThrow(RangeError);
    expect(() => k.packBits(a, 0, new BigUint64Array(2))).toThrow(RangeError);
    expect(() => k.unpackBits(new BigUint64Array(2), 64, 0)).toThrow(RangeError);
    expect(() => k.prgFill(new Uint8Array(15), 0n, new Uint8Array(16))).toThrow(RangeError);
    expect(() => k.prgFill(new Uint8Array(16), -1n, new Uint8Array(16))).toThrow(RangeError);
    expect(() => k.prgFill(new Uint8Array(16), 1n << 64n, new Uint8Array(16))).toThrow(RangeError);
    expect(() => k.prgFill(new Uint8Array(16), 0 as unknown as bigint, new Uint8Array(16))).toThrow(TypeError);
  });
});
