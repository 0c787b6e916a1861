/**
 * The 'full' secure KV policy: keeps every cached token and lets every query attend to the
 * whole cache (the accuracy reference, and what the secure decoder does without a policy).
 * It defines no hooks, so it adds no rounds and reveals nothing. Plain twin: eviction/plain/full.ts.
 */
import type { SecureKvPolicy } from '../../models/secure-hooks.js';

export function secureFullPolicy(): SecureKvPolicy {
  return { name: 'full', leaks: '' };
}
