/**
 * Secure KV policies by name, for the CLI (`mpcache party --job generate`, the demo) and the
 * benchmarks. Add a policy by adding an entry to SECURE_POLICIES. Every entry names its
 * plaintext twin with the same parameters (the test oracle: equal greedy tokens).
 * Budget: a ratio of the prompt length or a token count (eviction/policy.ts), default 10%;
 * 'mpcache-v1' and 'mpcache-noshare' have fixed ratios (static 30%, per step 20%) and ignore it.
 */
import type { ModelConfig } from '../../models/config.js';
import type { SecureKvPolicy } from '../../models/secure-hooks.js';
import type { Budget, KvPolicy } from '../policy.js';
import { fullPolicy } from '../plain/full.js';
import { mpcachePolicy } from '../plain/mpcache.js';
import { createPolicy } from '../plain/registry.js';
import { secureFullPolicy } from './full.js';
import { secureMpCachePolicy } from './mpcache.js';
import type { SecureMpCacheOptions } from './mpcache-params.js';
import { secureMpCacheRPolicy } from './mpcache-r.js';
import { secureQuestPolicy } from './quest.js';
import { secureSnapKvPolicy } from './snapkv.js';
import { secureStreamingLlmPolicy } from './streaming-llm.js';
import { secureTovaPolicy } from './tova.js';

/** Options of a secure policy: the budget, and for 'mpcache-v1' / 'mpcache-noshare' the secure MPCache's options. */
export interface SecurePolicyOptions extends SecureMpCacheOptions {
  /** KV budget (default { ratio: 0.1 }; not used by 'mpcache-v1' and 'mpcache-noshare') */
  readonly budget?: Budget;
}

function v1Options(o: SecurePolicyOptions = {}): SecureMpCacheOptions {
  const { budget, ...rest } = o;
  void budget;
  return rest;
}

/** The CLI's name for the options (cli/jobs/policy-args.ts). */
export type PolicyOptions = SecurePolicyOptions;

export const DEFAULT_SECURE_BUDGET: Budget = { ratio: 0.1 };

export interface SecurePolicyEntry {
  /** one line for help texts */
  readonly summary: string;
  /** a fresh policy instance for one sequence of a model */
  readonly create: (config: ModelConfig, o?: SecurePolicyOptions) => SecureKvPolicy;
  /** its plaintext twin with the same parameters (for a float reference run, e.g. the demo's check) */
  readonly plainTwin: (config: ModelConfig, o?: SecurePolicyOptions) => KvPolicy;
  /** whether the policy takes options (create's second argument; the CLI's --budget / --policy-opt) */
  readonly takesOptions?: boolean;
}

/** The options the plain twin of the first secure MPCache shares (staticTokens and compareBits are secure-only). */
function plainShare(o: SecureMpCacheOptions): Record<string, unknown> {
  const { staticTokens, compareBits, ...rest } = o;
  void staticTokens;
  void compareBits;
  return rest;
}

/**
 * The budget: `budget`, else (the CLI maps --budget to the first MPCache's staticRatio) a
 * `staticRatio` as a ratio budget, else DEFAULT_SECURE_BUDGET.
 */
/** MPCache-R's options a caller may set (the ratios; the rest are MPCache-R's defaults). */
const rRatios = (o?: SecurePolicyOptions): { ratio1?: number; ratio2?: number } => ({ ...(o?.ratio1 !== undefined ? { ratio1: o.ratio1 } : {}), ...(o?.ratio2 !== undefined ? { ratio2: o.ratio2 } : {}) });

const bud = (o?: SecurePolicyOptions): Budget => o?.budget ?? (o?.staticRatio !== undefined ? { ratio: o.staticRatio } : DEFAULT_SECURE_BUDGET);

export const SECURE_POLICIES: Readonly<Record<string, SecurePolicyEntry>> = {
  full: { summary: 'keep every token (no eviction)', create: () => secureFullPolicy(), plainTwin: () => fullPolicy() },
  mpcache: {
    summary: 'MPCache-R (the default): per-KV-head static eviction from the last 32 queries (pooled), two-level block selection per layer plus the 16 newest tokens',
    create: (_config, o) => secureMpCacheRPolicy({ budget: bud(o), ...rRatios(o) }),
    plainTwin: (config, o) => createPolicy('mpcache', { budget: bud(o), model: config }, { mpcache: rRatios(o) }),
    takesOptions: true,
  },
  'mpcache-v1': {
    summary: 'MPCache, the first default: look-once static eviction to 30% at prefill, two-level block selection (~20%) per step, cross-layer index sharing',
    create: (config, o) => secureMpCachePolicy(config, v1Options(o)),
    plainTwin: (config, o) => mpcachePolicy({ budget: { ratio: 0.06 }, model: config, staticRatio: 0.3, ratio2: 0.2, ...plainShare(v1Options(o)), name: 'mpcache-v1' }),
    takesOptions: true,
  },
  'mpcache-noshare': {
    summary: 'MPCache v1 without cross-layer index sharing (every layer selects its own blocks)',
    create: (config, o) => secureMpCachePolicy(config, { ...v1Options(o), share: false }),
    plainTwin: (config, o) => mpcachePolicy({ budget: { ratio: 0.06 }, model: config, staticRatio: 0.3, ratio2: 0.2, ...plainShare(v1Options(o)), share: false }),
    takesOptions: true,
  },
  'streaming-llm': {
    summary: 'StreamingLLM: 4 sink tokens and the most recent window (public positions, no secure selection)',
    create: (_config, o) => secureStreamingLlmPolicy({ budget: bud(o) }),
    plainTwin: (config, o) => createPolicy('streaming-llm', { budget: bud(o), model: config }),
    takesOptions: true,
  },
  snapkv: {
    summary: 'SnapKV: static at prefill, per KV head, from the last 32 prompt queries (pooled top-k plus the window)',
    create: (_config, o) => secureSnapKvPolicy({ budget: bud(o) }),
    plainTwin: (config, o) => createPolicy('snapkv', { budget: bud(o), model: config }),
    takesOptions: true,
  },
  quest: {
    summary: "Quest: per-page exact key bound (comparisons), top pages per query head and step; layers 0-1 dense",
    create: (_config, o) => secureQuestPolicy({ budget: bud(o) }),
    plainTwin: (config, o) => createPolicy('quest', { budget: bud(o), model: config }),
    takesOptions: true,
  },
  tova: {
    summary: 'TOVA: per-step eviction of the entry with the lowest attention (head sum), one set per layer',
    create: (_config, o) => secureTovaPolicy({ budget: bud(o) }),
    plainTwin: (config, o) => createPolicy('tova', { budget: bud(o), model: config }),
    takesOptions: true,
  },
};

function known(name: string): void {
  if (typeof name !== 'string' || !Object.hasOwn(SECURE_POLICIES, name)) {
    throw new RangeError(`policy must be one of ${securePolicyNames().join(', ')}, got ${String(name)}`);
  }
}

/** The plaintext twin of a secure policy by name (same parameters); RangeError like createSecurePolicy. */
export function createPlainTwin(name: string, config: ModelConfig, o?: SecurePolicyOptions): KvPolicy {
  known(name);
  return SECURE_POLICIES[name].plainTwin(config, o);
}

/** The names accepted by createSecurePolicy. */
export function securePolicyNames(): string[] {
  return Object.keys(SECURE_POLICIES);
}

/** A fresh policy by name; RangeError naming the known ones otherwise. */
export function createSecurePolicy(name: string, config: ModelConfig, o?: SecurePolicyOptions): SecureKvPolicy {
  known(name);
  return SECURE_POLICIES[name].create(config, o);
}
