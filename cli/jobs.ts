/**
 * Built-in jobs, by name (`mpcache party --job NAME`). A job is
 * `(ctx: Context, args: unknown, io: JobIO) => Promise<unknown>` (parties/job.ts): `args`
 * are its PUBLIC arguments (the same on every party, compared before the job starts),
 * `io.inputs` the party's PRIVATE inputs.
 * To add one: write it in its own module and add it to JOBS.
 */
import type { PartyId } from '../protocols/channel.js';
import type { Job, PrivateInputs } from '../parties/job.js';
import { selftestJob } from './jobs/selftest.js';

export interface JobEntry {
  readonly job: Job;
  /** one line for `mpcache party --help` */
  readonly summary: string;
  /**
   * Validate the public arguments and fill in their defaults (throws MPC_ERR_CONFIG naming the
   * argument); the result is what the job receives and what the parties compare. Absent: the
   * arguments are passed and compared as given.
   */
  readonly publicArgs?: (raw: unknown) => Promise<unknown>;
  /** Check this party's private inputs before the session starts (throws MPC_ERR_CONFIG naming the input, never its value). */
  readonly checkInputs?: (party: PartyId, inputs: PrivateInputs) => Promise<void>;
}

export const JOBS: Readonly<Record<string, JobEntry>> = {
  generate: {
    // loaded on first use: the secure decoder is only imported by parties that run it
    job: async (ctx, args, io) => (await import('./jobs/generate.js')).generateJob(ctx, args, io),
    summary:
      'private text generation: P0 shares the model, P1 the prompt; tokens revealed to P1 only (public args: tokens, policy, revealLogits; P0: --model, P1: --prompt-file, --tokenizer)',
    publicArgs: async (raw) => (await import('./jobs/generate-args.js')).parseGenerateArgs(raw),
    checkInputs: async (party, inputs) => void (await import('./jobs/generate-args.js')).parseGenerateInputs(party, inputs),
  },
  selftest: { job: selftestJob, summary: 'party 1 and party 0 each input a vector; the parties add them on shares and reveal the sum (public args: x, y)' },
};

export function findJobEntry(name: string): JobEntry | undefined {
  return Object.hasOwn(JOBS, name) ? JOBS[name] : undefined;
}

export function findJob(name: string): Job | undefined {
  return findJobEntry(name)?.job;
}
