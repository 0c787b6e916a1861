/**
 * How a party process shows what its job produces (JobIO.emit events and the result):
 *  - plain (the default for a party started by hand): an event's `text` is written to
 *    standard output as it comes (P1's generated text, nothing around it); an event's `line`
 *    (progress: weights shared, prefill layer, tokens) goes to standard error as one line,
 *    unless quiet; at the end a party that wrote text ends its line; a job that reported no
 *    events at all (e.g. selftest) gets its result printed as `result: <json>`;
 *  - json (`--json`, and every party the launcher starts): one JSON object per line on
 *    standard output, `{"event":..., ...}` for each event and `{"event":"result", "party":N,
 *    "result":...}` at the end (bigint and typed arrays as in toJsonText).
 */
import { toJsonText } from './flags.js';
import type { JobEvent } from './job.js';

export type OutputMode = 'plain' | 'json';

export interface OutputSink {
  write(s: string): unknown;
}

export class JobOutput {
  private wroteText = false;
  private sawEvents = false;
  private atLineStart = true;

  constructor(
    private readonly mode: OutputMode,
    private readonly quiet: boolean,
    private readonly out: OutputSink = process.stdout,
    private readonly err: OutputSink = process.stderr,
  ) {}

  /** One event of the job. */
  emit(ev: JobEvent): void {
    if (ev.event !== 'waiting') this.sawEvents = true;
    if (this.mode === 'json') {
      this.out.write(`${toJsonText(ev)}\n`);
      return;
    }
    if (typeof ev.text === 'string' && ev.text.length > 0) {
      this.out.write(ev.text);
      this.wroteText = true;
      this.atLineStart = ev.text.endsWith('\n');
    }
    if (typeof ev.line === 'string' && !this.quiet) this.err.write(`${ev.line}\n`);
  }

  /** The job's result (a standalone party; under the launcher the result goes over IPC). */
  result(party: number, result: unknown): void {
    if (this.mode === 'json') this.out.write(`${toJsonText({ event: 'result', party, result })}\n`);
    else if (this.wroteText) {
      if (!this.atLineStart) this.out.write('\n');
    } else if (!this.sawEvents) this.out.write(`result: ${toJsonText(result)}\n`);
  }
}

/** Parse a json-mode event line; undefined for any other line. */
export function parseEventLine(line: string): JobEvent | undefined {
  if (!line.startsWith('{"')) return undefined;
  try {
    const o = JSON.parse(line) as unknown;
    return typeof o === 'object' && o !== null && typeof (o as { event?: unknown }).event === 'string' ? (o as JobEvent) : undefined;
  } catch {
    return undefined;
  }
}
