/**
 * The generate job and `mpcache demo` with three real party processes over the encrypted
 * WebSocket transport (the default model: models/default, stories260K, or the random one).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runLocalParties } from '../../parties/launcher.js';
import { generateJobModule } from '../jobs.js';
import { defaultModelPath, loadModelOrRandom, loadTokenizerOrBytes, repoRoot } from '../../models/model-source.js';
import { ReferenceModel } from '../../models/reference.js';
import type { GenerateResult } from './generate-args.js';

describe('generate job over three processes', () => {
  it('P1 receives the reference tokens; P0 and P2 learn none; per-phase costs reported', { timeout: 240_000 }, async () => {
    const path = defaultModelPath();
    const weights = await loadModelOrRandom(path);
    const tok = await loadTokenizerOrBytes(path, weights.config.vocabSize);
    const want = new ReferenceModel(weights).generate(tok.encode('Once upon a time', { bos: true }), 6);
    const lines: string[] = [];
    const { results, stats } = await runLocalParties({
      jobModule: generateJobModule(),
      jobArgs: { tokens: 6 },
      privateInputs: [undefined, { prompt: 'Once upon a time' }, undefined],
      onLine: (p, l) => lines.push(`${p}:${l}`),
    });
    const r = results as GenerateResult[];
    expect(r[1].tokens).toEqual(want);
    expect(r[1].text).toBe(tok.decode(want));
    expect(r[0].tokens).toBeUndefined();
    expect(r[2].tokens).toBeUndefined();
    expect(lines.filter((l) => l.startsWith('1:{"event":"token"'))).toHaveLength(6);
    expect(lines.some((l) => /^[02]:\{"event":"token"/.test(l))).toBe(false);
    for (const p of r) {
      expect(p.decode.rounds).toBeGreaterThan(0);
      expect(p.msPerToken).toBeGreaterThan(0);
    }
    expect(stats[0].mode).toBe('sealed');
  });

  it('`mpcache demo` generates privately and checks the tokens against the plaintext reference', { timeout: 240_000 }, () => {
    const out = spawnSync(process.execPath, ['--import', 'tsx', join(repoRoot(), 'cli', 'main.ts'), 'demo', '--tokens', '3'], {
      cwd: repoRoot(),
      encoding: 'utf8',
      timeout: 230_000,
    });
    expect(out.stderr).not.toMatch(/demo failed/);
    expect(out.stdout).toMatch(/private tokens EQUAL the plaintext reference \(3\/3/);
    expect(out.stdout).toMatch(/P1 user\s+[\d.]+ ms/);
    expect(out.status).toBe(0);
  });
});
