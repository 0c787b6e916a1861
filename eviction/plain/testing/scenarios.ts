/**
 * Test support: hand-built single-layer attention scenarios with a known right answer.
 * Keys and queries are small seeded noise; patterns are added along fixed dimensions:
 * - sink: token 0's key and every query get a component on dimension 1 (all attend to 0);
 * - needle: token `pos` gets `strength` on dimension 0 and the LAST `late` prompt queries
 *   plus every decode query get `qStrength` on dimension 0 (only late queries look for it).
 */
import { keyRotaryOf } from '../../../models/key-rotary.js';
import { RopeTable } from '../../../models/rope.js';
import type { LayerScenario } from './array-cache.js';
import { noise } from './array-cache.js';

export interface ScenarioSpec {
  T: number;
  steps?: number;
  seed?: number;
  nHeads?: number;
  nKvHeads?: number;
  headDim?: number;
  layer?: number;
  amp?: number;
  sink?: number;
  needle?: { pos: number; strength: number; qStrength?: number; late?: number };
  /** all keys and queries exactly zero (uniform attention: every score ties) */
  zero?: boolean;
  /**
   * give the driver what models/reference.ts gives the hooks: RoPE (theta 10000; keys and
   * queries above become pre-RoPE), seeded K/V projection weights (width 16) and a seeded layer
   * input, so that policies needing them (pre-RoPE keys, W_k, activations) run on the scenario
   */
  reference?: boolean;
}

export function buildScenario(s: ScenarioSpec): LayerScenario {
  const nHeads = s.nHeads ?? 4;
  const nKvHeads = s.nKvHeads ?? 2;
  const d = s.headDim ?? 8;
  const T = s.T;
  const steps = s.steps ?? 0;
  const seed = s.seed ?? 7;
  const amp = s.zero ? 0 : (s.amp ?? 0.3);
  const keys = Array.from({ length: nKvHeads }, (_, kv) => noise(T * d, seed * 1000 + kv, amp));
  const queries = Array.from({ length: nHeads }, (_, h) => noise(T * d, seed * 1000 + 100 + h, amp));
  const stepKeys = Array.from({ length: nKvHeads }, (_, kv) => noise(Math.max(1, steps) * d, seed * 1000 + 200 + kv, amp));
  const stepQueries = Array.from({ length: nHeads }, (_, h) => noise(Math.max(1, steps) * d, seed * 1000 + 300 + h, amp));
  if (s.sink) {
    for (const K of keys) K[0 * d + 1] += s.sink;
    for (const Q of queries) for (let t = 0; t < T; t++) Q[t * d + 1] += 1;
    for (const Q of stepQueries) for (let t = 0; t < steps; t++) Q[t * d + 1] += 1;
  }
  if (s.needle) {
    const { pos, strength } = s.needle;
    const qs = s.needle.qStrength ?? 1;
    const late = s.needle.late ?? Math.max(1, Math.floor(T / 4));
    for (const K of keys) K[pos * d] += strength;
    for (const Q of queries) for (let t = Math.max(pos + 1, T - late); t < T; t++) Q[t * d] += qs;
    for (const Q of stepQueries) for (let t = 0; t < steps; t++) Q[t * d] += qs;
  }
  const base = { layer: s.layer, nHeads, nKvHeads, headDim: d, keys, queries, stepKeys, stepQueries, steps };
  if (!s.reference) return base;
  const dim = 16;
  return {
    ...base,
    rotary: keyRotaryOf(new RopeTable(d, 10000)),
    projection: { wk: noise(nKvHeads * d * dim, seed * 1000 + 400), wv: noise(nKvHeads * d * dim, seed * 1000 + 401), dim },
    residual: noise(T * dim, seed * 1000 + 402),
  };
}
