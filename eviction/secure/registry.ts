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
import type { SecureMpCacheOptions } from './mpcache-params.js';

/**
 * Options a caller may set on a policy (the CLI's `--budget` and `--policy-opt`): the secure
 * MPCache's options (mpcache-params.ts). The plain twin takes the ones it shares (all but
 * `staticTokens` and `compareBits`, which only the secure side has).
 */
export type PolicyOptions = Readonly<SecureMpCacheOptions>;

/** The plain twin's share of the options (keys both sides know). */
function plainShare(o: PolicyOptions): Record<string, unknown> {
  const { staticTokens: _t, compareBits: _c, ...rest } = o;
  return rest;
}

export interface SecurePolicyEntry {
  /** one line for help texts */
  readonly summary: string;
  /** a fresh policy instance for one sequence of a model (options: undefined for a policy without any) */
  readonly create: (config: ModelConfig, options?: PolicyOptions) => SecureKvPolicy;
  /** its plaintext twin with the same parameters (for a float reference run, e.g. the demo's check) */
  readonly plainTwin: (config: ModelConfig, options?: PolicyOptions) => KvPolicy;
  /** whether the policy takes options (create's second argument) */
  readonly takesOptions?: boolean;
}

export const SECURE_POLICIES: Readonly<Record<string, SecurePolicyEntry>> = {
  full: { summary: 'keep every token (no eviction)', create: () => secureFullPolicy(), plainTwin: () => fullPolicy() },
  mpcache: {
    summary: 'MPCache: look-once static eviction to 30% at prefill, two-level block selection (~20%) per step, cross-layer index sharing',
    create: (config, o = {}) => secureMpCachePolicy(config, o),
    plainTwin: (config, o = {}) => mpcachePolicy({ budget: { ratio: 0.06 }, model: config, staticRatio: 0.3, ratio2: 0.2, ...plainShare(o) }),
    takesOptions: true,
  },
  'mpcache-noshare': {
    summary: 'MPCache without cross-layer index sharing (every layer selects its own blocks)',
    create: (config, o = {}) => secureMpCachePolicy(config, { ...o, share: false }),
    plainTwin: (config, o = {}) => mpcachePolicy({ budget: { ratio: 0.06 }, model: config, staticRatio: 0.3, ratio2: 0.2, ...plainShare(o), share: false }),
    takesOptions: true,
  },
};

/** The plaintext twin of a secure policy by name (same parameters); RangeError like createSecurePolicy. */
export function createPlainTwin(name: string, config: ModelConfig, options?: PolicyOptions): KvPolicy {
  if (typeof name !== 'string' || !Object.hasOwn(SECURE_POLICIES, name)) {
    throw new RangeError(`policy must be one of ${securePolicyNames().join(', ')}, got ${String(name)}`);
  }
  return SECURE_POLICIES[name].plainTwin(config, options);
}

/** The names accepted by createSecurePolicy. */
export function securePolicyNames(): string[] {
  return Object.keys(SECURE_POLICIES);
}

/** A fresh policy by name; RangeError naming the known ones otherwise. */
export function createSecurePolicy(name: string, config: ModelConfig, options?: PolicyOptions): SecureKvPolicy {
  if (typeof name !== 'string' || !Object.hasOwn(SECURE_POLICIES, name)) {
    throw new RangeError(`policy must be one of ${securePolicyNames().join(', ')}, got ${String(name)}`);
  }
  return SECURE_POLICIES[name].create(config, options);
}
