import { describe, it, expect } from 'vitest';
import { ReferenceModel } from '../../models/reference.js';
import { loadStories260k, stories260kPresent } from '../../models/test-support.js';
import { createPolicy, type PolicyName } from '../plain/registry.js';
import { renderChart } from './chart.js';
import { calibrateRetrievalHeads } from './duo-calibrate.js';
import { defaultSettings, Metered, prefillOnce, runEval, scoreOn } from './harness.js';
import { renderMarkdown, renderTable } from './report.js';
import { passkeyPrompt, sampleDocument } from './tasks.js';

const present = stories260kPresent();
const loaded = present ? await loadStories260k() : undefined;

describe.skipIf(!present)('eval harness on stories260K', () => {
  const model = new ReferenceModel(loaded!.weights);
  const tok = loaded!.tokenizer;
  const c = model.config;

  it('one prefill + fork + replayed onPrefill equals a fresh run under the policy', () => {
    const doc = sampleDocument(model, tok.bos, 140, 11);
    const prompt = doc.slice(0, 120);
    const cont = doc.slice(120);
    const pre = prefillOnce(model, prompt);
    for (const name of ['h2o', 'mpcache', 'kivi-2'] as PolicyName[]) {
      const mk = () => createPolicy(name, { budget: { ratio: 0.2 }, model: c, seed: 3 });
      const fresh = model.nll(prompt, cont, mk());
      const forked = scoreOn(pre, new Metered(mk()), cont);
      expect(Array.from(forked.nll), name).toEqual(Array.from(fresh.perToken));
      expect(Array.from(forked.argmax), name).toEqual(Array.from(fresh.predicted));
    }
  });

  it('tasks are deterministic from the seed; passkey prompts have the exact length and key', () => {
    expect(sampleDocument(model, tok.bos, 40, 5)).toEqual(sampleDocument(model, tok.bos, 40, 5));
    expect(sampleDocument(model, tok.bos, 40, 5)).not.toEqual(sampleDocument(model, tok.bos, 40, 6));
    for (const [L, d] of [[128, 0.1], [256, 0.5], [504, 0.9]]) {
      const p = passkeyPrompt(tok, L, d, 9);
      expect(p.tokens.length).toBe(L);
      expect(p.tokens[0]).toBe(tok.bos);
      expect(tok.decode(p.answer).trim()).toBe(p.key);
      expect(tok.decode(p.tokens.slice(p.keySpan[0], p.keySpan[1])).trim()).toBe(p.key);
      expect(tok.decode(p.tokens)).toMatch(/What is the pass key\? The pass key is$/);
      expect(Math.abs(p.needleAt / L - d)).toBeLessThan(0.15);
    }
    expect(passkeyPrompt(tok, 128, 0.5, 9)).toEqual(passkeyPrompt(tok, 128, 0.5, 9));
  });

  it('runs a small evaluation end to end: rows, Full as reference, chart and tables', () => {
    const settings = defaultSettings(c.maxSeqLen, {
      policies: ['mpcache', 'streaming-llm', 'kivi-4', 'duo-attention'],
      budgets: [0.2, 0.5],
      docs: 1,
      promptLen: 96,
      contLen: 8,
      passkeyLengths: [96],
      passkeyDepths: [0.5],
    });
    const seen: number[] = [];
    const r = runEval({ name: 'stories260K', path: 'x', model, tokenizer: tok }, settings, (p) => seen.push(p.done));
    expect(r.rows.map((x) => `${x.policy}@${x.budget}`)).toEqual([
      'full@null',
      'mpcache@0.2',
      'mpcache@0.5',
      'streaming-llm@0.2',
      'streaming-llm@0.5',
      'kivi-4@null',
      'duo-attention@0.2',
      'duo-attention@0.5',
    ]);
    expect(seen[seen.length - 1]).toBe(8 * 2);
    const full = r.rows[0];
    expect(full.nllDelta).toBe(0);
    expect(full.agreement).toBe(1);
    expect(full.readFraction).toBe(1);
    const s20 = r.rows[3];
    expect(s20.readFraction).toBeLessThan(0.3);
    expect(r.duoHeadScores.length).toBe(c.nLayers);
    for (const row of r.rows) expect(Number.isFinite(row.nll)).toBe(true);
    const svg = renderChart(r);
    expect(svg.startsWith('<svg')).toBe(true);
    for (const p of ['mpcache', 'streaming-llm', 'kivi-4', 'duo-attention']) expect(svg).toContain(`>${p}</text>`);
    expect(renderMarkdown(r).split('\n').length).toBe(r.rows.length + 3);
    expect(renderTable(r)).toContain('mpcache');
    expect(JSON.parse(JSON.stringify(r)).rows.length).toBe(8);
    // same seed, same result (timings aside)
    const again = runEval({ name: 'stories260K', path: 'x', model, tokenizer: tok }, settings);
    const strip = (rows: typeof r.rows) => rows.map(({ seconds: _s, ...rest }) => rest);
    expect(strip(again.rows)).toEqual(strip(r.rows));
  });

  it('retrieval-head calibration is deterministic, one score in [0, 1] per layer and KV head', () => {
    const o = { lengths: [128], depths: [0.3, 0.7], seed: 4 };
    const a = calibrateRetrievalHeads(model, tok, o);
    expect(a).toEqual(calibrateRetrievalHeads(model, tok, o));
    expect(a.length).toBe(c.nLayers);
    for (const row of a) for (const v of row) expect(v >= 0 && v <= 1).toBe(true);
  });
});
