/**
 * `mpcache party --session FILE --id N --key FILE [--job NAME | --job-module PATH#EXPORT]
 *  [--job-args JSON] [--prompt-file FILE|-] [--model PATH] [--tokenizer PATH]
 *  [--private-inputs FILE|-] [--insecure-plaintext]`: run one party of a session.
 *
 * `--job-args` are PUBLIC: the same on every party, compared field by field before the job
 * starts (a difference is MPC_ERR_CONFIG_MISMATCH naming the field). Private inputs never go
 * on the command line: P1's prompt comes from `--prompt-file FILE` or, with `--prompt-file -`,
 * from standard input; `--private-inputs FILE|-` reads any named private inputs as a JSON
 * object (the local launcher uses it on standard input). Paths (`--model` for P0,
 * `--tokenizer` for P1) are the party's own inputs too, never shared.
 *
 * Exit codes: 0 job done (result printed as `result: <json>`), 1 the session failed (one
 * line `party N failed: MPC_ERR_...` on stderr), 2 configuration error, or configurations
 * that differ between the parties (MPC_ERR_CONFIG_MISMATCH). When started by the launcher
 * (an IPC channel is present) the result or error also goes to the parent, and the party
 * exits as soon as the parent goes away.
 */
import { basename } from 'node:path';
import type { PartyId } from '../../protocols/channel.js';
import { isMpcError } from '../../protocols/errors.js';
import { equalBytes, keyFileExposure, readKeyFile } from '../../parties/identity.js';
import { type Job, type PrivateInputs, loadJobModule, parseJobModuleSpec, parsePrivateInputs, prepareJob } from '../../parties/job.js';
import type { PartyIpcMessage } from '../../parties/launcher.js';
import { errorReport, runParty } from '../../parties/run-party.js';
import { readSessionFile } from '../../parties/session-config.js';
import { type Command, configError, parseFlags, parseJsonFlag, readPromptSource, readTextSource, requireFlag, toJsonText } from '../command.js';

function sendToParent(msg: PartyIpcMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send || !process.connected) return resolve();
    process.send(msg, undefined, {}, () => resolve());
  });
}

export const partyCommand: Command = {
  summary: 'run one party of a session (the parties may run on different hosts)',
  usage: `mpcache party --session FILE --id N --key FILE [--job NAME | --job-module PATH#EXPORT] [--job-args JSON]
                     [--prompt-file FILE|-] [--model PATH|random] [--tokenizer PATH|random] [--private-inputs FILE|-] [--insecure-plaintext]
  --session FILE          session file (JSON: session id, parties' host:port and public keys, options)
  --id N                  this party's index: 0 (model owner), 1 (user), 2 (helper)
  --key FILE              this party's key file (from mpcache keygen; mode 0600)
  --job NAME              built-in job from cli/jobs.ts (default selftest; e.g. selftest, generate)
  --job-module P#E        load the job from module P, export E (default export when #E is omitted)
  --job-args JSON         PUBLIC job arguments: the same on every party, compared before the job starts
                          (generate: {"tokens":N,"policy":NAME,"revealLogits":BOOL})
  --prompt-file FILE|-    party 1 only: the prompt, from FILE or (-) standard input; one trailing newline is dropped
  --model PATH|random     party 0 only (generate): the weights (default models/default/, else stories260K, else random)
  --tokenizer PATH|random party 1 only (generate): the tokenizer (a model dir or tokenizer file; default as --model)
  --private-inputs FILE|- this party's private inputs as a JSON object of named strings, from FILE or standard input
  --insecure-plaintext    do NOT encrypt frames (loopback benchmarks only: every host must be loopback; every party must agree)
Private text generation on three hosts (the prompt goes to party 1 only, never on a command line):
  P0: mpcache party --session s.json --id 0 --key p0.key --job generate --job-args '{"tokens":20}' --model models/default
  P1: mpcache party --session s.json --id 1 --key p1.key --job generate --job-args '{"tokens":20}' --prompt-file prompt.txt
  P2: mpcache party --session s.json --id 2 --key p2.key --job generate --job-args '{"tokens":20}'
Topology: the lower id dials the higher (0->1, 0->2, 1->2); parties 1 and 2 listen on their port.
All three must start within the setup window (session option handshakeTimeoutMs, default 10 s).`,
  async run(argv) {
    try {
      return await runPartyCommand(argv);
    } catch (e) {
      // configuration errors (and anything else before the session) reach the launcher too
      await sendToParent({ type: 'error', party: -1, error: errorReport(e) });
      throw e;
    }
  },
};

