import { describe, expect, it } from 'vitest';
import { JobOutput, parseEventLine } from './job-output.js';

function sinks() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, o: { write: (s: string) => out.push(s) }, e: { write: (s: string) => err.push(s) } };
}

describe('job output', () => {
  it('plain: text as it comes on stdout, progress lines on stderr, the line ended; no result JSON after events', () => {
    const s = sinks();
    const j = new JobOutput('plain', false, s.o, s.e);
    j.emit({ event: 'token', text: ' a' });
    j.emit({ event: 'progress', line: 'party 1: step' });
    j.emit({ event: 'token', text: 'b' });
    j.result(1, { tokens: [1, 2] });
    expect(s.out.join('')).toBe(' ab\n');
    expect(s.err.join('')).toBe('party 1: step\n');
  });

  it('plain and quiet: no progress; a job without events gets `result: <json>`', () => {
    const s = sinks();
    const j = new JobOutput('plain', true, s.o, s.e);
    j.emit({ event: 'progress', line: 'x' });
    j.result(0, { n: 1n });
    expect(s.err).toEqual([]);
    expect(s.out.join('')).toBe('');
    const t = sinks();
    new JobOutput('plain', false, t.o, t.e).result(2, { sum: [3n] });
    expect(t.out.join('')).toBe('result: {"sum":["3"]}\n');
  });

  it('json: every event and the result as one JSON object per line, which parseEventLine reads back', () => {
    const s = sinks();
    const j = new JobOutput('json', true, s.o, s.e);
    j.emit({ event: 'token', i: 0, text: 'a' });
    j.emit({ event: 'progress', line: 'p' });
    j.result(1, { tokens: Uint32Array.of(5) });
    const lines = s.out.join('').trim().split('\n');
    expect(lines.map((l) => parseEventLine(l)?.event)).toEqual(['token', 'progress', 'result']);
    expect(JSON.parse(lines[2])).toEqual({ event: 'result', party: 1, result: { tokens: [5] } });
    expect(parseEventLine('note: hello')).toBeUndefined();
    expect(parseEventLine('{"no":"event"}')).toBeUndefined();
  });
});
