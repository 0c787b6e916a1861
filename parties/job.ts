/**
 * Jobs: what a party process runs once its session is up. A job receives the party's
 * Context (channel, kernels, PRG streams), the JSON job arguments (the same on every party)
 * and a JobIO to report progress; it returns a structured-clonable result (sent to the
 * launcher over IPC, printed as JSON by a standalone party).
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

export interface JobIO {
  /** this party's id */
  readonly party: PartyId;
  /** print one progress line (the launcher prefixes it with `[P<id>]` and streams it) */
  log(line: string): void;
}

export type Job = (ctx: Context, args: unknown, io: JobIO) => Promise<unknown>;

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
