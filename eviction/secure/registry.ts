/**
 * Secure KV policies by name, for the CLI (`mpcache party --job generate`, the demo) and the
 * benchmarks. Add a policy by adding an entry to SECURE_POLICIES.
 */
import type { ModelConfig } from '../../models/config.js';
import type { SecureKvPolicy } from '../../models/secure-hooks.js';
import type { KvPolicy } from '../policy.js';
import { fullPolicy } from '../plain/full.js';
import { mpcachePolicy } from '../plain/mpcache.js';
import { secureFullPolicy } from './full.js';
import { secureMpCachePolicy } from './mpcache.js';

export interface SecurePolicyEntry {
  /** one line for help texts */
  readonly summary: string;
  /** a fresh policy instance for one sequence of a model */
  readonly create: (config: ModelConfig) => SecureKvPolicy;
  /** its plaintext twin with the same parameters (for a float reference run, e.g. the demo's check) */
  readonly plainTwin: (config: ModelConfig) => KvPolicy;
}

export const SECURE_POLICIES: Readonly<Record<string, SecurePolicyEntry>> = {
  full: { summary: 'keep every token (no eviction)', create: () => secureFullPolicy(), plainTwin: () => fullPolicy() },
  mpcache: {
    summary: 'MPCache: look-once static eviction to 30% at prefill, two-level block selection (~20%) per step, cross-layer index sharing',
    create: (config) => secureMpCachePolicy(config),
    plainTwin: (config) => mpcachePolicy({ budget: { ratio: 0.06 }, model: config, staticRatio: 0.3, ratio2: 0.2 }),
  },
  'mpcache-noshare': {
    summary: 'MPCache without cross-layer index sharing (every layer selects its own blocks)',
    create: (config) => secureMpCachePolicy(config, { share: false }),
    plainTwin: (config) => mpcachePolicy({ budget: { ratio: 0.06 }, model: config, staticRatio: 0.3, ratio2: 0.2, share: false }),
  },
};

/** The plaintext twin of a secure policy by name (same parameters); RangeError like createSecurePolicy. */
export function createPlainTwin(name: string, config: ModelConfig): KvPolicy {
  if (typeof name !== 'string' || !Object.hasOwn(SECURE_POLICIES, name)) {
    throw new RangeError(`policy must be one of ${securePolicyNames().join(', ')}, got ${String(name)}`);
  }
  return SECURE_POLICIES[name].plainTwin(config);
}

/** The names accepted by createSecurePolicy. */
export function securePolicyNames(): string[] {
  return Object.keys(SECURE_POLICIES);
}

/** A fresh policy by name; RangeError naming the known ones otherwise. */
export function createSecurePolicy(name: string, config: ModelConfig): SecureKvPolicy {
  if (typeof name !== 'string' || !Object.hasOwn(SECURE_POLICIES, name)) {
    throw new RangeError(`policy must be one of ${securePolicyNames().join(', ')}, got ${String(name)}`);
  }
  return SECURE_POLICIES[name].create(config);
}
