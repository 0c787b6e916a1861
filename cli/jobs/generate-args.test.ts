import { describe, expect, it } from 'vitest';
import { isMpcError } from '../../protocols/errors.js';
import { defaultModelPath } from '../../models/model-source.js';
import { join } from 'node:path';
import { DEFAULT_MODEL_PROMPT, DEFAULT_PROMPT, DEFAULT_TOKENS, defaultPromptFor, parseGenerateArgs, parseGenerateInputs, resolveModelArg } from './generate-args.js';
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
    expect(parseGenerateArgs(undefined)).toEqual({ tokens: DEFAULT_TOKENS, policy: 'full', revealLogits: false });
    // the default prompt suits the model: the shipped default model gets its own, story models 'Once upon a time'
    expect(defaultPromptFor(join(repoRoot(), 'models', 'default'))).toBe(DEFAULT_MODEL_PROMPT);
    expect(defaultPromptFor('random')).toBe(DEFAULT_PROMPT);
    expect(defaultPromptFor('/somewhere/stories260K.bin')).toBe(DEFAULT_PROMPT);
    expect(parseGenerateArgs({ tokens: 3, policy: 'full', revealLogits: true })).toEqual({ tokens: 3, policy: 'full', revealLogits: true });
  });

  it('rejects bad values with MPC_ERR_CONFIG naming the argument', () => {
    configErr(() => parseGenerateArgs([]), /must be an object/);
    configErr(() => parseGenerateArgs({ modle: 'x' }), /unknown argument 'modle'/);
    configErr(() => parseGenerateArgs({ tokens: 0 }), /'tokens'/);
    configErr(() => parseGenerateArgs({ tokens: 1.5 }), /'tokens'/);
    configErr(() => parseGenerateArgs({ tokens: '3' }), /'tokens'/);
    configErr(() => parseGenerateArgs({ policy: 'lru' }), /unknown policy "lru" \(policies: full, /);
    configErr(() => parseGenerateArgs({ revealLogits: 1 }), /'revealLogits'/);
  });

  it('refuses private inputs among the public arguments, without quoting them', () => {
    for (const k of ['prompt', 'model', 'tokenizer']) {
      try {
        parseGenerateArgs({ [k]: 'TOP-SECRET-VALUE' });
        throw new Error('expected a config error');
      } catch (e) {
        expect(isMpcError(e) && e.code === 'MPC_ERR_CONFIG').toBe(true);
        expect((e as Error).message).toMatch(new RegExp(`'${k}' is private to party [01] and never goes in --job-args`));
        expect((e as Error).message).not.toContain('TOP-SECRET-VALUE');
      }
    }
  });

  it('private inputs: each party only its own, P1 needs the prompt; messages never quote a value', () => {
    expect(parseGenerateInputs(0, { model: 'random' })).toEqual({ model: 'random' });
    expect(parseGenerateInputs(0, {})).toEqual({});
    expect(parseGenerateInputs(1, { prompt: '', tokenizer: 'random' })).toEqual({ prompt: '', tokenizer: 'random' });
    expect(parseGenerateInputs(2, {})).toEqual({});
    configErr(() => parseGenerateInputs(1, {}), /party 1 needs the prompt: --prompt-file FILE/);
    for (const [p, k] of [[0, 'prompt'], [2, 'prompt'], [1, 'model'], [2, 'model'], [0, 'tokenizer']] as const) {
      configErr(() => parseGenerateInputs(p, { [k]: 'TOP-SECRET-VALUE', ...(p === 1 ? { prompt: 'x' } : {}) }), new RegExp(`party ${p} was given '${k}', which is private to party`));
      try {
        parseGenerateInputs(p, { [k]: 'TOP-SECRET-VALUE' });
      } catch (e) {
        expect((e as Error).message).not.toContain('TOP-SECRET-VALUE');
      }
    }
    configErr(() => parseGenerateInputs(0, { weights: 'x' }), /unknown private input 'weights'/);
    configErr(() => parseGenerateInputs(0, { model: '' }), /'model' must be a non-empty path/);
  });

  it("model 'random' means the random stand-in, absent means defaultModelPath()", () => {
    expect(resolveModelArg('random')).toBeUndefined();
    expect(resolveModelArg(undefined)).toBe(defaultModelPath());
    expect(resolveModelArg('/x/y.bin')).toBe('/x/y.bin');
  });

  it('by name or as a module, the job has one id and canonical public arguments (defaults filled), so the parties agree', async () => {
    const { findJob } = await import('../jobs.js');
    const { generateJob } = await import('./generate.js');
    const { prepareJob } = await import('../../parties/job.js');
    const { describePublicArgs } = await import('../../parties/public-args.js');
    const a = await prepareJob(findJob('generate')!, 'generate', 0, {}, { model: 'random' });
    const b = await prepareJob(generateJob, 'module generate.ts#generateJob', 2, { tokens: DEFAULT_TOKENS, policy: 'full' }, {});
    expect(a).toEqual({ jobId: 'generate', args: { tokens: DEFAULT_TOKENS, policy: 'full', revealLogits: false } });
    expect(describePublicArgs(a.jobId, a.args)).toEqual(describePublicArgs(b.jobId, b.args));
    await expect(prepareJob(generateJob, 'g', 1, {}, {})).rejects.toThrow(/party 1 needs the prompt/);
  });
});
