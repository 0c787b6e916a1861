/**
 * Terminal rendering of a private generation for `mpcache demo`: the text as P1 receives it
 * (from P1's `token` events, JSON lines under the launcher, cli/jobs/generate.ts) with a progress bar, then a
 * per-party summary. On a TTY the current text line carries the bar and is redrawn in place;
 * finished lines are printed without it. Without a TTY the text is written as it comes and
 * no bar is drawn (logs stay clean).
 */
import type { PartyStats } from '../parties/run-party.js';
import { parseEventLine } from '../parties/job-output.js';
import type { GenLine, GenerateResult } from './jobs/generate-args.js';

export interface TextSink {
  write(s: string): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

/** Parse a `token` event line; undefined when the line is something else. */
export function parseGenLine(line: string): GenLine | undefined {
  const o = parseEventLine(line);
  if (o?.event !== 'token' || typeof o.i !== 'number' || typeof o.n !== 'number' || typeof o.text !== 'string') return undefined;
  return o as unknown as GenLine;
}

export class GenerationView {
  private line = '';
  private count = 0;
  private total = 0;
  private lastMs = 0;
  private readonly tty: boolean;
  private readonly width: number;

  constructor(
    private readonly out: TextSink,
    private readonly prompt: string,
  ) {
    this.tty = out.isTTY === true;
    this.width = Math.max(40, Math.min(100, (out.columns ?? 80) - 30));
    this.line = prompt;
    if (!this.tty) out.write(prompt);
  }

  private bar(): string {
    const w = 20;
    const fill = this.total > 0 ? Math.round((w * this.count) / this.total) : 0;
    return `[${'#'.repeat(fill)}${'-'.repeat(w - fill)}] ${String(this.count).padStart(String(this.total).length)}/${this.total} ${this.lastMs.toFixed(0).padStart(4)} ms `;
  }

  private redraw(): void {
    this.out.write(`\r\x1b[K${this.bar()}${this.line}`);
  }

  private finishLine(): void {
    this.out.write(`\r\x1b[K${this.line}\n`);
    this.line = '';
  }

  /** One token arrived. */
  token(g: GenLine): void {
    this.count = g.i + 1;
    this.total = g.n;
    this.lastMs = g.ms;
    if (!this.tty) {
      this.out.write(g.text);
      return;
    }
    for (const ch of g.text) {
      if (ch === '\n') this.finishLine();
      else {
        this.line += ch;
        if (this.line.length >= this.width && ch === ' ') this.finishLine();
      }
    }
    this.redraw();
  }

  /** The generation ended: print the last line without the bar. */
  end(): void {
    if (this.tty) this.out.write(`\r\x1b[K${this.line}\n`);
    else this.out.write('\n');
  }
}

const ROLES = ['model owner', 'user', 'helper'];

function kb(bytes: number): string {
  return bytes >= 1e6 ? `${(bytes / 1e6).toFixed(2)} MB` : `${(bytes / 1e3).toFixed(1)} kB`;
}

/** The per-party summary table (ms per token, bytes sent, rounds) as text lines. */
export function summaryLines(results: readonly GenerateResult[], stats: readonly PartyStats[]): string[] {
  const rows = results.map((r, i) => {
    const steps = Math.max(1, r.tokensGenerated - 1);
    return [
      `P${i} ${ROLES[i]}`,
      `${r.msPerToken.toFixed(1)} ms`,
      `${r.prefill.ms.toFixed(0)} ms`,
      `${r.share.ms.toFixed(0)} ms`,
      kb(r.decode.bytesSent / steps),
      (r.decode.rounds / steps).toFixed(0),
      kb(stats[i].bytesSent),
      String(stats[i].rounds),
    ];
  });
  const head = ['party', 'decode/token', 'prefill+1st', 'share weights', 'bytes/token', 'rounds/token', 'bytes total', 'rounds total'];
  const all = [head, ...rows];
  const w = head.map((_, c) => Math.max(...all.map((r) => r[c].length)));
  return all.map((r) => r.map((v, c) => (c === 0 ? v.padEnd(w[c]) : v.padStart(w[c]))).join('  '));
}
