/** The pure TypeScript backend: always available, bit-identical to the native addon. */
import { type RawKernels, pickKernels } from '../raw.js';
import * as arith from './arith.js';
import * as bits from './bits.js';
import * as fixed from './fixed.js';
import * as matmul from './matmul.js';
import * as prg from './prg.js';
import * as rss from './rss.js';
import * as shift from './shift.js';

export function createTwinRaw(): RawKernels {
  return { backend: 'twin', ...pickKernels({ ...arith, ...bits, ...fixed, ...matmul, ...prg, ...rss, ...shift }) };
}
