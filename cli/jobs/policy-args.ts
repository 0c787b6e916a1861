/**
 * The KV-cache policy part of the generate job's PUBLIC arguments: `budget` (how much of the
 * prompt the policy keeps at prefill, as a ratio or a token count) and `policyOptions` (the
 * policy's own options, eviction/secure/mpcache-params.ts), checked before any party starts,
 * and the warning for a prompt too short for the policy to keep anything useful.
 *
 * CLI: `--budget 0.3` (a ratio in (0, 1]: it has a decimal point) or `--budget 64` (tokens),
 * `--policy-opt KEY=VALUE` (repeatable; VALUE as JSON when it parses, else a string).
 * A token budget becomes the ratio tokens / T once the public prompt length T is known, so the
 * secure policy and its plaintext twin keep the same count.
 */
import type { ModelConfig } from '../../models/config.js';
import { MpcError } from '../../protocols/errors.js';
import { SECURE_POLICIES, type PolicyOptions, createPlainTwin, createSecurePolicy } from '../../eviction/secure/registry.js';
import { resolveMpCacheParams } from '../../eviction/secure/mpcache-params.js';

export type Budget = { readonly ratio: number } | { readonly tokens: number };

/** the options `--policy-opt` may set (mpcache-params.ts; the budget is --budget's) */
export const POLICY_OPTION_NAMES: readonly string[] = ['static', 'dynamic', 'share', 'keepRule', 'aggregate', 'tau', 'scaled', 'causal', 'windowRatio', 'block2', 'ratio1', 'ratio2', 'alpha', 'forceFirst', 'forceLast', 'compareBits'];

/** fewer prompt tokens kept at prefill than this: the warning of shortPromptWarning */
export const MIN_USEFUL_KEPT = 8;

function cfg(msg: string): MpcError {
  return new MpcError('MPC_ERR_CONFIG', `generate: ${msg}`);
}

/** `--budget` text: '0.3' (ratio) or '64' (tokens). */
export function parseBudgetFlag(text: string): Budget {
  const t = text.trim();
  if (/^\d+$/.test(t)) {
    const n = Number(t);
    if (Number.isSafeInteger(n) && n >= 1) return { tokens: n };
  } else if (/^(\d*\.\d+|\d+\.\d*)$/.test(t)) {
    const r = Number(t);
    if (r > 0 && r <= 1) return { ratio: r };
  }
  throw cfg(`--budget must be a ratio in (0, 1] with a decimal point (0.3) or a whole number of tokens >= 1 (64), got '${text.slice(0, 40)}'`);
}

/** `--policy-opt KEY=VALUE` flags as an object. */
export function parsePolicyOptFlags(items: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const it of items) {
    const eq = it.indexOf('=');
    if (eq <= 0) throw cfg(`--policy-opt must be KEY=VALUE, got '${it.slice(0, 60)}'`);
    const v = it.slice(eq + 1);
    let value: unknown = v;
    try {
      value = JSON.parse(v);
    } catch {
      /* a plain string */
    }
    out[it.slice(0, eq)] = value;
  }
  return out;
}

/** Validate the public `budget` argument (a JSON object {ratio} or {tokens}). */
export function checkBudget(v: unknown): Budget | undefined {
  if (v === undefined) return undefined;
  const o = v as Record<string, unknown>;
  if (typeof o === 'object' && o !== null && Object.keys(o).length === 1) {
    if (typeof o.ratio === 'number' && o.ratio > 0 && o.ratio <= 1) return { ratio: o.ratio };
    if (typeof o.tokens === 'number' && Number.isSafeInteger(o.tokens) && o.tokens >= 1) return { tokens: o.tokens };
  }
  throw cfg("'budget' must be {\"ratio\": r} with r in (0, 1] or {\"tokens\": n} with n >= 1");
}

