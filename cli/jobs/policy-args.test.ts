import { describe, expect, it } from 'vitest';
import { isMpcError } from '../../protocols/errors.js';
import { RANDOM_MODEL_CONFIG } from '../../models/model-source.js';
import { parseGenerateArgs } from './generate-args.js';
import { MIN_USEFUL_KEPT, makePlainTwin, makeSecurePolicy, checkPolicyOptions, keptAtPrefill, parseBudgetFlag, parsePolicyOptFlags, policyOptionsFor, shortPromptWarning } from './policy-args.js';

function configErr(f: () => unknown, re: RegExp): void {
  let err: unknown;
  try {
    f();
  } catch (e) {
    err = e;
  }
  expect(isMpcError(err) && err.code === 'MPC_ERR_CONFIG', String(err)).toBe(true);
  expect((err as Error).message).toMatch(re);
}

describe('policy budget and options', () => {
  it('--budget: a ratio has a decimal point, a count does not', () => {
    expect(parseBudgetFlag('0.3')).toEqual({ ratio: 0.3 });
    expect(parseBudgetFlag('1.0')).toEqual({ ratio: 1 });
    expect(parseBudgetFlag('64')).toEqual({ tokens: 64 });
    for (const bad of ['0', '1.5', '-3', 'abc', '0.0', '']) configErr(() => parseBudgetFlag(bad), /--budget must be a ratio in \(0, 1\]/);
  });

  it('--policy-opt values parse as JSON when they can', () => {
    expect(parsePolicyOptFlags(['ratio2=0.3', 'share=false', 'keepRule=topk'])).toEqual({ ratio2: 0.3, share: false, keepRule: 'topk' });
    configErr(() => parsePolicyOptFlags(['ratio2']), /--policy-opt must be KEY=VALUE/);
  });

  it('options are checked by the policy and go into the public arguments only when given', () => {
    expect(parseGenerateArgs({ policy: 'mpcache' })).toEqual({ tokens: 24, policy: 'mpcache', revealLogits: false });
    expect(parseGenerateArgs({ policy: 'mpcache', budget: { tokens: 16 }, policyOptions: { ratio2: 0.3 } })).toEqual({ tokens: 24, policy: 'mpcache', revealLogits: false, budget: { tokens: 16 }, policyOptions: { ratio2: 0.3 } });
    configErr(() => parseGenerateArgs({ policy: 'full', policyOptions: { ratio2: 0.3 } }), /policy 'full' takes no budget or options/);
    configErr(() => parseGenerateArgs({ policy: 'mpcache', budget: { ratio: 2 } }), /'budget' must be/);
    configErr(() => checkPolicyOptions('mpcache', undefined, { staticRatio: 0.5 }), /'staticRatio' is set by --budget/);
    configErr(() => checkPolicyOptions('mpcache', undefined, { block2: 0 }), /policy option: block2/);
    configErr(() => checkPolicyOptions('mpcache-noshare', undefined, { share: true }), /'share' is fixed by the policy name/);
  });

  it('a token budget becomes the ratio tokens / T: the count kept is the budget', () => {
    expect(policyOptionsFor({ tokens: 16 }, undefined, 64)).toEqual({ staticRatio: 0.25 });
    for (const T of [17, 33, 100, 257]) expect(keptAtPrefill({ policy: 'mpcache', budget: { tokens: 16 } }, T).kept).toBe(16);
    expect(keptAtPrefill({ policy: 'mpcache', budget: { tokens: 16 } }, 10).kept).toBe(10);
    expect(keptAtPrefill({ policy: 'mpcache', budget: { ratio: 0.5 } }, 40).kept).toBe(20);
    expect(keptAtPrefill({ policy: 'full' }, 40).kept).toBe(40);
    expect(RANDOM_MODEL_CONFIG.nLayers).toBeGreaterThan(0);
  });

  it('the budget and options reach the secure policy and its plaintext twin alike', () => {
    const a = { policy: 'mpcache-v1', budget: { tokens: 12 }, policyOptions: { ratio2: 0.5 } };
    const sec = makeSecurePolicy(a, RANDOM_MODEL_CONFIG, 48) as unknown as { params: { staticRatio: number; ratio2: number; share: boolean } };
    expect(sec.params.staticRatio).toBe(0.25);
    expect(sec.params.ratio2).toBe(0.5);
    const plain = makePlainTwin(a, RANDOM_MODEL_CONFIG, 48) as unknown as { params: { staticRatio: unknown; ratio2: number } };
    expect(plain.params.staticRatio).toBe(0.25);
    expect(plain.params.ratio2).toBe(0.5);
    const noshare = makeSecurePolicy({ policy: 'mpcache-noshare', budget: { ratio: 0.4 } }, RANDOM_MODEL_CONFIG, 48) as unknown as { params: { staticRatio: number; share: boolean } };
    expect(noshare.params).toMatchObject({ staticRatio: 0.4, share: false });
    const dflt = makeSecurePolicy({ policy: 'mpcache-v1' }, RANDOM_MODEL_CONFIG, 48) as unknown as { params: { staticRatio: number } };
    expect(dflt.params.staticRatio).toBe(0.3);
  });

  it('warns when the policy keeps fewer than MIN_USEFUL_KEPT prompt tokens, at and around the edge', () => {
    // default ratio 0.3: floor(0.3 T) >= 8 from T = 27 on
    expect(shortPromptWarning({ policy: 'mpcache' }, 4)).toMatch(/the prompt has 4 tokens and --policy mpcache keeps 1 of them at prefill.*at least 27 tokens/);
    expect(shortPromptWarning({ policy: 'mpcache' }, 26)).toMatch(/keeps 7 of them/);
    expect(shortPromptWarning({ policy: 'mpcache' }, 27)).toBeUndefined();
    expect(keptAtPrefill({ policy: 'mpcache' }, 27).kept).toBe(MIN_USEFUL_KEPT);
    expect(shortPromptWarning({ policy: 'mpcache', budget: { tokens: 4 } }, 40)).toMatch(/a --budget of at least 8 tokens/);
    expect(shortPromptWarning({ policy: 'mpcache', budget: { ratio: 1 } }, 4)).toBeUndefined(); // keeps all of it
    expect(shortPromptWarning({ policy: 'full' }, 2)).toBeUndefined();
    expect(shortPromptWarning({ policy: 'mpcache', policyOptions: { static: false } }, 4)).toBeUndefined();
  });
});
