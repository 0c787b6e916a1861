/**
 * The party process: `node parties/party-main.ts --session FILE --id N --key FILE
 * [--job NAME | --job-module PATH#EXPORT] [--job-args JSON] [--prompt-file FILE|-]
 * [--model PATH] [--tokenizer PATH] [--private-inputs FILE|-] [--listen-host HOST] [--setup-timeout S]
 * [--json] [--quiet] [--insecure-plaintext]` runs
 * one party of a session (parties/launcher.ts forks it three times; `mpcache party` runs the
 * same code with the CLI's own table of job names, cli/commands/party.ts).
 *
 * Jobs by name (--job): PARTY_JOBS here (`selftest`, the default); a caller may pass its own
 * table. Any job can be loaded from a module (--job-module, parties/job.ts).
 *
 * `--job-args` are PUBLIC: the same on every party, compared field by field before the job
 * starts (a difference is MPC_ERR_CONFIG_MISMATCH naming the field). Private inputs never go
 * on the command line: P1's prompt comes from `--prompt-file FILE` or, with `--prompt-file -`,
 * from standard input; `--private-inputs FILE|-` reads any named private inputs as a JSON
 * object (the launcher writes each child's on its standard input). Paths (`--model` for P0,
 * `--tokenizer` for P1) are the party's own inputs too, never shared. The job's own checks
 * (prepareJob) run before connecting. `--listen-host HOST` listens on HOST instead of this
 * party's host in the session file (same port), for a party reached through a forwarder such
 * as the link-emulation relay (parties/netem/), which listens on the session's address.
 *
 * `--setup-timeout S` is this party's setup window (session option handshakeTimeoutMs, 10 s by
 * default): all three parties must be up and connected within it; while waiting the party
 * says whom it waits for. Output (parties/job-output.ts): plain by default (P1's text as it
 * comes, progress lines on stderr unless `--quiet`), one JSON object per line with `--json`.
 *
 * Exit codes: 0 job done (the result printed, job-output.ts), 1 the session failed (one
 * line `party N failed: MPC_ERR_...` on stderr), 2 configuration error, or configurations
 * that differ between the parties (MPC_ERR_CONFIG_MISMATCH). When started by a parent with
 * an IPC channel (the launcher) the result or error also goes to the parent, and the party
 * exits as soon as the parent goes away.
 */
import { pathToFileURL } from 'node:url';
import { basename, resolve } from 'node:path';
import type { PartyId } from '../protocols/channel.js';
import { MpcError, isMpcError } from '../protocols/errors.js';
import { configError, parseFlags, parseJsonFlag, parseSeconds, readPromptSource, readTextSource, requireFlag } from './flags.js';
import { equalBytes, keyFileExposure, readKeyFile } from './identity.js';
import { type Job, type PrivateInputs, loadJobModule, parseJobModuleSpec, parsePrivateInputs, prepareJob } from './job.js';
import { type ErrorReport, type PartyStats, errorReport, runParty } from './run-party.js';
import { selftestJob } from './selftest-job.js';
import { readSessionFile } from './session-config.js';
import { JobOutput } from './job-output.js';


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

