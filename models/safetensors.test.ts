import { describe, expect, it } from 'vitest';
import { bf16ToFloat, floatToBf16, floatToHalf, halfToFloat, roundToBf16, roundToF16 } from './binary.js';
import { modelErrorCode as code } from './test-support.js';
import { SafetensorsFile, encodeSafetensors } from './safetensors.js';


/** a raw file from a header object and a data buffer */
function raw(header: unknown, data = new Uint8Array(0), headerText?: string): Uint8Array {
  const h = new TextEncoder().encode(headerText ?? JSON.stringify(header));
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

describe('f16 / bf16 conversion', () => {
  it('known values', () => {
    expect(floatToHalf(1)).toBe(0x3c00);
    expect(floatToHalf(-2)).toBe(0xc000);
    expect(floatToHalf(65504)).toBe(0x7bff);
    expect(floatToHalf(1e6)).toBe(0x7c00);
    expect(floatToHalf(2 ** -24)).toBe(0x0001);
    expect(halfToFloat(0x3555)).toBeCloseTo(0.333251953125, 12);
    expect(floatToBf16(1)).toBe(0x3f80);
    expect(floatToBf16(-3.140625)).toBe(0xc049);
    expect(bf16ToFloat(0x4049)).toBe(3.140625);
    expect(Number.isNaN(bf16ToFloat(floatToBf16(NaN)))).toBe(true);
    // round to nearest even: 1 + 2^-8 is halfway between bf16 1 and 1 + 2^-7
    expect(bf16ToFloat(floatToBf16(1 + 2 ** -8))).toBe(1);
    expect(bf16ToFloat(floatToBf16(1 + 3 * 2 ** -8))).toBe(1 + 2 ** -6);
  });

  it('every half value round trips exactly', () => {
    const bad: number[] = [];
    for (let h = 0; h < 0x10000; h++) {
      const e = (h >> 10) & 0x1f;
      if (e === 31 && h & 0x3ff) continue; // NaN payloads
      if (floatToHalf(halfToFloat(h)) !== h) bad.push(h);
    }
    expect(bad).toEqual([]);
  });
});

describe('safetensors container', () => {
  const a = Float32Array.from({ length: 12 }, (_, i) => i / 7 - 0.5);
  const b = Float32Array.from([1.5, -2.25, 3e-3]);

  it('round trips F32 exactly and F16/BF16 to the rounded values', () => {
    for (const dtype of ['F32', 'F16', 'BF16'] as const) {
      const bytes = encodeSafetensors({ a: { data: a, shape: [3, 4] }, b: { data: b, shape: [3] } }, { dtype, metadata: { format: 'pt' } });
      const f = new SafetensorsFile(bytes, 'x.safetensors');
      expect((8 + Number(new DataView(bytes.buffer).getBigUint64(0, true))) % 8).toBe(0);
      expect(f.metadata).toEqual({ format: 'pt' });
      expect(f.tensors.get('a')).toMatchObject({ dtype, shape: [3, 4] });
      const round = dtype === 'F32' ? (x: Float32Array) => x : dtype === 'F16' ? roundToF16 : roundToBf16;
      expect(f.get('a', [3, 4])).toEqual(round(a));
      expect(f.get('b')).toEqual(round(b));
    }
  });

  it('reads F64', () => {
    const data = new Uint8Array(new Float64Array([0.25, -1]).buffer);
    const f = new SafetensorsFile(raw({ x: { dtype: 'F64', shape: [2], data_offsets: [0, 16] } }, data));
    expect(Array.from(f.get('x'))).toEqual([0.25, -1]);
  });

  it('every malformed input gives its error code, naming file and tensor', () => {
    const good = encodeSafetensors({ a: { data: a, shape: [3, 4] } });
    expect(code(() => new SafetensorsFile(good.subarray(0, 5)))).toBe('MODEL_ERR_TRUNCATED');
    expect(code(() => new SafetensorsFile(good.subarray(0, 20)))).toBe('MODEL_ERR_TRUNCATED');
    expect(code(() => new SafetensorsFile(good.subarray(0, good.length - 1)))).toBe('MODEL_ERR_TRUNCATED');
    expect(code(() => new SafetensorsFile(raw(null, undefined, '{"a": [1, 2')))).toBe('MODEL_ERR_MALFORMED');
    expect(code(() => new SafetensorsFile(raw([1, 2])))).toBe('MODEL_ERR_MALFORMED');
    const huge = new Uint8Array(16);
    new DataView(huge.buffer).setBigUint64(0, 2n ** 40n, true);
    expect(code(() => new SafetensorsFile(huge))).toBe('MODEL_ERR_MALFORMED');
    const d8 = new Uint8Array(8);
    expect(code(() => new SafetensorsFile(raw({ x: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, d8)))).toBe('MODEL_ERR_MALFORMED');
    expect(code(() => new SafetensorsFile(raw({ x: { dtype: 'F32', shape: [-2], data_offsets: [0, 8] } }, d8)))).toBe('MODEL_ERR_MALFORMED');
    expect(code(() => new SafetensorsFile(raw({ x: { dtype: 'F32', shape: [2], data_offsets: [8, 0] } }, d8)))).toBe('MODEL_ERR_MALFORMED');
    expect(code(() => new SafetensorsFile(raw({ x: { dtype: 7, shape: [2], data_offsets: [0, 8] } }, d8)))).toBe('MODEL_ERR_MALFORMED');
    expect(code(() => new SafetensorsFile(raw({ x: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, d8)))).toBe('MODEL_ERR_TRUNCATED');
    const overlap = { x: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, y: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } };
    expect(code(() => new SafetensorsFile(raw(overlap, d8)))).toBe('MODEL_ERR_MALFORMED');
    expect(code(() => new SafetensorsFile(raw({ __metadata__: { a: 1 } })))).toBe('MODEL_ERR_MALFORMED');
    const f = new SafetensorsFile(raw({ x: { dtype: 'I32', shape: [2], data_offsets: [0, 8] }, y: { dtype: 'F32', shape: [2], data_offsets: [8, 16] } }, new Uint8Array(16)), 'f.st');
    expect(code(() => f.get('x'))).toBe('MODEL_ERR_DTYPE');
    expect(code(() => f.get('nope'))).toBe('MODEL_ERR_MISSING_TENSOR');
    expect(code(() => f.get('y', [1, 2]))).toBe('MODEL_ERR_SHAPE');
    expect(() => f.get('y', [3])).toThrow(/file 'f\.st', tensor 'y'/);
  });

  it('the writer checks its arguments', () => {
    expect(() => encodeSafetensors({ a: { data: a, shape: [5] } })).toThrow(RangeError);
    expect(() => encodeSafetensors({ a: { data: a, shape: [12] } }, { dtype: 'I8' as 'F32' })).toThrow(RangeError);
  });
});
