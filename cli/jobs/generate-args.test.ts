import { describe, expect, it } from 'vitest';
import { isMpcError } from '../../protocols/errors.js';
import { defaultModelPath } from '../../models/model-source.js';
import { join } from 'node:path';
import { DEFAULT_MODEL_PROMPT, DEFAULT_PROMPT, DEFAULT_TOKENS, defaultPromptFor, parseGenerateArgs, resolveModelArg } from './generate-args.js';
import { repoRoot } from '../../models/model-source.js';

function configErr(f: () => unknown, re: RegExp): void {
  try {
    f();
  } catch (e) {
    expect(isMpcError(e) && e.code === 'MPC_ERR_CONFIG').toBe(true);
    expect((e as Error).message).toMatch(re);
    return;
  }
  throw new Error('expected a config error');
}

describe('generate job arguments', () => {
  it('defaults', () => {
    expect(parseGenerateArgs(undefined)).toEqual({ model: undefined, prompt: defaultPromptFor(undefined), tokens: DEFAULT_TOKENS, policy: 'full', revealLogits: false });
    // the default prompt suits the model: the shipped default model gets its own, story models 'Once upon a time'
    expect(defaultPromptFor(join(repoRoot(), 'models', 'default'))).toBe(DEFAULT_MODEL_PROMPT);
    expect(defaultPromptFor('random')).toBe(DEFAULT_PROMPT);
    expect(defaultPromptFor('/somewhere/stories260K.bin')).toBe(DEFAULT_PROMPT);
    expect(parseGenerateArgs({ model: 'random' }).prompt).toBe(DEFAULT_PROMPT);
    expect(parseGenerateArgs({ model: 'random', prompt: 'x', tokens: 3, policy: 'full', revealLogits: true })).toEqual({ model: 'random', prompt: 'x', tokens: 3, policy: 'full', revealLogits: true });
  });

  it('rejects bad values with MPC_ERR_CONFIG naming the argument', () => {
    configErr(() => parseGenerateArgs([]), /must be an object/);
    configErr(() => parseGenerateArgs({ modle: 'x' }), /unknown argument 'modle'/);
    configErr(() => parseGenerateArgs({ model: '' }), /'model'/);
    configErr(() => parseGenerateArgs({ prompt: 3 }), /'prompt'/);
    configErr(() => parseGenerateArgs({ tokens: 0 }), /'tokens'/);
    configErr(() => parseGenerateArgs({ tokens: 1.5 }), /'tokens'/);
    configErr(() => parseGenerateArgs({ tokens: '3' }), /'tokens'/);
    configErr(() => parseGenerateArgs({ policy: 'lru' }), /'policy' must be one of full/);
    configErr(() => parseGenerateArgs({ revealLogits: 1 }), /'revealLogits'/);
  });

  it("model 'random' means the random stand-in, absent means defaultModelPath()", () => {
    expect(resolveModelArg('random')).toBeUndefined();
    expect(resolveModelArg(undefined)).toBe(defaultModelPath());
    expect(resolveModelArg('/x/y.bin')).toBe('/x/y.bin');
  });
});