/** This party's private inputs from --private-inputs, --prompt-file, --model, --tokenizer (each name from one source). */
async function privateInputs(f: { 'prompt-file'?: string; model?: string; tokenizer?: string; 'private-inputs'?: string }, command: string): Promise<PrivateInputs> {
  if (f['prompt-file'] === '-' && f['private-inputs'] === '-') throw configError(`${command}: --prompt-file - and --private-inputs - cannot both read standard input`);
  const out: Record<string, string> = {};
  if (f['private-inputs'] !== undefined) {
    const text = await readTextSource(f['private-inputs'], '--private-inputs', command, 'the private inputs');
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch {
      throw configError(`${command}: --private-inputs is not valid JSON`); // the parser's message could quote the text
    }
    Object.assign(out, parsePrivateInputs(v, '--private-inputs'));
  }
  const add = (name: string, value: string | undefined, flag: string) => {
    if (value === undefined) return;
    if (Object.hasOwn(out, name)) throw configError(`${command}: private input '${name}' is given twice (${flag} and --private-inputs)`);
    out[name] = value;
  };
  if (f['prompt-file'] !== undefined) add('prompt', await readPromptSource(f['prompt-file'], command), '--prompt-file');
  add('model', f.model, '--model');
  add('tokenizer', f.tokenizer, '--tokenizer');
  return parsePrivateInputs(out, 'private inputs');
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
      'prompt-file': { type: 'string' },
      model: { type: 'string' },
      tokenizer: { type: 'string' },
      'private-inputs': { type: 'string' },
      'insecure-plaintext': { type: 'boolean' },
      'listen-host': { type: 'string' },
      'setup-timeout': { type: 'string' },
      json: { type: 'boolean' },
      quiet: { type: 'boolean' },
    },
    command,
  );
  const setupS = f['setup-timeout'] === undefined ? undefined : parseSeconds(f['setup-timeout'], '--setup-timeout', command);
  const idText = requireFlag(f.id, '--id', command);
  if (!/^[0-2]$/.test(idText)) throw configError(`${command}: --id must be 0, 1 or 2 (a session has three parties), got '${idText}'`);
  const self = Number(idText) as PartyId;
  const session = readSessionFile(requireFlag(f.session, '--session', command));
  const keyPath = requireFlag(f.key, '--key', command);
  const identity = readKeyFile(keyPath);
  const exposed = keyFileExposure(keyPath);
  if (exposed !== 0) process.stderr.write(`warning: key file ${keyPath} can be read or changed by other users (mode ${(exposed | 0o600).toString(8).padStart(4, '0')}); run chmod 600 ${keyPath}\n`);
  if (!equalBytes(identity.publicKey, session.parties[self].publicKey)) {
    process.stderr.write(`warning: the public key in ${keyPath} is not party ${self}'s key in the session file; the other parties will reject this one\n`);
  }
  if (f.job !== undefined && f['job-module'] !== undefined) throw configError(`${command}: give either --job or --job-module, not both`);
  const inputs = await privateInputs(f, command);
  let job: Job;
  let defaultId: string;
  if (f['job-module'] !== undefined) {
    job = await loadJobModule(f['job-module']);
    const spec = parseJobModuleSpec(f['job-module']);
    defaultId = `module ${basename(spec.path)}#${spec.exportName}`;
  } else {
    defaultId = f.job ?? 'selftest';
    const found = jobs.find(defaultId);
    if (!found) throw configError(`${command}: unknown --job '${defaultId}' (known: ${jobs.names.join(', ')})`);
    job = found;
  }
  const { jobId, args } = await prepareJob(job, defaultId, self, parseJsonFlag(f['job-args'], '--job-args'), inputs);

  // launched by a parent: die with it
  if (process.send) process.on('disconnect', () => process.exit(1));

  const output = new JobOutput(f.json === true ? 'json' : 'plain', f.quiet === true);
  try {
    const run = await runParty({
      session,
      self,
      identity,
      job,
      jobId,
      args,
      inputs,
      // notes and warnings: standard error in plain mode (standard output is the job's text), as lines among the JSON with --json
      log: (line) => void (f.json === true ? process.stdout : process.stderr).write(`${line}\n`),
      emit: (ev) => output.emit(ev),
      onWaiting: (line) => output.emit({ event: 'waiting', line }),
      insecurePlaintext: f['insecure-plaintext'] === true,
      listenHost: f['listen-host'],
      ...(setupS !== undefined ? { overrides: { handshakeTimeoutMs: Math.round(setupS * 1000) } } : {}),
    });
    if (process.send) await sendToParent({ type: 'result', party: self, result: run.result, stats: run.stats });
    else output.result(self, run.result);
    return 0;
  } catch (e) {
    const rep = errorReport(e);
    process.stderr.write(`party ${self} failed: ${isMpcError(e) ? e.message : rep.message}\n`);
    await sendToParent({ type: 'error', party: self, error: rep });
    return isMpcError(e) && (e.code === 'MPC_ERR_CONFIG' || e.code === 'MPC_ERR_CONFIG_MISMATCH') ? 2 : 1;
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
