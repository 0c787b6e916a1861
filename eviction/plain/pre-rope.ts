/**
 * Access to pre-RoPE keys for the policies that store or score keys before the rotation
 * (KVQuant, RotateKV, ShadowKV, CSKV, A^2ATS): the hook contexts carry them (PrefillContext
 * .preRopeKeys, StepContext.preRopeKey) with the rotation; a cached entry's pre-RoPE key is
 * its cached key un-rotated at its position.
 */
import type { KeyRotary, LayerCacheView, PrefillContext, StepContext } from '../../models/attention-hooks.js';

export interface PreRopePrompt {
  readonly keys: readonly Float32Array[];
  readonly rotary: KeyRotary;
}

/** The prompt's pre-RoPE keys and the rotation, or a clear error naming the policy. */
export function preRopePrompt(ctx: PrefillContext, policy: string): PreRopePrompt {
  if (!ctx.preRopeKeys || !ctx.rotary) throw new TypeError(`${policy} needs pre-RoPE keys: the prefill context has no preRopeKeys/rotary (models/reference.ts provides them)`);
  return { keys: ctx.preRopeKeys, rotary: ctx.rotary };
}

/** The current token's pre-RoPE keys per KV head and the rotation, or a clear error. */
export function preRopeStep(ctx: StepContext, policy: string): { keys: readonly Float32Array[]; rotary: KeyRotary } {
  if (!ctx.preRopeKey || !ctx.rotary) throw new TypeError(`${policy} needs pre-RoPE keys: the step context has no preRopeKey/rotary (models/reference.ts provides them)`);
  return { keys: ctx.preRopeKey, rotary: ctx.rotary };
}

/** Writes rotate(pre[preOff..+d], pos) into cache entry `row` of KV head kv. */
export function writeRotatedKey(cache: LayerCacheView, kv: number, row: number, pre: ArrayLike<number>, preOff: number, pos: number, rotary: KeyRotary): void {
  const d = cache.headDim;
  const K = cache.keys(kv);
  for (let i = 0; i < d; i++) K[row * d + i] = pre[preOff + i];
  rotary.rotate(K, row * d, pos);
}

/** The pre-RoPE key of cache entry `row` (a copy, un-rotated at its position). */
export function unrotatedKey(cache: LayerCacheView, kv: number, row: number, pos: number, rotary: KeyRotary): Float32Array {
  const d = cache.headDim;
  const k = cache.keys(kv).slice(row * d, (row + 1) * d);
  rotary.unrotate(k, 0, pos);
  return k;
}
