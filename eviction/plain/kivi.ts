/**
 * KIVI (Liu et al., 2024), tuning-free asymmetric 2/4-bit KV quantization; storage policy,
 * nothing evicted. Simulated (quantize then dequantize in place through the cache view):
 * - keys per channel: once a chunk of G consecutive tokens lies entirely outside the last R
 *   tokens, each channel of the chunk is quantized with that chunk's min and max;
 * - values per token: once a token is outside the last R tokens, each group of G channels
 *   (G capped at headDim) is quantized with that group's min and max;
 * - asymmetric round-to-nearest: x' = min + round((x - min) / s) * s, s = (max - min) / (2^bits - 1).
 * Defaults G = 32, R = 32 (the paper: G 32, R 128; shorter here to match 512-token contexts).
 * Memory relative to 16-bit K/V: `kiviMemoryRatio` (scale and zero point in 16 bits each).
 */
import type { AttendedContext, LayerCacheView, PrefillContext } from '../../models/attention-hooks.js';
import type { KvPolicy, PolicyOptions } from '../policy.js';
import { groupRange } from './quant-kit.js';
import { aPosInt } from './select.js';

export interface KiviOptions extends Omit<PolicyOptions, 'budget'> {
  readonly bits: 2 | 4;
  readonly group?: number;
  readonly residual?: number;
}

/** Quantize-dequantize x[idx[i]] in place as one group. */
export function fakeQuantGroup(x: Float32Array | Float64Array, idx: ArrayLike<number>, bits: number): void {
  const [lo, hi] = groupRange(x, idx);
  const levels = (1 << bits) - 1;
  const s = (hi - lo) / levels;
  if (!(s > 0)) return;
  for (let i = 0; i < idx.length; i++) x[idx[i]] = lo + Math.round((x[idx[i]] - lo) / s) * s;
}

/** K/V memory relative to 16-bit storage for n tokens of head width d. */
export function kiviMemoryRatio(n: number, d: number, bits: number, group: number, residual: number): number {
  const g = Math.min(group, d);
  const kq = Math.max(0, Math.floor((n - residual) / group) * group);
  const vq = Math.max(0, n - residual);
  const keyBits = kq * d * bits + (kq / group) * d * 32 + (n - kq) * d * 16;
  const valBits = vq * d * bits + vq * Math.ceil(d / g) * 32 + (n - vq) * d * 16;
  return (keyBits + valBits) / (2 * n * d * 16);
}

export function kiviPolicy(o: KiviOptions): KvPolicy {
  const bits = o.bits;
  if (bits !== 2 && bits !== 4) throw new RangeError('bits must be 2 or 4');
  const group = aPosInt(o.group ?? 32, 'group');
  const residual = aPosInt(o.residual ?? 32, 'residual', 0);
  /** per layer, per KV head: tokens whose keys / values are already quantized */
  const done = new Map<number, { k: number[]; v: number[] }>();
  const run = (cache: LayerCacheView): void => {
    const st = done.get(cache.layer);
    if (!st) return;
    const d = cache.headDim;
    const g = Math.min(group, d);
    for (let kv = 0; kv < cache.nKvHeads; kv++) {
      const n = cache.length(kv);
      const K = cache.keys(kv);
      const V = cache.values(kv);
      while (st.k[kv] + group <= n - residual) {
        const t0 = st.k[kv];
        for (let c = 0; c < d; c++) fakeQuantGroup(K, Array.from({ length: group }, (_, i) => (t0 + i) * d + c), bits);
        st.k[kv] += group;
      }
      while (st.v[kv] < n - residual) {
        const t = st.v[kv];
        for (let c0 = 0; c0 < d; c0 += g) fakeQuantGroup(V, Array.from({ length: Math.min(g, d - c0) }, (_, i) => t * d + c0 + i), bits);
        st.v[kv]++;
      }
    }
  };
  return {
    name: `kivi-${bits}`,
    kind: 'quantization',
    gqa: 'none',
    params: { bits, group, residual },
    onPrefill(ctx: PrefillContext) {
      done.set(ctx.layer, { k: new Array(ctx.cache.nKvHeads).fill(0), v: new Array(ctx.cache.nKvHeads).fill(0) });
      run(ctx.cache);
    },
    onAttention(ctx: AttendedContext) {
      run(ctx.cache);
    },
  };
}
