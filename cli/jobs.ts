/**
 * Built-in jobs, by name (`mpcache party --job NAME`). A job is
 * `(ctx: Context, args: unknown, io: JobIO) => Promise<unknown>` (parties/job.ts): `args`
 * are its PUBLIC arguments (the same on every party, compared before the job starts),
 * `io.inputs` the party's PRIVATE inputs; a job may carry its id and argument checks
 * (parties/job.ts).
 * To add one: write it in its own module and add it to JOBS.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PartyId } from '../protocols/channel.js';
import type { Context } from '../protocols/context.js';
import type { Job, JobIO, PrivateInputs } from '../parties/job.js';
import { selftestJob } from '../parties/selftest-job.js';

export interface JobEntry {
  readonly job: Job;
  /** one line for `mpcache party --help` */
  readonly summary: string;
}

const generateArgs = () => import('./jobs/generate-args.js');

export const JOBS: Readonly<Record<string, JobEntry>> = {
  generate: {
    // loaded on first use: the secure decoder is only imported by parties that run it; the
    // same id and checks as the module's own generateJob
    job: Object.assign(async (ctx: Context, args: unknown, io: JobIO) => (await import('./jobs/generate.js')).generateJob(ctx, args, io), {
      jobId: 'generate',
      publicArgs: async (raw: unknown) => (await generateArgs()).parseGenerateArgs(raw),
      checkInputs: async (party: PartyId, inputs: PrivateInputs, args: unknown) => (await import('./jobs/generate-preflight.js')).preflightInputs(party, inputs, args),
    }),
    summary:
      'private text generation: P0 shares the model, P1 the prompt; tokens revealed to P1 only (public args: tokens, policy, revealLogits, budget, policyOptions; P0: --model, P1: --prompt-file, --tokenizer)',
  },
  selftest: { job: selftestJob, summary: 'party 1 and party 0 each input a vector; the parties add them on shares and reveal the sum (public args: x, y)' },
};

export function findJob(name: string): Job | undefined {
  return Object.hasOwn(JOBS, name) ? JOBS[name].job : undefined;
}

const here = fileURLToPath(new URL('.', import.meta.url));
const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';

/**
 * The module spec (PATH#EXPORT) of the generate job, for the launcher's `jobModule` (the
 * launcher's party entry knows only the parties' own jobs by name).
 */
export function generateJobModule(): string {
  return `${join(here, 'jobs', `generate${ext}`)}#generateJob`;
}
