/**
 * PyramidKV (Cai et al., 2024); static. SnapKV scores (snapkv.ts) with per-layer
 * capacities that shrink linearly with depth, following the authors' code:
 *   min = (B - w) // beta, max = 2 (B - w) - min; if max >= T - w: max = T - w, min = 2 (B - w) - max;
 *   step = (max - min) // (L - 1); capacity(l) = max - l * step (plus the window w).
 * beta = 20. Rounding `step` down can push the mean over layers above B - w; the excess is
 * then taken back one token at a time from the largest capacity (lowest layer on ties), so
 * the capacities still shrink with depth and their mean is at most B.
 */
import { aPosInt } from './select.js';
import { snapKvPolicy, type SnapKvOptions } from './snapkv.js';
import type { KvPolicy } from '../policy.js';

export interface PyramidKvOptions extends SnapKvOptions {
  readonly beta?: number;
}

/** Capacities (window included) of the L layers for budget B, window w, prompt T. */
export function pyramidCapacities(L: number, B: number, w: number, T: number, beta = 20): number[] {
  const base = Math.max(0, B - w);
  let min = Math.floor(base / beta);
  let max = base * 2 - min;
  if (max >= T - w) {
    max = T - w;
    min = base * 2 - max;
  }
  const step = L > 1 ? Math.floor((max - min) / (L - 1)) : 0;
  const caps = Array.from({ length: L }, (_, l) => Math.max(0, max - l * step));
  let excess = caps.reduce((a, b) => a + b, 0) - L * base;
  while (excess > 0) {
    let top = 0;
    for (let l = 1; l < L; l++) if (caps[l] > caps[top]) top = l;
    caps[top]--;
    excess--;
  }
  return caps.map((c) => c + w);
}

/** Capacity (window included) of `layer` of L layers (see pyramidCapacities). */
export function pyramidCapacity(layer: number, L: number, B: number, w: number, T: number, beta = 20): number {
  return pyramidCapacities(L, B, w, T, beta)[layer];
}

export function pyramidKvPolicy(o: PyramidKvOptions): KvPolicy {
  const beta = aPosInt(o.beta ?? 20, 'beta');
  const L = o.model.nLayers;
  const p = snapKvPolicy({ ...o, name: 'pyramidkv', layerCapacity: (layer, B, w, T) => pyramidCapacity(layer, L, B, w, T, beta) });
  return { ...p, params: { ...p.params, beta } };
}
