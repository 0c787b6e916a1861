/**
 * The party process: `node parties/party-main.ts --session FILE --id N --key FILE
 * [--job NAME | --job-module PATH#EXPORT] [--job-args JSON] [--insecure-plaintext]` runs one
 * party of a session (parties/launcher.ts forks it three times; `mpcache party` runs the
 * same code with the CLI's own table of job names, cli/commands/party.ts).
 *
 * Jobs by name (--job): PARTY_JOBS here (`selftest`, the default); a caller may pass its own
 * table. Any job can be loaded from a module (--job-module, parties/job.ts).
 *
 * Exit codes: 0 job done (result printed as `result: <json>`), 1 the session failed (one
 * line `party N failed: MPC_ERR_...` on stderr), 2 configuration error. When started by a
 * parent with an IPC channel (the launcher) the result or error also goes to the parent,
 * and the party exits as soon as the parent goes away.
 */
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import type { PartyId } from '../protocols/channel.js';
import { MpcError, isMpcError } from '../protocols/errors.js';
import { configError, parseFlags, parseJsonFlag, requireFlag, toJsonText } from './flags.js';
import { equalBytes, readKeyFile } from './identity.js';
import { type Job, type JobIO, loadJobModule } from './job.js';
import { type ErrorReport, type PartyStats, errorReport, runParty } from './run-party.js';
import { selftestJob } from './selftest-job.js';
import { readSessionFile } from './session-config.js';

/** Messages a party process sends to its parent over IPC. */
export type PartyIpcMessage =
  | { readonly type: 'result'; readonly party: number; readonly result: unknown; readonly stats: PartyStats }
  | { readonly type: 'error'; readonly party: number; readonly error: ErrorReport };

/** Jobs a party process knows by name (`--job NAME`). */
export interface JobTable {
  find(name: string): Job | undefined;
  readonly names: readonly string[];
}

/** The built-in jobs of the party entry point: `selftest` (share, add, reveal). */
export const PARTY_JOBS: JobTable = {
  find: (name) => (name === 'selftest' ? selftestJob : undefined),
  names: ['selftest'],
};

function sendToParent(msg: PartyIpcMessage): Promise<void> {
  return new Promise((done) => {
    if (!process.send || !process.connected) return done();
    process.send(msg, undefined, {}, () => done());
  });
}

/**
 * Run one party with the given command-line arguments and job table; resolves with the exit
 * code (configuration errors before the session reject with MPC_ERR_CONFIG, after telling
 * the parent). `command` names the command in messages.
 */
export async function runPartyProcess(argv: readonly string[], jobs: JobTable = PARTY_JOBS, command = 'party'): Promise<number> {
  try {
    return await partyWithArgs(argv, jobs, command);
  } catch (e) {
    // configuration errors (and anything else before the session) reach the launcher too
    await sendToParent({ type: 'error', party: -1, error: errorReport(e) });
    throw e;
  }
}

async function partyWithArgs(argv: readonly string[], jobs: JobTable, command: string): Promise<number> {
  const f = parseFlags(
    argv,
    {
      session: { type: 'string' },
      id: { type: 'string' },
      key: { type: 'string' },
      job: { type: 'string' },
      'job-module': { type: 'string' },
      'job-args': { type: 'string' },
      'insecure-plaintext': { type: 'boolean' },
    },
    command,
  );
  const idText = requireFlag(f.id, '--id', command);
  if (!/^[0-2]$/.test(idText)) throw configError(`${command}: --id must be 0, 1 or 2 (a session has three parties), got '${idText}'`);
  const self = Number(idText) as PartyId;
  const session = readSessionFile(requireFlag(f.session, '--session', command));
  const keyPath = requireFlag(f.key, '--key', command);
  const identity = readKeyFile(keyPath);
  if (!equalBytes(identity.publicKey, session.parties[self].publicKey)) {
    process.stderr.write(`warning: the public key in ${keyPath} is not party ${self}'s key in the session file; the other parties will reject this one\n`);
  }
  if (f.job !== undefined && f['job-module'] !== undefined) throw configError(`${command}: give either --job or --job-module, not both`);
  let job: Job;
  if (f['job-module'] !== undefined) job = await loadJobModule(f['job-module']);
  else {
    const name = f.job ?? 'selftest';
    const found = jobs.find(name);
    if (!found) throw configError(`${command}: unknown --job '${name}' (known: ${jobs.names.join(', ')})`);
    job = found;
  }
  const args = parseJsonFlag(f['job-args'], '--job-args');
  const io: JobIO = { party: self, log: (line) => void process.stdout.write(`${line}\n`) };

  // launched by a parent: die with it
  if (process.send) process.on('disconnect', () => process.exit(1));

  try {
    const run = await runParty({ session, self, identity, job, args, io, insecurePlaintext: f['insecure-plaintext'] === true });
    if (process.send) await sendToParent({ type: 'result', party: self, result: run.result, stats: run.stats });
    else process.stdout.write(`result: ${toJsonText(run.result)}\n`);
    return 0;
  } catch (e) {
    const rep = errorReport(e);
    process.stderr.write(`party ${self} failed: ${isMpcError(e) ? e.message : rep.message}\n`);
    await sendToParent({ type: 'error', party: self, error: rep });
    return isMpcError(e) && e.code === 'MPC_ERR_CONFIG' ? 2 : 1;
  }
}

// run as a process (the launcher forks this file): exit with the party's code
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  runPartyProcess(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      const config = isMpcError(e) && e.code === 'MPC_ERR_CONFIG';
      process.stderr.write(`party: ${e instanceof MpcError ? e.message : e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exit(config ? 2 : 1);
    },
  );
}