/** This party's private inputs from --private-inputs, --prompt-file, --model, --tokenizer (each name from one source). */
async function privateInputs(f: { 'prompt-file'?: string; model?: string; tokenizer?: string; 'private-inputs'?: string }): Promise<PrivateInputs> {
  if (f['prompt-file'] === '-' && f['private-inputs'] === '-') throw configError('party: --prompt-file - and --private-inputs - cannot both read standard input');
  const out: Record<string, string> = {};
  if (f['private-inputs'] !== undefined) {
    const text = await readTextSource(f['private-inputs'], '--private-inputs', 'party', 'the private inputs');
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch {
      throw configError('party: --private-inputs is not valid JSON'); // the parser's message could quote the text
    }
    Object.assign(out, parsePrivateInputs(v, '--private-inputs'));
  }
  const add = (name: string, value: string | undefined, flag: string) => {
    if (value === undefined) return;
    if (Object.hasOwn(out, name)) throw configError(`party: private input '${name}' is given twice (${flag} and --private-inputs)`);
    out[name] = value;
  };
  if (f['prompt-file'] !== undefined) {
    add('prompt', await readPromptSource(f['prompt-file'], 'party'), '--prompt-file');
  }
  add('model', f.model, '--model');
  add('tokenizer', f.tokenizer, '--tokenizer');
  return parsePrivateInputs(out, 'private inputs');
}

async function runPartyCommand(argv: readonly string[]): Promise<number> {
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
    },
    'party',
  );
  const idText = requireFlag(f.id, '--id', 'party');
  if (!/^[0-2]$/.test(idText)) throw configError(`party: --id must be 0, 1 or 2 (a session has three parties), got '${idText}'`);
  const self = Number(idText) as PartyId;
  const session = readSessionFile(requireFlag(f.session, '--session', 'party'));
  const keyPath = requireFlag(f.key, '--key', 'party');
  const identity = readKeyFile(keyPath);
  const exposed = keyFileExposure(keyPath);
  if (exposed !== 0) process.stderr.write(`warning: key file ${keyPath} can be read or changed by other users (mode ${(exposed | 0o600).toString(8).padStart(4, '0')}); run chmod 600 ${keyPath}\n`);
  if (!equalBytes(identity.publicKey, session.parties[self].publicKey)) {
    process.stderr.write(`warning: the public key in ${keyPath} is not party ${self}'s key in the session file; the other parties will reject this one\n`);
  }
  if (f.job !== undefined && f['job-module'] !== undefined) throw configError('party: give either --job or --job-module, not both');
  let job: Job;
  let defaultId: string;
  const inputs = await privateInputs(f);
  if (f['job-module'] !== undefined) {
    job = await loadJobModule(f['job-module']);
    const spec = parseJobModuleSpec(f['job-module']);
    defaultId = `module ${basename(spec.path)}#${spec.exportName}`;
  } else {
    defaultId = f.job ?? 'selftest';
    const { JOBS, findJob } = await import('../jobs.js'); // only when a built-in job is asked for
    const found = findJob(defaultId);
    if (!found) throw configError(`party: unknown --job '${defaultId}' (known: ${Object.keys(JOBS).join(', ')})`);
    job = found;
  }
  const { jobId, args } = await prepareJob(job, defaultId, self, parseJsonFlag(f['job-args'], '--job-args'), inputs);

  // launched by a parent: die with it
  if (process.send) process.on('disconnect', () => process.exit(1));

  try {
    const run = await runParty({
      session,
      self,
      identity,
      job,
      jobId,
      args,
      inputs,
      log: (line) => void process.stdout.write(`${line}\n`),
      insecurePlaintext: f['insecure-plaintext'] === true,
    });
    if (process.send) await sendToParent({ type: 'result', party: self, result: run.result, stats: run.stats });
    else process.stdout.write(`result: ${toJsonText(run.result)}\n`);
    return 0;
  } catch (e) {
    const rep = errorReport(e);
    process.stderr.write(`party ${self} failed: ${isMpcError(e) ? e.message : rep.message}\n`);
    await sendToParent({ type: 'error', party: self, error: rep });
    return isMpcError(e) && (e.code === 'MPC_ERR_CONFIG' || e.code === 'MPC_ERR_CONFIG_MISMATCH') ? 2 : 1;
  }
}
