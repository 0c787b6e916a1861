/** The pure TypeScript backend: always available, bit-identical to the native addon. */
import type { RawKernels } from '../raw.js';
import { add, addScalar, mul, mulScalar, neg, sub } from './arith.js';
import { and, extractBit, not, or, packBits, popcount, unpackBits, xor } from './bits.js';
import { decodeFixed, encodeFixed } from './fixed.js';
import { matmul, rssMatmul } from './matmul.js';
import { prgFill } from './prg.js';
import { rssAnd, rssMul } from './rss.js';
import { sar, shl, shr, truncLo } from './shift.js';

export function createTwinRaw(): RawKernels {
  return {
    backend: 'twin',
    add, sub, neg, mul, mulScalar, addScalar,
    matmul, rssMul, rssMatmul,
    sar, shr, shl, truncLo,
    encodeFixed, decodeFixed,
    xor, and, or, not, rssAnd, popcount, extractBit, packBits, unpackBits,
    prgFill,
  };
}
