/**
 * Jobs: what a party process runs once its session is up. A job receives the party's
 * Context (channel, kernels, PRG streams), its PUBLIC job arguments and a JobIO (progress
 * lines, and this party's PRIVATE inputs); it returns a structured-clonable result (sent to
 * the launcher over IPC, printed as JSON by a standalone party).
 *
 * Public and private:
 *  - public job arguments (`--job-args`, the launcher's `jobArgs`: token counts, policy and
 *    its options, budgets...) are the same JSON on every party; before the job starts the
 *    parties exchange them and compare them field by field (public-args.ts), and a difference
 *    fails every party with MPC_ERR_CONFIG_MISMATCH naming the field and the values;
 *  - private inputs (`io.inputs`: P1's prompt, P0's model path) are named strings that only
 *    this party holds. They come from a file or standard input (`--prompt-file`,
 *    `--private-inputs`), never from a command line another user can read, and a job must
 *    never send, log or report them.
 *
 * Jobs known by name: party-main.ts PARTY_JOBS (the launcher's party entry point) and the
 * CLI's table for `mpcache party`; any module can provide one (`--job-module
 * path/to/file.ts#exportName`, default export when `#name` is omitted).
 */
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { PartyId } from '../protocols/channel.js';
import type { Context } from '../protocols/context.js';
import { MpcError } from '../protocols/errors.js';

/** A party's private job inputs, by name (e.g. `prompt` on P1, `model` on P0). */
export type PrivateInputs = Readonly<Record<string, string>>;

/** largest private inputs object accepted (all values together, UTF-16 code units) */
export const MAX_PRIVATE_INPUT_CHARS = 64 * 1024 * 1024;

/**
 * Something a job reports as it runs (parties/job-output.ts shows it): `text` is output
 * proper (P1's generated text, shown as it comes), `line` a progress line (shown unless
 * quiet); other fields are for machines (`--json`).
 */
export interface JobEvent {
  readonly event: string;
  readonly text?: string;
  readonly line?: string;
  readonly [field: string]: unknown;
}

export interface JobIO {
  /** this party's id */
  readonly party: PartyId;
  /** print one progress line (the launcher prefixes it with `[P<id>]` and streams it) */
  log(line: string): void;
  /** report an event (text produced, progress); absent: events are dropped */
  readonly emit?: (event: JobEvent) => void;
  /** this party's private inputs (never sent to a peer, logged, or put on a command line) */
  readonly inputs: PrivateInputs;
}

/**
 * Validate a private inputs object (JSON: names to strings); `where` names its source.
 * The message names the source and the field, never a value.
 */
export function parsePrivateInputs(v: unknown, where: string): PrivateInputs {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new MpcError('MPC_ERR_CONFIG', `${where} must be a JSON object of named strings`);
  const out: Record<string, string> = {};
  let chars = 0;
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    if (!/^[A-Za-z][A-Za-z0-9_-]{0,63}$/.test(k)) throw new MpcError('MPC_ERR_CONFIG', `${where}: input names are 1-64 characters [A-Za-z0-9_-] starting with a letter`);
    if (typeof x !== 'string') throw new MpcError('MPC_ERR_CONFIG', `${where}: input '${k}' must be a string`);
    chars += x.length;
    out[k] = x;
  }
  if (chars > MAX_PRIVATE_INPUT_CHARS) throw new MpcError('MPC_ERR_CONFIG', `${where}: more than ${MAX_PRIVATE_INPUT_CHARS} characters`);
  return out;
}

/**
 * A job: `args` are its public arguments (the same on every party), `io.inputs` this party's
 * private ones. A job may carry (as properties of the function) what the party process uses
 * before connecting:
 *  - `jobId`: the name the parties compare (default: the `--job` name, or `module FILE#EXPORT`);
 *  - `publicArgs(raw)`: validate the public arguments and fill in their defaults (throws
 *    MPC_ERR_CONFIG naming the argument); its result is what the parties compare and what the
 *    job receives, so `{}` and `{"tokens":24}` agree when 24 is the default;
 *  - `checkInputs(party, inputs, args)`: refuse missing inputs or another party's (throws
 *    MPC_ERR_CONFIG naming the input, never its value); it may also check the inputs against
 *    the checked public arguments (e.g. load the model and check the token count against its
 *    context), so the party fails before it connects.
 */
export interface Job {
  (ctx: Context, args: unknown, io: JobIO): Promise<unknown>;
  readonly jobId?: string;
  readonly publicArgs?: (raw: unknown) => unknown;
  readonly checkInputs?: (party: PartyId, inputs: PrivateInputs, args: unknown) => unknown;
}

/** What a party runs: the job's id (compared), its checked public arguments. Applies the job's own checks. */
export async function prepareJob(job: Job, defaultId: string, party: PartyId, rawArgs: unknown, inputs: PrivateInputs): Promise<{ readonly jobId: string; readonly args: unknown }> {
  const args = job.publicArgs ? await job.publicArgs(rawArgs) : rawArgs;
  if (job.checkInputs) await job.checkInputs(party, inputs, args);
  return { jobId: job.jobId ?? defaultId, args };
}

/** Split 'path#export' (export defaults to 'default'). */
export function parseJobModuleSpec(spec: string): { path: string; exportName: string } {
  if (typeof spec !== 'string' || spec.length === 0) throw new MpcError('MPC_ERR_CONFIG', '--job-module must be PATH or PATH#EXPORT');
  const hash = spec.lastIndexOf('#');
  const path = hash >= 0 ? spec.slice(0, hash) : spec;
  const exportName = hash >= 0 ? spec.slice(hash + 1) : 'default';
  if (!path || !exportName) throw new MpcError('MPC_ERR_CONFIG', `--job-module '${spec}' must be PATH or PATH#EXPORT`);
  return { path, exportName };
}

/** Import a job from 'path#export' (path relative to the working directory). */
export async function loadJobModule(spec: string): Promise<Job> {
  const { path, exportName } = parseJobModuleSpec(spec);
  const abs = isAbsolute(path) ? path : resolve(process.cwd(), path);
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(abs).href)) as Record<string, unknown>;
  } catch (e) {
    throw new MpcError('MPC_ERR_CONFIG', `--job-module: cannot import ${abs}: ${(e as Error).message.split('\n')[0]}`, { cause: e });
  }
  const job = mod[exportName];
  if (typeof job !== 'function') throw new MpcError('MPC_ERR_CONFIG', `--job-module: ${abs} has no exported function '${exportName}'`);
  return job as Job;
}
