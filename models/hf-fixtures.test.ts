/**
 * The Hugging Face fixtures (models/fixtures/hf/, written by scripts/hf-fixtures.py with
 * transformers 5.17 on random-initialised tiny models): every architecture loads from its
 * config.json + model.safetensors, the float reference gives transformers' logits (float64 on the
 * stored weights) within 1e-4 at every position and its 24 greedy tokens, the transformers 4.x
 * config layout reads to the same config, and the secure decoder's private tokens equal the
 * float reference for 16 tokens (in-memory channel).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configFromHf } from './hf-config.js';
import { loadWeights } from './load.js';
import { ReferenceModel } from './reference.js';
import { SafetensorsFile } from './safetensors.js';
import { SecureDecoder } from './secure-decoder.js';
import { shareModel } from './secure-weights.js';
import { REPO_ROOT } from './test-support.js';
import { runTrio } from '../testing/trio.js';

const FIXTURES = join(REPO_ROOT, 'models', 'fixtures', 'hf');
const NAMES = ['llama', 'llama3', 'llama-linear', 'mistral', 'qwen2', 'qwen3', 'gpt2', 'phi3'] as const;

interface Reference {
  readonly prompt: number[];
  readonly greedy: number[];
  readonly logits_tokens: number[];
  readonly min_margin: number;
}

function reference(name: string): { ref: Reference; logits: Float32Array } {
  const dir = join(FIXTURES, name);
  const ref = JSON.parse(readFileSync(join(dir, 'reference.json'), 'utf8')) as Reference;
  const logits = new SafetensorsFile(readFileSync(join(dir, 'reference.safetensors'))).get('logits', [ref.logits_tokens.length, 384]);
  return { ref, logits };
}

/** The transformers 4.x layout of a 5.x config.json: rope_theta at the top level, the scaling in rope_scaling. */
function to4x(cfg: Record<string, unknown>): Record<string, unknown> {
  const { rope_parameters: rp, dtype, ...rest } = cfg as { rope_parameters?: Record<string, unknown>; dtype?: unknown };
  if (rp === undefined) return { ...rest, torch_dtype: dtype };
  const { rope_theta, partial_rotary_factor, ...scaling } = rp;
  const out: Record<string, unknown> = { ...rest, torch_dtype: dtype, rope_theta };
  if (partial_rotary_factor !== undefined) out.partial_rotary_factor = partial_rotary_factor;
  // 4.x wrote the type as `type` in older files and `rope_type` later; both are read
  out.rope_scaling = scaling.rope_type === 'default' ? null : { ...scaling, type: scaling.rope_type, rope_type: undefined };
  return JSON.parse(JSON.stringify(out)) as Record<string, unknown>;
}

describe('Hugging Face fixtures (transformers 5.17, random-initialised)', () => {
  for (const name of NAMES) {
    it(`${name}: logits within 1e-4 of transformers at every position, 24 greedy tokens equal, 4.x layout reads the same`, async () => {
      const w = await loadWeights(join(FIXTURES, name));
      const { ref, logits } = reference(name);
      const model = new ReferenceModel(w);
      const got = model.logits(ref.logits_tokens);
      const V = w.config.vocabSize;
      let worst = 0;
      for (let t = 0; t < got.length; t++) for (let v = 0; v < V; v++) worst = Math.max(worst, Math.abs(got[t][v] - logits[t * V + v]));
      expect(worst).toBeLessThanOrEqual(1e-4);
      expect(model.generate(ref.prompt, 24)).toEqual(ref.greedy);
      const cfg = JSON.parse(readFileSync(join(FIXTURES, name, 'config.json'), 'utf8')) as Record<string, unknown>;
      expect(configFromHf(to4x(cfg))).toEqual(w.config);
      console.log(`${name}: max |logit - transformers| ${worst.toExponential(2)} (min greedy margin ${ref.min_margin.toFixed(3)})`);
    });
  }

  for (const name of NAMES) {
    it(`${name}: the secure decoder's 16 private tokens equal the float reference`, async () => {
      const w = await loadWeights(join(FIXTURES, name));
      const { ref } = reference(name);
      const want = new ReferenceModel(w).generate(ref.prompt, 16);
      const out = await runTrio(async (ctx) => {
        const model = await shareModel(ctx, w.config, ctx.party === 0 ? w : undefined);
        return new SecureDecoder(ctx, model).generate(ctx.party === 1 ? ref.prompt : undefined, ref.prompt.length, 16);
      });
      expect(out[1].tokens).toEqual(want);
    });
  }

  it('refuses what the architectures cannot do: a policy with a sliding window shorter than the context, positions past the learned table', async () => {
    const mistral = await loadWeights(join(FIXTURES, 'mistral'));
    const gpt2 = await loadWeights(join(FIXTURES, 'gpt2'));
    expect(() => new ReferenceModel(gpt2).newSession({ maxSeqLen: 65 })).toThrow(/learned positions/);
    const errs = await runTrio(async (ctx) => {
      const m = await shareModel(ctx, mistral.config, ctx.party === 0 ? mistral : undefined);
      const g = await shareModel(ctx, gpt2.config, ctx.party === 0 ? gpt2 : undefined);
      const policy = { name: 'none', leaks: '' };
      const caught = (f: () => unknown): string => {
        try {
          f();
        } catch (e) {
          return (e as Error).message;
        }
        return 'no error';
      };
      return [caught(() => new SecureDecoder(ctx, m, { policy })), caught(() => new SecureDecoder(ctx, m, { policy, maxSeqLen: 8 })), caught(() => new SecureDecoder(ctx, g, { maxSeqLen: 65 }))];
    });
    expect(errs[0][0]).toMatch(/sliding-window/);
    expect(errs[0][1]).toBe('no error');
    expect(errs[0][2]).toMatch(/learned positions/);
  });
});
