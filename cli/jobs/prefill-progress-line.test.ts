/** The generate job's prefill progress line and events (issue #14). */
import { describe, expect, it } from 'vitest';
import type { JobEvent } from '../../parties/job.js';
import { JobOutput } from '../../parties/job-output.js';
import { PREFILL_LINE_PREFIX, PREFILL_PHASE, formatPrefillProgress, prefillProgressEvents } from './generate-args.js';

describe('prefill progress line', () => {
  it('shows layer, tokens, elapsed and the estimate; done at the end', () => {
    const base = { layer: 2, layers: 6, tokens: 972, tokensDone: 480, fraction: 0.41, elapsedMs: 12_400, remainingMs: 29_600 };
    expect(formatPrefillProgress(base)).toBe(`${PREFILL_LINE_PREFIX}layer 3/6, 480/972 tokens, 12 s, ~30 s to go`);
    expect(formatPrefillProgress({ ...base, layer: 5, tokensDone: 972, fraction: 1, remainingMs: 0 })).toBe('prefill: layer 6/6, 972/972 tokens, 12 s, done');
    expect(formatPrefillProgress({ ...base, remainingMs: Number.NaN })).toBe('prefill: layer 3/6, 480/972 tokens, 12 s');
  });

  it('job events: none before 2 s, then every layer end and at most one every 2 s between (synthetic times)', () => {
    const got: JobEvent[] = [];
    const on = prefillProgressEvents(1, (ev) => got.push(ev));
    const at = (layer: number, tokensDone: number, elapsedMs: number) => on({ layer, layers: 2, tokens: 100, tokensDone, fraction: (layer + tokensDone / 100) / 2, elapsedMs, remainingMs: elapsedMs });
    at(0, 50, 1000); // before 2 s
    at(0, 100, 1900); // a layer end, still before 2 s
    at(1, 10, 2100); // shown
    at(1, 20, 3000); // within 2 s of the last
    at(1, 50, 4200); // shown
    at(1, 100, 4300); // layer end: always
    expect(got.map((e) => [e.tokensDone, e.ms])).toEqual([[10, 2100], [50, 4200], [100, 4300]]);
    expect(got[0]).toEqual({ event: 'progress', phase: PREFILL_PHASE, line: 'party 1: prefill: layer 2/2, 10/100 tokens, 2 s, ~2 s to go', layer: 1, layers: 2, tokens: 100, tokensDone: 10, ms: 2100, remainingMs: 2100 });
    const nan: JobEvent[] = [];
    prefillProgressEvents(0, (ev) => nan.push(ev))({ layer: 0, layers: 1, tokens: 4, tokensDone: 4, fraction: 1, elapsedMs: 2500, remainingMs: Number.NaN });
    expect('remainingMs' in nan[0]).toBe(false);
  });

  it('plain mode: the line on standard error (not with --quiet); --json: a JSON event line', () => {
    const ev = { event: 'progress', phase: PREFILL_PHASE, line: 'party 1: prefill: layer 1/6, 10/900 tokens, 3 s, ~90 s to go' };
    const sink = () => {
      const parts: string[] = [];
      return { parts, write: (s: string) => parts.push(s) };
    };
    for (const [mode, quiet] of [['plain', false], ['plain', true], ['json', false]] as const) {
      const out = sink();
      const err = sink();
      new JobOutput(mode, quiet, out, err).emit(ev);
      if (mode === 'json') expect(JSON.parse(out.parts.join(''))).toEqual(ev);
      else {
        expect(out.parts).toEqual([]);
        expect(err.parts).toEqual(quiet ? [] : [`${ev.line}\n`]);
      }
    }
  });
});
