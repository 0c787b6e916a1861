/**
 * `mpcache party --session FILE --id N --key FILE [--job NAME | --job-module PATH#EXPORT]
 *  [--job-args JSON] [--insecure-plaintext]`: run one party of a session.
 *
 * Exit codes: 0 job done (result printed as `result: <json>`), 1 the session failed (one
 * line `party N failed: MPC_ERR_...` on stderr), 2 configuration error. When started by the
 * launcher (an IPC channel is present) the result or error also goes to the parent, and the
 * party exits as soon as the parent goes away.
 */
import type { PartyId } from '../../protocols/channel.js';
import { isMpcError } from '../../protocols/errors.js';
import { equalBytes, readKeyFile } from '../../parties/identity.js';
import { type Job, type JobIO, loadJobModule } from '../../parties/job.js';
import type { PartyIpcMessage } from '../../parties/launcher.js';
import { errorReport, runParty } from '../../parties/run-party.js';
import { readSessionFile } from '../../parties/session-config.js';
import { type Command, configError, parseFlags, parseJsonFlag, requireFlag, toJsonText } from '../command.js';

function sendToParent(msg: PartyIpcMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send || !process.connected) return resolve();
    process.send(msg, undefined, {}, () => resolve());
  });
}

export const partyCommand: Command = {
  summary: 'run one party of a session (the parties may run on different hosts)',
  usage: `mpcache party --session FILE --id N --key FILE [--job NAME | --job-module PATH#EXPORT] [--job-args JSON] [--insecure-plaintext]
  --session FILE        session file (JSON: session id, parties' host:port and public keys, options)
  --id N                this party's index: 0, 1 or 2
  --key FILE            this party's key file (from mpcache keygen)
  --job NAME            built-in job from cli/jobs.ts (default selftest; e.g. selftest, generate)
  --job-module P#E      load the job from module P, export E (default export when #E is omitted)
  --job-args JSON       job arguments (the same on every party)
  --insecure-plaintext  do NOT encrypt frames (loopback benchmarks only; every party must agree)
Topology: the lower id dials the higher (0->1, 0->2, 1->2); parties 1 and 2 listen on their port.`,
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
    if (!equalBytes(identity.publicKey, session.parties[self].publicKey)) {
      process.stderr.write(`warning: the public key in ${keyPath} is not party ${self}'s key in the session file; the other parties will reject this one\n`);
    }
    if (f.job !== undefined && f['job-module'] !== undefined) throw configError('party: give either --job or --job-module, not both');
    let job: Job;
    if (f['job-module'] !== undefined) job = await loadJobModule(f['job-module']);
    else {
      const name = f.job ?? 'selftest';
      const { JOBS, findJob } = await import('../jobs.js'); // only when a built-in job is asked for
      const found = findJob(name);
      if (!found) throw configError(`party: unknown --job '${name}' (known: ${Object.keys(JOBS).join(', ')})`);
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