/** Validate the policy name with its budget and options (the error names the option). */
export function checkPolicyOptions(policy: string, budget: Budget | undefined, options: unknown): Record<string, unknown> | undefined {
  if (budget === undefined && options === undefined) return undefined;
  const entry = SECURE_POLICIES[policy];
  if (!entry.takesOptions) throw cfg(`policy '${policy}' takes no budget or options (${budget !== undefined ? '--budget' : '--policy-opt'}); those go with ${Object.keys(SECURE_POLICIES).filter((k) => SECURE_POLICIES[k].takesOptions).join(', ')}`);
  if (options === undefined) return undefined;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) throw cfg("'policyOptions' must be an object");
  const o = options as Record<string, unknown>;
  for (const k of ['staticRatio', 'staticTokens']) if (k in o) throw cfg(`policy option '${k}' is set by --budget (budget), not --policy-opt`);
  if ('share' in o && policy === 'mpcache-noshare') throw cfg("policy option 'share' is fixed by the policy name (mpcache or mpcache-noshare)");
  for (const k of Object.keys(o)) if (!POLICY_OPTION_NAMES.includes(k)) throw cfg(`unknown policy option '${k}' (known: ${POLICY_OPTION_NAMES.join(', ')})`);
  try {
    resolveMpCacheParams(o);
  } catch (e) {
    throw cfg(`policy option: ${(e as Error).message}`);
  }
  return o;
}

/** The policy's options for a prompt of T tokens (a token budget as the ratio tokens / T). */
export function policyOptionsFor(budget: Budget | undefined, options: Record<string, unknown> | undefined, T: number): PolicyOptions | undefined {
  if (budget === undefined && options === undefined) return undefined;
  const staticRatio = budget === undefined ? undefined : 'ratio' in budget ? budget.ratio : Math.min(1, budget.tokens / T);
  return { ...(options ?? {}), ...(staticRatio !== undefined ? { staticRatio } : {}) } as PolicyOptions;
}

export interface PolicyArgs {
  readonly policy: string;
  readonly budget?: Budget;
  readonly policyOptions?: Record<string, unknown>;
}

export function makeSecurePolicy(a: PolicyArgs, config: ModelConfig, T: number) {
  return createSecurePolicy(a.policy, config, policyOptionsFor(a.budget, a.policyOptions, T));
}

export function makePlainTwin(a: PolicyArgs, config: ModelConfig, T: number) {
  return createPlainTwin(a.policy, config, policyOptionsFor(a.budget, a.policyOptions, T));
}

/** Prompt tokens the policy keeps at prefill for a prompt of T tokens (T for a policy that evicts nothing), and the ratio it keeps. */
export function keptAtPrefill(a: PolicyArgs, T: number): { readonly kept: number; readonly ratio: number } {
  if (!SECURE_POLICIES[a.policy].takesOptions) return { kept: T, ratio: 1 };
  const p = resolveMpCacheParams({ ...(policyOptionsFor(a.budget, a.policyOptions, T) ?? {}) });
  if (!p.static) return { kept: T, ratio: 1 };
  return { kept: Math.min(T, Math.max(1, Math.floor(p.staticRatio * T + 1e-9))), ratio: p.staticRatio };
}

/** A warning line when the policy would keep fewer than MIN_USEFUL_KEPT prompt tokens; undefined otherwise. */
export function shortPromptWarning(a: PolicyArgs, T: number): string | undefined {
  const { kept, ratio } = keptAtPrefill(a, T);
  if (kept >= MIN_USEFUL_KEPT || kept >= T) return undefined;
  const tokenBudget = a.budget !== undefined && 'tokens' in a.budget;
  const fix = tokenBudget ? `a --budget of at least ${MIN_USEFUL_KEPT} tokens` : `a prompt of at least ${Math.ceil(MIN_USEFUL_KEPT / ratio - 1e-9)} tokens, a larger --budget`;
  return `warning: the prompt has ${T} tokens and --policy ${a.policy} keeps ${kept} of them at prefill; too few to continue it sensibly (use ${fix}, or --policy full)`;
}
