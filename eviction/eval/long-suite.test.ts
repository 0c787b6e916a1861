import { describe, expect, it } from 'vitest';
import { loadEvalModel, DEFAULT_MODEL } from './load-model.js';
import { candidateKey, lengthTag, longFigures, renderLongMarkdown } from './long-report.js';
import { longPrompts, longSuiteSettings, runLongSuite } from './long-suite.js';
import { LONG_TASKS, longTaskPrompt, NEEDLE_FORMS, spreadDepths } from './long-tasks.js';
import { wilsonInterval } from './wilson.js';

const em = await loadEvalModel(DEFAULT_MODEL);
const tok = em.tokenizer;

describe('Wilson interval', () => {
  it('matches known values and stays in [0, 1]', () => {
    // 60/60: lower bound n / (n + z^2) = 60 / 63.8416
    expect(wilsonInterval(60, 60).lo).toBeCloseTo(60 / (60 + 1.96 ** 2), 10);
    expect(wilsonInterval(60, 60).hi).toBe(1);
    expect(wilsonInterval(0, 60).lo).toBe(0);
    expect(wilsonInterval(0, 60).hi).toBeCloseTo(1.96 ** 2 / (60 + 1.96 ** 2), 10);
    // 30/60: 0.5 -/+ 1.96 sqrt(0.25/60 + 1.96^2/14400) / (1 + 1.96^2/60)
    const h = (1.96 * Math.sqrt(0.25 / 60 + 1.96 ** 2 / 14400)) / (1 + 1.96 ** 2 / 60);
    expect(wilsonInterval(30, 60).lo).toBeCloseTo(0.5 - h, 12);
    expect(wilsonInterval(30, 60).hi).toBeCloseTo(0.5 + h, 12);
    expect(() => wilsonInterval(3, 2)).toThrow(RangeError);
  });
});

describe('long-suite prompts (training formats of train/synthetic.py)', () => {
  it('are deterministic from the seed, at most the length, BOS first, answer = the key', () => {
    for (const task of LONG_TASKS) {
      for (const [L, d] of [[512, 0], [1024, 0.5], [2000, 1]] as const) {
        const p = longTaskPrompt(task, tok, L, d, 17);
        expect(p.tokens.length).toBeLessThanOrEqual(L);
        expect(p.tokens.length).toBeGreaterThan(L - 40);
        expect(p.tokens[0]).toBe(tok.bos);
        expect(tok.decode(p.answer)).toBe(` ${p.key}`);
        expect(longTaskPrompt(task, tok, L, d, 17)).toEqual(p);
        expect(longTaskPrompt(task, tok, L, d, 18).key).not.toBe(p.key);
        // the prompt followed by the answer encodes to the prompt's tokens then the answer's
        expect(tok.encode(`${tok.decode(p.tokens)} ${p.key}`, { bos: true })).toEqual([...p.tokens, ...p.answer]);
      }
    }
  });
  it('place the asked needle at the requested depth', () => {
    for (const d of [0, 0.25, 0.75, 1]) {
      const text = tok.decode(longTaskPrompt('passkey', tok, 1024, d, 3).tokens);
      const at = text.indexOf('The pass key is') / text.length;
      expect(Math.abs(at - d)).toBeLessThan(0.1);
      const mk = longTaskPrompt('multikey', tok, 1024, d, 3);
      const mt = tok.decode(mk.tokens);
      for (const f of NEEDLE_FORMS) expect(mt).toContain(f.statement('').split(' ').slice(0, 3).join(' '));
      const asked = NEEDLE_FORMS.find((f) => mt.endsWith(f.question))!;
      expect(Math.abs(mt.indexOf(asked.statement(mk.key)) / mt.length - d)).toBeLessThan(0.1);
      const kv = tok.decode(longTaskPrompt('kv', tok, 1024, d, 3).tokens);
      const w = /What is the code for (\w+)\?/.exec(kv)![1];
      expect(Math.abs(kv.indexOf(`The code for ${w} is`) / kv.length - d)).toBeLessThan(0.1);
    }
    expect(spreadDepths(5)).toEqual([0, 0.25, 0.5, 0.75, 1]);
  });
  it('the full settings have 60 prompts per task at 1024 and 2000 tokens, budgets 5/10/20%', () => {
    const s = longSuiteSettings(false);
    expect([s.prompts, s.lengths, s.budgets, s.nllLength]).toEqual([60, [1024, 2000], [0.05, 0.1, 0.2], 2000]);
    const ps = longPrompts(em, { ...s, lengths: [256], prompts: 4 });
    expect(ps.map((p) => `${p.task}:${p.depth}`)).toEqual(LONG_TASKS.flatMap((t) => [0, 1 / 3, 2 / 3, 1].map((d) => `${t}:${d}`)));
  });
});

describe('long suite, --quick form on the default model', () => {
  it(
    'runs end to end: Full retrieves the passkey, figures under the documented keys, report with intervals',
    () => {
      const s = longSuiteSettings(true, { policies: ['full', 'mpcache', 'mpcache-paper', 'quest', 'streaming-llm'] });
      const r = runLongSuite(em, s);
      expect(r.candidates.map((c) => candidateKey(c.policy, c.budget))).toEqual(['full', 'mpcache_10pct', 'mpcache_paper_10pct', 'quest_10pct', 'streaming_llm_10pct']);
      expect(r.tasks.length).toBe(5 * 3);
      const full = r.tasks.find((t) => t.policy === 'full' && t.task === 'passkey')!;
      expect(full.hits).toBe(s.prompts); // the default model retrieves a single passkey with the full cache
      expect(r.nll[0].nllDelta).toBe(0);
      expect(r.nll[0].agreement).toBe(1);
      for (const t of r.tasks) {
        expect(t.n).toBe(s.prompts);
        expect(t.lo).toBeLessThanOrEqual(t.exact);
        expect(t.hi).toBeGreaterThanOrEqual(t.exact);
        if (t.policy === 'full') expect(t.readFraction).toBe(1);
        else expect(t.readFraction).toBeLessThan(0.6);
      }
      const f = longFigures(r);
      const tag = lengthTag(256);
      for (const k of ['long_prompts_per_task_length', `full_passkey_${tag}`, `mpcache_10pct_multikey_${tag}`, `quest_10pct_kv_${tag}_lo`, `mpcache_paper_10pct_passkey_${tag}_hi`, `streaming_llm_10pct_nll_${lengthTag(s.nllLength)}`])
        expect(Number.isFinite(f[k]), k).toBe(true);
      expect(f.long_prompts_per_task_length).toBe(s.prompts);
      expect(f.long_shared_prefill_speedup).toBeGreaterThan(1);
      expect(renderLongMarkdown(r)).toContain(`${s.prompts}/${s.prompts} 100 [`);
      expect(lengthTag(1024)).toBe('1k');
      expect(lengthTag(2000)).toBe('2k');
    },
    300_000,
  );
});

describe('long suite on worker threads', () => {
  it(
    'gives the same report as the sequential run (timings aside)',
    async () => {
      const { runLongSuiteParallel } = await import('./long-parallel.js');
      const s = longSuiteSettings(true, { policies: ['full', 'mpcache'], tasks: ['passkey', 'kv'], lengths: [128], prompts: 2, nllDocs: 1, nllLength: 96, nllCont: 4 });
      const a = runLongSuite(em, s);
      const b = await runLongSuiteParallel(em, s, 2);
      expect(b.tasks).toEqual(a.tasks);
      expect(b.nll).toEqual(a.nll);
      expect(b.timing.prefills).toBe(a.timing.prefills);
    },
    300_000,
  );
});
