/** The library example runs as a program and prints the plaintext reference's continuation. */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultModelPath, loadModelOrRandom, loadTokenizerOrBytes, repoRoot } from '../models/model-source.js';
import { ReferenceModel } from '../models/reference.js';

describe('examples/private-generation.ts', () => {
  it('prints the same 20-token continuation as the float reference', { timeout: 240_000 }, async () => {
    const path = defaultModelPath();
    const weights = await loadModelOrRandom(path);
    const tok = await loadTokenizerOrBytes(path, weights.config.vocabSize);
    const prompt = tok.encode('A list is a', { bos: true });
    const want = tok.decode([...prompt, ...new ReferenceModel(weights).generate(prompt, 20)]);
    const out = spawnSync(process.execPath, ['--import', 'tsx', join(repoRoot(), 'examples', 'private-generation.ts')], { cwd: repoRoot(), encoding: 'utf8', timeout: 230_000 });
    expect(out.stderr).toBe('');
    expect(out.stdout.trim()).toBe(want.trim());
    expect(out.status).toBe(0);
  });
});
