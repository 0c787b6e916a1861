import { describe, expect, it } from 'vitest';
import type { PartyStats } from '../parties/run-party.js';
import { GenerationView, parseGenLine, summaryLines } from './generation-view.js';
import type { GenerateResult } from './jobs/generate-args.js';

class Sink {
  text = '';
  constructor(
    readonly isTTY: boolean,
    readonly columns = 80,
  ) {}
  write(s: string): void {
    this.text += s;
  }
}

const line = (i: number, text: string) => ({ event: 'token' as const, i, n: 3, token: 10 + i, text, ms: 12.3 });

describe('generation view', () => {
  it('parses token event lines and ignores others', () => {
    expect(parseGenLine(JSON.stringify(line(0, ' a')))).toEqual(line(0, ' a'));
    expect(parseGenLine('selftest: hello')).toBeUndefined();
    expect(parseGenLine('{"event":"token", bad json')).toBeUndefined();
    expect(parseGenLine('{"event":"token","i":1}')).toBeUndefined();
    expect(parseGenLine('{"event":"progress","line":"x"}')).toBeUndefined();
  });

  it('without a TTY writes the prompt and the pieces as they come, no bar', () => {
    const s = new Sink(false);
    const v = new GenerationView(s, 'Once');
    v.token(line(0, ' upon'));
    v.token(line(1, ' a'));
    v.token(line(2, '\ntime'));
    v.end();
    expect(s.text).toBe('Once upon a\ntime\n');
  });

  it('on a TTY redraws the current line with a progress bar and prints finished lines plainly', () => {
    const s = new Sink(true);
    const v = new GenerationView(s, 'Once');
    v.token(line(0, ' upon'));
    expect(s.text).toContain('[#######-------------] 1/3');
    expect(s.text.endsWith('Once upon')).toBe(true);
    v.token(line(1, ' a\n'));
    expect(s.text).toContain('\r\x1b[KOnce upon a\n');
    v.token(line(2, 'time'));
    v.end();
    expect(s.text.endsWith('\r\x1b[Ktime\n')).toBe(true);
  });

  it('summary: one row per party with ms/token, bytes and rounds', () => {
    const r = (p: 0 | 1 | 2): GenerateResult => ({
      party: p, model: 'm', promptLength: 5, tokensGenerated: 3, policy: 'full',
      share: { ms: 10, rounds: 1, bytesSent: 1000 }, prefill: { ms: 200, rounds: 100, bytesSent: 5000 },
      decode: { ms: 100, rounds: 1000, bytesSent: 40_000 }, msPerToken: 50,
    });
    const st = { rounds: 1101, bytesSent: 46_000 } as PartyStats;
    const lines = summaryLines([r(0), r(1), r(2)], [st, st, st]);
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(/party.*decode\/token.*bytes\/token.*rounds\/token/);
    expect(lines[1]).toMatch(/^P0 model owner\s+50\.0 ms\s+200 ms\s+10 ms\s+20\.0 kB\s+500\s+46\.0 kB\s+1101$/);
    expect(lines[2]).toMatch(/^P1 user/);
  });
});
